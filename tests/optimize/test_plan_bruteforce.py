"""Plan exactness against brute force: on tiny fleets, the optimum ``solve_fleet`` finds on
the pruned options equals the least cost of every placement enumerated from the raw
options (``plan_bruteforce.py``), under services and jobs, capacity limits (the fleet's
and the offers' own), share caps, platforms to enable, budgets and whole-unit billing.

Every instance is feasible by construction: a witness placement is drawn first and the
caps, limits and budget are drawn no tighter than it needs. Nothing is filtered or
skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from plan_bruteforce import (
    brute_force,
    close,
    evaluate,
    picks_of,
    within,
)

from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import GROUPS, Fleet, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import group_of, solve_fleet
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune
from strategies import SMALL, FleetCase, fleet_cases

GAP = 1e-9
EXAMPLES = settings(max_examples=150, deadline=None)


def cases(*, with_caps: bool = True) -> st.SearchStrategy[FleetCase]:
    """0-2 train/batch jobs and 0-1 service (at least one workload), 2-4 offers over two
    providers, two platforms and two regions, instance sizes 1-16 chips, on-demand,
    capacity-block prices; 1-2 sizes of each job per offer; share caps,
    capacity limits, platforms and a budget a witness plan meets (``strategies.py``)."""
    return fleet_cases(replace(SMALL, caps=with_caps))


def plan_cost(fleet: Fleet, options: list[Option]) -> float:
    """The optimum on the pruned options, its placement checked independently."""
    sol = solve_fleet(fleet, prune(options, fleet), mip_gap=GAP, time_limit_s=None)
    cost = evaluate(fleet, picks_of(sol), options)
    assert cost is not None, "the plan breaks a row of its fleet"
    assert close(cost, sol.total_usd), (cost, sol.total_usd)
    return sol.total_usd


def check_against_brute_force(case: FleetCase) -> None:
    best = brute_force(case.fleet, case.options)
    if best is None:  # only a hand-made example: a cap that only padding meets
        with pytest.raises(InfeasibleError):
            solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP)
        return
    sol = solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP, time_limit_s=None)
    cost = evaluate(case.fleet, picks_of(sol), case.options)
    assert cost is not None, "the plan breaks a row of its fleet, or pads"
    assert close(cost, sol.total_usd), (cost, sol.total_usd)
    # no replica beyond what every option's rounding allows: the enumeration has them all
    assert within(case.fleet, sol, 0)
    assert close(sol.total_usd, best), (sol.total_usd, best)


def block_overbuys() -> FleetCase:
    """The issue's first fleet in small: a 16-chip capacity block is the cheapest per
    token/s, but the service needs two one-chip replicas."""
    fleet = Fleet(workloads=(serve("chat", 200.0, hours=720.0),))
    block = offer("aws", 16 * 1.5, chips=16, regime=PriceRegime.CAPACITY_BLOCK)
    small = offer("aws", 2.0, chips=1)
    return FleetCase(
        fleet,
        [serve_option(0, o, tokens_per_s=100.0, hours=720.0) for o in (block, small)],
    )


def cap_needs_a_dearer_option() -> FleetCase:
    """The issue's second fleet in small: under a 70% provider cap the second job must
    spend enough on the other provider, which only its dearer option there does. That
    option is padding (a cheaper one in the same place does the job): no plan."""
    p, q = offer("p", 1.0), offer("q", 1.0, region="r2")
    options = [
        train_option(0, p, hours=700.0),
        train_option(1, q, hours=100.0),
        train_option(1, q, hours=300.0, chips=1),
    ]
    fleet = Fleet(workloads=(train("a"), train("b")), caps=ShareCaps(provider=0.7))
    return FleetCase(fleet, options)


@EXAMPLES
@example(case=block_overbuys())
@given(case=cases(with_caps=False))
def test_plan_equals_brute_force_without_share_caps(case: FleetCase) -> None:
    """Dominance pruning alone: whole instances, capacity, enablement, budget."""
    check_against_brute_force(case)


@EXAMPLES
@example(case=block_overbuys())
@example(case=cap_needs_a_dearer_option())
@given(case=cases())
def test_plan_equals_brute_force_with_share_caps(case: FleetCase) -> None:
    """Share caps: pruning only by the LP bound against a plan already found."""
    check_against_brute_force(case)


@EXAMPLES
@example(case=block_overbuys())
@given(case=cases())
def test_no_plan_pads_removing_any_replica_or_instance_leaves_a_rate_unmet(case: FleetCase) -> None:
    """No padding, on fleets under share caps (drawn no looser than the witness needs, so
    they often bind): removing any replica from a service leaves its rate unmet, every
    instance holds a replica (one fewer cannot hold them), and every job has exactly
    one placement."""
    sol = solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP, time_limit_s=None)
    shares = {g: defaultdict(float) for g in GROUPS}
    for p in sol.placed:
        for g in GROUPS:
            shares[g][group_of(p.option, g)] += p.usd / sol.compute_usd
    caps = {g: getattr(case.fleet.caps, g) for g in GROUPS}
    binds = any(c is not None and max(shares[g].values()) >= c - 1e-6 for g, c in caps.items())
    event(f"a cap binds: {binds}")
    for wi, w in enumerate(case.fleet.workloads):
        mine = [p for p in sol.placed if p.option.workload == wi]
        if not isinstance(w.job, ServeJob):
            assert len(mine) == 1
            continue
        rate = w.job.requests_per_s * w.job.output_tokens
        served = sum(p.units * p.option.tokens_per_s for p in mine)
        for p in mine:
            assert p.units >= 1
            assert served - p.option.tokens_per_s < rate * (1 - 1e-9)  # a replica less
            per = p.option.offer.accelerators_per_instance
            assert p.units * p.option.chips > (p.instances - 1) * per  # an instance less
