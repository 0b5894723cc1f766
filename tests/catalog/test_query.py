"""Offer selection: filters, sorting, and agreement with a plain Python scan."""

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.catalog.embedded import default_catalog
from arbiter.catalog.query import OfferQuery, OfferTable
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, UnknownNameError

CATALOG = default_catalog()
TABLE = OfferTable(CATALOG)


def scan(query: OfferQuery):
    """The same selection written as the obvious loop."""
    out = []
    for o in CATALOG.offers:
        vendor = CATALOG.accelerators[o.accelerator].vendor
        if query.providers and o.provider not in query.providers:
            continue
        if query.accelerators and o.accelerator not in query.accelerators:
            continue
        if query.vendors and vendor not in query.vendors:
            continue
        if query.regimes and o.price_regime.value not in query.regimes:
            continue
        if query.region and not fnmatch.fnmatchcase(o.region.lower(), query.region.lower()):
            continue
        out.append(o)
    return sorted(out, key=lambda o: o.usd_per_accelerator_hour)


def test_cheapest_first():
    offers = TABLE.select(OfferQuery(accelerators=["H100"]))
    prices = [o.usd_per_accelerator_hour for o in offers]
    assert prices == sorted(prices)
    assert {o.accelerator for o in offers} == {"H100-SXM"}


def test_aliases_vendor_and_region_glob():
    offers = TABLE.select(OfferQuery(vendors=["nvidia"], region="us-*", regimes=["spot"]))
    assert offers
    assert all(o.region.startswith("us-") and o.price_regime.value == "spot" for o in offers)
    assert all(CATALOG.accelerators[o.accelerator].vendor == "NVIDIA" for o in offers)


providers = st.lists(st.sampled_from(CATALOG.providers), max_size=2, unique=True)
accs = st.lists(
    st.sampled_from(sorted({o.accelerator for o in CATALOG.offers})), max_size=3, unique=True
)
regimes = st.lists(
    st.sampled_from(sorted({o.price_regime.value for o in CATALOG.offers})), max_size=2, unique=True
)
regions = st.sampled_from([None, "us-*", "*east*", "global", "europe-*"])


@settings(max_examples=60, deadline=None)
@given(providers, accs, regimes, regions)
def test_indexed_selection_equals_a_plain_scan(p, a, r, region):
    """Property: the vectorised selection returns exactly the offers a plain loop would."""
    query = OfferQuery(providers=p, accelerators=a, regimes=r, region=region)
    got = TABLE.select(query)
    want = scan(query)
    # both are stable sorts over the catalog's order, so even ties come out the same
    assert [o.key for o in got] == [o.key for o in want]


def test_limit_and_other_sorts():
    assert len(TABLE.select(OfferQuery(limit=3))) == 3
    newest = TABLE.select(OfferQuery(sort="as_of"))
    assert newest[0].as_of.end >= newest[-1].as_of.end
    with pytest.raises(InputError, match="usd_per_hour"):
        TABLE.select(OfferQuery(sort="price"))


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        (OfferQuery(accelerators=["H1000"]), "H100-SXM"),
        (OfferQuery(providers=["awz"]), "aws"),
        (OfferQuery(vendors=["nvidai"]), "NVIDIA"),
        (OfferQuery(regimes=["ondemand"]), "on_demand"),
    ],
)
def test_unknown_names_suggest_close_ones(query, suggestion):
    with pytest.raises(UnknownNameError) as info:
        TABLE.select(query)
    assert suggestion in info.value.suggestions


def test_known_vendor_without_offers_matches_nothing():
    no_intel = tuple(o for o in CATALOG.offers if CATALOG.vendor_of(o) != "Intel")
    table = OfferTable(Catalog(CATALOG.accelerators, no_intel))
    assert table.select(OfferQuery(vendors=["Intel"])) == []


def test_every_vendor_has_an_offer():
    for vendor in ("NVIDIA", "AMD", "Google", "AWS", "Intel"):
        assert TABLE.select(OfferQuery(vendors=[vendor])), vendor
    gaudi = TABLE.select(OfferQuery(vendors=["Intel"]))
    assert {(o.provider, o.instance_type, o.accelerators_per_instance) for o in gaudi} == {
        ("shadeform", "denvr_Gaudi2x8", 8)
    }
