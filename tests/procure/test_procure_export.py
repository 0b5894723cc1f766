"""The procurement model written as MPS or LP reads back into HiGHS, whose optimum (in
the rows' unit of money) is the schedule's objective."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from model_files import optimum_of

from arbiter.catalog.embedded import default_catalog
from arbiter.perf.efficiency import default_efficiency
from arbiter.procure.loading import parse_procurement
from arbiter.procure.milp import solve
from arbiter.procure.model import build_data

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_the_exported_model_has_the_schedules_optimum(tmp_path, suffix):
    text = (REPO / "examples" / "procure.yaml").read_text(encoding="utf-8")
    problem = parse_procurement(yaml.safe_load(text), file="procure.yaml")
    data = build_data(problem, default_catalog(), default_efficiency())
    path = tmp_path / f"procure{suffix}"
    found = solve(data, export_model=path, mip_gap=1e-6)
    optimum = optimum_of(path, mip_gap=1e-6) * found.usd_unit
    assert optimum == pytest.approx(found.objective, rel=2e-6)
    # rows named in words: the class, the scenario, the period
    assert "demand(chat,_scenario_mid,_period_0)" in path.read_text(encoding="utf-8")
