"""``arbiter risk`` end to end on the example fleet and scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "examples" / "fleet.yaml"
SCENARIOS = ROOT / "examples" / "scenarios.yaml"


def risk_json(cli, *extra: str) -> dict:
    code, out, err = cli(
        "risk", str(FLEET), "--scenarios", str(SCENARIOS), "--samples", "500", "--json", *extra
    )
    assert code == 0, err
    return json.loads(out)


def test_risk_json_reports_both_plans_tails_and_the_optionality_value(cli):
    doc = risk_json(cli, "--recourse", "--workers", "1")
    assert (doc["samples"], doc["seed"], doc["engine"], doc["recourse"]) == (500, 0, "local", True)
    conc = doc["concentration"]
    assert set(conc) >= {"shares", "hhi", "single_points_of_failure"}
    for basis in ("spend", "compute"):
        for group, shares in conc["shares"][basis].items():
            assert sum(shares.values()) == pytest.approx(1.0), group
            assert 1 / len(shares) - 1e-9 <= conc["hhi"][basis][group] <= 1 + 1e-9
    assert set(doc["plans"]) == {"plan", "locked_in"}
    for name, s in doc["plans"].items():
        assert s["p50_usd"] <= s["p95_usd"] <= s["cvar95_usd"] + 1e-6, name
        assert s["cvar95_usd"] >= s["mean_usd"] - 1e-6, name
        assert 0 <= s["unmet_demand_probability"] <= 1
        # re-planning never costs more than riding the shock out
        assert s["mean_usd"] <= s["without_recourse"]["mean_usd"] + 1e-6, name
        assert s["cvar95_usd"] <= s["without_recourse"]["cvar95_usd"] + 1e-6, name
    value = doc["optionality"]
    assert doc["optionality_value_usd"] == value["value_usd"]
    assert value["value_usd"] == pytest.approx(
        doc["plans"]["locked_in"]["mean_usd"] - doc["plans"]["plan"]["mean_usd"]
    )
    assert value["plan_difference_usd"] == pytest.approx(
        doc["plans"]["locked_in"]["plan_usd"] - doc["plans"]["plan"]["plan_usd"]
    )
    counts = doc["histogram"]["counts"]
    assert all(sum(c) == 500 for c in counts.values())


def test_the_same_seed_gives_the_same_json_whatever_the_worker_count(cli):
    one = risk_json(cli, "--workers", "1", "--seed", "3")
    two = risk_json(cli, "--workers", "2", "--seed", "3")
    for doc in (one, two):
        doc.pop("workers")
    assert one == two
    other = risk_json(cli, "--workers", "1", "--seed", "4")
    assert other["plans"] != one["plans"]


@pytest.mark.ray
def test_ray_equals_local_with_recourse(cli):
    pytest.importorskip("ray")
    local = risk_json(cli, "--recourse", "--workers", "1", "--samples", "600")
    ray = risk_json(cli, "--recourse", "--engine", "ray", "--workers", "2", "--samples", "600")
    assert ray["engine"] == "ray"
    for doc in (local, ray):
        doc.pop("engine")
        doc.pop("workers")
    assert local == ray


def test_html_report_is_written(cli, tmp_path):
    path = tmp_path / "risk.html"
    code, out, err = cli(
        "risk", str(FLEET), "--scenarios", str(SCENARIOS), "--samples", "250",
        "--workers", "1", "--html", str(path),
    )  # fmt: skip
    assert code == 0, err
    text = path.read_text("utf-8")
    assert "locked_in" in text and "CVaR" in text
    assert f"report written to {path}" in out


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        (
            (
                "shocks:\n  - {name: x, kind: demand_shift, select: {workload: nope},"
                " probability: 0.5, demand_factor: 1.5}\n"
            ),
            "shocks[0].select.workload",
        ),
        ("shocks:\n  - {name: x, kind: outage, probability: 2, duration_days: 1}\n", "shocks[0]"),
    ],
)
def test_bad_scenarios_exit_2_naming_file_and_field(cli, tmp_path, yaml_text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    code, _, err = cli("risk", str(FLEET), "--scenarios", str(path), "--samples", "10")
    assert code == 2
    assert "bad.yaml" in err
    assert field in err
    assert "Traceback" not in err


def test_an_unknown_engine_exits_2(cli):
    code, _, err = cli(
        "risk", str(FLEET), "--scenarios", str(SCENARIOS), "--samples", "10", "--engine", "spark"
    )
    assert code == 2
    assert "--engine" in err


def test_a_saved_plan_is_compared_on_the_same_samples(cli, tmp_path):
    # the plan saved from the same fleet reads back as the same placement: same numbers
    code, out, err = cli("plan", str(FLEET), "--save", "--json")
    assert code == 0, err
    plan_id = json.loads(out)["plan_id"]
    doc = risk_json(cli, "--workers", "1", "--samples", "250", "--compare", plan_id[:10])
    name = f"saved:{plan_id[:12]}"
    assert set(doc["plans"]) == {"plan", "locked_in", name}
    saved, fresh = doc["plans"][name], doc["plans"]["plan"]
    for key in ("plan_usd", "mean_usd", "p95_usd", "cvar95_usd", "expected_unmet_share"):
        assert saved[key] == pytest.approx(fresh[key]), key


def test_an_unknown_saved_plan_is_bad_input(cli):
    code, _, err = cli(
        "risk", str(FLEET), "--scenarios", str(SCENARIOS), "--samples", "10",
        "--compare", "nosuchplan",
    )  # fmt: skip
    assert code in (2, 5)
    assert "nosuchplan" in err
