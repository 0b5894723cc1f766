"""The perf model's error band in ``arbiter estimate`` and ``arbiter plan`` outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arbiter.cli.app import main
from arbiter.perf.bands import band_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workloads.yaml"
FLEET = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5}
"""


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.setenv("COLUMNS", "260")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_estimate_json_and_table_show_each_estimate_band(cli):
    code, out, err = cli("estimate", str(EXAMPLES), "--json", "--top", "20")
    assert code == 0, err
    for w in json.loads(out)["workloads"]:
        for e in w["estimates"]:
            if e["source"] == "measured":
                continue
            band = band_for(e["platform"], w["kind"])
            assert (e["error_band_share"], e["band_cases"]) == (band.share, band.cases)
    code, out, err = cli("estimate", str(EXAMPLES), "--top", "3")
    assert code == 0, err
    assert "error band" in out
    assert re.search(r"\+/-\d+%, \d+ cases?", out)


def test_plan_assignments_carry_the_band_in_json_table_and_html(cli, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET, encoding="utf-8")
    code, out, err = cli("plan", str(fleet), "--json")
    assert code == 0, err
    doc = json.loads(out)
    for a in doc["assignments"]:
        band = band_for(a["platform"], a["kind"])
        assert (a["error_band_share"], a["band_cases"]) == (band.share, band.cases)
    code, out, err = cli("plan", str(fleet))
    assert code == 0, err
    assert "error band" in out
    html = tmp_path / "plan.html"
    code, out, err = cli("plan", str(fleet), "--html", str(html))
    assert code == 0, err
    share = doc["assignments"][0]["error_band_share"]
    assert f"\u00b1{100 * share:.0f}%" in html.read_text("utf-8")


def test_risk_samples_the_perf_error_unless_the_scenario_file_turns_it_off(cli, tmp_path):
    fleet, scenarios = ROOT / "examples" / "fleet.yaml", ROOT / "examples" / "scenarios.yaml"
    off = tmp_path / "scenarios.yaml"
    off.write_text(
        scenarios.read_text("utf-8").replace("perf_error: true", "perf_error: false"), "utf-8"
    )
    docs = {}
    for name, path in (("on", scenarios), ("off", off)):
        args = ("risk", str(fleet), "--scenarios", str(path), "--samples", "300", "--json")
        code, out, err = cli(*args)
        assert code == 0, err
        docs[name] = json.loads(out)
    assert docs["on"]["scenarios"]["perf_error"] is True
    assert docs["off"]["scenarios"]["perf_error"] is False
    on, off_ = docs["on"]["plans"]["plan"], docs["off"]["plans"]["plan"]
    # the model's error adds work left undone in samples no other shock touches
    assert on["unmet_demand_probability"] > off_["unmet_demand_probability"]
