"""Small risk cases built by hand: shocks at given hours that surely happen, and one
sample of a plan with and without re-planning."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ZERO, Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.domain.workload import Workload
from arbiter.optimize.fleet import FleetSolution, solve_fleet
from arbiter.optimize.options import Option
from arbiter.risk.impact import Outcome, plan_arrays, without_recourse
from arbiter.risk.recourse import option_arrays, with_recourse
from arbiter.scenarios.sampling import sample


def at(
    kind: ShockKind,
    provider: str,
    start_h: float,
    hours: float,
    magnitude: float = 0.0,
    name: str = "",
) -> Shock:
    """A shock on ``provider`` that surely happens, from hour ``start_h`` for ``hours``."""
    return Shock(
        name=name or f"{kind.value}-{provider}-{start_h}",
        kind=kind,
        selector=Selector(providers=(provider,)),
        probability=1.0,
        magnitude=ZERO if kind is ShockKind.OUTAGE else Distribution.fixed(magnitude),
        start_days=Distribution.fixed(start_h / 24.0),
        duration_days=Distribution.fixed(hours / 24.0),
    )


def due(w: Workload, hours: float) -> Workload:
    return replace(w, job=replace(w.job, deadline_days=hours / 24.0))


def evaluate(
    fleet: Fleet, plan: list[Option], shocks: list[Shock], alternatives: Sequence[Option] = ()
) -> tuple[FleetSolution, Outcome, float]:
    """The plan of ``plan``'s options, its outcome in one sample without re-planning, and
    its cost with re-planning on ``plan + alternatives``."""
    sol = solve_fleet(fleet, plan)
    scenarios = ScenarioSet(shocks=tuple(shocks))
    samples = sample(scenarios, 1, np.random.SeedSequence(0))
    assert samples.occurred.all()
    pa = plan_arrays(fleet, sol, scenarios)
    out = without_recourse(pa, scenarios, samples)
    options = option_arrays([*plan, *alternatives], scenarios)
    cost, _, _ = with_recourse(fleet, sol, pa, options, scenarios, samples, out)
    return sol, out, float(cost[0])
