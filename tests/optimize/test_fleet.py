"""The fleet MILP on small fleets whose optimum can be checked by hand."""

from __future__ import annotations

import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet, PlatformState, ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.optimize.fleet import group_of, solve_fleet


def test_two_offers_one_job_takes_the_cheaper_job_not_the_cheaper_hour():
    # a: $2/h but 10 h -> $20; b: $3/h but 5 h -> $15
    fleet = Fleet(workloads=(train("job"),))
    options = [
        train_option(0, offer("a", 2.0), hours=10.0),
        train_option(0, offer("b", 3.0), hours=5.0),
    ]
    sol = solve_fleet(fleet, options)
    (placed,) = sol.placed
    assert placed.option.offer.provider == "b"
    assert sol.total_usd == pytest.approx(15.0)


def test_a_vendor_cap_forces_a_second_vendor_at_the_hand_computed_cost():
    # demand 100 tokens/s for 100 h; NVIDIA replica: 10 tok/s at $1/h (cost $10 per tok/s),
    # Google replica: 10 tok/s at $2/h. Uncapped: 10 NVIDIA replicas = $1,000.
    # NVIDIA <= 60% of spend: with a NVIDIA and g Google replicas, a + g >= 10 and
    # 100 a <= 0.6 (100 a + 200 g)  ->  a <= 3 g. Cheapest: g = 3 (a = 7): cost 700 + 600 = $1,300
    # (g = 2 allows a <= 6 only: 8 replicas, short of 10)
    fleet = Fleet(workloads=(serve("chat", 100.0),), caps=ShareCaps(vendor=0.6))
    options = [
        serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0, platform="cuda"),
        serve_option(
            0, offer("q", 2.0, accelerator="T"), tokens_per_s=10.0, hours=100.0, platform="xla"
        ),
    ]
    sol = solve_fleet(fleet, options)
    units = {p.option.estimate.vendor: p.units for p in sol.placed}
    assert units == {"NVIDIA": 7, "Google": 3}
    assert sol.compute_usd == pytest.approx(1300.0)
    spend = {}
    for p in sol.placed:
        spend[group_of(p.option, "vendor")] = spend.get(group_of(p.option, "vendor"), 0.0) + p.usd
    assert spend["NVIDIA"] <= 0.6 * sum(spend.values()) + 1e-6
    uncapped = solve_fleet(fleet, options, caps=False)
    assert uncapped.compute_usd == pytest.approx(1000.0)


@pytest.mark.parametrize(("hours", "wins"), [(4000.0, "on_demand"), (6000.0, "reserved_1y")])
def test_a_reserved_offer_wins_only_above_its_break_even_utilisation(hours, wins):
    # on-demand $2/h for the hours used; reserved 1 year at $1.2/h for all 8,760 h = $10,512:
    # break-even at 10,512 / 2 = 5,256 h of use
    fleet = Fleet(workloads=(serve("svc", 10.0, hours=hours),))
    options = [
        serve_option(0, offer("p", 2.0), tokens_per_s=10.0, hours=hours),
        serve_option(
            0, offer("p", 1.2, regime=PriceRegime.RESERVED_1Y), tokens_per_s=10.0, hours=hours
        ),
    ]
    sol = solve_fleet(fleet, options)
    (placed,) = sol.placed
    assert placed.option.offer.price_regime.value == wins
    assert sol.compute_usd == pytest.approx(min(2.0 * hours, 1.2 * 8760.0))


@pytest.mark.parametrize(("enable_usd", "enabled"), [(50.0, True), (500.0, False)])
def test_a_platform_is_enabled_only_when_it_pays_for_itself(enable_usd, enabled):
    # NVIDIA job $400; the same job on TPUs $200 once xla is enabled for enable_usd
    fleet = Fleet(
        workloads=(train("job"),),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.XLA, enabled=False, enable_usd=enable_usd),
        ),
    )
    options = [
        train_option(0, offer("a", 4.0), hours=100.0),
        train_option(0, offer("g", 2.0, accelerator="T"), hours=100.0, platform="xla"),
    ]
    sol = solve_fleet(fleet, options)
    assert (Platform.XLA in sol.enabled) is enabled
    assert sol.total_usd == pytest.approx(min(400.0, 200.0 + enable_usd))


def test_a_cap_only_padding_could_meet_is_infeasible_not_padded():
    """Rate 2 replicas, $10 at p and $15 at q, a 50% provider cap: only 3 at p and 2 at q
    ($30 each) meet the cap, three replicas more than the rate needs. That is padding:
    the fleet has no plan, and the diagnosis names the cap (it was a $60 plan before)."""
    from arbiter.domain.errors import InfeasibleError

    fleet = Fleet(workloads=(serve("chat", 20.0),), caps=ShareCaps(provider=0.5))
    options = [
        serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=10.0),
        serve_option(0, offer("q", 1.5), tokens_per_s=10.0, hours=10.0),
    ]
    with pytest.raises(InfeasibleError, match=r"provider_share\["):
        solve_fleet(fleet, options)
    # at 60% the cap holds with one replica on each: no surplus, no idle instance
    looser = Fleet(workloads=fleet.workloads, caps=ShareCaps(provider=0.6))
    sol = solve_fleet(looser, options)
    assert sol.total_usd == pytest.approx(25.0)
    assert sorted(p.units for p in sol.placed) == [1, 1]


def test_an_infeasible_fleet_names_what_must_give_and_how_much():
    # one job of 3 instances (3 chips on 1-chip offers) but capacity for 1 at provider p:
    # the elastic solve says capacity[p/X] needs 2 more instances
    from arbiter.domain.errors import InfeasibleError
    from arbiter.domain.fleet import CapacityLimit

    fleet = Fleet(
        workloads=(train("job"),),
        capacity=(CapacityLimit(provider="p", accelerator="X", max_instances=1),),
    )
    options = [train_option(0, offer("p", 1.0), hours=10.0, chips=3)]
    with pytest.raises(InfeasibleError) as info:
        solve_fleet(fleet, options)
    message = str(info.value)
    assert "capacity[p/X]" in message
    assert "needs 2.0 more instances" in message


def test_a_budget_too_small_says_by_how_much():
    # the only way costs $100 (10 h x $10/h); budget $60: $40 short
    from arbiter.domain.errors import InfeasibleError

    fleet = Fleet(workloads=(train("job"),), budget_usd=60.0)
    with pytest.raises(InfeasibleError) as info:
        solve_fleet(fleet, [train_option(0, offer("p", 10.0), hours=10.0)])
    assert "budget: needs $40 more" in str(info.value)


@pytest.mark.parametrize(("unmet_usd", "placed"), [(5.0, False), (20.0, True)])
def test_work_left_undone_is_priced_against_doing_it(unmet_usd, placed):
    # a $10 job ($1/h x 10 h): left undone when that costs $5, done when it costs $20
    fleet = Fleet(workloads=(train("job"),))
    options = [train_option(0, offer("p", 1.0), hours=10.0)]
    sol = solve_fleet(fleet, options, unmet_usd=[unmet_usd])
    assert bool(sol.placed) is placed
    assert sol.unmet == pytest.approx((0.0,) if placed else (1.0,))
    assert sol.total_usd == pytest.approx(10.0 if placed else 5.0)


def test_a_service_may_leave_part_of_its_rate_unserved():
    # 100 tok/s for 1 h; 40 tok/s replicas at $1: 3 replicas ($3) serve it all. Leaving the
    # whole rate unserved costs $2.50, so 2 replicas ($2) + 20% unserved ($0.50) = $2.50
    # ties with none; at $5 unserved: 2 replicas + 20% x $5 = $3 = 3 replicas ($3); at $10,
    # 3 replicas ($3) beat 2 + $2. The cheapest mix of replicas and unserved share wins.
    fleet = Fleet(workloads=(serve("chat", 100.0, hours=1.0),))
    options = [serve_option(0, offer("p", 1.0), tokens_per_s=40.0, hours=1.0)]
    for unmet_usd, total in ((2.5, 2.5), (5.0, 3.0), (10.0, 3.0), (1.0, 1.0)):
        sol = solve_fleet(fleet, options, unmet_usd=[unmet_usd], mip_gap=1e-9)
        assert sol.total_usd == pytest.approx(total), unmet_usd
        served = sum(p.units * p.option.tokens_per_s for p in sol.placed)
        assert served + 100.0 * sol.unmet[0] >= 100.0 - 1e-6


def test_with_unmet_priced_a_fleet_without_options_is_not_infeasible():
    fleet = Fleet(workloads=(train("job"), serve("chat", 10.0, hours=1.0)))
    sol = solve_fleet(fleet, [], unmet_usd=[7.0, 3.0])
    assert sol.unmet == pytest.approx((1.0, 1.0))
    assert sol.total_usd == pytest.approx(10.0)


def test_a_share_cap_no_plan_can_meet_is_explained_in_dollars():
    # one job, one NVIDIA option at $1/h x 100 h = $100; NVIDIA <= 50% of spend: the cap
    # must give $100 - 0.5 x $100 = $50 (the share rows are scaled; the message is not)
    fleet = Fleet(workloads=(train("job"),), caps=ShareCaps(vendor=0.5))
    with pytest.raises(InfeasibleError, match=r"vendor_share\[NVIDIA\]: \$50 of spend above"):
        solve_fleet(fleet, [train_option(0, offer("p", 1.0), hours=100.0)])
