"""``arbiter deal`` end to end on a small deal and on an example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROCURE = """
horizon: {periods: 4, period: quarter}
discount_rate: 0.05
risk: {lambda: 0.2, alpha: 0.9}
constraints: {regions: ["us-*"]}
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
  - {name: trn2-1y, provider: aws, accelerator: Trainium2, usd_per_chip_hour: 1.2, term: 1y,
     region: us-east-2, min_chips: 16}
platforms:
  cuda: {enabled: true}
  neuron: {enable_usd: 100K, lead_weeks: 8}
"""

DEAL = """
name: small
counterparty: aws
covers: [Trainium2]
discount: 0.3
capital:
  tranches:
    - {usd: 2M, period: 0}
    - {usd: 1M, period: 2, probability: 0.5, condition: "usage >= 50% of commitment"}
  credits_usd: 100K
obligation: {min_spend_usd_per_year: [1M], shortfall_penalty: 1.0, min_share: 0.2}
porting: {platform: neuron, enable_usd: 100K, lead_weeks: 8,
          efficiency: {triangular: [0.6, 0.85, 1.0]}}
valuation: {discount_rate: 0.1, horizon_years: 1, equity_haircut: 0.3}
procurement: procure.yaml
"""


def write(tmp_path: Path, deal: str = DEAL, procure: str = PROCURE) -> Path:
    (tmp_path / "procure.yaml").write_text(procure, encoding="utf-8")
    path = tmp_path / "deal.yaml"
    path.write_text(deal, encoding="utf-8")
    return path


def test_deal_json_npv_lock_in_break_evens_tornado_and_distribution(cli, tmp_path):
    code, out, err = cli("deal", str(write(tmp_path)), "--json", "--samples", "30",
                         "--workers", "1")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    b = doc["breakdown"]
    parts = b["compute_savings_usd"] + b["tranches_usd"] + b["credits_usd"] - b["shortfall_usd"]
    assert parts == pytest.approx(doc["npv_usd"], rel=1e-9, abs=1e-3)
    # the unconditional tranche alone: 2M x (1 - 0.3), paid today
    assert b["tranches_usd"] >= 1.4e6 - 1e-3
    # exclusivity: at least 20% of the year's spend on Trainium2 with the deal
    year = doc["lock_in"]["with_deal"][0]
    assert year["covered_spend_share"] >= 0.2 - 1e-6
    assert doc["lock_in"]["without"][0]["covered_spend_share"] < year["covered_spend_share"]
    scen = doc["scenarios"]
    assert len(scen) == 9  # three demand scenarios x three efficiency points
    assert sum(s["probability"] for s in scen) == pytest.approx(1.0)
    assert sum(s["probability"] * s["value_usd"] for s in scen) == pytest.approx(doc["npv_usd"])
    sens = doc["sensitivity"]
    assert [be["input"] for be in sens["break_evens"]] == ["demand_scale", "efficiency", "discount"]
    swings = [bar["swing_usd"] for bar in sens["tornado"]]
    assert swings == sorted(swings, reverse=True)
    for be in sens["break_evens"]:
        points = list(zip(be["grid"], be["npv_usd"], strict=True))
        if be["break_even"] is None:  # one sign over the whole grid
            assert len({v >= 0 for _, v in points}) == 1
            continue
        lo, hi = be["bracket"]
        assert lo <= be["break_even"] <= hi
        at = dict(points)
        assert (at[lo] >= 0) != (at[hi] >= 0)
        assert (at[hi] >= 0) == be["pays_above"]
    dist = doc["distribution"]
    assert dist["samples"] == 30
    assert dist["p5_usd"] <= dist["p50_usd"] <= dist["p95_usd"]
    values = dist["values_usd"]
    assert dist["probability_destroys_value"] == pytest.approx(
        sum(v < 0 for v in values) / len(values)
    )


def test_deal_terminal_output_and_same_seed_same_answer(cli, tmp_path):
    path = str(write(tmp_path))
    code, out, err = cli("deal", path, "--no-sensitivity", "--samples", "20", "--workers", "1")
    assert code == 0, err
    assert "NPV" in out
    assert "lock-in per year" in out
    assert "sampled futures" in out
    runs = [
        json.loads(cli("deal", path, "--json", "--no-sensitivity", "--samples", "20",
                       "--workers", str(w))[1])["distribution"]["values_usd"]
        for w in (1, 2)
    ]  # fmt: skip
    assert runs[0] == runs[1]


def test_the_example_trainium_deal(cli):
    code, out, err = cli(
        "deal", str(ROOT / "examples" / "deals" / "trainium-10b.yaml"), "--json",
        "--no-sensitivity", "--samples", "20", "--workers", "2",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["deal"]["covers"] == ["Trainium2", "Trainium3"]
    years = doc["lock_in"]["with_deal"]
    assert len(years) == 5
    assert [y["in_deal"] for y in years] == [True, True, True, True, False]
    # the deal's minimum spend per year is met on covered chips, or the shortfall is paid
    minimums = doc["deal"]["obligation"]["min_spend_usd_per_year"]
    for y, m in zip(years, minimums, strict=False):
        covered = y["covered_spend_share"] * y["spend_usd"]
        short = doc["breakdown"]["shortfall_by_year_usd"][y["year"]]
        assert covered + short >= 0.99 * m
    assert doc["distribution"]["shocks_file"] == "scenarios.yaml"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("- {usd: 1M, period: 2,", "- {usd: 1M, period: 4,"), "capital.tranches[1].period"),
        (("covers: [Trainium2]", "covers: [Trainium9]"), "covers[0]"),
        (("credits_usd: 100K", "credits_usd: -100K"), "capital.credits_usd"),
        (("min_spend_usd_per_year: [1M]", "min_spend_usd_per_year: [-1M]"),
         "obligation.min_spend_usd_per_year[0]"),
        (("horizon_years: 1", "horizon_years: 2"), "valuation.horizon_years"),
        (('condition: "usage >= 50% of commitment"', 'condition: "usage above half"'),
         "capital.tranches[1].condition"),
        (("procurement: procure.yaml", "procurement: nowhere.yaml"), "procurement"),
    ],
)  # fmt: skip
def test_bad_deal_files_exit_2_naming_the_file_and_field(cli, tmp_path, change, field):
    path = write(tmp_path, DEAL.replace(*change))
    code, out, err = cli("deal", str(path))
    assert code == 2, out + err
    assert "deal.yaml" in err
    assert field in err
    assert "Traceback" not in err


def test_a_shock_file_naming_an_unknown_class_exits_2(cli, tmp_path):
    (tmp_path / "shocks.yaml").write_text(
        "shocks:\n  - {name: s, kind: demand_shift, select: {workload: nope}, probability: 0.5,"
        " demand_factor: 1.5}\n",
        encoding="utf-8",
    )
    path = write(tmp_path, DEAL + "scenarios: shocks.yaml\n")
    code, _, err = cli("deal", str(path))
    assert code == 2
    assert "shocks.yaml" in err
    assert "nope" in err
    assert "chat" in err


def test_deal_html_report(cli, tmp_path):
    out_file = tmp_path / "deal-report.html"
    code, out, err = cli("deal", str(write(tmp_path)), "--no-sensitivity", "--samples", "10",
                         "--workers", "1", "--html", str(out_file))  # fmt: skip
    assert code == 0, err
    page = out_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    assert "arbiter deal: deal.yaml" in page
    assert 'id="lock-in"' in page
    assert "report written to" in out
