"""``--export-model``: a plan's placement model written as MPS or LP reads back into
HiGHS, whose optimum is the plan's objective (its total cost: the objective is cost)."""

from __future__ import annotations

import json

import pytest
from model_files import optimum_of

import arbiter
from arbiter.domain.errors import InputError

FLEET = """
workloads:
  - name: assistant
    kind: serve
    model: llama-3.1-8b
    requests_per_s: 8
    input_tokens: 1000
    output_tokens: 300
    slo: {ttft_s: 3, tpot_s: 0.08}
    hours: 168
  - {name: adapt, kind: finetune, model: llama-3.1-8b, tokens: 200M, deadline_days: 3}
constraints:
  max_share: {provider: 0.7}
"""


def test_the_api_exports_the_plan_model_as_mps(cli, tmp_path):
    path = tmp_path / "fleet.mps"
    plan = arbiter.plan(FLEET, mip_gap=0.0, alternatives=0, export_model=path)
    assert plan.objective == "cost"
    assert plan.status == "optimal"
    assert optimum_of(path) == pytest.approx(plan.total_usd, rel=1e-9)
    # variables named in words: the workload, then where it runs
    assert "instances(assistant_" in path.read_text(encoding="utf-8")


def test_the_cli_exports_the_plan_model_as_lp(cli, tmp_path):
    fleet, path = tmp_path / "fleet.yaml", tmp_path / "fleet.lp"
    fleet.write_text(FLEET, encoding="utf-8")
    args = ["plan", str(fleet), "--mip-gap", "0", "--alternatives", "0", "--json"]
    code, out, _ = cli(*args, "--export-model", str(path))
    assert code == 0
    assert optimum_of(path) == pytest.approx(json.loads(out)["total_usd"], rel=1e-9)


def test_a_bad_suffix_fails_before_planning(cli, tmp_path):
    with pytest.raises(InputError, match=r"\.mps or \.lp"):
        arbiter.plan(FLEET, export_model=tmp_path / "fleet.json")
    code, _, err = cli("plan", "examples/fleet.yaml", "--export-model", "fleet.xml")
    assert code == 2
    assert "Valid: .mps or .lp" in err
