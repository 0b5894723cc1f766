"""Properties of the fleet MILP on random small fleets, the exported model against SciPy's
``milp``, the Mélange single-class example by hand, and pinned known bugs.

Every solve in the properties goes through :func:`solve_checked`, which checks the
solution against the fleet (placement, demand, packing, caps, capacity, budget, platforms,
cost accounting) without trusting the model.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
from fleet_helpers import (
    mix_option,
    offer,
    serve,
    serve_mix,
    serve_option,
    train,
    train_option,
)
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import GROUPS, TIME, CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.domain.workload import ServeJob
from arbiter.optimize.baselines import meets_fleet
from arbiter.optimize.fleet import FleetSolution, build_fleet_model, group_of, solve_fleet
from arbiter.optimize.linear import LinearModel, Solution, Status
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune
from strategies import WIDE, FleetCase, fleet_cases

GAP = 1e-9  # solve to optimality: the properties compare optima
NODE_LIMIT = 20_000  # branch-and-bound nodes, the same on any machine (a few dozen suffice)
REL = 1e-6
ABS = 1e-5
PLATFORMS = ("cuda", "xla", "rocm")
PROPERTY = settings(max_examples=40, deadline=None)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b)) + ABS


def at_most(a: float, b: float) -> bool:
    return a <= b + REL * max(abs(a), abs(b)) + ABS


# --- random fleets -------------------------------------------------------------------------


def cases() -> st.SearchStrategy[FleetCase]:
    """1-3 train and 0-2 serve workloads, 2-6 offers over 2-3 platforms (vendors) and 2-3
    providers, random prices, hours and throughputs, a few (workload, offer) pairs left
    out, and caps, capacity limits, a budget and platforms still to enable that a
    witness plan meets: every fleet drawn has a plan (``strategies.py``)."""
    return fleet_cases(WIDE)


@st.composite
def extra_options(draw: st.DrawFn, case: FleetCase) -> Option:
    """One more option for a workload of ``case``, on an offer of its own."""
    w = draw(st.integers(0, len(case.fleet.workloads) - 1))
    platform = draw(st.sampled_from(PLATFORMS))
    o = offer(
        draw(st.sampled_from(["p", "q", "r"])),
        draw(st.integers(5, 400)) / 20,
        chips=draw(st.sampled_from([1, 2, 4, 8])),
        accelerator=f"acc-{platform}",
        region=draw(st.sampled_from(["r1", "r2"])),
    )
    o = replace(o, instance_type=f"{o.instance_type}-extra")
    job = case.fleet.workloads[w].job
    if isinstance(job, ServeJob):
        return serve_option(
            w,
            o,
            tokens_per_s=draw(st.integers(5, 60)),
            hours=job.hours,
            platform=platform,
            chips=draw(st.sampled_from([1, 2, 4])),
        )
    return train_option(
        w,
        o,
        hours=draw(st.integers(2, 200)) / 2,
        chips=draw(st.sampled_from([1, 2, 4, 8])),
        platform=platform,
    )


# --- the invariants ------------------------------------------------------------------------


def check_invariants(
    fleet: Fleet,
    options: Sequence[Option],
    sol: FleetSolution,
    *,
    caps: bool = True,
    capacity: bool = True,
) -> None:
    """What every solution must satisfy, checked from the fleet, not from the model."""
    assert sol.status is Status.OPTIMAL
    ids = {id(o) for o in options}
    assert all(id(p.option) in ids for p in sol.placed), "placed an option not offered"
    # every train/batch workload placed exactly once; every service's rate covered
    for wi, w in enumerate(fleet.workloads):
        mine = [p for p in sol.placed if p.option.workload == wi]
        if isinstance(w.job, ServeJob) and w.job.classes:
            assert mix_is_served(w.job, mine), (w.name, mine)
        elif isinstance(w.job, ServeJob):
            rate = w.job.requests_per_s * w.job.output_tokens
            tokens = sum(p.units * p.option.tokens_per_s for p in mine)
            assert at_most(rate, tokens), (w.name, rate, tokens)
        else:
            assert len(mine) == 1, (w.name, mine)
            assert mine[0].units == 1
            assert mine[0].instances == mine[0].option.instances
            assert mine[0].usd == mine[0].option.usd
    # replicas fit their instances and no instance is idle
    for p in sol.placed:
        if p.option.serve:
            per = p.option.offer.accelerators_per_instance
            assert p.units >= 1
            assert p.units * p.option.chips <= p.instances * per, p
            assert (p.instances - 1) * per < p.units * p.option.chips, p
            assert p.usd == pytest.approx(p.instances * p.option.usd)
    # share caps on compute spend
    spend_total = sum(p.usd for p in sol.placed)
    if caps:
        for group in GROUPS:
            cap = getattr(fleet.caps, group)
            if cap is None:
                continue
            spend: dict[str, float] = defaultdict(float)
            for p in sol.placed:
                spend[group_of(p.option, group)] += p.usd
            for key, usd in spend.items():
                assert at_most(usd, cap * spend_total), (group, key, usd, cap, spend_total)
    # capacity: the fleet's limits and each offer's own
    if capacity:
        for limit in fleet.capacity:
            used = sum(
                p.instances
                for p in sol.placed
                if p.option.offer.provider == limit.provider
                and p.option.offer.accelerator == limit.accelerator
                and (
                    limit.region is None
                    or fnmatch.fnmatchcase(p.option.offer.region.lower(), limit.region.lower())
                )
                and (
                    limit.price_regime is None or p.option.offer.price_regime is limit.price_regime
                )
            )
            assert used <= limit.max_instances, (limit, used)
        by_offer: dict[str, int] = defaultdict(int)
        for p in sol.placed:
            by_offer[p.option.offer.offer_id] += p.instances
        for p in sol.placed:
            cap_instances = p.option.offer.capacity_instances
            if cap_instances is not None:
                assert by_offer[p.option.offer.offer_id] <= cap_instances, p
    # platforms: a placement on a platform not yet enabled enables it, at its cost
    enabled = set(sol.enabled)
    for p in sol.placed:
        state = fleet.platform(Platform(p.option.estimate.platform))
        assert state is not None
        assert state.enabled or state.platform in enabled, (p, sol.enabled)
    states = {s.platform: s for s in fleet.platforms}
    assert all(not states[e].enabled for e in enabled)
    enablement = sum(states[e].enable_usd for e in enabled)
    assert sol.enablement_usd == pytest.approx(enablement)
    # cost accounting and budget
    assert sol.compute_usd == pytest.approx(spend_total)
    assert sol.total_usd == pytest.approx(spend_total + enablement)
    if fleet.budget_usd is not None:
        assert at_most(sol.total_usd, fleet.budget_usd)


def mix_is_served(job: ServeJob, placed: Sequence[Any]) -> bool:
    """Whether the replicas placed can split their time to serve every class's rate: an
    LP (SciPy) over x[p, c] >= 0, requests/s of class c on placement p, with
    sum_p x[p, c] >= share_c rate and sum_c x[p, c] / rps[p, c] <= replicas_p."""
    n_p, n_c = len(placed), len(job.classes)
    if n_p == 0:
        return False
    rps = np.array([p.option.class_requests_per_s for p in placed])
    usable = rps > 0
    a_rows, b = [], []
    for c, klass in enumerate(job.classes):  # -sum_p x[p, c] <= -share_c rate
        row = np.zeros((n_p, n_c))
        row[:, c] = -1.0
        a_rows.append(row.ravel())
        b.append(-klass.share * job.requests_per_s)
    for k, p in enumerate(placed):  # sum_c x[k, c] / rps[k, c] <= replicas_k
        row = np.zeros((n_p, n_c))
        row[k] = np.where(usable[k], 1.0 / np.where(usable[k], rps[k], 1.0), 0.0)
        a_rows.append(row.ravel())
        b.append(p.units * (1 + 1e-9))
    bounds = [(0.0, None if ok else 0.0) for ok in usable.ravel()]
    res = scipy.optimize.linprog(np.zeros(n_p * n_c), A_ub=np.array(a_rows), b_ub=b, bounds=bounds)
    return bool(res.status == 0)


def note(value: str) -> None:
    """A Hypothesis event, when there is a Hypothesis test to record it."""
    with contextlib.suppress(InvalidArgument):
        event(value)


def solve_checked(fleet: Fleet, options: Sequence[Option], **kw: Any) -> FleetSolution | None:
    """``solve_fleet`` to optimality with the invariants checked; ``None`` if infeasible.

    The solve is bounded by branch-and-bound nodes, not by time, so a fleet is solved the
    same way on any machine; one this small that HiGHS cannot prove optimal within
    :data:`NODE_LIMIT` nodes fails the test rather than being skipped.
    """
    try:
        sol = solve_fleet(
            fleet, options, mip_gap=GAP, time_limit_s=None, node_limit=NODE_LIMIT, **kw
        )
    except InfeasibleError:
        note("infeasible")
        return None
    assert sol.status is Status.OPTIMAL, f"not proven optimal within {NODE_LIMIT} nodes"
    note("feasible")
    check_invariants(fleet, options, sol, **kw)
    return sol


def solve_feasible(fleet: Fleet, options: Sequence[Option], **kw: Any) -> FleetSolution:
    """:func:`solve_checked` on a fleet built with a plan: infeasible is a failure."""
    sol = solve_checked(fleet, options, **kw)
    assert sol is not None, "a fleet drawn with a witness plan was found infeasible"
    return sol


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(case=cases(), data=st.data())
def test_adding_an_option_never_raises_the_optimum(case: FleetCase, data: st.DataObject) -> None:
    """With one option more the feasible set only grows: the larger problem is feasible
    and its optimum is no higher. (Without share caps: under caps a cheaper option
    lowers what work outside a group needs, which tightens the cap on purpose;
    ``docs/semantics-plan.md``.)"""
    fleet = replace(case.fleet, caps=ShareCaps())
    extra = data.draw(extra_options(case))
    small = solve_feasible(fleet, case.options)
    large = solve_feasible(fleet, [*case.options, extra])
    assert at_most(large.total_usd, small.total_usd), (large.total_usd, small.total_usd)


@PROPERTY
@given(case=cases(), data=st.data())
def test_loosening_a_share_cap_never_raises_the_optimum(
    case: FleetCase, data: st.DataObject
) -> None:
    """A looser cap (or none) on one of vendor/provider/region share only relaxes one
    family of rows: the optimum cannot rise, and feasibility is kept. The tight cap is
    drawn no tighter than the witness plan needs, so both fleets have a plan."""
    group = data.draw(st.sampled_from(GROUPS))
    floor = math.ceil(case.least_cap(group) * 100)
    tight_cap = data.draw(st.integers(floor, 100)) / 100
    loose_cap = data.draw(st.none() | st.integers(int(tight_cap * 100), 100).map(lambda c: c / 100))
    tight = replace(case.fleet, caps=replace(case.fleet.caps, **{group: tight_cap}))
    loose = replace(case.fleet, caps=replace(case.fleet.caps, **{group: loose_cap}))
    tight_sol = solve_feasible(tight, case.options)
    loose_sol = solve_feasible(loose, case.options)
    assert at_most(loose_sol.total_usd, tight_sol.total_usd)


@PROPERTY
@given(case=cases(), k=st.sampled_from([0.1, 0.37, 2.0, 3.5, 10.0]))
def test_scaling_every_price_scales_the_optimum(case: FleetCase, k: float) -> None:
    """Multiplying every option's cost, every enablement cost and the budget by k > 0
    multiplies the objective by k and maps feasible plans onto feasible plans (share caps
    are ratios), so the optimum is k times the old one (within 1e-6 relative)."""
    scaled_options = [replace(o, usd=o.usd * k) for o in case.options]
    platforms = tuple(replace(s, enable_usd=s.enable_usd * k) for s in case.fleet.platforms)
    budget = None if case.fleet.budget_usd is None else case.fleet.budget_usd * k
    scaled = replace(case.fleet, platforms=platforms, budget_usd=budget)
    base = solve_feasible(case.fleet, case.options)
    other = solve_feasible(scaled, scaled_options)
    assert other.total_usd == pytest.approx(k * base.total_usd, rel=1e-6, abs=1e-6)


@PROPERTY
@given(case=cases())
def test_dropping_caps_or_capacity_never_raises_the_optimum(case: FleetCase) -> None:
    """``caps=False`` and ``capacity=False`` remove rows: each is a relaxation of the
    full problem, and the invariants still hold for what is left."""
    full = solve_feasible(case.fleet, case.options)
    no_caps = solve_feasible(case.fleet, case.options, caps=False)
    no_capacity = solve_feasible(case.fleet, case.options, capacity=False)
    assert at_most(no_caps.total_usd, full.total_usd)
    assert at_most(no_capacity.total_usd, full.total_usd)
    # and the optimum is no dearer than the witness the fleet was drawn with
    assert at_most(full.total_usd, case.witness_usd)


# --- HiGHS against SciPy on the exported model ---------------------------------------------


def capture_model(
    fleet: Fleet, options: Sequence[Option]
) -> tuple[LinearModel, Solution, FleetSolution | None]:
    """The ``LinearModel`` ``solve_fleet`` builds (from ``build_fleet_model``), its own
    HiGHS solution, and what ``solve_fleet`` returns on a fresh build, each within the
    same node limit."""
    model = build_fleet_model(fleet, options).model
    solution = model.solve(mip_gap=GAP, node_limit=NODE_LIMIT)
    try:
        found: FleetSolution | None = solve_fleet(
            fleet, options, mip_gap=GAP, time_limit_s=None, node_limit=NODE_LIMIT
        )
    except InfeasibleError:
        found = None
    return model, solution, found


def without_a_plan(case: FleetCase) -> Fleet:
    """``case``'s fleet with no instance of anything its first workload can run on: no
    plan, by construction."""
    mine = {(o.offer.provider, o.offer.accelerator) for o in case.options if o.workload == 0}
    none = tuple(CapacityLimit(p, a, 0) for p, a in sorted(mine))
    return replace(case.fleet, capacity=case.fleet.capacity + none)


@PROPERTY
@given(case=cases(), feasible=st.booleans())
def test_highs_and_scipy_milp_agree_on_the_exported_model(case: FleetCase, feasible: bool) -> None:
    """The arrays ``LinearModel`` exports (CSC matrix, column and row bounds, integer
    columns) solved by SciPy's ``milp`` give the same status and optimum as the model's own
    HiGHS call; HiGHS's point satisfies the exported arrays; and for a cost objective the
    model's optimum is the plan's ``total_usd``. Half the fleets are made infeasible
    (:func:`without_a_plan`), where both must say so."""
    fleet = case.fleet if feasible else without_a_plan(case)
    model, solution, found = capture_model(fleet, case.options)
    cost, col_lower, col_upper, start, index, value = model.arrays()
    row_lower, row_upper = model.row_bounds()
    integer = model.integer_columns()
    a = scipy.sparse.csc_matrix((value, index, start), shape=(model.n_rows, model.n_cols))
    integrality = np.zeros(model.n_cols)
    integrality[integer] = 1
    constraints = [scipy.optimize.LinearConstraint(a, row_lower, row_upper)] if model.n_rows else []
    res = scipy.optimize.milp(
        cost,
        constraints=constraints,
        integrality=integrality,
        bounds=scipy.optimize.Bounds(col_lower, col_upper),
        options={"mip_rel_gap": GAP, "node_limit": NODE_LIMIT},
    )
    if not feasible:
        assert solution.status is Status.INFEASIBLE
        assert found is None
        assert res.status == 2, res.message
        return
    assert solution.status is Status.OPTIMAL
    assert res.status == 0, res.message
    assert close(res.fun, solution.objective), (res.fun, solution.objective)
    # HiGHS's point against the exported arrays
    x = solution.x
    tol = 1e-6
    assert np.all(x >= col_lower - tol)
    assert np.all(x <= col_upper + tol)
    assert np.allclose(x[integer], np.round(x[integer]), atol=tol)
    activity = a @ x
    assert np.all(activity >= row_lower - tol * (1 + np.abs(row_lower)))
    assert np.all(activity <= row_upper + tol * (1 + np.abs(row_upper)))
    assert close(float(cost @ x), solution.objective)
    assert found is not None
    assert close(found.total_usd, solution.objective)


# --- Mélange -------------------------------------------------------------------------------

# Mélange's example pair (AWS on-demand, one GPU each): A10G at $1.01/h, A100 at $3.67/h.
# The per-GPU request rates below are illustrative, not the paper's profiles: for small
# requests an A10G serves 5 req/s and an A100 20 req/s (the A100 is a little cheaper per
# req/s: 0.1835 vs 0.202 $/h); for large requests 1 req/s and 4 req/s. arbiter's serve
# demand is tokens/s, so with output_tokens = 1 a "token" below is a request.
A10G = offer("aws", 1.01, accelerator="A10G")
A100 = offer("aws", 3.67, accelerator="A100")


def melange_options(workload: int, a10g_rps: float, a100_rps: float) -> list[Option]:
    return [
        serve_option(workload, A10G, tokens_per_s=a10g_rps, hours=1.0),
        serve_option(workload, A100, tokens_per_s=a100_rps, hours=1.0),
    ]


def test_melange_single_class_mixes_gpus_for_granularity() -> None:
    # 30 req/s of small requests for one hour; a A10Gs and b A100s with 5a + 20b >= 30:
    #   b = 0: a = 6            -> 6 x 1.01               = $6.06
    #   b = 1: a = 2            -> 3.67 + 2 x 1.01       = $5.69   <- optimum
    #   b = 2: a = 0            -> 2 x 3.67              = $7.34
    # The A100 is cheaper per req/s, but the last 10 req/s are cheaper on two A10Gs: the mix
    # beats both single-GPU fleets (Mélange's "finer-grained scaling" effect).
    fleet = Fleet(workloads=(serve("chat", 30.0, hours=1.0),))
    options = melange_options(0, 5.0, 20.0)
    sol = solve_checked(fleet, options)
    assert sol is not None
    assert {p.option.offer.accelerator: p.units for p in sol.placed} == {"A10G": 2, "A100": 1}
    assert sol.total_usd == pytest.approx(5.69)
    alone = [solve_checked(fleet, [o]) for o in options]
    assert [s.total_usd if s else None for s in alone] == pytest.approx([6.06, 7.34])


def test_melange_two_classes_as_two_services_cannot_share_a_gpu() -> None:
    # 30 req/s small (A10G 5, A100 20 req/s) and 2 req/s large (A10G 1, A100 4 req/s).
    # arbiter has one request class per serve workload, so the classes are two services
    # and no replica serves both: small $5.69 (above) + large min(2 x 1.01, 3.67) = $2.02,
    # total $7.71.
    fleet = Fleet(workloads=(serve("small", 30.0, hours=1.0), serve("large", 2.0, hours=1.0)))
    options = melange_options(0, 5.0, 20.0) + melange_options(1, 1.0, 4.0)
    sol = solve_checked(fleet, options)
    assert sol is not None
    assert sol.total_usd == pytest.approx(5.69 + 2.02)


def test_melange_two_classes_in_one_mix_share_gpus_at_the_bin_packing_optimum() -> None:
    # The same two classes as one service with a request mix (32 req/s: 30/32 small, 2/32
    # large): a GPU divides its time between classes (load fractions summing to <= 1).
    # An A100 serves either class 4x as fast as an A10G, so the mix is 30/5 + 2/1 = 8
    # A10G-loads = 2 A100-loads: 2 A100s = $7.34 < 1 A100 + 4 A10Gs = $7.71 < 8 A10Gs =
    # $8.08, and below the $7.71 of the two services that cannot share a GPU.
    fleet = Fleet(workloads=(serve_mix("mix", 32.0, [30 / 32, 2 / 32], hours=1.0),))
    job = fleet.workloads[0].job
    assert isinstance(job, ServeJob)
    options = [
        mix_option(0, A10G, job, [5.0, 1.0], hours=1.0),
        mix_option(0, A100, job, [20.0, 4.0], hours=1.0),
    ]
    sol = solve_checked(fleet, options)
    assert sol is not None
    assert sol.total_usd == pytest.approx(7.34)
    assert {p.option.offer.accelerator: p.units for p in sol.placed} == {"A100": 2}


def test_a_mix_class_no_option_serves_is_infeasible() -> None:
    # the A10G cannot serve the large class at all and is the only option
    fleet = Fleet(workloads=(serve_mix("mix", 10.0, [0.5, 0.5], hours=1.0),))
    job = fleet.workloads[0].job
    assert isinstance(job, ServeJob)
    with pytest.raises(InfeasibleError, match=r"class_demand\[mix/class 1\]: 5.00 requests/s"):
        solve_fleet(fleet, [mix_option(0, A10G, job, [5.0, 0.0], hours=1.0)], mip_gap=GAP)


# --- known bugs, pinned --------------------------------------------------------------------


def test_a_free_pending_platform_is_the_same_as_an_enabled_one() -> None:
    # demand 200 tokens/s for 1 h; NVIDIA and Google replicas 100 tok/s at $5; vendor cap
    # 50%: one of each, $10, when xla is enabled, and the same with xla pending at $0.
    # (Pinned when the enablement bound U was too small for a pending platform; the plan
    # then was 1 NVIDIA + 5 Google at $1, padding the no-surplus rows now rule out.)
    options = [
        serve_option(0, offer("p", 5.0), tokens_per_s=100.0, hours=1.0, platform="cuda"),
        serve_option(
            0, offer("g", 5.0, accelerator="T"), tokens_per_s=100.0, hours=1.0, platform="xla"
        ),
    ]
    results = []
    for enabled in (True, False):
        fleet = Fleet(
            workloads=(serve("chat", 200.0, hours=1.0),),
            caps=ShareCaps(vendor=0.5),
            platforms=(
                PlatformState(Platform.CUDA, enabled=True),
                PlatformState(Platform.XLA, enabled=enabled, enable_usd=0.0),
            ),
        )
        sol = solve_checked(fleet, options)
        results.append(None if sol is None else sol.total_usd)
    assert results[0] == pytest.approx(10.0)
    assert results[1] == pytest.approx(results[0])


def test_prune_keeps_the_optimum_for_multi_chip_serving_instances() -> None:
    # one-chip replicas of 10 tok/s; offer a: 1-chip instance $1/h; offer b: 8-chip instance
    # $7/h (8 replicas). For 80 tok/s: 1 x b = $7 beats 8 x a = $8, but prune compares
    # 1/10 with 7/10 and drops b.
    fleet = Fleet(workloads=(serve("chat", 80.0, hours=1.0),))
    options = [
        serve_option(0, offer("p", 1.0, chips=1), tokens_per_s=10.0, hours=1.0),
        serve_option(0, offer("p", 7.0, chips=8), tokens_per_s=10.0, hours=1.0),
    ]
    full = solve_checked(fleet, options)
    pruned = solve_checked(fleet, prune(options, fleet))
    assert full is not None
    assert full.total_usd == pytest.approx(7.0)
    assert pruned is not None
    assert pruned.total_usd == pytest.approx(full.total_usd)


def test_meets_fleet_reads_a_regional_capacity_limit_as_the_solver_does() -> None:
    # at most 1 instance of X at p in us-*; the job needs 2 instances in eu-1: allowed
    fleet = Fleet(workloads=(train("job"),), capacity=(CapacityLimit("p", "X", 1, region="us-*"),))
    options = [train_option(0, offer("p", 1.0, region="eu-1"), hours=10.0, chips=2)]
    sol = solve_checked(fleet, options)
    assert sol is not None
    assert meets_fleet(fleet, sol.placed, options)


def test_the_time_objective_breaks_ties_on_cost() -> None:
    # two options of one job with the same 10 hours: $10 and $50; cost must decide, in
    # whichever order the options come (HiGHS picks the $50 one when it is listed first)
    fleet = Fleet(workloads=(train("job"),), objective=TIME)
    options = [
        train_option(0, offer("p", 1.0), hours=10.0),
        train_option(0, offer("q", 5.0), hours=10.0),
    ]
    totals = [
        solve_fleet(fleet, order, mip_gap=GAP).total_usd for order in (options, options[::-1])
    ]
    assert totals == pytest.approx([10.0, 10.0])


@pytest.mark.parametrize("caps", [ShareCaps(), ShareCaps(vendor=0.5)])
def test_no_options_is_infeasible(caps: ShareCaps) -> None:
    fleet = Fleet(workloads=(train("job"),), caps=caps)
    with pytest.raises(InfeasibleError):
        solve_fleet(fleet, [])
