"""One test per cause of a traceback, wrong exit code or hang that fuzzing found.

Every bad input must end as an ``ArbiterError`` (at the CLI: exit 2, no traceback) whose
message names the file and field and says what is valid.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import yaml

from arbiter.catalog.importing import import_feeds
from arbiter.cli import app as cli_app
from arbiter.deals.loading import load_deal
from arbiter.domain.errors import InputError
from arbiter.export.launchers import read_plan, to_dstack, to_skypilot
from arbiter.perf.cases import read_cases
from arbiter.procure.loading import load_procurement
from arbiter.workloads import load_fleet, load_workloads

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FEEDS = REPO / "tests" / "data" / "feeds"
PLAN = REPO / "tests" / "data" / "plans" / "sample_plan.json"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``arbiter ARGS`` in-process from the repository against a fresh SQLite store;
    return (exit code, stdout, stderr)."""
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.setenv("COLUMNS", "240")
    monkeypatch.chdir(REPO)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_app.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write_yaml(tmp_path: Path, doc: object, name: str = "input.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _one_paragraph(error: BaseException, file: str, field: str | None = None) -> str:
    text = str(error)
    assert "\n" not in text
    assert file in text
    if field is not None:
        assert field in text
    assert "Valid:" in text
    return text


# --- usage errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],  # no file
        ["catalog", "summary", "--no-such-option"],  # an unknown option
        ["no-such-command"],
        ["estimate", "examples/workloads.yaml", "--top", "abc"],
    ],
)
def test_usage_error_without_file_exits_2_without_traceback(cli, args):
    code, out, err = cli(*args)
    assert code == 2
    assert "Traceback" not in out + err
    assert "Error:" in err
    assert "Usage:" in err


def test_usage_errors_of_click_and_of_typers_vendored_click_are_both_caught():
    # Typer >= 0.2x vendors click as typer._click; older ones raise click's own classes.
    names = {f"{c.__module__}.{c.__qualname__}" for c in cli_app._CLICK_ERRORS}
    for module in ("click.exceptions", "typer._click.exceptions"):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        assert f"{module}.ClickException" in names


def test_an_unexpected_exception_is_one_line_and_exit_1_not_a_traceback(cli, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_app, "app", boom)
    code, out, err = cli("catalog", "summary")
    assert code == 1
    assert "Traceback" not in out + err
    assert "internal error" in err and "boom" in err


# --- overflow on huge or tiny numbers -----------------------------------------------------


def _workload_with(tmp_path: Path, index: int, **fields: object) -> Path:
    doc = _yaml(EXAMPLES / "workloads.yaml")
    doc["workloads"][index].update(fields)
    return _write_yaml(tmp_path, doc)


def _index_of(kind: str) -> int:
    doc = _yaml(EXAMPLES / "workloads.yaml")
    return next(i for i, w in enumerate(doc["workloads"]) if w["kind"] == kind)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"requests_per_s": 1e300}, "requests_per_s"),
        ({"input_tokens": "1e300"}, "input_tokens"),
        ({"output_tokens": 1e-300}, "output_tokens"),
        ({"slo": {"ttft_s": 1e-320, "tpot_s": 0.05}}, "slo.ttft_s"),
    ],
)
def test_huge_or_tiny_serving_numbers_are_input_errors(tmp_path, fields, field):
    path = _workload_with(tmp_path, _index_of("serve"), **fields)
    with pytest.raises(InputError) as info:
        load_workloads(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"deadline_hours": 1e-300}, "deadline_hours"),
        ({"output_tokens": 10**400}, "output_tokens"),
        ({"request_output_tokens": 1e-320}, "request_output_tokens"),
    ],
)
def test_huge_or_tiny_batch_numbers_are_input_errors(tmp_path, fields, field):
    path = _workload_with(tmp_path, _index_of("batch"), **fields)
    with pytest.raises(InputError) as info:
        load_workloads(path)
    assert field in str(info.value)


def test_huge_custom_model_architecture_is_an_input_error(tmp_path):
    doc = _yaml(EXAMPLES / "workloads.yaml")
    custom = next(w for w in doc["workloads"] if isinstance(w["model"], dict))
    custom["model"]["vocab_size"] = 10**400
    path = _write_yaml(tmp_path, doc)
    with pytest.raises(InputError) as info:
        load_workloads(path)
    text = _one_paragraph(info.value, str(path), "vocab_size")
    assert "1,000,000" in text


def test_needing_more_than_a_million_replicas_is_infeasible_not_an_overflow():
    from arbiter.perf import serving

    assert serving._replicas(float("inf")) is None
    assert serving._replicas(1e30) is None
    assert serving._replicas(0.2) == 1


def test_huge_capacity_row_is_an_input_error(tmp_path):
    doc = _yaml(EXAMPLES / "fleet.yaml")
    doc["capacity"][0]["max_instances"] = 10**30
    path = _write_yaml(tmp_path, doc)
    with pytest.raises(InputError) as info:
        load_fleet(path)
    assert "capacity[0].max_instances" in str(info.value)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["constraints"].__setitem__("budget_usd", 1e308), "constraints.budget_usd"),
        (lambda d: d["platforms"]["neuron"].__setitem__("enable_usd", "1e308"), "enable_usd"),
    ],
)
def test_huge_fleet_amounts_are_input_errors_not_solver_failures(tmp_path, edit, field):
    doc = _yaml(EXAMPLES / "fleet.yaml")
    edit(doc)
    path = _write_yaml(tmp_path, doc)
    with pytest.raises(InputError) as info:
        load_fleet(path)
    assert field in str(info.value)


def test_huge_fleet_budget_exits_2_at_the_cli(cli, tmp_path):
    doc = _yaml(EXAMPLES / "fleet.yaml")
    doc["constraints"]["budget_usd"] = 1e308
    path = _write_yaml(tmp_path, doc, "fleet.yaml")
    code, out, err = cli("plan", str(path))
    assert code == 2, err
    assert "budget_usd" in err and "Traceback" not in out + err


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (
            lambda d: d["commitments"][0].__setitem__("usd_per_chip_hour", 1e308),
            "usd_per_chip_hour",
        ),
        (lambda d: d.__setitem__("unmet_penalty", 1e308), "unmet_penalty"),
        (lambda d: d["horizon"].__setitem__("periods", 10**9), "horizon.periods"),
        (lambda d: d.__setitem__("discount_rate", 1e308), "discount_rate"),
    ],
)
def test_huge_procurement_amounts_are_input_errors(tmp_path, edit, field):
    doc = _yaml(EXAMPLES / "procure.yaml")
    edit(doc)
    path = _write_yaml(tmp_path, doc)
    with pytest.raises(InputError) as info:
        load_procurement(path)
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("column", "value"),
    [("accelerator_count", "1e300"), ("input_tokens", "1e300"), ("tpot_limit_s", "1e-320")],
)
def test_huge_or_tiny_case_file_numbers_are_input_errors(tmp_path, column, value):
    source = (REPO / "tests" / "data" / "perf" / "perf-calibration-cases.csv").read_text()
    lines = source.splitlines()
    header = lines[0].split(",")
    rows = [line for line in lines[1:] if line.split(",")[header.index(column)]]
    cells = rows[0].split(",")
    cells[header.index(column)] = value
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_cases(path)
    _one_paragraph(info.value, str(path), column)


def _import(path: Path, source: str):
    import datetime as dt

    from arbiter.catalog.embedded import default_catalog

    return import_feeds(default_catalog(), source, [path], observed_on=dt.date(2026, 11, 1))


def test_huge_gcp_price_is_a_feed_error(tmp_path):
    doc = json.loads((FEEDS / "gcp-cloud-billing-catalog-skus.sample.json").read_text())
    tier = doc["skus"][0]["pricingInfo"][0]["pricingExpression"]["tieredRates"][-1]
    tier["unitPrice"]["units"] = str(10**400)[:4000]
    path = tmp_path / "gcp.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError) as info:
        _import(path, "gcp")
    assert "units" in str(info.value)


@pytest.mark.parametrize("price", [10**400, 1e308, -1.0])
def test_huge_runpod_price_is_a_feed_error(tmp_path, price):
    doc = json.loads((FEEDS / "runpod-graphql-gputypes.sample.json").read_text())
    doc["data"]["gpuTypes"][0]["securePrice"] = price
    path = tmp_path / "runpod.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError) as info:
        _import(path, "runpod")
    _one_paragraph(info.value, str(path), "securePrice")


def test_huge_azure_price_is_a_feed_error(tmp_path):
    doc = json.loads((FEEDS / "azure-retail-prices.sample.json").read_text())
    doc["Items"][0]["retailPrice"] = 10**400
    path = tmp_path / "azure.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError) as info:
        _import(path, "azure")
    _one_paragraph(info.value, str(path), "retailPrice")


# --- deep nesting, bytes and names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "sample"),
    [
        ("azure", "azure-retail-prices.sample.json"),
        ("aws", "aws-price-list-offer.sample.json"),
        ("gcp", "gcp-cloud-billing-catalog-skus.sample.json"),
        ("runpod", "runpod-graphql-gputypes.sample.json"),
    ],
)
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_feed_is_an_input_error(tmp_path, source, sample, depth):
    path = tmp_path / sample
    path.write_bytes(b'{"x": ' + b"[" * depth + b"]" * depth + b"}")
    with pytest.raises(InputError) as info:
        _import(path, source)
    assert "nest" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_plan_is_an_input_error(tmp_path, depth):
    path = tmp_path / "plan.json"
    path.write_bytes(b'{"assignments": ' + b"[" * depth + b"]" * depth + b"}")
    with pytest.raises(InputError) as info:
        read_plan(path)
    _one_paragraph(info.value, str(path))


def test_deeply_nested_yaml_is_an_input_error(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("workloads: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_workloads(path)
    assert "nest" in str(info.value)


def test_non_utf8_plan_is_an_input_error(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(PLAN.read_bytes().replace(b"chat-serve", b"chat-\xff\xfe"))
    with pytest.raises(InputError) as info:
        read_plan(path)
    _one_paragraph(info.value, str(path))


@pytest.mark.parametrize(
    ("key", "value"),
    [("hours", "seven"), ("usd", [1]), ("hours", 10**400), ("usd", -5), ("instance_count", "2")],
)
def test_free_form_strings_in_plan_are_input_errors(tmp_path, key, value):
    doc = json.loads(PLAN.read_text())
    doc["assignments"][0][key] = value
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    plan = read_plan(path)
    for export in (to_skypilot, to_dstack):
        with pytest.raises(InputError) as info:
            export(plan)
        assert f"assignments[0].{key}" in str(info.value)


def test_non_utf8_plan_exits_2_at_the_cli(cli, tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(b"\xff\xfe{}")
    code, out, err = cli("export", str(path))
    assert code == 2 and "Traceback" not in out + err


def test_overlong_file_name_is_an_input_error(cli, tmp_path):
    long_name = tmp_path / ("x" * 300 + ".yaml")
    with pytest.raises(InputError):
        load_workloads(long_name)
    code, out, err = cli("plan", str(long_name))
    assert code == 2 and "Traceback" not in out + err


def test_overlong_workload_name_gives_a_file_name_the_file_system_takes(tmp_path):
    doc = json.loads(PLAN.read_text())
    doc["assignments"][0]["workload"] = "w" * 1000
    files = to_dstack(doc)
    assert all(len(name) < 120 for name, _ in files)
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")


def test_overlong_procurement_reference_in_a_deal_is_an_input_error(tmp_path):
    for source in (EXAMPLES / "deals").glob("*.yaml"):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    doc = _yaml(tmp_path / "trainium-10b.yaml")
    doc["procurement"] = "x" * 300 + ".yaml"
    path = _write_yaml(tmp_path, doc, "deal.yaml")
    with pytest.raises(InputError) as info:
        load_deal(path)
    assert "procurement" in str(info.value)


# --- YAML aliases ---------------------------------------------------------------------------

ALIAS_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} ["
            + ",".join([f"*{chr(ord('a') + i)}"] * 9)
            + "]"
            for i in range(8)
        ),
        "workloads: *i",
    ]
)


def test_yaml_alias_bomb_is_rejected(tmp_path):
    # (expanded, it would be 10^8 values: a regression shows as a test that never ends)
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_workloads(path)
    text = str(info.value)
    assert "alias" in text and len(text) < 400


def test_yaml_alias_bomb_exits_2_at_the_cli(cli, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n", encoding="utf-8")
    code, out, err = cli("estimate", str(path))
    assert code == 2 and "Traceback" not in out + err


def test_a_large_fleet_written_out_is_not_an_alias_bomb(tmp_path):
    # 7,000 workloads written out are about 120,000 values and no alias: the size of the
    # file, which the alias limit must not refuse (the 5,000-workload benchmark fleet was)
    path = tmp_path / "big.yaml"
    rows = [
        f"- {{name: w{i}, kind: finetune, model: llama-3.1-8b, tokens: 1.0e8, seq_len: 2048,"
        " method: lora, deadline_days: 30, precision: bf16}"
        for i in range(7_000)
    ]
    path.write_text("workloads:\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert len(load_workloads(path)) == 7_000
    # the bomb is still a bomb with that many values written beside it
    bomb = tmp_path / "bomb-in-big.yaml"
    bomb.write_text(ALIAS_BOMB.replace("workloads: *i", "bomb: *i\nworkloads:\n") + "\n".join(rows))
    with pytest.raises(InputError, match="alias"):
        load_workloads(bomb)


def test_a_few_aliases_still_work(tmp_path):
    # the examples use anchors; ordinary use stays valid
    assert load_workloads(EXAMPLES / "workloads.yaml")


def test_an_error_message_never_prints_a_huge_value(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("workloads: {" + ", ".join(f"k{i}: {i}" for i in range(50_000)) + "}\n")
    with pytest.raises(InputError) as info:
        load_workloads(path)
    assert len(str(info.value)) < 400
