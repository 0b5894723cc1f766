"""Each policy on small traces whose outcome is worked out by hand (gap 1 h, spot $1/h,
on-demand $3/h, restart 0.5 h)."""

from __future__ import annotations

import pytest
from spot_helpers import job, trace

from arbiter.spotsim.job import SpotOption
from arbiter.spotsim.simulate import simulate


def run(j, traces, policy, start=0):
    out = simulate(j, traces, policy, [(0, start)])
    return out.cost_usd[0], out.finish_h[0], bool(out.missed[0])


@pytest.mark.parametrize("policy", ["greedy", "up", "arbiter", "optimal"])
def test_always_available_costs_restart_plus_work_at_spot_price(policy):
    # 0.5 h restart then 4 h of work, all on spot: 4.5 h x $1, done at 4.5 h
    cost, finish, missed = run(job(compute_h=4, deadline_h=6), [trace("1" * 12)], policy)
    assert cost == pytest.approx(4.5)
    assert not missed
    if policy != "optimal":
        assert finish == pytest.approx(4.5)


def test_on_demand_pays_restart_plus_work_at_on_demand_price():
    cost, finish, missed = run(job(compute_h=4, deadline_h=6), [trace("0" * 12)], "od")
    assert (cost, finish, missed) == (pytest.approx(13.5), pytest.approx(4.5), False)


LONG_OUTAGE = "110001111111"


def test_greedy_waits_out_a_long_outage():
    # spot at 0,1 (0.5 + 1 = 1.5 h of work), idle 2-4, spot again at 5 (0.5), 6, 7: done
    # at 8.0 with 5 spot hours
    cost, finish, missed = run(job(deadline_h=10), [trace(LONG_OUTAGE)], "greedy")
    assert (cost, finish, missed) == (pytest.approx(5.0), pytest.approx(8.0), False)


def test_uniform_progress_catches_up_on_demand_during_a_long_outage():
    # ep(t) = 0.4 t. Spot at 0,1 (cp 1.5); idle at 2, 3 (1.5 >= 0.8, 1.2); at 4 cp < 1.6:
    # on-demand (restart, cp 2.0); at 5 hysteresis holds (2.0 < ep(6) = 2.4): cp 3.0; at 6
    # cp >= ep(7) = 2.8 and spot is back: spot (restart, cp 3.5); at 7 half a tick finishes.
    # Cost 1 + 1 + 3 + 3 + 1 + 0.5 = 9.5, done at 7.5
    cost, finish, missed = run(job(deadline_h=10), [trace(LONG_OUTAGE)], "up")
    assert (cost, finish, missed) == (pytest.approx(9.5), pytest.approx(7.5), False)


def test_hindsight_optimum_skips_the_short_run_before_the_outage():
    # one spot run from 5 to 9.5 (one restart) beats two runs: 4.5 h x $1
    cost, finish, missed = run(job(deadline_h=10), [trace(LONG_OUTAGE)], "optimal")
    assert (cost, finish, missed) == (pytest.approx(4.5), pytest.approx(9.5), False)


@pytest.mark.parametrize(("policy", "finish_h"), [("greedy", 6.0), ("up", 5.0), ("optimal", None)])
def test_outage_just_before_the_deadline_ends_on_demand(policy, finish_h):
    # spot 0-3 gives 3.5 h of work for $4; spot is gone at 4 and 5; the last 0.5 h of work
    # needs a restart on-demand: 1 h x $3. At 4, 1 h would be left after waiting a tick:
    # greedy waits (1 >= 0.5 + 0.5) and finishes at exactly 6.0; UP's Safety Net fires
    # (1 < 0.5 + 2 x 0.5) and it finishes at 5.0
    cost, finish, missed = run(job(deadline_h=6), [trace("111100")], policy)
    assert cost == pytest.approx(7.0)
    assert not missed
    if finish_h is not None:
        assert finish == pytest.approx(finish_h)


def test_checkpoint_loss_on_preemption():
    # checkpoint every 1 h of work: preempted at 2 with 1.5 h done, 1.0 is kept; spot from
    # 5: 0.5 (1.5), 6 (2.5), 7 (3.5), half of 8: done at 8.5, 2 + 3.5 spot hours
    j = job(deadline_h=12, checkpoint_h=1.0)
    cost, finish, missed = run(j, [trace("110001111111")], "greedy")
    assert (cost, finish, missed) == (pytest.approx(5.5), pytest.approx(8.5), False)


def test_arbiter_moves_to_another_region_with_spot():
    # home zone never has spot; the other zone always does at $2/h: restart 0.5 + 2 h of
    # work there, 2.5 h x $2
    home = trace("0" * 12, name="synthetic/zone-a_v100_1")
    other = trace("1" * 12, name="synthetic/zone-b_v100_1")
    j = job(compute_h=2, deadline_h=6, options=(SpotOption("*_v100_1", 2.0, 3.0),))
    out = simulate(j, [home, other], "arbiter", [(0, 0)])
    assert out.cost_usd[0] == pytest.approx(5.0)
    assert out.spot_share[0] == pytest.approx(1.0)
    assert not out.missed[0]
    # UP stays home, on-demand in two runs: at 1 it is behind ep(1) = 1/3, runs 1-2 (1.5 h
    # of work, released at 3 as 1.5 >= ep(3 + 2d) = 4/3), idles at 3, and at 4 its Safety Net
    # fires (1 < 0.5 + 2 x 0.5): 0.5 + 0.5 h more. 3 h x $3
    assert simulate(j, [home, other], "up", [(0, 0)]).cost_usd[0] == pytest.approx(9.0)


def test_arbiter_weighs_a_slower_chip_by_price_per_work():
    # a K80 at half the speed for $0.4/h costs $0.8 per hour of work, under the V100 option's
    # $1.5; work 2 h takes 0.5 + 4 h there: 4.5 h x $0.4
    home = trace("0" * 12, name="synthetic/zone-a_v100_1")
    v100 = trace("1" * 12, name="synthetic/zone-b_v100_1")
    k80 = trace("1" * 12, name="synthetic/zone-b_k80_1")
    options = (SpotOption("*_v100_1", 1.5, 3.0), SpotOption("*_k80_1", 0.4, 3.0, speed=0.5))
    j = job(compute_h=2, deadline_h=8, options=options)
    out = simulate(j, [home, k80, v100], "arbiter", [(0, 0)])
    assert out.cost_usd[0] == pytest.approx(1.8)
    assert out.finish_h[0] == pytest.approx(4.5)
