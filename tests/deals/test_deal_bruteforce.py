"""The deal evaluation against figures recomputed by hand from each side's plan (its
blocks, hours and work left undone): every term of the NPV, the effective price per
delivered PFLOP-hour, and whether the usage tranches counted are earned. Plus one
regression test per bug found that way."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from deal_worlds import CHAT, COVERED_ONLY, MIXED, RATE, TRN1, a_deal, lab
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.deals.analysis import FAST
from arbiter.deals.evaluate import (
    Evaluation,
    Settings,
    Side,
    evaluate,
    prepared,
    solve_side,
    world_data,
)
from arbiter.deals.exposure import (
    FLOPS_PER_PFLOP_HOUR,
    effective_prices,
    flops_per_unit,
    usage,
)
from arbiter.deals.model import DealTerms, deal_flows, discounted, usage_tranches
from arbiter.deals.report import document
from arbiter.domain.accelerator import Platform
from arbiter.domain.catalog import Catalog
from arbiter.domain.deal import Deal, Obligation, Porting, Tranche, TrancheKind
from arbiter.domain.procurement import CommitmentProduct, DemandScenario
from arbiter.perf.efficiency import default_efficiency
from arbiter.procure.milp import solve
from arbiter.procure.model import Data, products

EXACT = Settings(mip_gap=1e-9)
H = 2190.0
PFLOP_PER_REQUEST = flops_per_unit(CHAT) / FLOPS_PER_PFLOP_HOUR


def run(deal: Deal, catalog: Catalog = COVERED_ONLY, how: Settings = EXACT) -> Evaluation:
    return evaluate(deal, world_data(deal, catalog, default_efficiency()), how)


def d(period: int) -> float:
    return float((1 + RATE) ** (-period / 4))


def trn1_commitment(share_of_list: float, term: int = 4, chips: int = 64) -> CommitmentProduct:
    return CommitmentProduct(
        "trn1-commit", "aws", "Trainium1", "us-east-1",
        share_of_list * TRN1.usd_per_accelerator_hour, term, min_chips=chips,
    )  # fmt: skip


def requests_per_s(chips: float, data: Data) -> float:
    """Requests/s that keep ``chips`` Trainium1 chips busy."""
    trn1 = next(r for r, res in enumerate(data.resources) if res.accelerator == "Trainium1")
    return chips * float(data.rate[0, trn1]) / 3600.0


def trn1_rate() -> float:
    return requests_per_s(1.0, world_data(a_deal(), COVERED_ONLY, default_efficiency()))


# --- regressions ----------------------------------------------------------------------------


def test_effective_price_counts_only_delivered_work() -> None:
    # A one-year block of 64 Trainium1 chips at 30% of list, with work for 41% of its
    # hours. The demand row asks only that work be covered, so the solver may hand the
    # class every hour of the block (it does, with the block fixed); the idle 59% did
    # no work, and the price per PFLOP-hour of the work done is the block's cost over
    # the 41% (before, the idle hours counted as work and it came out 2.4x too low).
    demand = 0.41 * 64 * trn1_rate()
    deal = a_deal(dataclasses.replace(lab(demand=demand), products=(trn1_commitment(0.3),)))
    ev = run(deal)
    paid = 64 * 4 * H * 0.3 * TRN1.usd_per_accelerator_hour
    done = demand * 3600 * 4 * H * PFLOP_PER_REQUEST
    assert ev.with_deal.solution.blocks.sum() == pytest.approx(1.0)
    price = document(ev)["effective_price"]
    assert price["covered_with_deal_usd_per_pflop_hour"] == pytest.approx(paid / done, rel=1e-6)
    assert price["covered_pflop_hours"] == pytest.approx(done, rel=1e-6)
    # the same with the block fixed, where the solver hands out all of its hours
    data = ev.with_deal.data
    fixed = solve(data, fixed_blocks=np.array([[1.0, 0.0, 0.0, 0.0]]), mip_gap=1e-9)
    assert fixed.committed.sum() == pytest.approx(64 * 4 * H, rel=1e-6)  # idle ones too
    u = usage(data, fixed, deal)
    prices = effective_prices(u, u)
    assert prices["covered_with_deal_usd_per_pflop_hour"] == pytest.approx(paid / done, rel=1e-6)


def test_whole_blocks_never_cost_more_than_leaving_the_fraction_to_on_demand() -> None:
    # A 64-chip block at 70% of list, and work for 2 chips: the plan in fractional
    # blocks buys 2/64 of a block. Rounding that up buys 62 idle chips for a year (22x
    # the on-demand cost of the work); leaving the fraction to on-demand costs 30% more
    # than the fraction did. The whole-block plan must do the latter.
    demand = 2 * trn1_rate()
    deal = a_deal(dataclasses.replace(lab(demand=demand), products=(trn1_commitment(0.7),)))
    ev = run(deal)
    on_demand = sum(2 * H * TRN1.usd_per_accelerator_hour * d(t) for t in range(4))
    for side in (ev.with_deal, ev.without):
        assert side.solution.blocks.sum() == 0
        assert side.expected_usd == pytest.approx(on_demand, rel=1e-9)
        assert side.rounding_usd == pytest.approx(0.3 * on_demand, rel=1e-6)
    # and in general: no more than all blocks rounded down, nor than all rounded up
    for chips, share in ((2, 0.7), (20, 0.7), (50, 0.5), (70, 0.3)):
        deal = a_deal(
            dataclasses.replace(
                lab(demand=chips * trn1_rate()), products=(trn1_commitment(share),)
            ),
            discount=0.2,
        )
        ev = run(deal)
        for side, terms in ((ev.with_deal, deal), (ev.without, None)):
            fractional = solve(side.data, relax_blocks=True, mip_gap=1e-9, extension=_terms(terms))
            for blocks in (
                np.floor(fractional.blocks + 1e-6).clip(min=0.0),
                np.ceil(fractional.blocks - 1e-6).clip(min=0.0),
            ):
                other = solve(side.data, fixed_blocks=blocks, mip_gap=1e-9, extension=_terms(terms))
                assert side.solution.objective <= other.objective * (1 + 1e-9) + 1e-6


def _terms(deal: Deal | None) -> DealTerms | None:
    return None if deal is None else DealTerms(deal)


def test_a_usage_tranche_the_plan_does_not_reach_is_not_earned() -> None:
    # The solver's binary for a usage tranche is trusted only with the spend to show
    # for it: a plan whose covered spend falls short of the threshold does not earn it,
    # whatever the binary says (here one set by hand on a plan that cannot reach it).
    spend = 4 * H * 40.0 / (trn1_rate()) * TRN1.usd_per_accelerator_hour  # natural spend
    tranche = Tranche(usd=1e3, period=3, condition="usage >= 50% of commitment")
    ob = Obligation(total_spend_usd=4.0 * spend, shortfall_penalty=0.0)
    ev = run(a_deal(tranches=(tranche,), obligation=ob))
    side = ev.with_deal
    assert side.solution.extras["earned"][0] == pytest.approx(0.0, abs=1e-9)
    forged = dataclasses.replace(
        side.solution,
        extras={**side.solution.extras, "earned": np.ones(1)},
        cost=side.solution.cost - 1e3 * d(3),
    )
    counted, earned = usage_tranches(ev.deal, side.data, forged)
    assert counted[0] == pytest.approx(1e3 * d(3))
    assert earned[0] == 0.0
    assert deal_flows(ev.deal, side.data, forged)["usage_tranches_usd"][0] == 0.0


def test_tornado_and_break_even_plans_reach_the_thresholds_of_the_tranches_they_count() -> None:
    # The analyses solve with fractional blocks; every usage tranche a plan there
    # counts must be backed by covered spend (recomputed by hand from its blocks and
    # hours) up to the tranche's period, and the NPV counts no other.
    tranche = Tranche(usd=4e4, period=2, condition="usage >= 40% of commitment")
    product = trn1_commitment(0.6, term=2, chips=16)
    deal = a_deal(
        dataclasses.replace(lab(demand=60.0), products=(product,)),
        tranches=(tranche,),
        discount=0.2,
        obligation=Obligation(total_spend_usd=3e5, shortfall_penalty=0.2, min_share=0.2),
    )
    base = world_data(deal, MIXED, default_efficiency())
    earned_somewhere = unearned_somewhere = False
    for scale in (0.25, 0.5, 1.0, 2.0, 4.0):
        how = dataclasses.replace(FAST, demand_scale=scale, efficiency=1.0)
        data = discounted(prepared(base, deal, how), deal)
        side = solve_side(data, deal, how)
        by_hand = ByHand(deal, side)
        b = side.solution.extras["earned"]
        for s in range(len(b)):
            if b[s] > 0.5:
                assert by_hand.covered_to(s, 2) >= 0.4 * 3e5 * (1 - 1e-6)
                earned_somewhere = True
            else:
                unearned_somewhere = True
        assert side.net_usd == pytest.approx(by_hand.net_usd(), rel=1e-6, abs=1e-3)
    assert earned_somewhere
    assert unearned_somewhere


# --- by hand ---------------------------------------------------------------------------------


@dataclasses.dataclass
class ByHand:
    """One side's figures recomputed from its plan alone."""

    deal: Deal | None
    side: Side

    @property
    def data(self) -> Data:
        return self.side.data

    def disc(self, t: int) -> float:
        return self.data.problem.discount(t)

    def covered(self) -> np.ndarray:
        deal = self.deal
        return np.array(
            [
                deal is not None
                and r.provider == deal.counterparty
                and r.accelerator in deal.covers
                for r in self.data.resources
            ]
        )

    def spend(self) -> np.ndarray:
        """R x S x T undiscounted spend."""
        data, sol = self.data, self.side.solution
        n_k, periods = data.n_products, data.problem.periods
        n_s = sol.on_demand.shape[2]
        out = np.zeros((len(data.resources), n_s, periods))
        for k, prod in enumerate(products(data)):
            for t0 in range(periods):
                for t in range(t0, min(periods, t0 + prod.term_periods)):
                    out[k, :, t] += sol.blocks[k, t0] * prod.min_chips * H * data.price[k, t0]
        out[n_k:] = np.einsum("jost,ot->ost", sol.on_demand, data.price[n_k:])
        return out

    def covered_to(self, s: int, period: int) -> float:
        return float(self.spend()[self.covered(), s, : period + 1].sum())

    def compute_usd(self) -> np.ndarray:
        """S: commitments (prorated, paid per period), on-demand, unmet work, ports."""
        data, sol = self.data, self.side.solution
        periods, n_k = data.problem.periods, data.n_products
        dd = np.array([self.disc(t) for t in range(periods)])
        out = np.zeros(sol.on_demand.shape[2])
        for k, prod in enumerate(products(data)):
            assert prod.upfront_share == 0 and prod.resale_share == 0
            for t0 in range(periods):
                active = range(t0, min(periods, t0 + prod.term_periods))
                block = prod.min_chips * H * data.price[k, t0]
                out += sol.blocks[k, t0] * block * sum(dd[t] for t in active)
        out += np.einsum("jost,ot,t->s", sol.on_demand, data.price[n_k:], dd)
        out += np.einsum("jst,jt,t->s", sol.unmet, data.unmet_usd, dd)
        pending = {p.platform.value: p.enable_usd for p in data.problem.platforms if not p.enabled}
        out += sum(pending[q] for q in sol.enabled)
        return out

    def deal_terms_usd(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """S: shortfall paid, credits used, usage tranches earned; and the fixed inflow."""
        deal, data = self.deal, self.data
        n_s = self.side.solution.on_demand.shape[2]
        zero = np.zeros(n_s)
        if deal is None:
            return zero, zero, zero, 0.0
        periods = data.problem.periods
        v = self.spend()[self.covered()].sum(axis=0)  # S x T
        ob = deal.obligation
        short = np.zeros(n_s)
        if ob.min_spend_usd_per_year is not None:
            for y, need in enumerate(ob.min_spend_usd_per_year):
                got = v[:, 4 * y : 4 * y + 4].sum(axis=1)
                short += np.maximum(need - got, 0.0) * self.disc(4 * (y + 1))
        else:
            assert ob.total_spend_usd is not None
            ramp = ob.ramp or (0.0,) * deal.horizon_years
            cum_need = np.cumsum(ramp) * ob.total_spend_usd
            cum_need[-1] = ob.total_spend_usd
            gap = np.zeros(n_s)
            for y in range(deal.horizon_years):
                gap = np.maximum(gap, cum_need[y] - v[:, : 4 * y + 4].sum(axis=1))
            short = gap * self.disc(4 * deal.horizon_years)
        short *= ob.shortfall_penalty
        # credits go on the earliest covered spend (the most valuable dollars)
        used = np.zeros(n_s)
        for s in range(n_s):
            left = deal.credits_usd
            for t in range(periods):
                take = min(left, v[s, t])
                used[s] += take * self.disc(t)
                left -= take
        fixed, usage_pv = 0.0, np.zeros(n_s)
        for tranche in deal.tranches:
            worth = tranche.usd * ((1 - deal.equity_haircut) if tranche.kind == "equity" else 1.0)
            worth *= tranche.probability * self.disc(tranche.period)
            if tranche.usage_threshold is None:
                fixed += worth
            else:
                need = tranche.usage_threshold * ob.committed_usd * (1 - 1e-6)
                usage_pv += worth * (v[:, : tranche.period + 1].sum(axis=1) >= need)
        return short, used, usage_pv, fixed

    def net_usd(self) -> np.ndarray:
        short, used, usage_pv, fixed = self.deal_terms_usd()
        out: np.ndarray = self.compute_usd() + short - used - usage_pv - fixed
        return out

    def delivered_pflop_hours(self) -> np.ndarray:
        """S: the work done (demand less what was left undone), in PFLOP-hours."""
        done: np.ndarray = (self.data.demand - self.side.solution.unmet).sum(axis=(0, 2))
        return done * PFLOP_PER_REQUEST


# --- the property ----------------------------------------------------------------------------


@st.composite
def small_deals(draw: st.DrawFn) -> tuple[Deal, Catalog]:
    """A deal on a one-year lab of quarters, feasible by construction: unmet work and
    shortfalls are always allowed, the obligations' minimums are amounts the lab can
    pay, and exclusivity can always be met on covered on-demand chips."""
    catalog = draw(st.sampled_from([COVERED_ONLY, MIXED]))
    rps = draw(st.integers(5, 80))
    problem = lab(demand=float(rps))
    busy = draw(st.sampled_from([1.0, 0.5, 1.8]))
    problem = dataclasses.replace(
        problem,
        scenarios=(
            DemandScenario("base", 0.6),
            DemandScenario("other", 0.4, {"chat": (busy,) * 4}),
        ),
    )
    if draw(st.booleans()):
        product = trn1_commitment(
            draw(st.integers(30, 90)) / 100, term=draw(st.integers(1, 4)), chips=16
        )
        problem = dataclasses.replace(problem, products=(product,))
    natural = rps * 3600 * 4 * H / 17466.87 * TRN1.usd_per_accelerator_hour  # about
    scale = draw(st.sampled_from([0.0, 0.3, 1.0, 2.5]))
    if draw(st.booleans()):
        ob = Obligation(
            min_spend_usd_per_year=(scale * natural,),
            shortfall_penalty=draw(st.sampled_from([0.0, 0.5, 1.0])),
            min_share=draw(st.sampled_from([0.0, 0.3, 0.7])),
        )
    else:
        ob = Obligation(
            total_spend_usd=max(scale, 0.1) * natural,
            ramp=draw(st.sampled_from([None, (0.5,), (1.0,)])),
            shortfall_penalty=draw(st.sampled_from([0.0, 0.5, 1.0])),
            min_share=draw(st.sampled_from([0.0, 0.3])),
        )
    tranches = []
    for _ in range(draw(st.integers(0, 2))):
        kind: TrancheKind = draw(st.sampled_from(["equity", "credit"]))
        period = draw(st.integers(0, 3))
        usd = draw(st.integers(1, 50)) * 1e3
        if draw(st.booleans()):
            pct = draw(st.sampled_from([10, 40, 80]))
            tranches.append(
                Tranche(
                    usd,
                    period,
                    draw(st.sampled_from([0.5, 1.0])),
                    f"usage >= {pct}% of commitment",
                    kind,
                )
            )
        else:
            tranches.append(Tranche(usd, period, draw(st.sampled_from([0.3, 1.0])), "", kind))
    porting = None
    if draw(st.booleans()):
        porting = Porting(Platform.NEURON, enable_usd=draw(st.integers(0, 20)) * 1e3)
    deal = a_deal(
        problem,
        discount=draw(st.sampled_from([0.0, 0.1, 0.3])),
        credits_usd=draw(st.sampled_from([0.0, 5e3, 5e4])),
        tranches=tuple(tranches),
        obligation=ob,
        porting=porting,
        equity_haircut=draw(st.sampled_from([0.0, 0.3])),
    )
    return deal, catalog


@settings(max_examples=40, deadline=None)
@given(small_deals())
def test_deal_terms_add_up_and_match_the_plans_recomputed_by_hand(
    case: tuple[Deal, Catalog],
) -> None:
    deal, catalog = case
    ev = run(deal, catalog)
    doc = document(ev)
    b = doc["breakdown"]
    total = b["compute_savings_usd"] + b["tranches_usd"] + b["credits_usd"] - b["shortfall_usd"]
    assert total == pytest.approx(doc["npv_usd"], rel=1e-9, abs=1e-6)
    with_deal, without = ByHand(deal, ev.with_deal), ByHand(None, ev.without)
    for mine, side in ((with_deal, ev.with_deal), (without, ev.without)):
        assert side.net_usd == pytest.approx(mine.net_usd(), rel=1e-7, abs=1e-3)
    prob = ev.with_deal.probability
    npv = prob @ without.net_usd() - prob @ with_deal.net_usd()
    assert ev.npv_usd == pytest.approx(npv, rel=1e-7, abs=1e-3)
    short, used, usage_pv, fixed = with_deal.deal_terms_usd()
    assert b["shortfall_usd"] == pytest.approx(prob @ short, rel=1e-7, abs=1e-3)
    assert b["credits_usd"] == pytest.approx(prob @ used, rel=1e-7, abs=1e-3)
    assert b["tranches_usd"] == pytest.approx(prob @ usage_pv + fixed, rel=1e-7, abs=1e-3)
    # exclusivity holds in every scenario, over the year
    if deal.obligation.min_share > 0:
        spend = with_deal.spend()
        covered = spend[with_deal.covered()].sum(axis=(0, 2))
        assert (covered >= deal.obligation.min_share * spend.sum(axis=(0, 2)) - 1e-3).all()
    # effective price: what the schedule and the hours cost over the work done
    price = doc["effective_price"]
    for key, mine, name in (
        ("plan_with_deal_usd_per_pflop_hour", with_deal, "with_deal"),
        ("plan_without_deal_usd_per_pflop_hour", without, "without"),
    ):
        schedule = sum(c["commitment_usd"] for c in doc["sides"][name]["schedule"])
        sol, data = mine.side.solution, mine.data
        hours = np.einsum("jost,ot->s", sol.on_demand, data.price[data.n_products :])
        paid = schedule + float(prob @ hours)
        done = float(prob @ mine.delivered_pflop_hours())
        if done > 0:
            assert price[key] == pytest.approx(paid / done, rel=1e-6)
        if catalog is COVERED_ONLY and name == "with_deal" and done > 0:
            assert price["covered_with_deal_usd_per_pflop_hour"] == pytest.approx(
                paid / done, rel=1e-6
            )
