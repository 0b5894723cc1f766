"""Concentration, shocks on a fixed plan and re-planning, checked by hand and by
property on small plans built without the performance model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from risk_bruteforce import Hit, Place, first_hit, job, replan_job, replan_service, service

from arbiter.domain.accelerator import Accelerator, Platform
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.measures import cvar as tail_cvar
from arbiter.optimize.fleet import FleetSolution, solve_fleet
from arbiter.optimize.options import Option
from arbiter.risk.concentration import concentration
from arbiter.risk.evaluate import RiskContext, cvar, run, summarise
from arbiter.risk.impact import plan_arrays, without_recourse
from arbiter.risk.recourse import RECOURSE_GAP, option_arrays, with_recourse
from arbiter.scenarios.sampling import Samples, chunk_plan, sample

ON_DEMAND = PriceRegime.ON_DEMAND


def chip(name: str, vendor: str = "NVIDIA", tflops: float = 1000.0) -> Accelerator:
    return Accelerator(
        name=name, vendor=vendor, platform=Platform.CUDA if vendor == "NVIDIA" else Platform.XLA,
        generation="g", year=2025, bf16_tflops=tflops, fp16_tflops=None, fp8_tflops=None,
        fp4_tflops=None, int8_tops=None, hbm_gb=80, hbm_tbps=3, interconnect_gbps=None,
        tdp_w=None, chips_per_node=8, memory_type="HBM3", interconnect_type="x", source="t",
        verified="t",
    )  # fmt: skip


ACCS = {"X": chip("X"), "T": chip("T", "Google", 500.0)}
DAYS = Distribution.fixed


def shock(kind: ShockKind, select: Selector, magnitude: float, *, start: float = 0.0,
          duration: float = 1000.0, probability: float = 1.0) -> Shock:  # fmt: skip
    return Shock(
        name=f"{kind.value}-{magnitude}",
        kind=kind,
        selector=select,
        probability=probability,
        magnitude=DAYS(magnitude),
        start_days=DAYS(0.0 if kind is ShockKind.ROADMAP_SLIP else start),
        duration_days=DAYS(magnitude if kind is ShockKind.ROADMAP_SLIP else duration),
    )


def outcome(fleet: Fleet, sol: FleetSolution, scenarios: ScenarioSet, n: int = 8):
    samples = sample(scenarios, n, np.random.SeedSequence(1))
    return samples, without_recourse(plan_arrays(fleet, sol, scenarios), scenarios, samples)


# --- a two-service plan on two vendors ----------------------------------------------------

# chat: 100 tok/s for 100 h on X at provider p ($1/h per 10 tok/s replica): 10 x $100;
# tune: a train job of 100 h at $3/h on T at provider q: $300. Spend $1,300.
FLEET = Fleet(workloads=(serve("chat", 100.0, hours=100.0), train("tune")))
OPTIONS: list[Option] = [
    serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0),
    train_option(1, offer("q", 3.0, accelerator="T"), hours=100.0, platform="xla"),
]
PLAN = solve_fleet(FLEET, OPTIONS)


def test_plan_is_as_hand_built():
    assert PLAN.total_usd == pytest.approx(1300.0)


def test_shares_and_hhi_by_spend_and_compute_by_hand():
    c = concentration(FLEET, PLAN.placed, ACCS)
    # spend: NVIDIA 1000, Google 300 -> 10/13, 3/13; HHI = (100 + 9) / 169
    assert c.shares["spend"]["vendor"] == pytest.approx({"NVIDIA": 10 / 13, "Google": 3 / 13})
    assert c.hhi["spend"]["vendor"] == pytest.approx(109 / 169)
    # compute: X 10 chips x 100 h x 1 PFLOPS = 1000; T 1 chip x 100 h x 0.5 = 50
    assert c.shares["compute"]["vendor"] == pytest.approx(
        {"NVIDIA": 1000 / 1050, "Google": 50 / 1050}
    )
    assert c.shares["spend"]["platform"] == pytest.approx({"cuda": 10 / 13, "xla": 3 / 13})
    assert c.top["provider"] == {"name": "p", "share": pytest.approx(10 / 13)}
    # losing provider p stops chat (weight 10/13); losing q stops tune (3/13)
    points = {(s.group, s.name): s for s in c.single_points_of_failure}
    assert points["provider", "p"].unserved_share == pytest.approx(10 / 13)
    assert points["provider", "p"].workloads_stopped == ("chat",)
    assert points["vendor", "Google"].unserved_share == pytest.approx(3 / 13)
    for basis in c.hhi.values():
        for group, value in basis.items():
            n = len(c.shares["spend"][group])
            assert 1 / n - 1e-12 <= value <= 1 + 1e-12


@pytest.mark.parametrize(
    "nothing",
    [
        shock(ShockKind.PRICE_SHIFT, Selector(vendors=("NVIDIA",)), 1.0),
        shock(ShockKind.SUPPLY_CUT, Selector(vendors=("AMD",)), 0.0),
        shock(ShockKind.OUTAGE, Selector(providers=("r",)), 0.0),
        shock(ShockKind.DEMAND_SHIFT, Selector(kinds=None, workloads=("chat",)), 1.0),
        shock(ShockKind.SUPPLY_CUT, Selector(vendors=("NVIDIA",)), 0.0, start=500.0),
    ],
    ids=["price-x1", "cut-unused-vendor", "outage-unused-provider", "demand-x1", "after-plan"],
)
def test_a_shock_that_changes_nothing_leaves_the_plan_cost(nothing):
    scenarios = ScenarioSet(shocks=(nothing,))
    samples, out = outcome(FLEET, PLAN, scenarios)
    assert samples.occurred.all()
    assert out.cost_usd == pytest.approx(np.full(8, 1300.0))
    assert (out.unmet_share == 0).all()
    assert (out.missed_deadlines == 0).all()


def test_an_outage_on_a_tenth_of_the_service_window_by_hand():
    # provider p out for 10 of chat's 100 hours: 10% of chat's capacity lost, not billed
    # ($900), and 10% of its work undone at 3 x $1,000 x 0.1 = $300: $900 + $300 + $300
    scenarios = ScenarioSet(
        shocks=(shock(ShockKind.OUTAGE, Selector(providers=("p",)), 0.0, duration=10 / 24),)
    )
    _, out = outcome(FLEET, PLAN, scenarios)
    assert out.cost_usd == pytest.approx(np.full(8, 900.0 + 300.0 + 300.0))
    assert out.unmet_share == pytest.approx(np.full(8, 10 / 13 * 0.1))


def test_a_job_catches_up_and_misses_its_deadline_by_hand():
    # tune (100 h, deadline = the 90-day default) loses 20% to a cut of q's T chips for 40
    # of its 100 hours at factor 0.5: it runs 120 h, paying the 20 h again ($300 total),
    # and meets its deadline of 2,160 h: nothing undone.
    cut = shock(ShockKind.SUPPLY_CUT, Selector(accelerators=("T",)), 0.5, duration=40 / 24)
    _, out = outcome(FLEET, PLAN, ScenarioSet(shocks=(cut,)))
    assert out.cost_usd == pytest.approx(np.full(8, 1000.0 + 300.0))
    assert (out.missed_deadlines == 0).all()
    # with a deadline of 110 h it has done 20 + 70 = 90 of its 100 hours of work by then:
    # 10% of its work is undone (3 x $300 x 0.1 = $90) and not billed ($270 for 90 h). It
    # was 10/120 ($75) when lateness was a share of the wall clock rather than of the work,
    # with the undone hours billed too.
    tight = Fleet(workloads=(FLEET.workloads[0], _with_deadline(FLEET.workloads[1], 110 / 24)))
    sol = solve_fleet(tight, OPTIONS)
    _, out = outcome(tight, sol, ScenarioSet(shocks=(cut,)))
    assert out.cost_usd == pytest.approx(np.full(8, 1000.0 + 270.0 + 90.0))
    assert out.unmet[1] == pytest.approx(np.full(8, 0.1))
    assert (out.missed_deadlines == 1).all()


def _with_deadline(w, days: float):
    return replace(w, job=replace(w.job, deadline_days=days))


def test_recourse_buys_the_other_provider_when_one_is_out_by_hand():
    # p out for the whole period: chat undone ($3,000 penalty) without recourse; with it,
    # 10 replicas at provider r's $1.50/h = $1,500 replace it: cost $1,500 + $300 (tune)
    options = [*OPTIONS, serve_option(0, offer("r", 1.5), tokens_per_s=10.0, hours=100.0)]
    sol = solve_fleet(FLEET, options)
    assert sol.total_usd == pytest.approx(1300.0)
    scenarios = ScenarioSet(shocks=(shock(ShockKind.OUTAGE, Selector(providers=("p",)), 0.0),))
    samples, out = outcome(FLEET, sol, scenarios)
    assert out.cost_usd == pytest.approx(np.full(8, 300.0 + 3000.0))
    pa = plan_arrays(FLEET, sol, scenarios)
    cost, unmet, missed = with_recourse(
        FLEET, sol, pa, option_arrays(options, scenarios), scenarios, samples, out
    )
    assert cost == pytest.approx(np.full(8, 300.0 + 1500.0))
    assert (unmet == 0).all()
    assert (missed == 0).all()


# --- properties over random scenario sets -------------------------------------------------


def random_scenarios(rng: np.random.Generator) -> ScenarioSet:
    kinds = [ShockKind.SUPPLY_CUT, ShockKind.PRICE_SHIFT, ShockKind.OUTAGE, ShockKind.DEMAND_SHIFT]
    shocks = []
    for i in range(3):
        kind = kinds[int(rng.integers(len(kinds)))]
        select = (
            Selector(workloads=("chat",))
            if kind is ShockKind.DEMAND_SHIFT
            else Selector(providers=(str(rng.choice(["p", "q", "r"])),))
        )
        mag = {
            ShockKind.SUPPLY_CUT: float(rng.uniform(0, 1)),
            ShockKind.PRICE_SHIFT: float(rng.uniform(0.5, 2)),
            ShockKind.OUTAGE: 0.0,
            ShockKind.DEMAND_SHIFT: float(rng.uniform(0.8, 1.8)),
        }[kind]
        s = shock(kind, select, mag, start=float(rng.uniform(0, 4)),
                  duration=float(rng.uniform(0.1, 5)), probability=float(rng.uniform(0.1, 1)))  # fmt: skip
        shocks.append(Shock(**{**_fields(s), "name": f"s{i}"}))
    return ScenarioSet(shocks=tuple(shocks))


def _hits(scenarios: ScenarioSet, samples: Samples, n: int) -> list[Hit]:
    out = []
    for i, s in enumerate(scenarios.shocks):
        if samples.occurred[i, n]:
            start = float(samples.start_days[i, n]) * 24.0
            end = float(samples.start_days[i, n] + samples.duration_days[i, n]) * 24.0
            target = (s.selector.providers or s.selector.workloads or ("",))[0]
            out.append(Hit(s.kind, target, start, end, float(samples.magnitude[i, n])))
    return out


def _fields(s: Shock) -> dict[str, object]:
    return {k: getattr(s, k) for k in Shock.__dataclass_fields__}


@pytest.mark.parametrize("seed", range(6))
def test_recourse_is_the_cheapest_residual_plan_and_cvar_is_at_least_the_mean(seed):
    rng = np.random.default_rng(seed)
    options = [*OPTIONS, serve_option(0, offer("r", 1.5), tokens_per_s=10.0, hours=100.0)]
    sol = solve_fleet(FLEET, options)
    scenarios = random_scenarios(rng)
    ctx = RiskContext(FLEET, (("plan", sol),), tuple(options), scenarios, True, seed)
    result = run(ctx, 120)["plan"]
    assert result.recourse_cost_usd is not None
    # Sample by sample: the brute force's cost without re-planning, and its cheapest
    # residual plan by enumeration (whole replicas at p or r; tune has nowhere else to
    # go). The residual model itself is tested in test_residual_replan.py.
    ((size, child),) = chunk_plan(120, seed)
    samples = sample(scenarios, size, child)
    chat, tune = Place("p", ON_DEMAND, 1.0, 100.0), Place("q", ON_DEMAND, 3.0, 100.0)
    for n in range(size):
        h = _hits(scenarios, samples, n)
        a, b = service(h, chat, 10, "chat"), job(h, tune, 90 * 24.0, "tune")
        penalties = scenarios.penalty * (1000.0 * a.undone + 300.0 * b.undone)
        fixed = a.compute_usd + b.compute_usd + penalties
        assert result.cost_usd[n] == pytest.approx(fixed)
        best = fixed
        if a.undone > 1e-9 or b.undone > 1e-9:
            best += -penalties + replan_service(
                h,
                100.0,
                a.undone,
                scenarios.penalty * 1000.0,
                [chat, Place("r", ON_DEMAND, 1.5, 100.0)],
            )
            if b.undone > 1e-9:
                best += replan_job(
                    h,
                    b.undone,
                    scenarios.penalty * 300.0,
                    [tune],
                    first_hit(h, "q", "tune"),
                    2160.0,
                )
        assert best - 1e-6 <= result.recourse_cost_usd[n] <= best + RECOURSE_GAP * fixed + 1e-6
    for cost in (result.cost_usd, result.recourse_cost_usd):
        assert cvar(cost) >= cost.mean() - 1e-6
    # the same seed gives the same numbers, to the bit
    again = run(ctx, 120)["plan"]
    assert np.array_equal(again.cost_usd, result.cost_usd)
    assert np.array_equal(again.recourse_cost_usd, result.recourse_cost_usd)
    doc = summarise({"plan": result}, {"plan": sol.total_usd})["plans"]["plan"]
    assert doc["cvar95_usd"] >= doc["p95_usd"] - 1e-6 >= doc["p50_usd"] - 1e-6


def test_cvar_by_hand():
    values = np.arange(1.0, 101.0)  # worst 5%: 96..100
    assert cvar(values) == pytest.approx(98.0)
    # 30 samples: the worst 5% is 1.5 samples, the costliest and half the next
    assert cvar(np.arange(1.0, 31.0)) == pytest.approx((30 + 0.5 * 29) / 1.5)


def test_risk_procurement_and_deals_read_the_tail_alike():
    """The risk engine's CVaR of equally likely samples is the probability-weighted CVaR
    the procurement and deal engines use, with equal weights."""
    rng = np.random.default_rng(4)
    for n in (7, 30, 101, 1000):
        values = rng.lognormal(size=n)
        weighted = tail_cvar(values, 0.95, np.full(n, 1.0 / n))
        assert cvar(values) == pytest.approx(weighted, rel=1e-12)
        # and it is the Rockafellar-Uryasev minimum over eta, found by brute force
        grid = np.sort(values)
        by_ru = min(eta + np.maximum(values - eta, 0.0).mean() / 0.05 for eta in grid)
        assert cvar(values) == pytest.approx(by_ru, rel=1e-9)
