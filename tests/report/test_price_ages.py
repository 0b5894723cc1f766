"""Every report shows the age of the prices it used: a procurement schedule and each side
of a deal list each price they spend on with its date, source and age on the plan's date
(ARBITER_TODAY 2026-11-29 in these fixtures), and their HTML pages show the list."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("plotly")

import html_pages as pages

from arbiter.catalog.embedded import default_catalog
from arbiter.report.deal_html import deal_html
from arbiter.report.procure_html import procure_html

TODAY = dt.date(2026, 11, 29)


def _check(prices) -> None:
    assert prices
    offers = {
        (o.provider, o.region, o.instance_type, o.price_regime.value): o
        for o in default_catalog().offers
    }
    for p in prices:
        assert p.expected_spend_usd > 0
        if p.committed and p.as_of is None:  # the file's own price: no date to show
            assert p.age_days is None
            continue
        if not p.committed:  # an offer of the catalog, at its own date and source
            offer = offers[(p.provider, p.region, p.instance_type, p.price_regime)]
            assert (p.as_of, p.source) == (offer.as_of.text, offer.source)
            assert p.usd_per_chip_hour == pytest.approx(offer.usd_per_accelerator_hour)
            assert p.age_days == (TODAY - offer.as_of.end).days
        else:  # a discount off a dated catalog price
            assert p.as_of in p.source and p.age_days is not None and p.age_days >= 0


def test_a_procurement_lists_its_prices_with_their_age(example_procurement):
    _check(example_procurement.prices)
    discounted = [p for p in example_procurement.prices if p.committed]
    assert discounted and all("off the" in p.source for p in discounted)
    page = procure_html(example_procurement, title="procure")
    table = pages.section_of(page, "prices")
    for p in example_procurement.prices:
        assert f"{p.age_days} d" in table


def test_each_side_of_a_deal_lists_its_prices(example_deal):
    for side in (example_deal.sides.with_deal, example_deal.sides.without):
        _check(side.prices)
    page = deal_html(example_deal, title="deal")
    assert "Prices the plans spend on" in pages.section_of(page, "prices")
