"""The embedded default catalog: built from data/sources/, deterministic, and complete."""

import subprocess
import sys
from pathlib import Path

from arbiter.catalog.build import build_default_catalog
from arbiter.catalog.embedded import default_catalog, default_price_history
from arbiter.catalog.names import PROVIDERS
from arbiter.catalog.tables import accelerators_to_csv, offers_to_csv
from arbiter.domain.offer import PriceRegime

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "data" / "sources"


def test_build_is_deterministic_and_matches_the_shipped_catalog():
    first = build_default_catalog(SOURCES).catalog
    second = build_default_catalog(SOURCES).catalog
    assert offers_to_csv(first.offers) == offers_to_csv(second.offers)
    assert accelerators_to_csv(first.accelerators.values()) == accelerators_to_csv(
        second.accelerators.values()
    )
    assert first.content_hash == second.content_hash == default_catalog().content_hash


def test_committed_files_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_catalog.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_breadth_of_the_default_catalog():
    catalog = default_catalog()
    vendors = {catalog.vendor_of(o) for o in catalog.offers}
    assert len(catalog.accelerators) >= 25
    assert {a.vendor for a in catalog.accelerators.values()} >= {
        "NVIDIA",
        "AMD",
        "Google",
        "AWS",
        "Intel",
    }
    assert set(catalog.providers) >= {"aws", "gcp", "azure", "oci", "lambda", "runpod", "coreweave"}
    assert len(catalog.providers) >= 12
    assert vendors == {"NVIDIA", "AMD", "Google", "AWS", "Intel"}  # Gaudi2 via Shadeform
    assert {o.price_regime for o in catalog.offers} == set(PriceRegime)
    committed = (PriceRegime.RESERVED_1Y, PriceRegime.RESERVED_3Y, PriceRegime.COMMITTED)
    assert sum(o.price_regime in committed for o in catalog.offers) >= 80
    assert all(o.as_of.text and o.source for o in catalog.offers)
    # every observation is kept: the current prices and the superseded ones together
    assert len(catalog.offers) + len(default_price_history()) >= 1500


def test_every_provider_priced_is_known_by_name():
    assert set(default_catalog().providers) <= set(PROVIDERS)


def test_one_name_per_product_leaves_no_older_price_beside_a_newer_one():
    # RunPod's H100 SXM: $2.99 (prices.csv, 2025-06-21, GraphQL id) and $3.49 (prices-extra,
    # 2026-09-25, the pricing page's name) are one offer; the newer is the price.
    offers = [
        o
        for o in default_catalog().offers
        if o.provider == "runpod" and o.accelerator == "H100-SXM" and o.region == "secure-cloud"
        if o.price_regime is PriceRegime.ON_DEMAND
    ]
    assert [(o.instance_type, o.usd_per_hour, o.as_of.text) for o in offers] == [
        ("NVIDIA H100 80GB HBM3", 3.49, "2026-09-25")
    ]
    old = [
        h
        for h in default_price_history()
        if h.offer.key == offers[0].key and h.offer.usd_per_hour == 2.99
    ]
    assert [h.offer.as_of.text for h in old] == ["2025-06-21"]


def test_excluded_rows_are_counted_with_their_reason_in_the_build_report():
    built = build_default_catalog(SOURCES)
    extra = next(n for n in built.notes if n.startswith("prices-extra.csv"))
    for count, what in (
        (8, "Vultr's plans API listed no location"),
        (2, "a 'from' floor"),
        (2, "the source does not say whether the 1-Click Cluster"),
        (3, "'Starting at' prices"),
    ):
        assert f"{count} excluded ({what}" in extra, extra
    offers = built.catalog.offers
    assert not [o for o in offers if o.provider == "tensorwave" or o.region == "none listed"]


def test_azure_five_year_reservations_are_sixty_month_commitments():
    five = [o for o in default_catalog().offers if o.provider == "azure" and o.term_months == 60]
    assert five
    assert {(o.price_regime, o.source_regime) for o in five} == {
        (PriceRegime.COMMITTED, "reserved_5y")
    }
    assert all(o.derived and "5-year" in o.provenance for o in five)


def test_local_zones_are_regions_of_their_own():
    catalog = default_catalog()
    atlanta = {
        (o.instance_type, o.price_regime.value)
        for o in catalog.offers
        if o.region == "us-east-1-atl-2"
    }
    assert ("p6-b200.48xlarge", "spot") in atlanta
    assert not [o for o in catalog.offers if o.region == "us-east-1" and "atl" in o.zone]
    dallas = [o for o in catalog.offers if o.region == "us-east-1-dfw-2"]
    assert {o.zone for o in dallas} == {"us-east-1-dfw-2a"}


def test_every_derived_offer_states_its_rule():
    catalog = default_catalog()
    derived = [o for o in catalog.offers if o.derived]
    assert derived
    assert all(o.provenance for o in derived)


def test_known_quirks_are_handled():
    catalog = default_catalog()
    offers = catalog.offers
    # GCP TPU placeholder prices are never offers
    assert not [o for o in offers if o.provider == "gcp" and o.usd_per_hour == 700.0]
    # AWS p5e and trn2 have no on-demand price anywhere
    assert not [
        o
        for o in offers
        if o.instance_type in {"p5e.48xlarge", "trn2.48xlarge"}
        and o.price_regime is PriceRegime.ON_DEMAND
    ]
    # one offer per key
    assert len({o.key for o in offers}) == len(offers)
    # the SkyPilot us-central1 H100 trap (DWS price as on-demand) is excluded; the curated
    # on-demand price of a3-highgpu-8g stays
    a3 = [
        o
        for o in offers
        if o.instance_type == "a3-highgpu-8g"
        and o.region == "us-central1"
        and o.price_regime is PriceRegime.ON_DEMAND
    ]
    assert [o.usd_per_hour for o in a3] == [88.49]
    # the p5 price cut: the most recent observation wins
    p5 = next(
        o
        for o in offers
        if (o.provider, o.instance_type, o.region, o.price_regime)
        == ("aws", "p5.48xlarge", "us-east-1", PriceRegime.ON_DEMAND)
    )
    assert p5.usd_per_hour == 55.04
