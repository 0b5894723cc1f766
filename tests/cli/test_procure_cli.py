"""``arbiter procure`` end to end on a small file and on the example."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
horizon: {periods: 4, period: quarter}
discount_rate: 0.05
risk: {lambda: 0.5, alpha: 0.9}
classes:
  - name: chat
    workload: {kind: serve, model: llama-3.1-8b, input_tokens: 500, output_tokens: 200,
               slo: {ttft_s: 2, tpot_s: 0.05}}
    demand: [200, 250, 300, 350]
scenarios:
  - {name: low, probability: 0.3, growth: {chat: 0.6}}
  - {name: mid, probability: 0.4}
  - {name: high, probability: 0.3, growth: {chat: 2.0}}
commitments:
  - {name: h100-1y, provider: aws, accelerator: H100-SXM, usd_per_chip_hour: 2.5, term: 1y,
     region: us-east-1, min_chips: 8}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "procure.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_procure_json_schedule_statistics_and_frontier(cli, tmp_path):
    code, out, err = cli("procure", str(write(tmp_path, SMALL)), "--frontier", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "optimal"
    costs = doc["scenario_costs_usd"]
    assert costs["low"] <= costs["mid"] <= costs["high"]
    assert doc["expected_cost_usd"] == pytest.approx(
        0.3 * costs["low"] + 0.4 * costs["mid"] + 0.3 * costs["high"]
    )
    assert doc["cvar_usd"] >= doc["expected_cost_usd"] - 1e-6
    # the value figures are what they are made of (each is checked against independent
    # solves in tests/procure/test_procure_model.py)
    value = doc["value_of_uncertainty"]
    assert value["vss_usd"] == pytest.approx(value["eev_usd"] - value["rp_usd"], rel=1e-9)
    assert value["evpi_usd"] == pytest.approx(value["rp_usd"] - value["ws_usd"], rel=1e-9)
    assert value["warnings"] == []
    for c in doc["schedule"]:
        assert c["chips"] % 8 == 0
        assert c["term_periods"] == 4
    assert len(doc["periods"]) == 4
    for p in doc["periods"]:
        assert 0 <= p["on_demand_share"] <= 1 + 1e-9
    frontier = doc["frontier"]
    for a, b in itertools.pairwise(frontier):
        assert b["cvar_usd"] <= a["cvar_usd"] + 1e-6
        assert b["expected_cost_usd"] >= a["expected_cost_usd"] - 1e-6
    # the same file, the same answer
    code, again, _ = cli("procure", str(write(tmp_path, SMALL)), "--frontier", "--json")
    assert again == out


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("demand: [200, 250, 300, 350]", "demand: [200, 250, 300]"), "classes[0].demand"),
        (("probability: 0.3, growth: {chat: 0.6}", "probability: 0.2, growth: {chat: 0.6}"),
         "scenarios"),
        (("demand: [200, 250, 300, 350]", "demand: [200, -250, 300, 350]"), "classes[0].demand"),
        (("term: 1y,", "term: 3y,"), "commitments[0].term"),
    ],
)  # fmt: skip
def test_bad_procurement_files_exit_2_naming_the_field(cli, tmp_path, change, field):
    text = SMALL.replace(*change)
    if "3y" in text:
        text = "salvage: none\n" + text
    code, _, err = cli("procure", str(write(tmp_path, text)))
    assert code == 2, err
    assert "procure.yaml" in err
    assert field in err
    assert "Traceback" not in err


def test_the_example_plans_commitments_and_prints_them(cli):
    code, out, err = cli("procure", str(ROOT / "examples" / "procure.yaml"))
    assert code == 0, err
    for text in ("commitments", "utilisation of", "VSS", "EVPI", "expected stranded"):
        assert text in out
    # every estimate the JSON marks thin is named in the table, and no other
    code, doc_text, err = cli("procure", str(ROOT / "examples" / "procure.yaml"), "--json")
    assert code == 0, err
    estimates = json.loads(doc_text)["estimates"]
    named = [line for line in out.splitlines() if line.startswith("thin estimate: ")]
    thin = [e for e in estimates if e["thin"]]
    assert thin and len(named) == len(thin) < len(estimates)
    for e in thin:
        assert f"thin estimate: {e['class']} on {e['accelerator']} ({e['platform']})" in out


def test_procure_takes_a_time_limit_and_gap_and_exits_4_only_with_nothing_found(
    cli, tmp_path, monkeypatch
):
    from arbiter.api import procuring

    seen: dict[str, object] = {}
    real = procuring.solve

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(procuring, "solve", spy)
    path = write(tmp_path, SMALL)
    code, out, err = cli("procure", str(path), "--time-limit", "30", "--mip-gap", "0.01", "--json")
    assert code == 0, err
    assert (seen["time_limit_s"], seen["mip_gap"]) == (30.0, 0.01)
    doc = json.loads(out)
    assert doc["status"] == "optimal"
    assert "solver_note" not in doc
    code, _, err = cli("procure", str(path), "--time-limit", "0")
    assert code == 4
    assert "time_limit" in err
