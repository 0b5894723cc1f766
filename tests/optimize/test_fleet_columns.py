"""Column generation for the fleet LP (``optimize/fleet_columns.py``): its optimum is the
whole LP's, from any starting set of options, within any bounds, and the restricted
solve of ``LinearModel.solve(columns=...)`` is the solve with the other columns held at
zero."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.optimize.fleet import build_fleet_model, solve_fleet
from arbiter.optimize.fleet_columns import first_active, relaxation, without_no_surplus
from arbiter.optimize.fleet_search import (
    _alone,
    _crowded,
    enablement_bound,
    relax_and_fix,
    serve_floors,
)
from arbiter.optimize.linear import Basis, Status

PROVIDERS = ("a", "b", "c", "d")
REGIONS = ("r1", "r2", "r3")


def many_options(seed: int, services: int = 8) -> tuple[Fleet, list]:
    """Services with an option on every provider, region, platform and size (96 each),
    a training job, caps on all three groups, a capacity limit and two platforms to
    enable: more options than any one plan uses, so pricing has work to do."""
    rng = np.random.default_rng(seed)
    workloads = [train("t")]
    options = [
        train_option(0, offer(p, float(rng.uniform(2, 6)), region=g), hours=50.0)
        for p in PROVIDERS
        for g in REGIONS
    ]
    for k in range(services):
        workloads.append(serve(f"s{k}", float(rng.integers(40, 900))))
        for p in PROVIDERS:
            for g in REGIONS:
                for platform in ("cuda", "rocm"):
                    for chips in (1, 2, 4, 8):
                        o = offer(
                            p,
                            float(rng.uniform(1, 4)) * chips,
                            chips=chips,
                            accelerator=f"{platform}{chips}",
                            region=g,
                        )
                        tokens = float(rng.uniform(20, 140)) * chips**0.8
                        options.append(
                            serve_option(
                                k + 1, o, tokens_per_s=tokens, hours=10.0, platform=platform
                            )
                        )
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(vendor=0.7, provider=0.6, region=0.6),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.ROCM, enabled=False, enable_usd=float(rng.uniform(0, 400))),
        ),
        capacity=(CapacityLimit(provider="a", accelerator="cuda8", max_instances=1),),
    )
    return fleet, options


def lp_without_no_surplus(model, bounds=None):
    """The LP column generation solves: every column and row but the no-surplus ones
    (``r <= R`` stays, as bounds)."""
    skip, rows = without_no_surplus(model)
    lo, up = model.col_bounds() if bounds is None else bounds
    lo, up = lo.copy(), up.copy()
    lo[skip] = 0.0
    return model.solve(relax=True, bounds=(lo, up), columns=np.flatnonzero(~skip), rows=rows)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), start=st.sampled_from(["first", "one", "none"]))
def test_column_generation_reaches_the_whole_lp_optimum(seed, start):
    fleet, options = many_options(seed)
    built = build_fleet_model(fleet, options)
    tight = built.model.copy()
    serve_floors(tight, built, options, None)
    whole = lp_without_no_surplus(tight)
    assert whole.status is Status.OPTIMAL
    active = {
        "first": first_active(built, options),
        # only each service's first option: pricing must bring in the rest it needs
        "one": np.isin(np.arange(len(built.rep)), [8 * 24 * k for k in range(8)]),
        "none": np.zeros(len(built.rep), dtype=bool),
    }[start]
    found = relaxation(tight, built, options, active=active)
    assert found.solution.status is Status.OPTIMAL
    assert found.solution.objective == pytest.approx(whole.objective, rel=1e-7)
    # the point is feasible for the whole LP: fix every column at it
    x = found.solution.x
    at_x = lp_without_no_surplus(tight, bounds=(x - 1e-7, x + 1e-7))
    assert at_x.status is Status.OPTIMAL
    if start != "first":
        assert found.rounds > 1  # the first master was infeasible: it widened
        # by phase one's pricing, not by taking every option
        assert not found.active.all()


def test_an_infeasible_lp_is_proven_so_by_phase_one():
    """Capacity for one instance in all: no option can serve eight services. Phase one
    prices options in while they lower the violation and then reports the LP infeasible,
    as the whole LP is."""
    fleet, options = many_options(5)
    one = CapacityLimit(provider="a", accelerator="cuda1", max_instances=1)
    closed = tuple(
        CapacityLimit(provider=p, accelerator=f"{platform}{chips}", max_instances=0)
        for p in PROVIDERS
        for platform in ("cuda", "rocm")
        for chips in (1, 2, 4, 8)
        if (p, platform, chips) != ("a", "cuda", 1)
    )
    fleet = Fleet(
        workloads=fleet.workloads,
        caps=fleet.caps,
        platforms=fleet.platforms,
        capacity=(one, *closed),
    )
    built = build_fleet_model(fleet, options)
    assert lp_without_no_surplus(built.model).status is Status.INFEASIBLE
    found = relaxation(built.model, built, options, active=np.zeros(len(built.rep), dtype=bool))
    assert found.solution.status is Status.INFEASIBLE


def test_pricing_brings_in_the_options_the_optimum_needs():
    fleet, options = many_options(7)
    built = build_fleet_model(fleet, options)
    whole = lp_without_no_surplus(built.model)
    # a feasible start without the options the LP optimum uses
    used = whole.x[built.instances.columns] > 1e-9
    start = first_active(built, options) & ~used
    held = np.zeros(built.model.n_cols, dtype=bool)
    held[built.replicas.columns[~start]] = held[built.instances.columns[~start]] = True
    skip, rows = without_no_surplus(built.model)
    master = built.model.solve(relax=True, columns=np.flatnonzero(~held & ~skip), rows=rows)
    assert master.status is Status.OPTIMAL  # feasible: nothing to widen
    assert master.objective > whole.objective * (1 + 1e-6)  # and dearer: pricing must act
    found = relaxation(built.model, built, options, active=start)
    assert found.rounds > 1
    assert (found.active & used).any()  # priced in
    assert not found.active.all()  # not by falling back to every option
    assert found.solution.objective == pytest.approx(whole.objective, rel=1e-7)


def test_within_bounds_that_close_a_platform_it_is_that_lp():
    fleet, options = many_options(3)
    built = build_fleet_model(fleet, options)
    lower, upper = built.model.col_bounds()
    z = built.enable.columns[0]
    for value in (0.0, 1.0):
        lo, up = lower.copy(), upper.copy()
        lo[z] = up[z] = value
        whole = lp_without_no_surplus(built.model, bounds=(lo, up))
        found = relaxation(
            built.model,
            built,
            options,
            bounds=(lo, up),
            active=np.zeros(len(built.rep), dtype=bool),
        )
        assert found.solution.status is whole.status
        if whole.status is Status.OPTIMAL:
            assert found.solution.objective == pytest.approx(whole.objective, rel=1e-7)
        rocm = np.array([options[i].estimate.platform == "rocm" for i in built.rep.tolist()])
        if value == 0.0:
            # NVIDIA alone breaks the vendor cap: no plan, and rocm is never priced in
            assert whole.status is Status.INFEASIBLE
            assert not (found.active & rocm).any()  # a closed platform is never priced in
        else:
            assert whole.status is Status.OPTIMAL
            assert (found.active & rocm).any()


def test_a_restricted_solve_is_the_solve_with_the_rest_held_at_zero():
    fleet, options = many_options(5)
    built = build_fleet_model(fleet, options)
    model = built.model
    rng = np.random.default_rng(0)
    held = np.zeros(model.n_cols, dtype=bool)
    keep_out = rng.random(len(built.rep)) < 0.7
    held[built.replicas.columns[keep_out]] = held[built.instances.columns[keep_out]] = True
    lower, upper = model.col_bounds()
    upper[held] = 0.0
    for relax in (True, False):
        by_bounds = model.solve(relax=relax, bounds=(lower, upper), mip_gap=0.0)
        by_columns = model.solve(relax=relax, columns=np.flatnonzero(~held), mip_gap=0.0)
        assert by_columns.status is by_bounds.status
        assert by_columns.objective == pytest.approx(by_bounds.objective, rel=1e-7)
        assert not by_columns.x[held].any()
    # a restricted LP returns row duals for pricing (zero only on the rows it dropped)
    lp = model.solve(relax=True, columns=np.flatnonzero(~held))
    assert lp.row_dual.any()


def test_the_large_model_path_plans_within_its_gap_of_the_exact_optimum():
    fleet, options = many_options(11, services=5)
    exact = solve_fleet(fleet, options, mip_gap=0.0, decompose=False)
    stepped = solve_fleet(fleet, options, mip_gap=0.01, decompose=True)
    assert stepped.total_usd >= exact.total_usd - 1e-6
    assert stepped.total_usd * (1 - stepped.mip_gap) <= exact.total_usd + 1e-6


@pytest.mark.parametrize("seed", [3, 11, 29, 47])
def test_without_relax_and_fix_the_bound_still_holds(seed, monkeypatch):
    """Relax-and-fix finds no plan (as at 5,000 generated workloads): the MILP over the
    priced-in options plans, then the platform sets are bounded apart. The gap it proves
    holds against the exact optimum, and the set bound is at least the plain LP's."""
    import arbiter.optimize.fleet as fleet_module

    fleet, options = many_options(seed, services=5)
    exact = solve_fleet(fleet, options, mip_gap=0.0, decompose=False)
    monkeypatch.setattr(fleet_module, "relax_and_fix", lambda *a, **k: None)
    calls = []
    real = fleet_module.enablement_bound
    monkeypatch.setattr(
        fleet_module, "enablement_bound", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    stepped = solve_fleet(fleet, options, mip_gap=1e-6, decompose=True)
    assert stepped.total_usd >= exact.total_usd - 1e-6
    assert stepped.total_usd * (1 - stepped.mip_gap) <= exact.total_usd + 1e-6
    built = build_fleet_model(fleet, options)
    tight = built.model.copy()
    serve_floors(tight, built, options, None)
    lp = tight.solve(relax=True)
    assert stepped.total_usd * (1 - stepped.mip_gap) >= lp.objective - 1e-6 * lp.objective
    assert calls  # a plan above the gap with a platform pending: the sets were bounded


def three_platforms(seed: int) -> tuple[Fleet, list]:
    """Services on cuda, rocm and xla (two of them to enable) under a vendor cap: the LP
    opens platforms by a sliver, and the sets of platforms differ in cost."""
    rng = np.random.default_rng(seed)
    workloads, options = [train("t")], [train_option(0, offer("a", 4.0), hours=50.0)]
    for k in range(5):
        workloads.append(serve(f"s{k}", float(rng.integers(100, 600))))
        for p in PROVIDERS[:3]:
            for platform in ("cuda", "rocm", "xla"):
                for chips in (1, 8):
                    o = offer(
                        p,
                        float(rng.uniform(1, 4)) * chips,
                        chips=chips,
                        accelerator=f"{platform}{chips}",
                    )
                    tokens = float(rng.uniform(20, 140)) * chips**0.8
                    options.append(
                        serve_option(k + 1, o, tokens_per_s=tokens, hours=10.0, platform=platform)
                    )
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(vendor=float(rng.uniform(0.5, 0.9))),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.ROCM, enabled=False, enable_usd=float(rng.uniform(0, 300))),
            PlatformState(Platform.XLA, enabled=False, enable_usd=float(rng.uniform(0, 300))),
        ),
    )
    return fleet, options


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 0.2))
def test_the_set_bound_is_the_least_lp_over_the_sets_or_enough(seed, share):
    """``enablement_bound`` against every set of platforms solved apart: never above the
    least of their LPs (a valid bound), and at least that or ``enough`` (each set it
    skips is bounded at ``enough`` or above by a set that holds it)."""
    fleet, options = three_platforms(seed)
    built = build_fleet_model(fleet, options)
    tight = built.model.copy()
    serve_floors(tight, built, options, None)
    lp = tight.solve(relax=True)
    lower, upper = tight.col_bounds()
    z = built.enable.columns
    each = []
    for bits in itertools.product((0.0, 1.0), repeat=len(z)):
        lo, up = lower.copy(), upper.copy()
        lo[z] = up[z] = bits
        found = tight.solve(relax=True, bounds=(lo, up))
        if found.status is Status.OPTIMAL:
            each.append(found.objective)
    least = min(each)
    enough = least * (1.0 + share) if share else float("inf")
    bound, _ = enablement_bound(tight, built, lp, enough, None)
    assert bound <= least * (1 + 1e-7) + 1e-6
    assert bound >= min(least, enough) * (1 - 1e-7) - 1e-6
    assert bound >= lp.objective * (1 - 1e-7) - 1e-6


def test_a_warm_start_reaches_the_same_optimum_in_fewer_iterations():
    """The column generation's masters start from the last one's basis (primal simplex:
    columns entered at zero), the platform sets' LPs from the whole LP's (dual simplex:
    bounds changed); a basis HiGHS cannot use is dropped and the solve starts cold."""
    fleet, options = many_options(5)
    built = build_fleet_model(fleet, options)
    model = built.model
    rng = np.random.default_rng(1)
    held = np.zeros(model.n_cols, dtype=bool)
    out = rng.random(len(built.rep)) < 0.7
    held[built.replicas.columns[out]] = held[built.instances.columns[out]] = True
    fewer = model.solve(relax=True, columns=np.flatnonzero(~held))
    every = np.arange(model.n_cols)
    assert fewer.basis is not None
    cold = model.solve(relax=True, columns=every)
    warm = model.solve(relax=True, columns=every, basis=fewer.basis)
    assert warm.status is cold.status is Status.OPTIMAL
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.iterations < cold.iterations
    # within bounds that close the pending platform, from the whole LP's basis
    lower, upper = model.col_bounds()
    upper[built.enable.columns] = 0.0
    closed_cold = model.solve(relax=True, bounds=(lower, upper), columns=every)
    closed_warm = model.solve(
        relax=True, bounds=(lower, upper), columns=every, basis=cold.basis, simplex="dual"
    )
    assert closed_warm.status is closed_cold.status
    if closed_cold.status is Status.OPTIMAL:
        assert closed_warm.objective == pytest.approx(closed_cold.objective, rel=1e-9)
    # a basis with one basic variable too many: ignored, same optimum
    assert cold.basis is not None
    bad = Basis(cold.basis.col_status.copy(), cold.basis.row_status.copy())
    bad.col_status[np.flatnonzero(bad.col_status != 1)[0]] = 1
    again = model.solve(relax=True, columns=every, basis=bad)
    assert again.objective == pytest.approx(cold.objective, rel=1e-9)


def two_services_three_instances(fee: float | None = None) -> tuple[Fleet, list]:
    """Two services, each an instance and a half of 8 chips at provider a, the cheapest,
    where three instances are all there is; b sells the same dearer. With a ``fee``, a
    third service on a platform to enable for it that saves it $10, under a vendor cap
    (which makes the enablement link's big-M large and binds no plan)."""
    workloads = [serve("s0", 300.0), serve("s1", 300.0)]
    options = []
    for w in (0, 1):
        for provider, usd in (("a", 8.0), ("b", 11.0)):
            o = offer(provider, usd, chips=8, accelerator="cuda8")
            options.append(serve_option(w, o, tokens_per_s=200.0, hours=10.0, chips=8))
    capacity = (CapacityLimit(provider="a", accelerator="cuda8", max_instances=3),)
    if fee is None:
        return Fleet(workloads=tuple(workloads), capacity=capacity), options
    workloads.append(serve("s2", 100.0))
    options.append(
        serve_option(2, offer("a", 5.0, accelerator="cuda1"), tokens_per_s=100.0, hours=10.0)
    )
    tpu = offer("d", 4.9, accelerator="tpu1")
    options.append(serve_option(2, tpu, tokens_per_s=100.0, hours=10.0, platform="xla"))
    rocm = offer("c", 4.0, accelerator="rocm1")
    options.append(serve_option(2, rocm, tokens_per_s=100.0, hours=10.0, platform="rocm"))
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(vendor=0.99),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.XLA, enabled=True),
            PlatformState(Platform.ROCM, enabled=False, enable_usd=fee),
        ),
        capacity=capacity,
    )
    return fleet, options


def test_a_capacity_row_is_crowded_when_rounding_up_could_break_it():
    """Two services at one and a half 8-chip instances each on a row of three: rounding
    both up needs four. With a fourth instance to spare the row is not crowded."""
    fleet, options = two_services_three_instances()
    built = build_fleet_model(fleet, options)
    x = np.zeros(built.model.n_cols)
    x[built.instances.columns[[0, 2]]] = 1.5  # both services on a
    cols = built.instances.columns
    assert _crowded(built.model, x, cols).tolist() == [True, False, True, False]
    x[built.instances.columns[[0, 2]]] = [1.5, 1.0]
    assert not _crowded(built.model, x, cols).any()  # 1.5 + 1 rounds up to 3: fits
    x[built.instances.columns[[0, 2]]] = [1.5, 1.25]
    assert _crowded(built.model, x, cols).tolist() == [True, False, True, False]


@pytest.mark.parametrize("fee", [0.0, 1.0, 100.0])
def test_relax_and_fix_enables_a_platform_only_where_the_lp_spends_its_fee(fee):
    """The LP opens rocm by a sliver for s2 ($9 saved over the run; $40 spent there):
    relax-and-fix enables it only when the LP spends its fee there, and plans at the
    exact optimum (which at a $100 fee enabling every platform the LP uses misses)."""
    fleet, options = two_services_three_instances(fee)
    built = build_fleet_model(fleet, options)
    lp = lp_without_no_surplus(built.model)
    assert 0 < lp.x[built.enable.columns[0]] < (1.0 if fee else 2.0)
    found = relax_and_fix(built, options, lp, 0, 1e-9, None)
    assert found is not None
    assert found.objective == pytest.approx(built.model.solve(mip_gap=0.0).objective, rel=1e-9)
    assert (found.x[built.enable.columns[0]] > 0.5) == (fee < 9.0)


def test_serve_floors_mark_each_services_best_plan_alone():
    """Each plain service's floor is the least it costs alone in whole units; the options
    marked are a plan that attains it (relax-and-fix keeps them as room to round to)."""
    fleet, options = many_options(7, services=4)
    built = build_fleet_model(fleet, options)
    tight = built.model.copy()
    alone = serve_floors(tight, built, options, None)
    family = next(f for f in tight.families if f.name == "serve_floor")
    floors = dict(zip(family.labels, tight.row_bounds()[0][family.start :], strict=False))
    rates = dict(built.serve_rates)
    for w, rate in rates.items():
        mine = [j for j, i in enumerate(built.rep.tolist()) if options[i].workload == w]
        marked = [j for j in mine if alone[j]]
        assert 0 < len(marked) < len(mine)
        picked = [options[int(built.rep[j])] for j in marked]
        floor, _ = _alone(
            rate,
            np.array([o.usd for o in picked]),
            np.array([o.tokens_per_s for o in picked]),
            np.array([float(o.chips) for o in picked]),
            np.array([float(o.offer.accelerators_per_instance) for o in picked]),
            None,
        )
        assert floor == pytest.approx(floors[str(w)], rel=1e-6)
