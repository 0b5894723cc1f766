"""The spot model: band to rate, lookup precedence, the shipped tables, the factor."""

from __future__ import annotations

import csv
import io
import itertools
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbiter.catalog import spot
from arbiter.catalog.embedded import default_catalog
from arbiter.catalog.spot import (
    HOURS_PER_MONTH,
    RESTART_HOURS,
    SpotBasis,
    SpotTable,
    default_rates_from_csv,
    default_spot_table,
    feed_rates_from_csv,
    interruptions_per_hour,
    parse_band,
    rate_from_probability,
    restart_load,
    throughput_factor,
)
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import InputError
from arbiter.domain.offer import Offer, PriceRegime

ROOT = Path(__file__).resolve().parents[2]


def offer(
    provider: str = "aws",
    region: str = "us-east-1",
    instance_type: str = "p5.48xlarge",
    regime: PriceRegime = PriceRegime.SPOT,
    rate: float | None = None,
) -> Offer:
    return Offer(
        provider=provider,
        region=region,
        instance_type=instance_type,
        accelerator="H100-SXM",
        accelerators_per_instance=8,
        price_regime=regime,
        usd_per_hour=30.0,
        as_of=AsOf.parse("2026-11-01"),
        source="a test feed",
        interruption_rate=rate,
    )


# --- band -> rate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "probability", "per_hour"),
    [
        # by hand: p the band's midpoint, -ln(1 - p) / 730
        ("<5%", 0.025, 0.025318 / 730),
        ("5-10%", 0.075, 0.077962 / 730),
        ("10-15%", 0.125, 0.133531 / 730),
        ("15-20%", 0.175, 0.192372 / 730),
        (">20%", 0.60, 0.916291 / 730),
    ],
)
def test_a_band_is_its_midpoint_per_month(label, probability, per_hour):
    band = parse_band(label)
    assert band.probability == pytest.approx(probability)
    assert band.interruptions_per_hour == pytest.approx(per_hour, rel=1e-5)


def test_band_rates_rise_band_by_band():
    rates = [parse_band(b).interruptions_per_hour for b in ("<5%", "5-10%", "10-15%", "15-20%")]
    rates.append(parse_band(">20%", 100.0).interruptions_per_hour)
    assert all(a < b for a, b in itertools.pairwise(rates))


@given(
    st.floats(0.0, 0.98),
    st.floats(0.001, 0.01),
    st.floats(1.0, 1000.0),
)
def test_the_rate_rises_with_the_probability_and_falls_with_the_period(p, dp, hours):
    """A likelier interruption is a higher rate; the same chance over longer, a lower one."""
    assert rate_from_probability(p + dp, hours) > rate_from_probability(p, hours)
    assert rate_from_probability(p, hours * 2) == pytest.approx(rate_from_probability(p, hours) / 2)


def test_the_rate_undoes_the_poisson_probability():
    # P(at least one in T) = 1 - exp(-rate T): a rate of 1 per T is p = 1 - 1/e
    assert rate_from_probability(1.0 - math.exp(-1.0), HOURS_PER_MONTH) == pytest.approx(
        1.0 / HOURS_PER_MONTH
    )
    assert rate_from_probability(0.0, 24.0) == 0.0


@pytest.mark.parametrize("label", ["", "5%", "10-5%", "<0%", ">100%", "5-10", "about 5%"])
def test_a_label_that_is_no_band_is_refused(label):
    with pytest.raises(ValueError, match="valid"):
        parse_band(label)


@pytest.mark.parametrize(("p", "hours"), [(1.0, 730.0), (-0.1, 730.0), (0.5, 0.0)])
def test_a_probability_outside_its_range_is_refused(p, hours):
    with pytest.raises(ValueError):
        rate_from_probability(p, hours)


# --- lookup precedence -----------------------------------------------------------------------

FEED = """provider,region,instance_type,os,band,probability,interruptions_per_hour,source,as_of
aws,us-east-1,p5.48xlarge,Linux,>20%,0.6,0.002,AWS Spot Instance Advisor,2025-06-28
"""
DEFAULTS = """provider,probability,period_hours,source,as_of
aws,0.5,730,AWS worst band,2025-06-28
gcp,0.15,24,GCP docs,2026-12-06
azure,,,Azure publishes none,2026-12-06
"""


@pytest.fixture
def table() -> SpotTable:
    defaults, unpublished = default_rates_from_csv(DEFAULTS, "defaults.csv")
    return SpotTable(feed_rates_from_csv(FEED, "feed.csv"), defaults, unpublished)


def test_the_offers_own_rate_comes_first(table):
    rate = interruptions_per_hour(offer(rate=0.3), table)
    assert (rate.interruptions_per_hour, rate.basis) == (0.3, SpotBasis.OFFER)
    assert (rate.source, rate.as_of) == ("a test feed", "2026-11-01")
    assert interruptions_per_hour(offer(rate=0.0), table).interruptions_per_hour == 0.0


def test_then_the_feed_row_of_the_region_and_type(table):
    rate = interruptions_per_hour(offer(), table)
    assert (rate.interruptions_per_hour, rate.basis, rate.as_of) == (
        0.002,
        SpotBasis.FEED,
        "2025-06-28",
    )
    assert ">20%" in rate.source


def test_then_the_providers_published_figure(table):
    elsewhere = interruptions_per_hour(offer(region="eu-west-1"), table)
    assert elsewhere.basis is SpotBasis.PROVIDER_DEFAULT
    assert elsewhere.interruptions_per_hour == pytest.approx(-math.log(0.5) / 730)
    gcp = interruptions_per_hour(offer("gcp", "us-central1", "a3-highgpu-8g"), table)
    assert gcp.basis is SpotBasis.PROVIDER_DEFAULT
    assert gcp.interruptions_per_hour == pytest.approx(-math.log(0.85) / 24)


def test_a_provider_that_publishes_nothing_gets_the_worst_published_rate(table):
    worst = -math.log(0.85) / 24  # gcp's, above aws's -ln(0.5)/730
    for provider in ("azure", "runpod", "somecloud"):
        rate = interruptions_per_hour(offer(provider, "r", "t"), table)
        assert rate.basis is SpotBasis.UNPUBLISHED_DEFAULT
        assert rate.interruptions_per_hour == pytest.approx(worst)
        assert "gcp" in rate.source
    assert "Azure publishes none" in interruptions_per_hour(offer("azure"), table).source


@pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan])
def test_an_offer_rate_that_is_no_rate_is_refused(table, bad):
    with pytest.raises(InputError, match="interruption_rate"):
        interruptions_per_hour(offer(rate=bad), table)


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        (DEFAULTS.replace("0.5,730", "half,730"), "defaults.csv:2", "probability"),
        (DEFAULTS.replace("0.5,730", "1.5,730"), "defaults.csv:2", "probability"),
        (DEFAULTS.replace("0.15,24", "0.15,-24"), "defaults.csv:3", "period_hours"),
        (DEFAULTS.replace("period_hours", "hours"), "defaults.csv", None),
    ],
)
def test_a_bad_defaults_table_names_file_line_and_field(text, where, field):
    with pytest.raises(InputError) as err:
        default_rates_from_csv(text, "defaults.csv")
    assert err.value.file == where
    assert err.value.field == field
    assert err.value.exit_code == 2


def test_a_bad_feed_table_names_file_line_and_field():
    with pytest.raises(InputError) as err:
        feed_rates_from_csv(FEED.replace(",0.002,", ",-1,"), "feed.csv")
    assert (err.value.file, err.value.field) == ("feed.csv:2", "interruptions_per_hour")


# --- the factor ------------------------------------------------------------------------------


def test_the_factor_discounts_spot_only(table):
    spot_offer = offer("gcp", "us-central1", "a3-highgpu-8g")
    rate = interruptions_per_hour(spot_offer, table).interruptions_per_hour
    assert restart_load(spot_offer, table=table) == pytest.approx(rate * RESTART_HOURS)
    assert throughput_factor(spot_offer, table=table) == pytest.approx(
        1.0 / (1.0 + rate * RESTART_HOURS)
    )
    on_demand = replace(spot_offer, price_regime=PriceRegime.ON_DEMAND)
    assert throughput_factor(on_demand, table=table) == 1.0
    assert restart_load(on_demand, table=table) == 0.0
    # a longer restart costs more throughput
    assert throughput_factor(spot_offer, 1.0, table) < throughput_factor(spot_offer, 0.5, table)


# --- the shipped tables ----------------------------------------------------------------------


def test_the_shipped_feed_table_is_the_script_output_of_the_copied_feed():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_spot_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_script_exits_2_naming_a_bad_feed(tmp_path):
    bad = tmp_path / "advisor.json"
    bad.write_text('{"ranges": [{"index": 0, "label": "soon", "max": 5}], "spot_advisor": {}}')
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_spot_table.py"), "--feed", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert str(bad) in done.stderr and "ranges[0].label" in done.stderr


def test_every_shipped_feed_row_is_its_bands_rate():
    text = (ROOT / "src/arbiter/catalog/data/spot_interruptions.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    for row in rows:
        band = parse_band(row["band"])
        assert float(row["probability"]) == pytest.approx(band.probability)
        assert float(row["interruptions_per_hour"]) == pytest.approx(
            band.interruptions_per_hour, rel=1e-5
        )
        assert row["os"] == "Linux" and row["as_of"]


def test_every_spot_offer_of_the_default_catalog_has_a_sourced_rate():
    table = default_spot_table()
    bases = set()
    for o in default_catalog().offers:
        if o.price_regime is not PriceRegime.SPOT:
            continue
        rate = table.rate(o)
        bases.add((o.provider, rate.basis))
        assert rate.source and rate.as_of
        assert 0.0 < rate.interruptions_per_hour < 0.05  # the old round number was 0.05
        AsOf.parse(rate.as_of)
    assert ("aws", SpotBasis.FEED) in bases
    assert ("aws", SpotBasis.PROVIDER_DEFAULT) in bases
    assert ("gcp", SpotBasis.PROVIDER_DEFAULT) in bases
    assert ("oci", SpotBasis.UNPUBLISHED_DEFAULT) in bases


def test_the_shipped_defaults_have_a_source_and_date_per_provider():
    text = (ROOT / "src/arbiter/catalog/data/spot_defaults.csv").read_text()
    for row in csv.DictReader(io.StringIO(text)):
        assert row["source"].strip()
        AsOf.parse(row["as_of"])
    assert spot.default_spot_table().unpublished.interruptions_per_hour == max(
        r.interruptions_per_hour for r in default_spot_table().defaults.values()
    )
