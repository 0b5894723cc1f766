"""The planner's spot outlook: measured on traces by hand, held to the replay of ``greedy``
on synthetic traces with the spells it assumes, and its limits worked by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from markov import markov_trace
from spot_helpers import job, trace

from arbiter.catalog.spot import SpotBasis, SpotRate
from arbiter.domain.spot import Availability
from arbiter.spotsim.outlook import (
    DEFAULT_OUTAGE_H,
    availability_from_rate,
    availability_from_traces,
    outlook,
)
from arbiter.spotsim.simulate import simulate, windows

SPOT, OD = 0.97, 3.06


def spot_on(lam: float, outage_h: float) -> Availability:
    return Availability(lam, outage_h, "test", "", "")


def test_availability_is_measured_reading_by_reading():
    # spot for 2 h, gone 2 h, back 3 h, gone 1 h: 2 interruptions in 5 h with spot,
    # 2 outages of 3 h in all
    a = availability_from_traces([trace("11001110")])
    assert (a.interruptions_per_hour, a.mean_outage_h) == (pytest.approx(0.4), 1.5)
    assert a.available_share == pytest.approx(5 / 8)
    assert a.basis == "trace" and "1 trace(s)" in a.source
    # a trace that starts without spot starts an outage; two traces pool (the share is the
    # model's, 1 / (1 + lambda W): a trace's ends cut spells short)
    b = availability_from_traces([trace("0111"), trace("1100", name="synthetic/zone-b_v100_1")])
    assert (b.interruptions_per_hour, b.mean_outage_h) == (pytest.approx(1 / 5), 1.5)
    assert b.available_share == pytest.approx(1 / 1.3)
    always = availability_from_traces([trace("1111")])
    assert (always.interruptions_per_hour, always.available_share) == (0.0, 1.0)
    never = availability_from_traces([trace("0000")])
    assert never.available_share == 0.0


def test_a_spot_rate_gives_availability_with_the_assumed_outage():
    rate = SpotRate(0.01, SpotBasis.FEED, "Spot Advisor", "2025-06-28")
    a = availability_from_rate(rate)
    assert (a.mean_outage_h, a.basis, a.as_of) == (DEFAULT_OUTAGE_H, "feed", "2025-06-28")
    assert a.available_share == pytest.approx(1 / (1 + 0.01 * DEFAULT_OUTAGE_H))
    assert availability_from_rate(rate, 5.0).mean_outage_h == 5.0


def test_spot_always_there_runs_the_whole_job_on_spot():
    o = outlook(
        spot_on(0.0, 2.0), compute_h=48, deadline_h=52, restart_h=0.2,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
    )  # fmt: skip
    assert (o.spot_share, o.on_demand_h, o.miss_probability) == (1.0, 0.0, 0.0)
    assert o.usd == pytest.approx(48 * SPOT)


def test_spot_never_there_runs_on_demand_with_one_start():
    o = outlook(
        spot_on(math.inf, 2.0), compute_h=48, deadline_h=52, restart_h=0.2,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
    )  # fmt: skip
    assert (o.spot_share, o.spot_h, o.miss_probability) == (0.0, 0.0, 0.0)
    assert o.usd == pytest.approx(48.2 * OD)
    alone = outlook(
        spot_on(math.inf, 2.0), compute_h=48, deadline_h=52, restart_h=0.2,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=None,
    )  # fmt: skip
    assert alone.miss_probability == 1.0


def test_no_slack_leaves_no_time_to_wait_for_spot():
    # D = C + d: the job must start on on-demand at once
    o = outlook(
        spot_on(0.5, 2.0), compute_h=10, deadline_h=10.2, restart_h=0.2,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
    )  # fmt: skip
    assert o.spot_share == 0.0 and o.miss_probability == 0.0
    assert o.usd == pytest.approx(10.2 * OD)
    late = outlook(
        spot_on(0.5, 2.0), compute_h=10, deadline_h=10.1, restart_h=0.2,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
    )  # fmt: skip
    assert late.miss_probability == 1.0


@pytest.mark.parametrize("lam", [0.05, 0.3, 1.0])
def test_more_slack_never_costs_more_and_more_interruptions_never_less(lam):
    def usd(deadline_h: float, rate: float) -> float:
        return outlook(
            spot_on(rate, 2.0), compute_h=48, deadline_h=deadline_h, restart_h=0.2,
            spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
        ).usd  # fmt: skip

    costs = [usd(d, lam) for d in (48.2, 50, 52, 60, 70, 100, 200)]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(costs))
    assert costs[0] == pytest.approx(48.2 * OD) and costs[-1] < 48 * OD
    assert usd(60, lam) <= usd(60, 2 * lam) + 1e-9


# (interruptions per hour with spot, mean outage h, C, D, d): short and long outages, tight
# and loose deadlines, spot scarce and plentiful
GRID = [
    (0.5, 2.0, 48, 52, 0.2),
    (0.5, 2.0, 48, 70, 0.2),
    (0.1, 2.0, 48, 52, 0.05),
    (0.05, 1.0, 100, 200, 0.2),
    (1.0, 5.0, 48, 70, 0.2),
    (0.01, 2.0, 300, 320, 0.25),
    (0.3, 1.0, 48, 60, 0.2),
    (0.2, 3.0, 24, 48, 0.1),
    (0.05, 4.0, 200, 230, 0.25),
]


def replayed(lam, outage_h, compute_h, deadline_h, restart_h):
    traces = [markov_trace(lam, outage_h, 4000, 0.05, s) for s in range(4)]
    j = job(compute_h=compute_h, deadline_h=deadline_h, restart_h=restart_h, spot=SPOT, od=OD)
    return simulate(j, traces, "greedy", windows(traces, j, count=300, seed=1))


def test_the_closed_form_is_the_replay_of_greedy_on_the_traces_it_assumes():
    errors = []
    for lam, w, c, d, r in GRID:
        sim = replayed(lam, w, c, d, r)
        o = outlook(
            spot_on(lam, w), compute_h=c, deadline_h=d, restart_h=r,
            spot_usd_per_hour=SPOT, on_demand_usd_per_hour=OD,
        )  # fmt: skip
        assert not sim.missed.any()
        errors.append(o.usd / sim.cost_usd.mean() - 1.0)
    errors = np.abs(errors)
    assert errors.max() < 0.05, errors
    assert np.median(errors) < 0.03, errors


def test_spot_alone_misses_as_often_as_the_traces_leave_too_few_spot_hours():
    lam, w, c, d = 0.2, 2.0, 40.0, 60.0
    traces = [markov_trace(lam, w, 6000, 0.05, s) for s in range(4)]
    f = 1 / (1 + lam * 0.1)
    starts = np.random.default_rng(3).integers(0, len(traces[0].available) - 1300, size=2000)
    spot_hours = np.array(
        [traces[i % 4].available[s : s + 1200].sum() * 0.05 for i, s in enumerate(starts)]
    )
    measured = float(np.mean(spot_hours < c / f))
    o = outlook(
        spot_on(lam, w), compute_h=c, deadline_h=d, restart_h=0.1,
        spot_usd_per_hour=SPOT, on_demand_usd_per_hour=None,
    )  # fmt: skip
    assert 0.05 < measured < 0.95  # a case where the answer is neither 0 nor 1
    assert o.miss_probability == pytest.approx(measured, abs=0.06)
    assert o.spot_share == 1.0 and o.usd == pytest.approx(c / f * SPOT)
