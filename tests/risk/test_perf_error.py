"""The ``perf_error`` shock: each platform's throughput drawn from its error band, one
draw per platform per sample, on small plans built by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option

from arbiter.domain.errors import InputError
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import Option
from arbiter.perf.bands import Z80, sigma_of
from arbiter.risk.evaluate import RiskContext, run
from arbiter.risk.impact import perf_speed, plan_arrays, without_recourse
from arbiter.scenarios.loading import parse_scenarios
from arbiter.scenarios.sampling import chunk_plan, sample

# a price shift on a provider no plan uses: the scenario file needs one shock
QUIET = Shock(
    name="elsewhere",
    kind=ShockKind.PRICE_SHIFT,
    selector=Selector(providers=("nobody",)),
    probability=0.5,
    magnitude=Distribution.fixed(2.0),
    start_days=Distribution.fixed(0.0),
    duration_days=Distribution.fixed(10.0),
)
OUTAGE = Shock(
    name="outage-p",
    kind=ShockKind.OUTAGE,
    selector=Selector(providers=("p",)),
    probability=0.3,
    magnitude=Distribution.fixed(0.0),
    start_days=Distribution("uniform", (0.0, 3.0)),
    duration_days=Distribution.fixed(1.0),
)


def banded(option: Option, share: float) -> Option:
    return replace(option, estimate=replace(option.estimate, error_band_share=share))


def one_service(share: float, platform: str = "cuda") -> tuple[Fleet, list[Option]]:
    fleet = Fleet(workloads=(serve("chat", 100.0, hours=100.0),))
    o = serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0, platform=platform)
    return fleet, [banded(o, share)]


def costs(fleet: Fleet, options: list[Option], scenarios: ScenarioSet, n: int = 2000, seed=3):
    sol = solve_fleet(fleet, options)
    ctx = RiskContext(fleet, (("plan", sol),), tuple(options), scenarios, False, seed)
    return run(ctx, n)["plan"]


def test_sigma_puts_80_percent_of_draws_inside_the_band():
    """exp(sigma Z) falls in [1/(1+b), 1+b] with probability 0.8."""
    z = np.random.default_rng(0).standard_normal(200_000)
    speed = np.exp(sigma_of(0.4) * z)
    inside = ((speed <= 1.4) & (speed >= 1 / 1.4)).mean()
    assert inside == pytest.approx(0.8, abs=0.005)
    assert sigma_of(0.4) == pytest.approx(np.log(1.4) / Z80)


def test_a_plan_on_a_wide_band_platform_has_a_wider_cost_distribution():
    scenarios = ScenarioSet(shocks=(QUIET,))
    narrow = costs(*one_service(0.1), scenarios).cost_usd
    wide = costs(*one_service(0.6), scenarios).cost_usd
    assert narrow.mean() == pytest.approx(wide.mean(), rel=0.5)  # same plan, same price
    assert np.quantile(wide, 0.95) > np.quantile(narrow, 0.95)
    assert wide.std() > 2 * narrow.std()
    # a service short of throughput leaves work undone about half the time
    unmet = costs(*one_service(0.6), scenarios).unmet_share
    assert 0.4 < (unmet > 1e-9).mean() < 0.6


def test_placements_on_one_platform_move_together_and_on_two_apart():
    fleet = Fleet(workloads=(serve("a", 100.0), serve("b", 100.0)))
    same = [
        banded(serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0), 0.5),
        banded(serve_option(1, offer("q", 1.0), tokens_per_s=10.0, hours=100.0), 0.5),
    ]
    apart = [
        same[0],
        banded(replace(same[1], estimate=replace(same[1].estimate, platform="xla")), 0.5),
    ]
    scenarios = ScenarioSet(shocks=(QUIET,))
    ((size, child),) = chunk_plan(250, 5)
    samples = sample(scenarios, size, child)
    unmet = {}
    for name, options in (("same", same), ("apart", apart)):
        pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
        speed = perf_speed(pa, size, child)
        assert speed is not None
        unmet[name] = without_recourse(pa, scenarios, samples, speed).unmet
    a, b = unmet["same"]
    assert np.array_equal(a, b) and (a > 0).any()
    a, b = unmet["apart"]
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.3
    # the cuda draws are the same whichever other platform the plan also uses
    assert np.array_equal(unmet["same"][0], unmet["apart"][0])


def test_the_off_switch_gives_the_distribution_without_perf_error_exactly():
    fleet = Fleet(workloads=(serve("chat", 100.0, hours=100.0), train("tune")))
    options = [
        banded(serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0), 0.5),
        banded(train_option(1, offer("q", 3.0, accelerator="T"), hours=100.0, platform="xla"), 0.7),
    ]
    on = ScenarioSet(shocks=(OUTAGE, QUIET))
    off = replace(on, perf_error=False)
    got = costs(fleet, options, off, n=600)
    sol = solve_fleet(fleet, options)
    pa = plan_arrays(fleet, sol, off)
    expected = np.concatenate(
        [
            without_recourse(pa, off, sample(off, size, child)).cost_usd
            for size, child in chunk_plan(600, 3)
        ]
    )
    assert np.array_equal(got.cost_usd, expected)
    assert not np.array_equal(costs(fleet, options, on, n=600).cost_usd, expected)


def test_a_band_of_zero_samples_nothing():
    scenarios = ScenarioSet(shocks=(OUTAGE,))
    fleet, options = one_service(0.0)
    with_switch = costs(fleet, options, scenarios, n=300).cost_usd
    without = costs(fleet, options, replace(scenarios, perf_error=False), n=300).cost_usd
    assert np.array_equal(with_switch, without)


def test_the_same_seed_gives_the_same_samples_and_another_seed_others():
    scenarios = ScenarioSet(shocks=(OUTAGE,))
    fleet, options = one_service(0.5)
    first = costs(fleet, options, scenarios, n=500, seed=11).cost_usd
    again = costs(fleet, options, scenarios, n=500, seed=11).cost_usd
    other = costs(fleet, options, scenarios, n=500, seed=12).cost_usd
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_a_slow_job_runs_longer_and_a_fast_one_bills_less():
    """A pay-as-you-go job of 100 h with a 150 h deadline: at speed s it needs 100 / s h."""
    fleet = Fleet(
        workloads=(replace(train("tune"), job=replace(train("tune").job, deadline_days=150 / 24)),)
    )
    options = [banded(train_option(0, offer("q", 3.0), hours=100.0), 0.5)]
    scenarios = ScenarioSet(shocks=(QUIET,))
    pa = plan_arrays(fleet, solve_fleet(fleet, options), scenarios)
    ((size, child),) = chunk_plan(200, 2)
    speed = perf_speed(pa, size, child)
    assert speed is not None
    out = without_recourse(pa, scenarios, sample(scenarios, size, child), speed)
    s = speed.of(np.array([0]))[0]
    hours = np.minimum(100.0 / s, 150.0)
    undone = np.maximum(100.0 / s - 150.0, 0.0) * s / 100.0  # the share of the work left
    expected = 300.0 * hours / 100.0 + scenarios.penalty * 300.0 * undone
    assert np.allclose(out.cost_usd, expected)
    assert np.array_equal(out.missed_deadlines > 0, 100.0 / s > 150.0 + 1e-9)


def test_the_scenario_file_switches_it_off_and_rejects_a_non_boolean():
    doc = {"shocks": [{"name": "o", "kind": "outage", "duration_days": 1, "probability": 0.1}]}
    assert parse_scenarios(doc, file="s.yaml").perf_error is True
    assert parse_scenarios({**doc, "perf_error": False}, file="s.yaml").perf_error is False
    with pytest.raises(InputError, match="perf_error"):
        parse_scenarios({**doc, "perf_error": "sometimes"}, file="s.yaml")
