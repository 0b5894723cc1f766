"""One test per shortcut the risk engine used to take, each with the figures it gave
before (in the comment) and the ones worked out by hand now (asserted)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from risk_helpers import at, due, evaluate

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import Fleet, PlatformState
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ZERO, ScenarioSet, Selector, Shock, ShockKind
from arbiter.optimize.fleet import solve_fleet
from arbiter.risk.evaluate import LOCKED_IN, RiskContext, run

# The fine-tune: 10.8 h of work at $10/h ($108), due 24 h after it starts.
TUNE = Fleet(workloads=(due(train("tune"), 24.0),))
TUNE_AT_Q = train_option(0, offer("q", 10.0), hours=10.8)


def test_outage_outlasting_window_costs_lateness():
    # q is out from hour 0 to 18: the job starts at 18 and would finish at 28.8, 4.8 h
    # late. Before: $108, nothing undone, no deadline missed (the outage was cut at the
    # job's 10.8 h window and the catch-up assumed to follow at once). Now 6 of its 10.8
    # hours of work are done by hour 24 ($60 billed) and 4.8/10.8 is undone, at
    # 3 x $108 x 4.8/10.8 = $144.
    sol, out, _ = evaluate(TUNE, [TUNE_AT_Q], [at(ShockKind.OUTAGE, "q", 0.0, 18.0)])
    assert sol.total_usd == pytest.approx(108.0)
    assert out.unmet[0, 0] == pytest.approx(4.8 / 10.8)
    assert out.unmet_usd[0] == pytest.approx(144.0)
    assert out.cost_usd[0] == pytest.approx(60.0 + 144.0)
    assert out.missed_deadlines[0] == 1


def test_outage_that_never_ends_leaves_the_rest_undone():
    # q goes down at hour 4 for good: 4 h of work done and billed ($40), the rest undone
    # ($324 x 6.8/10.8 = $204); no infinities, nothing billed for the wait
    _, out, _ = evaluate(TUNE, [TUNE_AT_Q], [at(ShockKind.OUTAGE, "q", 4.0, np.inf)])
    assert out.unmet[0, 0] == pytest.approx(6.8 / 10.8)
    assert out.cost_usd[0] == pytest.approx(40.0 + 3 * 108.0 * 6.8 / 10.8)


def test_job_lateness_is_a_share_of_its_work():
    # a 100 h job at $3/h cut to half capacity for its first 40 h, due at 110 h: by then
    # it has done 20 + 70 = 90 h of work, so 10% is undone ($90) and $270 is billed.
    # Before: 10/120 undone (a share of the wall clock, $75) and all $300 billed: $375.
    fleet = Fleet(workloads=(due(train("tune"), 110.0),))
    plan = [train_option(0, offer("q", 3.0), hours=100.0)]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.SUPPLY_CUT, "q", 0.0, 40.0, 0.5)])
    assert out.unmet[0, 0] == pytest.approx(0.1)
    assert out.cost_usd[0] == pytest.approx(270.0 + 90.0)


def test_reserved_catch_up_is_not_charged_twice():
    # a 100 h job on a one-month reservation (730 h at $1/h: $730) out for its first
    # 20 h catches up inside the term it has paid for. Before: $750 (the 20 h again).
    fleet = Fleet(workloads=(train("tune"),))
    reserved = offer("q", 1.0, regime=PriceRegime.RESERVED_1Y, term_months=1)
    plan = [train_option(0, reserved, hours=100.0)]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 0.0, 20.0)])
    assert out.cost_usd[0] == pytest.approx(730.0)
    # a 720 h job on it runs to 740 h: 10 h past the term, bought at the term's rate
    plan = [train_option(0, reserved, hours=720.0)]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 0.0, 20.0)])
    assert out.cost_usd[0] == pytest.approx(740.0)


def test_capacity_block_catch_up_pays_only_for_new_days():
    # a 30 h job on a capacity block at $2/h books 2 days ($96). Out for 10 h it ends at
    # 40 h, inside the booked days: $96 (before: $116). Out for 20 h it ends at 50 h and
    # needs a third day: $144 (before: $136).
    fleet = Fleet(workloads=(train("tune"),))
    plan = [train_option(0, offer("q", 2.0, regime=PriceRegime.CAPACITY_BLOCK), hours=30.0)]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 0.0, 10.0)])
    assert out.cost_usd[0] == pytest.approx(96.0)
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 0.0, 20.0)])
    assert out.cost_usd[0] == pytest.approx(144.0)


# A service of 100 tokens/s for 100 h: 10 replicas at p, $1/h each ($1,000).
CHAT = Fleet(workloads=(serve("chat", 100.0, hours=100.0),))
CHAT_AT_P = serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0)


def test_concurrent_outages_count_once():
    # two outages of p over the same first 50 h take half the service, not all of it:
    # $500 billed + 3 x $1,000 x 0.5. Before: $3,000 (all of it undone).
    shocks = [at(ShockKind.OUTAGE, "p", 0.0, 50.0), at(ShockKind.OUTAGE, "p", 0.0, 50.0, name="b")]
    _, out, _ = evaluate(CHAT, [CHAT_AT_P], shocks)
    assert out.unmet[0, 0] == pytest.approx(0.5)
    assert out.cost_usd[0] == pytest.approx(500.0 + 1500.0)


def test_price_shift_during_an_outage_is_not_billed():
    # p doubles its price while it is out (first 50 h): nothing is billed then, and the
    # second half at $1/h: $500 + $1,500. Before: $2,250 (the mean price times the mean
    # capacity, $750).
    shocks = [at(ShockKind.OUTAGE, "p", 0.0, 50.0), at(ShockKind.PRICE_SHIFT, "p", 0.0, 50.0, 2.0)]
    _, out, _ = evaluate(CHAT, [CHAT_AT_P], shocks)
    assert out.cost_usd[0] == pytest.approx(500.0 + 1500.0)


def test_locked_in_recourse_stays_with_its_provider():
    # X at p is cut for the whole period. Provider r sells X at $1.50/h; p also sells Y at
    # $2/h. The plan re-plans onto r ($1,500); the same placement as the locked-in status
    # quo may only use p's other chip ($2,000). Before: both moved to r ($1,500).
    alternatives = [
        serve_option(0, offer("r", 1.5), tokens_per_s=10.0, hours=100.0),
        serve_option(0, offer("p", 2.0, accelerator="Y"), tokens_per_s=10.0, hours=100.0),
    ]
    sol = solve_fleet(CHAT, [CHAT_AT_P])
    cut = Shock(
        name="x-at-p",
        kind=ShockKind.SUPPLY_CUT,
        selector=Selector(providers=("p",), accelerators=("X",)),
        probability=1.0,
        magnitude=ZERO,
    )
    scenarios = ScenarioSet(shocks=(cut,))
    ctx = RiskContext(
        CHAT,
        (("plan", sol), (LOCKED_IN, sol)),
        (CHAT_AT_P, *alternatives),
        scenarios,
        recourse=True,
        seed=0,
    )
    result = run(ctx, 4)
    assert result["plan"].cost_usd == pytest.approx(np.full(4, 3000.0))
    assert result["plan"].recourse_cost_usd == pytest.approx(np.full(4, 1500.0))
    assert result[LOCKED_IN].recourse_cost_usd == pytest.approx(np.full(4, 2000.0))
    # locked in elsewhere too: nothing to move to
    nowhere = replace(ctx, options=(CHAT_AT_P, alternatives[0]))
    assert run(nowhere, 4)[LOCKED_IN].recourse_cost_usd == pytest.approx(np.full(4, 3000.0))


def test_price_shift_does_not_start_a_late_jobs_replan():
    # q's price rises by half from hour 0 to 5; q is out from hour 6 to 106. The job is
    # 4.8/10.8 undone ($144) after 6 h of work ($85). Provider s could do the rest in
    # 50 h x 4.8/10.8 = 22.2 h for $44.44, but only from the outage at hour 6, which
    # leaves 18 h: no re-plan, $229. Before: the re-plan started at the price shift, at
    # hour 0, and finished in time: $129.44.
    alternative = train_option(0, offer("s", 2.0), hours=50.0)
    shocks = [
        at(ShockKind.PRICE_SHIFT, "q", 0.0, 5.0, 1.5),
        at(ShockKind.OUTAGE, "q", 6.0, 100.0),
    ]
    _, out, replanned = evaluate(TUNE, [TUNE_AT_Q], shocks, [alternative])
    assert out.cost_usd[0] == pytest.approx(85.0 + 144.0)
    assert replanned == pytest.approx(85.0 + 144.0)


def test_job_replan_is_priced_over_the_hours_it_runs():
    # q is out from hour 6: 4.8 of the job's 10.8 hours are re-planned onto s ($20/h)
    # from hour 6 to 10.8, while s costs 1.4 times as much: $96 x 1.4 = $134.40, plus
    # the $60 done at q. Before: s's price was averaged over [0, 10.8] h, $173.11.
    alternative = train_option(0, offer("s", 20.0), hours=10.8)
    shocks = [
        at(ShockKind.OUTAGE, "q", 6.0, 100.0),
        at(ShockKind.PRICE_SHIFT, "s", 6.0, 4.8, 1.4),
    ]
    _, out, replanned = evaluate(TUNE, [TUNE_AT_Q], shocks, [alternative])
    assert out.cost_usd[0] == pytest.approx(60.0 + 144.0)
    assert replanned == pytest.approx(60.0 + 96.0 * 1.4)


def test_job_on_a_new_platform_runs_after_its_lead_time():
    # a 100 h job on XLA, which the plan enables with a one-week (168 h) lead time, due at
    # 278 h. An outage of q from 0 to 100 h is over before it starts: $300. One from 170
    # to 200 h stops it for 30 h: 80 h of work by 278 h ($240), 20% undone ($180).
    # Before: the other way round (the job was taken to run from hour 0): $300 for both.
    fleet = Fleet(
        workloads=(due(train("big"), 278.0),),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.XLA, enabled=False, lead_weeks=1.0),
        ),
    )
    plan = [train_option(0, offer("q", 3.0, accelerator="T"), hours=100.0, platform="xla")]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 0.0, 100.0)])
    assert out.cost_usd[0] == pytest.approx(300.0)
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.OUTAGE, "q", 170.0, 30.0)])
    assert out.unmet[0, 0] == pytest.approx(0.2)
    assert out.cost_usd[0] == pytest.approx(240.0 + 180.0)


def test_spot_surge_restarts_are_billed():
    # a 100 h job on spot at $2/h ($200): a surge to 9 times the preemption rate (the
    # offer's own 0.05/h, 0.25 h per restart) for its whole run slows it to 1.0125/1.1125
    # of its rate, so it holds the instance 111.25/1.0125 = 109.88 h, and restarts are
    # billed time: $219.75. Before: $200 (the time lost to restarts was not billed).
    fleet = Fleet(workloads=(train("tune"),))
    spot = replace(offer("q", 2.0, regime=PriceRegime.SPOT), interruption_rate=0.05)
    plan = [train_option(0, spot, hours=100.0)]
    _, out, _ = evaluate(fleet, plan, [at(ShockKind.SPOT_SURGE, "q", 0.0, 1000.0, 9.0)])
    assert out.cost_usd[0] == pytest.approx(2.0 * 100.0 * 1.1125 / 1.0125)
    assert out.unmet[0, 0] == 0.0
