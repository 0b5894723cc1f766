"""A commitment covers only its term: hours past it are on demand or a renewed term,
never the committed rate for a part of a term (arbiter.optimize.term_billing)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arbiter.domain.after_term import AfterTerm
from arbiter.domain.as_of import AsOf
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.optimize.options import _OfferArrays, billed_hours
from arbiter.optimize.term_billing import TermBilling, remainder_prices

MONTH = 730.0
TERM = 3 * MONTH  # 2190 hours
JOB = 3.2 * MONTH  # 2336 hours: 146 past the term


def _offer(
    regime: PriceRegime,
    usd: float,
    *,
    instance: str = "pod-1x",
    region: str = "secure-cloud",
    chips: int = 1,
    term: int | None = None,
) -> Offer:
    return Offer(
        provider="runpod",
        region=region,
        instance_type=instance,
        accelerator="H100-SXM",
        accelerators_per_instance=chips,
        price_regime=regime,
        source_regime=regime.value if term is None else f"commit_{term}m",
        term_months=term,
        usd_per_hour=usd,
        as_of=AsOf.parse("2026-09-16"),
        source="test",
    )


COMMIT = _offer(PriceRegime.COMMITTED, 2.0, term=3)
ON_DEMAND = _offer(PriceRegime.ON_DEMAND, 3.0)


def _usd(offers: list[Offer], after: AfterTerm, hours: float) -> float:
    billing = TermBilling(offers, after)
    return float(billing.usd_per_chip(np.array([hours]))[0])


def test_past_the_term_on_demand_pays_the_remainder_at_the_on_demand_rate():
    # 3 months committed at $2 + 0.2 months (146 h) on demand at $3
    assert _usd([COMMIT, ON_DEMAND], AfterTerm.ON_DEMAND, JOB) == pytest.approx(
        2.0 * 2190 + 3.0 * 146
    )
    assert _usd([COMMIT, ON_DEMAND], AfterTerm.ON_DEMAND, JOB) == pytest.approx(4818.0)
    assert billed_hours(COMMIT, JOB) == pytest.approx(JOB)


def test_renewing_pays_a_second_whole_term():
    assert _usd([COMMIT, ON_DEMAND], AfterTerm.RENEW, JOB) == pytest.approx(2.0 * 6 * MONTH)
    assert billed_hours(COMMIT, JOB, AfterTerm.RENEW) == pytest.approx(6 * MONTH)


@pytest.mark.parametrize("after", list(AfterTerm))
def test_a_job_within_the_term_pays_the_whole_term(after):
    assert _usd([COMMIT, ON_DEMAND], after, 1000.0) == pytest.approx(2.0 * TERM)
    assert _usd([COMMIT, ON_DEMAND], after, TERM) == pytest.approx(2.0 * TERM)
    assert billed_hours(COMMIT, 1000.0, after) == pytest.approx(TERM)


def test_without_an_on_demand_price_the_offer_is_ruled_out_past_its_term():
    assert math.isinf(_usd([COMMIT], AfterTerm.ON_DEMAND, JOB))
    assert _usd([COMMIT], AfterTerm.ON_DEMAND, 1000.0) == pytest.approx(2.0 * TERM)
    assert _usd([COMMIT], AfterTerm.RENEW, JOB) == pytest.approx(2.0 * 6 * MONTH)


def test_the_remainder_price_is_the_same_instance_else_the_cheapest_per_chip_there():
    other_8x = _offer(PriceRegime.ON_DEMAND, 20.0, instance="pod-8x", chips=8)  # 2.5 a chip
    other_1x = _offer(PriceRegime.ON_DEMAND, 2.8, instance="pod-1x-b")
    elsewhere = _offer(PriceRegime.ON_DEMAND, 1.0, region="community-cloud")
    prices = remainder_prices([COMMIT, ON_DEMAND, other_8x, other_1x, elsewhere])
    assert prices[0] == 3.0  # the same instance type, though dearer per chip
    assert np.isnan(prices[1:]).all()  # pay-as-you-go offers have no term
    assert remainder_prices([COMMIT, other_8x, other_1x, elsewhere])[0] == 2.5


def test_pay_as_you_go_and_blocks_are_unchanged():
    block = _offer(PriceRegime.CAPACITY_BLOCK, 4.0)
    offers = [ON_DEMAND, block]
    billing = TermBilling(offers, AfterTerm.ON_DEMAND)
    usd = billing.usd_per_chip(np.array([[30.0], [30.0]]))
    assert usd[:, 0].tolist() == pytest.approx([3.0 * 30, 4.0 * 48])


def test_the_fleet_setting_reaches_the_option_arrays():
    hours = np.array([JOB, JOB])
    for after, expected in ((AfterTerm.ON_DEMAND, 4818.0), (AfterTerm.RENEW, 8760.0)):
        arrays = _OfferArrays([COMMIT, ON_DEMAND], Fleet(workloads=(), after_term=after))
        assert arrays.usd_per_chip(hours)[0] == pytest.approx(expected)
        assert arrays.usd_per_chip(hours)[1] == pytest.approx(3.0 * JOB)
