"""``without_recourse`` evaluates each placement type (placements every shock treats
alike) once and maps the result back by dollars and work shares; that mapping must give
what evaluating every placement on its own gives, sample by sample."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ZERO, Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.domain.workload import WorkloadKind
from arbiter.optimize.fleet import solve_fleet
from arbiter.risk import impact
from arbiter.risk.impact import placement_types, plan_arrays, without_recourse
from arbiter.scenarios.sampling import sample

MAGNITUDE = {
    ShockKind.SUPPLY_CUT: Distribution.fixed(0.4),
    ShockKind.PRICE_SHIFT: Distribution.fixed(1.6),
    ShockKind.SPOT_SURGE: Distribution.fixed(3.0),
    ShockKind.OUTAGE: ZERO,
    ShockKind.ROADMAP_SLIP: Distribution.fixed(1.0),
    ShockKind.DEMAND_SHIFT: Distribution.fixed(1.3),
}


def fleet_with_twins(jobs: int, services: int, regime: PriceRegime) -> tuple[Fleet, list]:
    """``jobs`` identical train jobs and ``services`` identical services on two providers
    (one of them in ``regime``): identical workloads make placements of one type."""
    workloads, options = [], []
    offers = [offer("p", 3.0, regime=regime), offer("q", 3.5)]
    for k in range(jobs):
        workloads.append(train(f"t{k}"))
        options += [train_option(k, o, hours=40.0 + 10 * (k % 2)) for o in offers]
    for k in range(services):
        w = jobs + k
        workloads.append(serve(f"s{k}", 150.0, hours=60.0))
        options += [serve_option(w, o, tokens_per_s=60.0, hours=60.0) for o in offers]
    return Fleet(workloads=tuple(workloads)), options


def shocks(kinds: list[ShockKind], providers: list[str]) -> ScenarioSet:
    out = []
    for i, (kind, provider) in enumerate(zip(kinds, providers, strict=True)):
        select = (
            Selector(kinds=(WorkloadKind.SERVE,))
            if kind is ShockKind.DEMAND_SHIFT
            else Selector(providers=(provider,))
        )
        slip = kind is ShockKind.ROADMAP_SLIP  # from day 0 for its delay
        out.append(
            Shock(
                name=f"s{i}",
                kind=kind,
                selector=select,
                probability=0.6,
                magnitude=MAGNITUDE[kind],
                start_days=ZERO if slip else Distribution("uniform", (0.0, 3.0)),
                duration_days=MAGNITUDE[kind] if slip else Distribution("uniform", (0.1, 4.0)),
            )
        )
    return ScenarioSet(shocks=tuple(out))


@settings(max_examples=25, deadline=None)
@given(
    jobs=st.integers(1, 4),
    services=st.integers(0, 3),
    regime=st.sampled_from(list(PriceRegime)),
    kinds=st.lists(st.sampled_from(list(ShockKind)), min_size=1, max_size=4),
    providers=st.lists(st.sampled_from(["p", "q"]), min_size=4, max_size=4),
    seed=st.integers(0, 1000),
)
def test_each_type_once_is_each_placement_alone(jobs, services, regime, kinds, providers, seed):
    fleet, options = fleet_with_twins(jobs, services, regime)
    sol = solve_fleet(fleet, options)
    scenarios = shocks(kinds, providers[: len(kinds)])
    samples = sample(scenarios, 40, np.random.SeedSequence(seed))
    pa = plan_arrays(fleet, sol, scenarios)
    kind_of, first = placement_types(pa)
    typed = without_recourse(pa, scenarios, samples)
    alone = np.arange(len(pa.usd), dtype=np.int64)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(impact, "placement_types", lambda *_: (alone, alone))
        each = without_recourse(pa, scenarios, samples)
    assert typed.cost_usd == pytest.approx(each.cost_usd, rel=1e-12, abs=1e-9)
    assert typed.unmet == pytest.approx(each.unmet, abs=1e-12)
    assert typed.unmet_share == pytest.approx(each.unmet_share, abs=1e-12)
    assert np.array_equal(typed.missed_deadlines, each.missed_deadlines)
    assert np.array_equal(typed.hit_day, each.hit_day)
    # twins share a type: fewer types than placements when a workload is repeated
    if jobs >= 3 or services >= 2:
        assert len(first) < len(pa.usd)
    assert np.array_equal(kind_of[first], np.arange(len(first)))
    # with the perf model's error sampled: placements of a type share its draw too
    banded = dataclasses.replace(pa, perf_sigma=np.full(len(pa.usd), 0.3))
    speed = impact.perf_speed(banded, 40, np.random.SeedSequence(seed))
    assert speed is not None
    typed = without_recourse(banded, scenarios, samples, speed)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(impact, "placement_types", lambda *_: (alone, alone))
        each = without_recourse(banded, scenarios, samples, speed)
    assert typed.cost_usd == pytest.approx(each.cost_usd, rel=1e-12, abs=1e-9)
    assert typed.unmet == pytest.approx(each.unmet, abs=1e-12)
    assert np.array_equal(typed.missed_deadlines, each.missed_deadlines)
