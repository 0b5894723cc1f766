"""Plan exactness against brute force: on tiny fleets, the optimum ``solve_fleet`` finds on
the pruned options equals the least cost of every placement enumerated from the raw
options (``plan_bruteforce.py``), under services and jobs, capacity limits (the fleet's
and the offers' own), share caps, platforms to enable, budgets and whole-unit billing.

Every instance is feasible by construction: a witness placement is drawn first and the
caps, limits and budget are drawn no tighter than it needs. Nothing is filtered or
skipped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace

import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from plan_bruteforce import (
    Pick,
    beats,
    brute_force,
    close,
    covers,
    evaluate,
    padding,
    picks_of,
    serve_instances,
    shares,
    within,
)

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import GROUPS, CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import group_of, solve_fleet
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune

GAP = 1e-9
EXAMPLES = settings(max_examples=150, deadline=None)


@dataclass(frozen=True)
class Case:
    fleet: Fleet
    options: list[Option]


@st.composite
def cases(draw: st.DrawFn, *, with_caps: bool = True) -> Case:
    """0-2 train/batch jobs and 0-1 service (at least one workload), 2-4 offers over two
    providers, two platforms and two regions, instance sizes 1-16 chips, on-demand,
    capacity-block and reserved prices; 1-2 sizes of each job per offer. A witness plan
    is drawn, then share caps, capacity limits (the fleet's and the offers'), platform
    enablement and a budget that it meets."""
    n_train = draw(st.integers(0, 2))
    n_serve = draw(st.sampled_from([1, 1, 1, 0])) if n_train else 1
    offers = []
    for k in range(draw(st.integers(2, 4))):
        platform = draw(st.sampled_from(["cuda", "xla"]))
        regime = draw(
            st.sampled_from(
                [PriceRegime.ON_DEMAND, PriceRegime.ON_DEMAND, PriceRegime.CAPACITY_BLOCK]
            )
        )
        o = offer(
            draw(st.sampled_from(["p", "p", "p", "q"])),
            draw(st.integers(4, 200)) / 10,
            chips=draw(st.sampled_from([1, 2, 8, 16])),
            accelerator=f"acc-{platform}",
            region=draw(st.sampled_from(["r1", "r2"])),
            regime=regime,
        )
        offers.append((replace(o, instance_type=f"{o.instance_type}-{k}"), platform))
    workloads = [train(f"t{i}") for i in range(n_train)]
    workloads += [
        serve(f"s{i}", draw(st.sampled_from([10, 30, 50, 100])), hours=draw(st.integers(2, 60)))
        for i in range(n_serve)
    ]
    options: list[Option] = []
    for wi, w in enumerate(workloads):
        for o, platform in offers:
            if isinstance(w.job, ServeJob):
                options.append(
                    serve_option(
                        wi,
                        o,
                        tokens_per_s=draw(st.integers(20, 60)),
                        hours=w.job.hours,
                        platform=platform,
                        chips=draw(st.sampled_from([1, 2, 4])),
                    )
                )
                continue
            options.extend(
                train_option(
                    wi,
                    o,
                    hours=draw(st.integers(2, 80)),
                    chips=draw(st.sampled_from([1, 2, 4, 8, 16])),
                    platform=platform,
                )
                for _ in range(draw(st.integers(1, 2)))
            )
    # the witness: one option per job, one option's replicas for the service, each the
    # cheapest in its place (per token/s in whole instances for a service), so that no
    # option of its place beats it and the witness never pads
    witness: list[Pick] = []
    for wi, w in enumerate(workloads):
        mine = cheapest_in_place([o for o in options if o.workload == wi])
        o = mine[draw(st.integers(0, len(mine) - 1))]
        if isinstance(w.job, ServeJob):
            r = math.ceil(w.job.requests_per_s * w.job.output_tokens / o.tokens_per_s)
            n = serve_instances(o, r)
            witness.append(Pick(o, r, n, n * o.usd))
        else:
            witness.append(Pick(o, 1, o.instances, o.usd))
    caps: dict[str, float | None] = {}
    for group in GROUPS:
        share = shares(Fleet(workloads=tuple(workloads)), witness, group, options)
        drawn = draw(st.sampled_from([None, None, 0.5, 0.6, 0.7, 0.9])) if with_caps else None
        caps[group] = None if drawn is None else min(1.0, max(drawn, max(share.values()) + 1e-9))
    # offers' own capacity, at least what the witness buys there
    used: dict[str, int] = defaultdict(int)
    for p in witness:
        used[p.option.offer.offer_id] += p.instances
    own: dict[str, int | None] = {}
    for o, _ in offers:
        own[o.offer_id] = draw(
            st.sampled_from([None, None, used[o.offer_id] + 1, used[o.offer_id]])
        )
    options = [
        replace(x, offer=replace(x.offer, capacity_instances=own[x.offer.offer_id]))
        for x in options
    ]
    witness = witness_on(witness, options)
    limits = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        o, _platform = draw(st.sampled_from(offers))
        region = draw(st.sampled_from([None, "r1", "r*"]))
        limit = CapacityLimit(o.provider, o.accelerator, 0, region=region)
        need = sum(p.instances for p in witness if covers(limit, p.option))
        limits.append(replace(limit, max_instances=need + draw(st.integers(0, 2))))
    platforms = [PlatformState(Platform.CUDA, enabled=True)]
    if draw(st.booleans()):
        platforms.append(PlatformState(Platform.XLA, enabled=True))
    else:
        enable = draw(st.sampled_from([0.0, 20.0, 200.0]))
        platforms.append(PlatformState(Platform.XLA, enabled=False, enable_usd=enable))
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(**caps),
        platforms=tuple(platforms),
        capacity=tuple(limits),
    )
    witness = unbarred(fleet, witness, options)
    cost = evaluate(fleet, witness, options)
    assert cost is not None, "the witness must meet the fleet it was drawn for"
    if draw(st.booleans()):
        fleet = replace(fleet, budget_usd=cost * (1 + draw(st.integers(0, 30)) / 100))
    return Case(fleet, options)


def unbarred(fleet: Fleet, witness: list[Pick], options: list[Option]) -> list[Pick]:
    """The witness with each job that :func:`padding` bars (an option of its place beats
    it in the fleet drawn: a tie the capacity rows or platforms break the other way) on
    an option that beats it and is not barred: no dearer, no more instances, in no more
    capacity rows, in the same groups, so the witness still meets every row."""
    barred = padding(fleet, options)
    out = []
    for pick in witness:
        b = pick.option
        if id(b) not in barred or b.serve:
            out.append(pick)
            continue
        place = (b.estimate.vendor, b.offer.provider, b.offer.region)
        a = next(
            a
            for a in options
            if a.workload == b.workload
            and not a.serve
            and id(a) not in barred
            and (a.estimate.vendor, a.offer.provider, a.offer.region) == place
            and beats(fleet, a, b)
        )
        out.append(Pick(a, 1, a.instances, a.usd))
    return out


def cheapest_in_place(options: list[Option]) -> list[Option]:
    """Of each vendor, provider and region, the first option of least cost (a service's:
    per token/s of a full instance; a job's: then on the fewest instances)."""
    best: dict[tuple[str, str, str], Option] = {}

    def unit(o: Option) -> tuple[float, int]:
        # of two jobs at one cost, the one on fewer instances: it beats the other in
        # any capacity row the two share, the other does not beat it
        if not o.serve:
            return (o.usd, o.instances)
        return (o.usd * o.chips / (o.offer.accelerators_per_instance * o.tokens_per_s), 0)

    for o in options:
        place = (o.estimate.vendor, o.offer.provider, o.offer.region)
        if place not in best or unit(o) < unit(best[place]):
            best[place] = o
    return list(best.values())


def witness_on(witness: list[Pick], options: list[Option]) -> list[Pick]:
    """The witness with its options as they are now (capacities filled in)."""
    out = []
    for p in witness:
        twin = next(
            o
            for o in options
            if o.workload == p.option.workload
            and o.offer.instance_type == p.option.offer.instance_type
            and o.chips == p.option.chips
            and o.usd == p.option.usd
            and o.hours == p.option.hours
        )
        out.append(replace(p, option=twin))
    return out


def plan_cost(fleet: Fleet, options: list[Option]) -> float:
    """The optimum on the pruned options, its placement checked independently."""
    sol = solve_fleet(fleet, prune(options, fleet), mip_gap=GAP, time_limit_s=20.0)
    cost = evaluate(fleet, picks_of(sol), options)
    assert cost is not None, "the plan breaks a row of its fleet"
    assert close(cost, sol.total_usd), (cost, sol.total_usd)
    return sol.total_usd


def check_against_brute_force(case: Case) -> None:
    best = brute_force(case.fleet, case.options)
    if best is None:  # only a hand-made example: a cap that only padding meets
        with pytest.raises(InfeasibleError):
            solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP)
        return
    sol = solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP, time_limit_s=20.0)
    cost = evaluate(case.fleet, picks_of(sol), case.options)
    assert cost is not None, "the plan breaks a row of its fleet, or pads"
    assert close(cost, sol.total_usd), (cost, sol.total_usd)
    # no replica beyond what every option's rounding allows: the enumeration has them all
    assert within(case.fleet, sol, 0)
    assert close(sol.total_usd, best), (sol.total_usd, best)


def block_overbuys() -> Case:
    """The issue's first fleet in small: a 16-chip capacity block is the cheapest per
    token/s, but the service needs two one-chip replicas."""
    fleet = Fleet(workloads=(serve("chat", 200.0, hours=720.0),))
    block = offer("aws", 16 * 1.5, chips=16, regime=PriceRegime.CAPACITY_BLOCK)
    small = offer("aws", 2.0, chips=1)
    return Case(
        fleet,
        [serve_option(0, o, tokens_per_s=100.0, hours=720.0) for o in (block, small)],
    )


def cap_needs_a_dearer_option() -> Case:
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
    return Case(fleet, options)


@EXAMPLES
@example(case=block_overbuys())
@given(case=cases(with_caps=False))
def test_plan_equals_brute_force_without_share_caps(case: Case) -> None:
    """Dominance pruning alone: whole instances, capacity, enablement, budget."""
    check_against_brute_force(case)


@EXAMPLES
@example(case=block_overbuys())
@example(case=cap_needs_a_dearer_option())
@given(case=cases())
def test_plan_equals_brute_force_with_share_caps(case: Case) -> None:
    """Share caps: pruning only by the LP bound against a plan already found."""
    check_against_brute_force(case)


@EXAMPLES
@example(case=block_overbuys())
@given(case=cases())
def test_no_plan_pads_removing_any_replica_or_instance_leaves_a_rate_unmet(case: Case) -> None:
    """No padding, on fleets under share caps (drawn no looser than the witness needs, so
    they often bind): removing any replica from a service leaves its rate unmet, every
    instance holds a replica (one fewer cannot hold them), and every job has exactly
    one placement."""
    sol = solve_fleet(case.fleet, prune(case.options, case.fleet), mip_gap=GAP, time_limit_s=20.0)
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
