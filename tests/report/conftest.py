"""What the report tests share: the head of the plotly.js bundle every page embeds, and
results the real engines produce on the examples (once per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import yaml

pytest.importorskip("plotly")
from plotly.offline import get_plotlyjs

import arbiter
from arbiter.results import DealValuation, Plan, ProcurementPlan, RiskReport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T = TypeVar("T")


@pytest.fixture(scope="module")
def plotly_head() -> str:
    return get_plotlyjs()[:400]


def _isolated(run: Callable[[], T]) -> T:
    """``run()`` on the embedded catalog, on a fixed day, with nothing saved."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARBITER_TODAY", "2026-11-29")
        mp.setenv("ARBITER_DB_URL", "sqlite:///:memory:")
        return run()


@pytest.fixture(scope="session")
def example_plan() -> Plan:
    """Three workloads of ``examples/fleet.yaml`` (two fine-tunes and the interruptible
    batch job, which runs on spot), under share caps the three can meet, with the
    price of diversification swept over the vendor cap (60% is infeasible)."""
    fleet = yaml.safe_load((EXAMPLES / "fleet.yaml").read_text(encoding="utf-8"))
    keep = {"lora-8b-codegen", "nightly-batch-8b", "lora-70b-support"}
    fleet["workloads"] = [w for w in fleet["workloads"] if w["name"] in keep]
    fleet["constraints"]["max_share"] = {"vendor": 0.95, "provider": 0.9}

    def run() -> Plan:
        plan = arbiter.plan(fleet)
        return plan.model_copy(update={"sweep": arbiter.sweep(plan, "vendor", [1.0, 0.6])})

    return _isolated(run)


@pytest.fixture(scope="session")
def example_risk(example_plan: Plan) -> RiskReport:
    """That plan under ``examples/scenarios.yaml``, re-planned in each of 64 samples."""
    scenarios = EXAMPLES / "scenarios.yaml"
    return _isolated(
        lambda: arbiter.risk(example_plan, scenarios, samples=64, recourse=True, workers=1)
    )


@pytest.fixture(scope="session")
def example_procurement() -> ProcurementPlan:
    return _isolated(lambda: arbiter.procure(EXAMPLES / "procure.yaml"))


@pytest.fixture(scope="session")
def example_deal() -> DealValuation:
    """``examples/deals/trainium-10b.yaml`` over 16 sampled futures, without the
    break-evens and tornado."""
    deal = EXAMPLES / "deals" / "trainium-10b.yaml"
    return _isolated(lambda: arbiter.deal(deal, samples=16, with_sensitivity=False, workers=1))
