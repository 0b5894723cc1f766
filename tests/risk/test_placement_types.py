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
from scipy import sparse

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ZERO, Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.domain.workload import WorkloadKind
from arbiter.optimize.fleet import solve_fleet
from arbiter.risk import impact
from arbiter.risk.impact import placement_types, plan_arrays, without_recourse
from arbiter.scenarios.sampling import Samples, chunk_plan, sample

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


def each_workload_alone(pa: impact.PlanArrays, kind_of: np.ndarray, n_t: int):
    """Workload types with one workload each, built apart from ``workload_types``."""
    n_w = len(pa.serve)
    share, count = np.zeros((n_w, n_t)), np.zeros((n_w, n_t))
    for p, (w, t) in enumerate(zip(pa.workload, kind_of, strict=True)):
        if pa.serve[w]:
            share[w, t] += pa.work_share[p]
        else:
            count[w, t] += 1.0
    return impact.WorkloadTypes(
        of=np.arange(n_w),
        first=np.arange(n_w),
        share=sparse.csr_array(share),
        count=sparse.csr_array(count),
        members=np.ones(n_w),
        spend_usd=pa.spend_usd,
        weight=pa.weight,
        types=tuple(np.unique(kind_of[pa.workload == w]) for w in range(n_w)),
    )


def same_outcome(a: impact.Outcome, b: impact.Outcome) -> None:
    assert a.cost_usd == pytest.approx(b.cost_usd, rel=1e-12, abs=1e-9)
    assert a.unmet == pytest.approx(b.unmet, abs=1e-12)
    assert a.unmet_share == pytest.approx(b.unmet_share, abs=1e-12)
    assert np.array_equal(a.missed_deadlines, b.missed_deadlines)
    assert np.array_equal(a.hit_day, b.hit_day)


CASES = {
    "jobs": st.integers(1, 4),
    "services": st.integers(0, 3),
    "regime": st.sampled_from(list(PriceRegime)),
    "kinds": st.lists(st.sampled_from(list(ShockKind)), min_size=1, max_size=4),
    "providers": st.lists(st.sampled_from(["p", "q"]), min_size=4, max_size=4),
    "seed": st.integers(0, 1000),
}


@settings(max_examples=25, deadline=None)
@given(**CASES)
def test_each_workload_type_once_is_each_workload_alone(
    jobs, services, regime, kinds, providers, seed
):
    fleet, options = fleet_with_twins(jobs, services, regime)
    scenarios = shocks(kinds, providers[: len(kinds)])
    pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
    samples = sample(scenarios, 40, np.random.SeedSequence(seed))
    banded = dataclasses.replace(pa, perf_sigma=np.full(len(pa.usd), 0.3))
    for plan, speed in ((pa, None), (banded, impact.perf_speed(banded, 40, samples_seed(seed)))):
        typed = without_recourse(plan, scenarios, samples, speed)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(impact, "workload_types", each_workload_alone)
            each = without_recourse(plan, scenarios, samples, speed)
        same_outcome(typed, each)
    # identical services (and every other job, of equal hours) share a type
    if services >= 2 or jobs >= 3:
        assert typed.unmet_by_type.shape[0] < len(fleet.workloads)


def samples_seed(seed: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed)


@settings(max_examples=25, deadline=None)
@given(**CASES)
def test_the_closed_form_is_the_time_line_where_no_shock_reaches(
    jobs, services, regime, kinds, providers, seed
):
    """A type in a sample no shock that can change it reaches in time runs at full
    capacity at the list price: the shortcut gives what the time line gives."""
    fleet, options = fleet_with_twins(jobs, services, regime)
    scenarios = shocks(kinds, providers[: len(kinds)])
    pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
    samples = sample(scenarios, 40, np.random.SeedSequence(seed))
    banded = dataclasses.replace(pa, perf_sigma=np.full(len(pa.usd), 0.3))
    pair_timelines = impact._pair_timelines
    for plan, speed in ((pa, None), (banded, impact.perf_speed(banded, 40, samples_seed(seed)))):
        pairs = {"short": 0, "long": 0}
        with pytest.MonkeyPatch.context() as m:
            m.setattr(impact, "_pair_timelines", counting(pair_timelines, pairs, "short"))
            short = without_recourse(plan, scenarios, samples, speed)
            m.setattr(impact, "_pair_timelines", counting(pair_timelines, pairs, "long"))
            long = without_recourse(plan, scenarios, samples, speed, shortcut=False)
        same_outcome(short, long)
        # the time line took every pair without the shortcut, and no more with it (as
        # many where a shock reaches every type in every sample)
        n_types = len(placement_types(plan, speed)[1])
        assert pairs["long"] == n_types * 40
        assert pairs["short"] <= pairs["long"]


@pytest.mark.parametrize("regime", [PriceRegime.ON_DEMAND, PriceRegime.RESERVED_1Y])
def test_the_shortcut_puts_no_pair_on_a_time_line_where_no_shock_reaches_the_plan(regime):
    fleet, options = fleet_with_twins(2, 2, regime)
    scenarios = shocks([ShockKind.SUPPLY_CUT, ShockKind.PRICE_SHIFT], ["z", "z"])
    pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
    samples = sample(scenarios, 40, np.random.SeedSequence(7))
    pairs = {"short": 0, "long": 0}
    pair_timelines = impact._pair_timelines
    with pytest.MonkeyPatch.context() as m:
        m.setattr(impact, "_pair_timelines", counting(pair_timelines, pairs, "short"))
        short = without_recourse(pa, scenarios, samples, None)
        m.setattr(impact, "_pair_timelines", counting(pair_timelines, pairs, "long"))
        long = without_recourse(pa, scenarios, samples, None, shortcut=False)
    same_outcome(short, long)
    assert pairs == {"short": 0, "long": len(placement_types(pa, None)[1]) * 40}


def counting(pair_timelines, pairs: dict[str, int], key: str):
    """``pair_timelines`` that adds the pairs it puts on a time line to ``pairs[key]``."""

    def counted(*args, **kw):
        out = pair_timelines(*args, **kw)
        pairs[key] += sum(len(t) for t, _, _ in out)
        return out

    return counted


def test_a_sample_is_the_same_whatever_samples_are_beside_it():
    """Batches of chunks are evaluated side by side: each sample's figures are exactly
    those of its chunk evaluated alone."""
    fleet, options = fleet_with_twins(3, 2, PriceRegime.ON_DEMAND)
    kinds = [ShockKind.SUPPLY_CUT, ShockKind.PRICE_SHIFT, ShockKind.DEMAND_SHIFT]
    scenarios = shocks(kinds, ["p", "q", "p"])
    pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
    pa = dataclasses.replace(pa, perf_sigma=np.full(len(pa.usd), 0.2))
    chunks = chunk_plan(700, 5)
    parts = [sample(scenarios, size, seed) for size, seed in chunks]
    speeds = [impact.perf_speed(pa, size, seed) for size, seed in chunks]
    alone = [without_recourse(pa, scenarios, s, v) for s, v in zip(parts, speeds, strict=True)]
    together = without_recourse(
        pa, scenarios, Samples.concatenate(parts), impact.Speed.concatenate(speeds)
    )
    for field in ("cost_usd", "unmet_usd", "unmet_share", "missed_deadlines", "unmet", "hit_day"):
        joined = np.concatenate([getattr(o, field) for o in alone], axis=-1)
        assert np.array_equal(getattr(together, field), joined), field
    assert (together.unmet > 0).any() and len(np.unique(together.cost_usd)) > 10
