"""The deal evaluation on small worlds (``deal_worlds``) where the answer can be worked
out by hand, and its monotone properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from deal_worlds import COVERED_ONLY, MIXED, RATE, TRN1, a_deal, lab
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.deals.evaluate import Evaluation, Settings, evaluate, world_data
from arbiter.deals.exposure import lock_in, usage
from arbiter.deals.model import deal_flows
from arbiter.deals.report import document
from arbiter.domain.catalog import Catalog
from arbiter.domain.deal import Deal, Obligation, Tranche
from arbiter.perf.efficiency import default_efficiency

EXACT = Settings(mip_gap=1e-9)


def run(deal: Deal, catalog: Catalog = COVERED_ONLY, how: Settings = EXACT) -> Evaluation:
    return evaluate(deal, world_data(deal, catalog, default_efficiency()), how)


def d(period: int) -> float:
    return float((1 + RATE) ** (-period / 4))


def covered_spend_by_period(ev: Evaluation) -> np.ndarray:
    u = usage(ev.with_deal.data, ev.with_deal.solution, ev.deal)
    return u.spend_usd[u.covered].sum(axis=(0, 1))


# --- checked by hand ----------------------------------------------------------------------


@pytest.mark.parametrize("catalog", [COVERED_ONLY, MIXED], ids=["covered-only", "mixed"])
def test_a_deal_with_no_terms_is_worth_exactly_zero_and_changes_nothing(catalog: Catalog) -> None:
    ev = run(a_deal(), catalog)
    assert ev.npv_usd == 0.0
    assert ev.value_usd == 0.0
    a, b = ev.with_deal.solution, ev.without.solution
    assert np.array_equal(a.on_demand, b.on_demand)
    assert np.array_equal(a.blocks, b.blocks)
    assert a.on_demand.sum() > 0  # the lab does buy compute


def test_a_pure_discount_on_chips_used_anyway_is_worth_the_discounted_spend() -> None:
    ev = run(a_deal(discount=0.25))
    spend = ev.without.solution.cost[0]  # everything is on the covered chip, all paid
    assert spend > 0
    assert ev.npv_usd == pytest.approx(0.25 * spend, rel=1e-9)
    assert np.allclose(ev.with_deal.solution.on_demand, ev.without.solution.on_demand)
    # the same figure from first principles: hours x list price x discount, discounted
    hours = ev.without.solution.on_demand.sum(axis=(0, 2))[0]  # O x T -> T
    by_hand = sum(0.25 * TRN1.usd_per_accelerator_hour * hours[t] * d(t) for t in range(4))
    assert ev.npv_usd == pytest.approx(by_hand, rel=1e-9)


def test_a_commitment_larger_than_demand_strands_exactly_the_excess() -> None:
    plain = run(a_deal())
    needed = covered_spend_by_period(plain).sum()  # what the lab spends on covered chips
    minimum = 3.0 * needed
    ev = run(a_deal(obligation=Obligation(min_spend_usd_per_year=(minimum,))))
    flows = deal_flows(ev.deal, ev.with_deal.data, ev.with_deal.solution)
    assert flows["shortfall_by_year_usd"][0, 0] == pytest.approx(minimum - needed, rel=1e-9)
    # the lab pays the excess at the end of the year rather than buying hours it cannot use
    assert covered_spend_by_period(ev).sum() == pytest.approx(needed, rel=1e-9)
    assert ev.npv_usd == pytest.approx(-(minimum - needed) * d(4), rel=1e-9)  # settled at year end
    doc = document(ev)
    assert doc["breakdown"]["shortfall_by_year_usd"][0] == pytest.approx(minimum - needed)


def test_npv_of_capital_over_two_periods() -> None:
    tranches = (
        Tranche(usd=100e6, period=0, kind="equity"),
        Tranche(usd=50e6, period=1, kind="credit", probability=0.5, condition="milestone: x"),
    )
    ev = run(a_deal(tranches=tranches, equity_haircut=0.2))
    by_hand = 100e6 * (1 - 0.2) + 0.5 * 50e6 / 1.1 ** (1 / 4)
    assert ev.npv_usd == pytest.approx(by_hand, rel=1e-12)
    assert np.array_equal(ev.with_deal.solution.on_demand, ev.without.solution.on_demand)


def test_usage_credits_are_spent_on_covered_chips_up_to_their_amount() -> None:
    plain = run(a_deal())
    spend = covered_spend_by_period(plain)
    amount = 0.5 * spend[0]  # less than one quarter's covered spend: all spent at once
    ev = run(a_deal(credits_usd=amount))
    assert ev.npv_usd == pytest.approx(amount, rel=1e-9)  # used in quarter 0, no discount
    big = run(a_deal(credits_usd=10 * spend.sum()))  # more than the lab can spend
    assert big.npv_usd == pytest.approx(sum(spend[t] * d(t) for t in range(4)), rel=1e-9)


def test_a_usage_tranche_is_earned_only_when_covered_spend_reaches_its_threshold() -> None:
    spend = covered_spend_by_period(run(a_deal())).sum()
    tranche = Tranche(usd=1e3, period=3, condition="usage >= 50% of commitment")

    def npv(total: float) -> float:
        ob = Obligation(total_spend_usd=total, shortfall_penalty=0.0)
        return run(a_deal(tranches=(tranche,), obligation=ob)).npv_usd

    assert npv(1.9 * spend) == pytest.approx(1e3 * d(3), rel=1e-9)  # 50% is within reach
    # 50% of 4x the natural spend needs twice the spend: $1,000 does not pay for it
    assert npv(4.0 * spend) == pytest.approx(0.0, abs=1e-6)


def test_exclusivity_moves_spend_onto_the_covered_chips() -> None:
    free = run(a_deal(), MIXED)
    u = usage(free.without.data, free.without.solution, free.deal)
    assert u.spend_usd[u.covered].sum() == 0  # H100 is cheaper per request at list price
    ev = run(a_deal(obligation=Obligation(min_spend_usd_per_year=(0.0,), min_share=0.4)), MIXED)
    year = lock_in(usage(ev.with_deal.data, ev.with_deal.solution, ev.deal), ev.deal)[0]
    assert year["covered_spend_share"] >= 0.4 - 1e-9
    assert ev.npv_usd < 0  # dearer chips, nothing in return


def test_the_breakdown_adds_up_to_the_npv() -> None:
    deal = a_deal(
        discount=0.2,
        credits_usd=1e3,
        tranches=(Tranche(usd=5e3, period=2, condition="usage >= 10% of commitment"),),
        obligation=Obligation(total_spend_usd=1e5, ramp=(1.0,), shortfall_penalty=0.3),
    )
    doc = document(run(deal, MIXED))
    b = doc["breakdown"]
    total = b["compute_savings_usd"] + b["tranches_usd"] + b["credits_usd"] - b["shortfall_usd"]
    assert total == pytest.approx(doc["npv_usd"], rel=1e-9, abs=1e-6)


def test_whole_blocks_cost_no_less_than_fractional_ones() -> None:
    from arbiter.domain.procurement import CommitmentProduct

    product = CommitmentProduct(
        "trn1-commit", "aws", "Trainium1", "us-east-1", 0.8, 4, min_chips=16
    )
    problem = dataclasses.replace(lab(demand=30.0), products=(product,))
    ev = run(a_deal(problem, discount=0.1))
    for side in (ev.with_deal, ev.without):
        assert side.rounding_usd >= -1e-6
        assert np.allclose(side.solution.blocks, np.round(side.solution.blocks))


# --- properties ---------------------------------------------------------------------------

FAST = Settings(mip_gap=1e-9, whole_blocks=False)


@settings(max_examples=6, deadline=None)
@given(st.floats(0, 2e4), st.floats(0, 2e4))
def test_more_investment_never_lowers_the_deals_value(a: float, b: float) -> None:
    lo, hi = sorted((a, b))

    def value(usd: float) -> float:
        tranches = (
            (Tranche(usd=usd, period=2, condition="usage >= 40% of commitment"),) if usd else ()
        )
        ob = Obligation(total_spend_usd=2e5, shortfall_penalty=0.2, min_share=0.1)
        return run(a_deal(tranches=tranches, obligation=ob, discount=0.1), MIXED, FAST).value_usd

    assert value(hi) >= value(lo) - 1e-6


@settings(max_examples=6, deadline=None)
@given(st.floats(0, 3), st.floats(0, 3))
def test_a_higher_shortfall_penalty_never_raises_the_deals_value(a: float, b: float) -> None:
    lo, hi = sorted((a, b))

    def value(penalty: float) -> float:
        ob = Obligation(min_spend_usd_per_year=(2e5,), shortfall_penalty=penalty)
        return run(a_deal(obligation=ob, discount=0.3), MIXED, FAST).value_usd

    assert value(hi) <= value(lo) + 1e-6


@settings(max_examples=6, deadline=None)
@given(st.floats(0, 0.9), st.floats(0, 0.9))
def test_lock_in_never_falls_as_the_exclusivity_share_rises(a: float, b: float) -> None:
    lo, hi = sorted((a, b))

    def exposure(share: float) -> float:
        ob = Obligation(min_spend_usd_per_year=(0.0,), min_share=share)
        ev = run(a_deal(obligation=ob), MIXED, FAST)
        return lock_in(usage(ev.with_deal.data, ev.with_deal.solution, ev.deal), ev.deal)[0][
            "covered_spend_share"
        ]

    assert exposure(hi) >= exposure(lo) - 1e-9
