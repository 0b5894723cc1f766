"""``arbiter estimate`` and ``arbiter perf``, run in-process through the CLI's entry point."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
import yaml

from arbiter.catalog.embedded import default_accelerators
from arbiter.cli.app import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workloads.yaml"
CALIBRATION = ROOT / "src" / "arbiter" / "perf" / "data" / "calibration_cases.csv"

WORKLOAD_KEYS = {
    "name", "kind", "model", "precision", "work_tokens", "unit", "estimates", "infeasible",
}  # fmt: skip
ESTIMATE_KEYS = {
    "accelerator", "vendor", "platform", "feasible", "precision", "source", "chips", "layout",
    "tokens_per_s", "hours", "hbm_gb_per_chip", "ttft_s", "tpot_s", "offer", "usd_per_job",
    "usd_per_million_tokens", "notes",
}  # fmt: skip
# the models the issue requires by name (the registry may hold more)
REQUIRED_MODELS = {
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.1-405b", "llama-3.3-70b", "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3",
    "deepseek-r1", "qwen2.5-72b", "gpt-3-175b",
}  # fmt: skip


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``arbiter ARGS``; return (exit code, stdout, stderr). Each test gets its own store."""
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.delenv("ARBITER_MAX_AGE_DAYS", raising=False)
    monkeypatch.delenv("ARBITER_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "240")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def estimate_json(cli, *args: str) -> dict:
    code, out, err = cli("estimate", str(EXAMPLES), "--json", *args)
    assert code == 0, err
    return json.loads(out)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad_input(cli, *args: str) -> str:
    """Run a command that must fail as bad input; return its message."""
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    return " ".join(err.split())  # rich wraps long lines


# --- estimate: the example workloads ------------------------------------------------------------


def test_every_example_workload_has_feasible_estimates(cli):
    doc = estimate_json(cli, "--top", "50")
    assert doc["catalog_version"] == "default"
    spec = yaml.safe_load(EXAMPLES.read_text("utf-8"))["workloads"]
    assert [w["name"] for w in doc["workloads"]] == [w["name"] for w in spec]
    for w in doc["workloads"]:
        assert w.keys() >= WORKLOAD_KEYS
        assert w["estimates"], w["name"]
        trained = w["kind"] in ("train", "finetune")
        assert w["unit"] == ("trained tokens" if trained else "generated tokens")
        costs = [e["usd_per_million_tokens"] for e in w["estimates"]]
        priced = [c for c in costs if c is not None]
        assert priced == sorted(priced)
        assert costs[: len(priced)] == priced  # priced options come first
        for e in w["estimates"]:
            assert e.keys() >= ESTIMATE_KEYS
            assert e["feasible"] is True
            assert e["chips"] > 0
            assert e["tokens_per_s"] > 0
            if e["offer"] is not None:
                # whole instances can only add to chips x hours x price
                bare = e["chips"] * e["hours"] * e["offer"]["usd_per_accelerator_hour"]
                assert e["usd_per_job"] >= bare * (1 - 1e-12)
                assert e["usd_per_million_tokens"] == pytest.approx(
                    e["usd_per_job"] / w["work_tokens"] * 1e6
                )
        for bad in w["infeasible"]:
            assert bad["reason"]


def test_work_tokens_follow_the_spec(cli):
    doc = {w["name"]: w for w in estimate_json(cli, "--top", "1")["workloads"]}
    assert doc["pretrain-llama-70b"]["work_tokens"] == 2e12
    # 20 requests/s x 300 tokens x 730 h x 3600 s = 1.5768e10 generated tokens
    assert doc["assistant-llama-70b"]["work_tokens"] == pytest.approx(1.5768e10)
    assert doc["summarise-archive"]["work_tokens"] == 1e9


def test_a_non_nvidia_chip_is_cheapest_for_some_example_workload(cli):
    doc = estimate_json(cli, "--top", "1")
    winners = {w["name"]: w["estimates"][0]["vendor"] for w in doc["workloads"]}
    assert {v for v in winners.values() if v != "NVIDIA"}, winners


def test_example_placement_rules_hold(cli):
    doc = {w["name"]: w for w in estimate_json(cli, "--top", "50")["workloads"]}
    eu = doc["eu-serve-qwen-72b"]["estimates"]
    assert {e["vendor"] for e in eu} == {"NVIDIA"}
    for e in eu:
        if e["offer"] is not None:
            assert e["offer"]["provider"] in {"aws", "gcp", "azure"}
            assert re.fullmatch(r"eu-.*|europe-.*|.*europe", e["offer"]["region"])
    for e in doc["summarise-archive"]["estimates"]:
        assert e["offer"] is None or e["offer"]["provider"] != "runpod"
    chatbot = doc["chatbot-llama-8b"]["estimates"]
    regimes = {e["offer"]["price_regime"] for e in chatbot if e["offer"] is not None}
    assert "spot" in regimes  # interruptible
    steady = doc["assistant-llama-70b"]["estimates"]
    assert all(e["offer"] is None or e["offer"]["price_regime"] == "on_demand" for e in steady)
    custom = doc["classify-tickets-custom-3b"]
    assert custom["model"] == "acme-3b"
    assert {e["platform"] for e in custom["estimates"]} <= {"cuda", "rocm"}


def test_measured_entry_replaces_the_model_in_the_output(cli):
    doc = {w["name"]: w for w in estimate_json(cli, "--top", "50")["workloads"]}
    by_acc = {e["accelerator"]: e for e in doc["reasoning-deepseek-r1"]["estimates"]}
    h200 = by_acc["H200-SXM"]
    assert h200["source"] == "measured"
    # 5 requests/s x 4000 tokens = 20,000 tokens/s at 3,800 per 8 chips: 6 replicas
    assert h200["chips"] == 48
    assert h200["tokens_per_s"] == 6 * 3800
    assert all(e["source"] == "model" for n, e in by_acc.items() if n != "H200-SXM")


def test_top_limits_the_options_per_workload(cli):
    full = estimate_json(cli, "--top", "50")
    top = estimate_json(cli, "--top", "2")
    for w_full, w_top in zip(full["workloads"], top["workloads"], strict=True):
        assert len(w_top["estimates"]) == min(2, len(w_full["estimates"]))
        names = [e["accelerator"] for e in w_top["estimates"]]
        assert names == [e["accelerator"] for e in w_full["estimates"][:2]]
    default = estimate_json(cli)
    assert max(len(w["estimates"]) for w in default["workloads"]) == 10


def test_accelerator_filter(cli):
    # aliases resolve ("h100" is H100-SXM); every example workload allows one of the two
    doc = estimate_json(cli, "-a", "MI300X", "--accelerator", "h100")
    for w in doc["workloads"]:
        seen = {e["accelerator"] for e in w["estimates"]} | {
            e["accelerator"] for e in w["infeasible"]
        }
        if w["name"] == "eu-serve-qwen-72b":  # NVIDIA only
            assert seen == {"H100-SXM"}
        else:
            assert seen == {"MI300X", "H100-SXM"}


def test_the_readme_filter_example_runs(cli):
    code, out, err = cli("estimate", str(EXAMPLES), "-a", "MI300X", "-a", "TPU-v6e", "--top", "3")
    assert code == 0, err
    assert "eu-serve-qwen-72b" in out


def test_unknown_accelerator_filter_suggests_names(cli):
    message = bad_input(cli, "estimate", str(EXAMPLES), "--accelerator", "H1000")
    assert "--accelerator" in message
    assert "Did you mean 'H100-SXM'" in message


def test_table_output(cli):
    code, out, err = cli("estimate", str(EXAMPLES), "--top", "3")
    assert code == 0, err
    for name in ("pretrain-llama-70b", "reasoning-deepseek-r1", "classify-tickets-custom-3b"):
        assert name in out
    assert "not feasible" in out  # A10 cannot meet the 70B SLO


# --- estimate: bad input ------------------------------------------------------------------------

SERVE = """\
workloads:
  - name: ok
    kind: batch
    model: llama-3.1-8b
    input_tokens: 1B
    output_tokens: 100M
  - name: bad
    kind: serve
    model: {model}
    requests_per_s: 1
    input_tokens: 1000
    output_tokens: 200
    slo: {{ttft_s: 2, tpot_s: {tpot}}}
"""


def test_unknown_model_suggests_names(cli, tmp_path):
    path = write(tmp_path, "w.yaml", SERVE.format(model="llama-3.1-70c", tpot=0.1))
    message = bad_input(cli, "estimate", str(path))
    assert str(path) in message
    assert "workloads[1].model" in message
    assert "Did you mean 'llama-3.1-70b'" in message


def test_negative_tokens(cli, tmp_path):
    text = "workloads:\n  - {name: t, kind: train, model: llama-3.1-8b, tokens: -5}\n"
    message = bad_input(cli, "estimate", str(write(tmp_path, "neg.yaml", text)))
    assert "neg.yaml" in message
    assert "workloads[0].tokens" in message
    assert "greater than 0" in message


def test_an_slo_no_chip_meets_says_what_is_reachable(cli, tmp_path):
    path = write(tmp_path, "slo.yaml", SERVE.format(model="llama-3.1-405b", tpot=0.0001))
    message = bad_input(cli, "estimate", str(path))
    assert "slo.yaml" in message
    assert "workloads[1].slo" in message
    match = re.search(
        r"best reachable is TPOT ([\d.]+) s on ([\w-]+) and TTFT ([\d.]+) s on ([\w-]+)", message
    )
    assert match, message
    best_tpot, chip = float(match.group(1)), match.group(2)
    # nothing decodes 405B (bf16) faster than its weights over that chip's bandwidth with
    # at most 64-way tensor parallelism: 405.85e9 x 2 B / 64 / HBM (1.6 ms at 8 TB/s)
    assert best_tpot > 405.85e9 * 2 / 64 / (default_accelerators()[chip].hbm_tbps * 1e12)
    assert chip in default_accelerators()
    assert match.group(4) in default_accelerators()
    assert float(match.group(3)) > 0


def test_measured_entry_for_an_unknown_accelerator(cli, tmp_path):
    text = """\
workloads:
  - name: a
    kind: batch
    model: llama-3.1-8b
    input_tokens: 1B
    output_tokens: 1B
    measured:
      - {accelerator: H100-SXM, chips: 1, tokens_per_s: 1000}
      - {accelerator: H1OO-SXN, chips: 1, tokens_per_s: 1000}
"""
    message = bad_input(cli, "estimate", str(write(tmp_path, "m.yaml", text)))
    assert "m.yaml" in message
    assert "workloads[0].measured[1].accelerator" in message
    assert "Did you mean 'H100-SXM'" in message


def test_bad_yaml_names_the_file_and_line(cli, tmp_path):
    path = write(tmp_path, "bad.yaml", "workloads:\n  - name: a\n    kind: [train\n")
    message = bad_input(cli, "estimate", str(path))
    assert "bad.yaml" in message
    assert "invalid YAML at line" in message


def test_missing_file(cli, tmp_path):
    message = bad_input(cli, "estimate", str(tmp_path / "nope.yaml"))
    assert "nope.yaml" in message
    assert "not found" in message


def test_a_deadline_nothing_meets(cli, tmp_path):
    text = (
        "workloads:\n  - {name: t, kind: train, model: llama-3.1-405b, tokens: 15T,"
        " deadline_days: 1}\n"
    )
    message = bad_input(cli, "estimate", str(write(tmp_path, "fast.yaml", text)))
    assert "workloads[0].deadline_days" in message
    assert "no accelerator finishes by the deadline" in message


def test_an_accelerator_filter_that_leaves_a_workload_no_chip_is_an_answer_not_an_error(
    cli, tmp_path
):
    # the file is fine (AMD chips exist); --accelerator picked only an NVIDIA one
    text = (
        "workloads:\n  - {name: b, kind: batch, model: llama-3.1-8b, input_tokens: 1B,"
        " output_tokens: 1B, vendors: [AMD]}\n"
    )
    path = write(tmp_path, "v.yaml", text)
    code, out, err = cli("estimate", str(path), "-a", "H100-SXM", "--json")
    assert code == 0, err
    (w,) = json.loads(out)["workloads"]
    assert w["estimates"] == []


# --- perf validate ------------------------------------------------------------------------------


def _rows(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def test_validate_reports_every_case_and_mape(cli):
    code, out, err = cli("perf", "validate", str(CALIBRATION), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {
        "cases", "mape", "mape_by_accelerator", "mape_by_kind", "skipped", "outliers",
        "mape_excluding_outliers",
    } <= doc.keys()  # fmt: skip
    assert len(doc["cases"]) + len(doc["skipped"]) == _rows(CALIBRATION)
    for c in doc["cases"]:
        assert {"case_id", "predicted", "published", "error_share"} <= c.keys()
        assert c["error_share"] == pytest.approx(c["predicted"] / c["published"] - 1)
    mean = sum(abs(c["error_share"]) for c in doc["cases"]) / len(doc["cases"])
    assert doc["mape"] == pytest.approx(mean)
    assert set(doc["outliers"]) <= {c["case_id"] for c in doc["cases"]}
    assert doc["mape_excluding_outliers"] <= 0.20  # in sample; docs/perf.md: 18.9%
    assert doc["mape_excluding_outliers"] < doc["mape"]
    assert {"H100-SXM", "MI300X"} <= doc["mape_by_accelerator"].keys()
    assert {"infer_offline", "infer_server", "train", "finetune_lora"} <= doc["mape_by_kind"].keys()
    assert all(math.isfinite(v) for v in doc["mape_by_kind"].values())


HEADER = (
    "case_id,source,kind,model,precision,accelerator,accelerator_count,input_tokens,"
    "output_tokens,seq_len,ttft_limit_s,tpot_limit_s,metric,value\n"
)
ROW = "{id},https://example.org,infer_offline,{model},fp8,{acc},8,222,294,,,,output_tokens_per_s,20000\n"


def test_validate_lists_unpredictable_cases_as_skipped(cli, tmp_path):
    text = HEADER + "".join(
        ROW.format(id=i, model=m, acc=a)
        for i, m, a in (
            ("good", "llama-2-70b", "H100-SXM"),
            ("bad-model", "llama-9-1000b", "H100-SXM"),
            ("bad-chip", "llama-2-70b", "H1000"),
        )
    )
    path = write(tmp_path, "cases.csv", text)
    code, out, err = cli("perf", "validate", str(path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [c["case_id"] for c in doc["cases"]] == ["good"]
    reasons = {s["case_id"]: s["reason"] for s in doc["skipped"]}
    assert set(reasons) == {"bad-model", "bad-chip"}
    assert "llama-9-1000b" in reasons["bad-model"]
    assert "H1000" in reasons["bad-chip"]
    code, out, err = cli("perf", "validate", str(path))
    assert code == 0, err
    assert "2 cases not predicted" in out
    assert "bad-chip: unknown accelerator 'H1000'" in " ".join(out.split())


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("case_id,model\nx,llama-2-70b\n", "header"),
        (
            HEADER + ROW.format(id="x", model="llama-2-70b", acc="H100-SXM").replace("8,", "-8,"),
            "row 1",
        ),
        (HEADER + 'x,"unterminated\n', "CSV"),
    ],
)
def test_validate_rejects_malformed_cases(cli, tmp_path, text, what):
    path = write(tmp_path, "broken.csv", text)
    message = bad_input(cli, "perf", "validate", str(path))
    assert "broken.csv" in message
    assert what in message


def test_validate_missing_file(cli, tmp_path):
    message = bad_input(cli, "perf", "validate", str(tmp_path / "none.csv"))
    assert "none.csv" in message


# --- perf models --------------------------------------------------------------------------------


def test_models_lists_the_required_architectures(cli):
    code, out, err = cli("perf", "models", "--json")
    assert code == 0, err
    models = {m["name"]: m for m in json.loads(out)}
    assert len(models) >= 13
    assert models.keys() >= REQUIRED_MODELS
    for m in models.values():
        assert 0 < m["params_active"] <= m["params_total"]
        assert (m["n_experts"] > 0) == (m["params_active"] < m["params_total"])
        assert m["kv_cache_bytes_per_token_bf16"] > 0
    # 2 x 80 layers x 8 KV heads x 128 x 2 B = 320 KiB
    assert models["llama-2-70b"]["kv_cache_bytes_per_token_bf16"] == 320 * 1024
    # MLA caches the 512 + 64 latent: 61 x 576 x 2 B = 70,272 B
    assert models["deepseek-v3"]["kv_cache_bytes_per_token_bf16"] == 61 * 576 * 2
    code, out, err = cli("perf", "models")
    assert code == 0, err
    assert "llama-3.1-405b" in out
