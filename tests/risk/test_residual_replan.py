"""The residual re-plan MILP (``arbiter.risk.recourse._replan``) called directly on one
sample built by hand: its optimum against an enumeration of every residual choice, its
feasibility rules (only the undone share is placed again; shortages, reserved terms and
ports a service cannot wait for are out; the capacity the plan leaves is all there is),
and re-planning that pays and that does not, by hand.

Whether re-planning is kept at all (the engine takes the cheaper of riding the shock out
and re-planning) is not what is tested: the residual model is, so its answers can be
wrong in either direction.

The plan: ``chat`` (100 tok/s for 100 h) on ten $1/h replicas at provider p ($1,000) and
``tune`` (a job of 100 h, due at hour 200) at q for $3/h ($300). What a re-plan may buy:

======  ========  ===========================  ==============================
option  workload  where                        cost
======  ========  ===========================  ==============================
0       chat      p, the plan's own            $100 a 10 tok/s replica
1       tune      q, the plan's own            $3/h x 100 h
2       chat      r on demand                  $150 a 10 tok/s replica
3       chat      s on demand, 2 chips         $400 a 35 tok/s replica
4       chat      r reserved (1 year)          $50 a replica: never in an emergency
5       tune      r on demand                  $2/h x 120 h
6       tune      g, TPU (xla pending)         $1/h x 80 h, a $50 port, 1 week lead
7       chat      g, TPU (xla pending)         $20 a replica: a service cannot wait
======  ========  ===========================  ==============================
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import at, due

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.optimize.fleet import FleetSolution, solve_fleet
from arbiter.optimize.options import HOURS_PER_WEEK, Option
from arbiter.risk.impact import plan_arrays
from arbiter.risk.recourse import (
    RECOURSE_GAP,
    _remaining_capacity,
    _replan,
    option_arrays,
)

XLA = PlatformState(Platform.XLA, enabled=False, enable_usd=50.0, lead_weeks=1)
PLATFORMS = (PlatformState(Platform.CUDA, enabled=True), XLA)
# which shock selects which option is not read by the residual model: a shock on nothing
NOTHING = ScenarioSet(shocks=(at(ShockKind.PRICE_SHIFT, "nobody", 0.0, 1.0, 1.0),))

OPTIONS: list[Option] = [
    serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0),
    train_option(1, offer("q", 3.0), hours=100.0),
    serve_option(0, offer("r", 1.5), tokens_per_s=10.0, hours=100.0),
    serve_option(0, offer("s", 4.0, chips=2), tokens_per_s=35.0, hours=100.0, chips=2),
    serve_option(
        0,
        offer("r", 0.5, regime=PriceRegime.RESERVED_1Y, term_months=12),
        tokens_per_s=10.0,
        hours=100.0,
    ),
    train_option(1, offer("r", 2.0), hours=120.0),
    train_option(1, offer("g", 1.0, accelerator="T"), hours=80.0, platform="xla"),
    serve_option(
        0, offer("g", 0.2, accelerator="T"), tokens_per_s=10.0, hours=100.0, platform="xla"
    ),
]
CHAT, TUNE = 0, 1


def fleet_of(
    deadline_h: float = 200.0,
    capacity: tuple[CapacityLimit, ...] = (),
    caps: ShareCaps | None = None,
) -> Fleet:
    return Fleet(
        workloads=(serve("chat", 100.0, hours=100.0), due(train("tune"), deadline_h)),
        platforms=PLATFORMS,
        capacity=capacity,
        caps=caps or ShareCaps(),
    )


def plan_of(fleet: Fleet) -> FleetSolution:
    sol = solve_fleet(fleet, OPTIONS[:2], mip_gap=0.0)
    assert sol.total_usd == pytest.approx(1300.0)  # the plan described above
    return sol


@dataclass(frozen=True)
class Replan:
    penalty_usd: float  # what leaving the undone work undone costs
    usd: float  # the residual plan's cost, its own work left undone included
    left: np.ndarray  # per workload, the share still undone after it


def replan(
    undone: tuple[float, float],
    *,
    hit_day: tuple[float, float] = (0.0, 0.0),
    blocked: tuple[int, ...] = (),
    factor: dict[int, float] | None = None,
    penalty: float = 3.0,
    fleet: Fleet | None = None,
) -> Replan:
    """One sample's residual re-plan on every option above."""
    fleet = fleet or fleet_of()
    sol = plan_of(fleet)
    pa = plan_arrays(fleet, sol, NOTHING)
    oa = option_arrays(OPTIONS, NOTHING)
    mask = np.zeros(len(OPTIONS), dtype=bool)
    mask[list(blocked)] = True
    factors = np.ones(len(OPTIONS))
    for i, f in (factor or {}).items():
        factors[i] = f
    found = _replan(
        fleet,
        pa,
        oa,
        (np.array(undone, dtype=np.float64), np.array(hit_day, dtype=np.float64)),
        mask,
        factors,
        {"xla": XLA},
        _remaining_capacity(fleet, sol),
        penalty,
        0,
    )
    assert found is not None, "the residual MILP failed"
    return Replan(*found)


# --- by hand -------------------------------------------------------------------------------


def test_only_the_undone_share_is_placed_again_and_reserved_terms_are_not_bought():
    # 30% of chat undone at p's outage: 30 tok/s. One replica at s ($400 for 35 tok/s)
    # beats three at r ($450); leaving it undone costs 3 x $1,000 x 0.3 = $900. The
    # reserved offer at r ($50 a replica: $150) and the TPU ($60) are not for this.
    got = replan((0.3, 0.0), blocked=(0,))
    assert got.penalty_usd == pytest.approx(900.0)
    assert got.usd == pytest.approx(400.0)
    assert got.left == pytest.approx([0.0, 0.0])
    # with s out too, three replicas at r
    assert replan((0.3, 0.0), blocked=(0, 3)).usd == pytest.approx(450.0)


def test_a_workload_not_hit_is_not_re_decided():
    # tune has nothing undone: the residual holds chat alone, so tune's cheaper
    # alternatives (the TPU, $80 and a $50 port, or r at $240, against the plan's $300
    # at q) change nothing
    got = replan((0.3, 0.0), blocked=(0, 3))
    assert got.penalty_usd == pytest.approx(900.0)  # chat's penalty only
    assert got.usd == pytest.approx(450.0)
    assert got.left[TUNE] == 0.0


def test_the_plans_own_offer_is_used_again_up_to_the_capacity_it_leaves():
    # A demand surge leaves 60% of chat undone with p still up: p ($100 a replica) is the
    # cheapest, but the fleet may hold 14 instances at p and the plan holds 10. Four at p
    # ($400) and two at r ($300): $700; four at p and one at s (75 tok/s): $800.
    limit = CapacityLimit("p", "X", 14)
    fleet = fleet_of(capacity=(limit,))
    assert _remaining_capacity(fleet, plan_of(fleet)) == (replace(limit, max_instances=4),)
    assert replan((0.6, 0.0), fleet=fleet).usd == pytest.approx(700.0)
    # without the limit, six more at p
    assert replan((0.6, 0.0)).usd == pytest.approx(600.0)
    # a limit the plan already fills leaves nothing: two at s (70 tok/s) for $800, against
    # one at s and three at r ($850) or six at r ($900)
    full = fleet_of(capacity=(CapacityLimit("p", "X", 10),))
    assert _remaining_capacity(full, plan_of(full))[0].max_instances == 0
    assert replan((0.6, 0.0), fleet=full).usd == pytest.approx(800.0)


def test_share_caps_are_not_imposed_on_an_emergency():
    # the fleet states a 50% provider cap (the plan, $1,000 of its $1,300 at p, is
    # solved without it); the residual still puts all of chat's undone 30 tok/s at s,
    # all its spend on one provider, which a capped residual could not
    fleet = fleet_of(caps=ShareCaps(provider=0.5))
    sol = solve_fleet(fleet_of(), OPTIONS[:2], mip_gap=0.0)
    pa = plan_arrays(fleet, sol, NOTHING)
    found = _replan(
        fleet,
        pa,
        option_arrays(OPTIONS, NOTHING),
        (np.array([0.3, 0.0]), np.zeros(2)),
        np.array([i == 0 for i in range(len(OPTIONS))]),
        np.ones(len(OPTIONS)),
        {"xla": XLA},
        (),
        3.0,
        0,
    )
    assert found is not None
    assert found[1] == pytest.approx(400.0)  # one replica at s: 100% of the residual at s


def test_a_job_re_plans_only_where_it_finishes_by_its_deadline():
    # half of tune undone, hit on day 2 (hour 48), due at hour 200: 152 h are left.
    # q is out; r runs the half in 60 h for $120; the TPU would take 40 h after a week's
    # port (208 h > 152): not possible. Leaving it: 3 x $300 x 0.5 = $450.
    got = replan((0.0, 0.5), hit_day=(0.0, 2.0), blocked=(1,))
    assert got.penalty_usd == pytest.approx(450.0)
    assert got.usd == pytest.approx(120.0)
    # due at hour 1,000: the port fits (48 + 168 + 40 <= 1,000): $40 + the $50 port
    late = fleet_of(deadline_h=1000.0)
    assert replan((0.0, 0.5), hit_day=(0.0, 2.0), blocked=(1,), fleet=late).usd == pytest.approx(
        90.0
    )
    # due at hour 100: 52 h left, r needs 60: nothing fits, the work stays undone
    tight = fleet_of(deadline_h=100.0)
    got = replan((0.0, 0.5), hit_day=(0.0, 2.0), blocked=(1,), fleet=tight)
    assert got.usd == pytest.approx(got.penalty_usd)
    assert got.left[TUNE] == pytest.approx(0.5)


def test_a_service_cannot_wait_for_a_port():
    # the TPU would serve chat's 30 tok/s for $60; a service's period has begun, so it
    # is not among the choices however cheap: one replica at s, $400
    assert replan((0.3, 0.0), blocked=(0,), factor={7: 0.01}).usd == pytest.approx(400.0)


def test_prices_are_shifted_by_each_options_factor():
    # s doubles ($800 for 35 tok/s): three replicas at r, $450; r doubles too: one at s
    # at $800 against three at r at $900
    assert replan((0.3, 0.0), blocked=(0,), factor={3: 2.0}).usd == pytest.approx(450.0)
    assert replan((0.3, 0.0), blocked=(0,), factor={2: 2.0, 3: 2.0}).usd == pytest.approx(800.0)


def test_re_planning_pays_strictly_when_replacing_costs_less_than_the_penalty():
    # chat 30% undone: $400 at s against $900 undone; tune 50% undone with q out: $120 at
    # r against $450. Together $520 against $1,350.
    got = replan((0.3, 0.5), hit_day=(0.0, 2.0), blocked=(0, 1))
    assert got.penalty_usd == pytest.approx(1350.0)
    assert got.usd == pytest.approx(520.0)
    assert got.usd < got.penalty_usd
    assert got.left == pytest.approx([0.0, 0.0])


def test_re_planning_does_not_pay_when_the_penalty_is_below_any_replacement():
    # at a penalty of 0.4, 30% of chat undone costs 0.4 x $1,000 x 0.3 = $120, below any
    # way to serve it ($400 at s, $450 at r): the residual leaves it undone
    got = replan((0.3, 0.0), blocked=(0,), penalty=0.4)
    assert got.penalty_usd == pytest.approx(120.0)
    assert got.usd == pytest.approx(120.0)
    assert got.left == pytest.approx([0.3, 0.0])
    # and a mix: at a penalty of 1.5 ($450 for chat's 30%) serving at s ($400) pays,
    # tune's half ($225 undone) against r's $120 pays too
    mixed = replan((0.3, 0.5), hit_day=(0.0, 2.0), blocked=(0, 1), penalty=1.5)
    assert mixed.penalty_usd == pytest.approx(675.0)
    assert mixed.usd == pytest.approx(520.0)


def test_a_part_of_a_service_may_stay_undone():
    # 35% undone (35 tok/s) with p and s out: only r's $150 replicas of 10 tok/s. At a
    # penalty of 0.5 the whole undone share costs 0.5 x $1,000 x 0.35 = $175 and each
    # replica saves a 10/35 of it ($50), less than it costs: all stays undone. At a
    # penalty of 2 a replica saves $200: three replicas and 5 tok/s undone, $450 + $100.
    assert replan((0.35, 0.0), blocked=(0, 3), penalty=0.5).usd == pytest.approx(175.0)
    got = replan((0.35, 0.0), blocked=(0, 3), penalty=2.0)
    assert got.usd == pytest.approx(550.0)
    assert got.left[CHAT] == pytest.approx(0.35 * 5 / 35)
    # at 6 ($600 a replica) a fourth replica ($150) beats the last 5 tok/s undone ($300)
    got = replan((0.35, 0.0), blocked=(0, 3), penalty=6.0)
    assert got.usd == pytest.approx(600.0)
    assert got.left[CHAT] == pytest.approx(0.0)


# --- against the enumeration ---------------------------------------------------------------


def brute_force(
    fleet: Fleet,
    undone: tuple[float, float],
    hit_h: float,
    blocked: set[int],
    factor: list[float],
    penalty: float,
    room_at_p: float,
) -> float:
    """The cheapest residual plan by enumeration, written from the rules: chat's undone
    rate in whole replicas of each on-demand option not blocked and not on the pending
    platform (at most ``room_at_p`` instances more at p), the rest undone at its share of
    the penalty; tune's undone share run whole on one option that finishes by its
    deadline (a pending platform's lead time first, and its port paid), or left."""
    u_chat, u_tune = undone
    total = 0.0
    payg = [
        i
        for i, o in enumerate(OPTIONS)
        if i not in blocked and o.offer.price_regime is PriceRegime.ON_DEMAND
    ]
    if u_chat > 0:
        rate = 100.0 * u_chat
        unmet_usd = penalty * 1000.0 * u_chat
        chat = [i for i in payg if OPTIONS[i].serve and OPTIONS[i].estimate.platform == "cuda"]
        most = [math.ceil(rate / OPTIONS[i].tokens_per_s) for i in chat]
        best = unmet_usd
        for counts in itertools.product(*(range(m + 1) for m in most)):
            at_p = sum(
                k for k, i in zip(counts, chat, strict=True) if OPTIONS[i].offer.provider == "p"
            )
            if at_p > room_at_p:
                continue
            served = sum(k * OPTIONS[i].tokens_per_s for k, i in zip(counts, chat, strict=True))
            usd = sum(k * OPTIONS[i].usd * factor[i] for k, i in zip(counts, chat, strict=True))
            best = min(best, usd + unmet_usd * max(0.0, 1.0 - served / rate))
        total += best
    if u_tune > 0:
        deadline = fleet.workloads[TUNE].job.deadline_days * 24.0  # type: ignore[union-attr]
        best = penalty * 300.0 * u_tune
        for i in payg:
            o = OPTIONS[i]
            if o.serve:
                continue
            pending = o.estimate.platform == "xla"
            lead = XLA.lead_weeks * HOURS_PER_WEEK if pending else 0.0
            if hit_h + lead + o.hours * u_tune <= deadline:
                best = min(best, o.usd * u_tune * factor[i] + (XLA.enable_usd if pending else 0.0))
        total += best
    return total


@settings(max_examples=60, deadline=None)
@given(
    undone=st.sampled_from(
        [(a, b) for a in (0.0, 0.1, 0.25, 0.35, 0.6, 1.0) for b in (0.0, 0.2, 0.5, 1.0) if a or b]
    ),
    hit_day=st.sampled_from([0.0, 1.0, 3.0, 6.0]),
    deadline_h=st.sampled_from([150.0, 250.0, 400.0, 1000.0]),
    blocked=st.sets(st.sampled_from([0, 1, 2, 3, 5, 6])),
    factor=st.lists(
        st.sampled_from([0.5, 1.0, 1.3, 2.0]), min_size=len(OPTIONS), max_size=len(OPTIONS)
    ),
    penalty=st.sampled_from([0.4, 1.0, 1.5, 3.0]),
    room=st.none() | st.integers(0, 6),
)
def test_the_residual_optimum_is_the_least_cost_of_every_residual_choice(
    undone, hit_day, deadline_h, blocked, factor, penalty, room
):
    capacity = () if room is None else (CapacityLimit("p", "X", 10 + room),)
    fleet = fleet_of(deadline_h=deadline_h, capacity=capacity)
    exact = brute_force(
        fleet, undone, 24.0 * hit_day, blocked, factor, penalty, math.inf if room is None else room
    )
    got = replan(
        undone,
        hit_day=(0.0, hit_day),
        blocked=tuple(blocked),
        factor=dict(enumerate(factor)),
        penalty=penalty,
        fleet=fleet,
    )
    assert got.penalty_usd == pytest.approx(penalty * (1000.0 * undone[0] + 300.0 * undone[1]))
    # the residual MILP stops within RECOURSE_GAP of its optimum
    assert exact - 1e-6 <= got.usd <= exact * (1 + RECOURSE_GAP) + 1e-6
    # what it leaves undone is at most what was undone, and nothing when it costs nothing
    assert (got.left <= np.array(undone) + 1e-9).all()
