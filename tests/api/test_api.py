"""The public API: a fleet from a path, YAML text or a mapping plans the same; typed
results serialise to the documents the CLI prints, validate against the published
schemas and give DataFrames; a sweep and a risk run start from the plan itself."""

from __future__ import annotations

import hashlib
import itertools
import json
import runpy
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

import arbiter
from arbiter.cli.app import main
from arbiter.domain.errors import InputError
from arbiter.results import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogOffer,
    CatalogSummary,
    CatalogVersion,
    DealValuation,
    EstimateReport,
    Plan,
    ProcurementPlan,
    RiskReport,
    Rows,
    SavedPlanInfo,
    SpotSimulation,
)
from arbiter.workloads import parse_workloads

REPO = Path(__file__).resolve().parents[2]

FLEET = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5}
constraints:
  max_share: {vendor: 0.8, provider: 0.8}
"""

SCENARIOS = """
horizon_days: 90
penalty: 3.0
samples: 64
seed: 3
shocks:
  - name: nvidia-supply-cut
    kind: supply_cut
    select: {vendor: NVIDIA}
    probability: 0.3
    capacity_factor: {uniform: [0.3, 0.8]}
    start_days: {uniform: [0, 60]}
    duration_days: {uniform: [10, 30]}
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")


@pytest.fixture(scope="module")
def planned() -> Plan:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARBITER_TODAY", "2026-11-29")
        mp.setenv("ARBITER_DB_URL", "sqlite:///:memory:")
        return arbiter.plan(FLEET)


def _figures(plan: Plan) -> list[tuple[str, str, int, float]]:
    return [(a.workload, a.offer_id, a.instance_count, a.usd) for a in plan.assignments]


def test_text_mapping_and_path_plan_the_same(planned, tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    from_path = arbiter.plan(path)
    from_mapping = arbiter.plan(yaml.safe_load(FLEET))
    assert _figures(from_path) == _figures(planned) == _figures(from_mapping)
    assert from_path.total_usd == planned.total_usd == from_mapping.total_usd
    # the input hash is the file's bytes, as the CLI records it
    assert from_path.provenance.input_hash == hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_the_cli_prints_the_api_result(planned, tmp_path, capsys):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    assert main(["plan", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads(arbiter.plan(path).to_json())
    # the document is the typed result: validating it gives the same document back
    assert Plan.model_validate(doc).to_dict() == doc


def test_assignments_are_a_dataframe_with_a_row_each(planned):
    frame = planned.assignments.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["workload"]) == [a.workload for a in planned.assignments]
    assert frame["usd"].sum() == pytest.approx(planned.compute_usd, rel=1e-9)
    assert "layout.tp" in frame.columns  # nested fields flattened


def test_a_renamed_or_missing_key_fails_where_the_result_is_made(planned):
    doc = planned.to_dict()
    doc["assignments"][0]["dollars"] = doc["assignments"][0].pop("usd")
    with pytest.raises(ValidationError, match="usd"):
        Plan.model_validate(doc)


def test_the_sweep_starts_from_the_plan_and_never_gets_cheaper_as_the_cap_tightens(planned):
    points = arbiter.sweep(planned, "vendor", [1.0, 0.8, 0.6, 0.5])
    assert [p.cap for p in points] == [1.0, 0.8, 0.6, 0.5]
    costs = [p.total_usd for p in points if p.feasible]
    assert costs and all(a <= b * (1 + 1e-9) for a, b in itertools.pairwise(costs))
    # the fleet's own cap is 0.8: that point is the plan's optimum
    at_own = next(p for p in points if p.cap == 0.8)
    assert at_own.total_usd == pytest.approx(planned.total_usd, rel=1e-6)
    frame = points.to_frame()
    assert list(frame["cap"]) == [1.0, 0.8, 0.6, 0.5]


def test_a_sweep_rejects_a_cap_outside_0_1(planned):
    with pytest.raises(InputError, match="caps in"):
        arbiter.sweep(planned, "vendor", [1.2])
    with pytest.raises(InputError, match="a group of"):
        arbiter.sweep(planned, "chip", [0.5])


def test_a_plan_read_from_a_document_cannot_be_swept(planned):
    copy = Plan.model_validate(planned.to_dict())
    with pytest.raises(InputError, match="carries no solved model"):
        arbiter.sweep(copy, "vendor", [0.5])


def test_risk_from_the_plan_gives_every_sample_as_a_frame(planned):
    report = arbiter.risk(planned, SCENARIOS, samples=64)
    assert isinstance(report, RiskReport)
    assert report.sample_count == 64 and report.seed == 3
    frame = report.samples.to_frame()
    assert set(frame["plan"]) == set(report.plans)
    assert len(frame) == 64 * len(report.plans)
    # the summary is read from the same samples
    for name, stats in report.plans.items():
        costs = frame.loc[frame["plan"] == name, "cost_usd"]
        assert costs.mean() == pytest.approx(stats.mean_usd, rel=1e-12)
        assert costs.quantile(0.5) == pytest.approx(stats.p50_usd, rel=1e-12)
    assert report.plans["plan"].plan_usd == pytest.approx(planned.total_usd, rel=1e-9)
    doc = report.to_dict()
    assert doc["samples"] == 64 and RiskReport.model_validate(doc).to_dict() == doc


def test_risk_of_a_fleet_matches_the_cli(tmp_path, capsys):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET, encoding="utf-8")
    shocks = tmp_path / "scenarios.yaml"
    shocks.write_text(SCENARIOS, encoding="utf-8")
    args = ["risk", str(fleet), "--scenarios", str(shocks), "--samples", "32", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == arbiter.risk(fleet, shocks, samples=32).to_dict()


def test_bad_input_from_text_names_the_source_and_field():
    bad = FLEET.replace("requests_per_s: 20", "requests_per_s: -20")
    with pytest.raises(InputError) as info:
        arbiter.load_fleet(bad)
    assert "<string>" in str(info.value) and "requests_per_s" in str(info.value)
    with pytest.raises(InputError, match="<mapping>"):
        arbiter.load_fleet({"workloads": [{"name": "x", "kind": "serve"}]})
    with pytest.raises(InputError, match="file not found"):
        arbiter.load_fleet("no/such/fleet.yaml")


SCHEMAS = {
    "catalog-diff": CatalogDiff,
    "catalog-summary": CatalogSummary,
    "deal": DealValuation,
    "estimate": EstimateReport,
    "plan": Plan,
    "procure": ProcurementPlan,
    "risk": RiskReport,
    "spot": SpotSimulation,
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_published_schemas_are_the_models(name):
    model = SCHEMAS[name]
    published = json.loads((REPO / "docs" / "schemas" / f"{name}.schema.json").read_text())
    assert published == model.json_schema()


LISTS = {  # commands that print a list of rows
    "catalog-accelerators": AcceleratorSpec,
    "catalog-offers": CatalogOffer,
    "catalog-versions": CatalogVersion,
    "plans-list": SavedPlanInfo,
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_the_published_list_schemas_are_lists_of_the_rows(name):
    published = json.loads((REPO / "docs" / "schemas" / f"{name}.schema.json").read_text())
    assert published == Rows.json_schema(LISTS[name])
    assert published["type"] == "array"
    assert published["items"]["$ref"].endswith(LISTS[name].__name__)


def test_the_api_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("ARBITER_API_EXAMPLE_SAMPLES", "64")
    out = runpy.run_path(str(REPO / "examples" / "api.py"), run_name="__main__")
    plan, report, sweep = out["plan"], out["report"], out["sweep"]
    assert isinstance(plan, Plan) and plan.status == "optimal"
    assert report.plans["plan"].plan_usd == pytest.approx(plan.total_usd, rel=1e-9)
    assert [p.cap for p in sweep] == [0.9, 0.75, 0.6, 0.5]
    # user code: the body of main(), without blank lines and comments
    text = (REPO / "examples" / "api.py").read_text()
    body = text[text.index("def main(") : text.index('if __name__ == "__main__"')]
    code = [line for line in body.splitlines()[1:] if line.strip() and "return" not in line]
    assert len(code) < 20


def test_estimate_from_text_objects_and_the_cli_agree(tmp_path, capsys):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    from_text = arbiter.estimate(FLEET, top=3)
    objects = parse_workloads(yaml.safe_load(FLEET), file="fleet")
    from_objects = arbiter.estimate(objects, top=3)
    from_list = arbiter.estimate(yaml.safe_load(FLEET)["workloads"], top=3)
    docs = [r.to_dict() for r in (from_text, from_objects, from_list)]
    sources = [d.pop("provenance") for d in docs]
    assert docs[0] == docs[1] == docs[2]
    assert [p["file"] for p in sources] == ["<string>", "<workloads>", "<mapping>"]
    with pytest.raises(InputError, match=r"<mapping>.*workloads\[0\]"):
        arbiter.estimate([{"name": "x", "kind": "serve"}])
    assert main(["estimate", str(path), "--top", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the same text from a file: the same document, the file named and the same hash
    assert printed["provenance"] == {**sources[0], "file": "fleet.yaml"}
    assert printed == {**from_text.to_dict(), "provenance": printed["provenance"]}
    chat = from_text.workloads[0]
    assert [w.name for w in from_text.workloads] == ["chat", "tune"]
    assert 0 < len(chat.estimates) <= 3
    # cheapest per unit of work first
    per_m = [e.usd_per_million_tokens for e in chat.estimates]
    assert per_m == sorted(per_m)
    frame = chat.estimates.to_frame()
    assert list(frame["accelerator"]) == [e.accelerator for e in chat.estimates]


def test_estimate_on_named_chips_only():
    report = arbiter.estimate(FLEET, accelerators=["h100", "MI300X"])
    for w in report.workloads:
        assert {e.accelerator for e in w.estimates} <= {"H100-SXM", "MI300X"}
    with pytest.raises(InputError, match="--accelerator"):
        arbiter.estimate(FLEET, accelerators=["no-such-chip"])


def test_a_workload_no_chip_can_run_names_its_field():
    slo = FLEET.replace("slo: {ttft_s: 2, tpot_s: 0.05}", "slo: {ttft_s: 0.001, tpot_s: 0.0001}")
    with pytest.raises(InputError, match=r"workloads\[0\]\.slo") as info:
        arbiter.estimate(slo)
    assert "<string>" in str(info.value)


def test_procure_from_the_api_is_what_the_cli_prints(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    plan = arbiter.procure("examples/procure.yaml", time_limit_s=60)
    assert main(["procure", "examples/procure.yaml", "--time-limit", "60", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == plan.to_dict()
    source = (REPO / "examples" / "procure.yaml").read_bytes()
    assert plan.provenance.input_hash == hashlib.sha256(source).hexdigest()[:12]
    assert plan.provenance.file == "procure.yaml" and plan.provenance.arbiter_version
    frame = plan.schedule.to_frame()
    assert frame["commitment_usd"].sum() == pytest.approx(
        sum(c.commitment_usd for c in plan.schedule)
    )
    # the document's "class" key is work_class in Python, "class" again in the document
    assert plan.estimates[0].work_class == plan.to_dict()["estimates"][0]["class"]
