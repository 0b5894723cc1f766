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


def _serve_fleet(after: AfterTerm, hours: float) -> Fleet:
    from arbiter.workloads.fleet import parse_fleet

    data = {
        "workloads": [
            {
                "name": "chat",
                "kind": "serve",
                "model": "llama-3.1-8b",
                "requests_per_s": 5,
                "input_tokens": 500,
                "output_tokens": 200,
                "slo": {"ttft_s": 2, "tpot_s": 0.1},
                "hours": hours,
                "providers": ["runpod"],
            }
        ],
        "pricing": {"after_term": after.value},
    }
    return parse_fleet(data, file="fleet.yaml")


@pytest.mark.parametrize("after", list(AfterTerm))
def test_plan_options_past_a_term_are_priced_by_the_fleet_setting(after):
    """A 3.2-month service on RunPod's 3-month commitments: every such option costs the
    term plus 146 on-demand hours (or two terms), per chip, as computed by hand here."""
    from arbiter.catalog.embedded import default_catalog
    from arbiter.optimize.options import build_options
    from arbiter.perf.efficiency import default_efficiency

    catalog = default_catalog()
    options, _ = build_options(_serve_fleet(after, JOB), catalog, default_efficiency(), thin=False)
    commits = [o for o in options if o.offer.term_months == 3]
    assert commits
    on_demand = {
        (o.provider, o.region, o.instance_type): o.usd_per_accelerator_hour
        for o in catalog.offers
        if o.price_regime is PriceRegime.ON_DEMAND
    }
    for o in commits:
        chips, price = o.offer.accelerators_per_instance, o.offer.usd_per_accelerator_hour
        if after is AfterTerm.RENEW:
            assert o.usd == pytest.approx(chips * price * 2 * TERM)
            assert o.billed_hours == pytest.approx(2 * TERM)
        else:
            od = on_demand[(o.offer.provider, o.offer.region, o.offer.instance_type)]
            assert o.usd == pytest.approx(chips * (price * TERM + od * (JOB - TERM)))
            assert o.billed_hours == pytest.approx(JOB)
    short, _ = build_options(_serve_fleet(after, 1000.0), catalog, default_efficiency(), thin=False)
    for o in (o for o in short if o.offer.term_months == 3):
        assert o.usd == pytest.approx(o.offer.usd_per_hour * TERM)
