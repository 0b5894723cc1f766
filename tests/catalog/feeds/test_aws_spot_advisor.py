"""AWS Spot Instance Advisor: the sample (a trimmed real snapshot of 2025-06-28)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from arbiter.catalog.feeds import aws_spot_advisor
from arbiter.catalog.feeds.aws_spot_advisor import SpotAdvisorFeed
from arbiter.domain.errors import FeedError, InputError
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "aws-spot-advisor-data.sample.json"
FILE = "spot-advisor-data.json"


def sample() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text())
    return doc


def parse_doc(doc: Any) -> SpotAdvisorFeed:
    return aws_spot_advisor.parse(json.dumps(doc).encode(), make_context(FILE))


@pytest.fixture(scope="module")
def feed() -> SpotAdvisorFeed:
    return aws_spot_advisor.parse(SAMPLE.read_bytes(), make_context(str(SAMPLE)))


def test_every_entry_of_the_sample_becomes_one_row(feed):
    doc = sample()
    expected = {
        (region, os_name, itype, entry["r"])
        for region, by_os in doc["spot_advisor"].items()
        for os_name, by_type in by_os.items()
        for itype, entry in by_type.items()
    }
    labels = [r["label"] for r in sorted(doc["ranges"], key=lambda r: r["index"])]
    got = {(r.region, r.os, r.instance_type, labels.index(r.band.label)) for r in feed.rows}
    assert got == expected
    assert len(feed.rows) == 24
    assert feed.global_rate == "<10%"


def test_rows_read_the_band_their_index_names(feed):
    by_key = {(r.region, r.instance_type): r for r in feed.rows}
    # spot_advisor.us-east-1.Linux: p5.48xlarge r=4, p4d.24xlarge r=2, trn1.32xlarge r=0
    assert by_key["us-east-1", "p5.48xlarge"].band.label == ">20%"
    assert by_key["us-east-1", "p4d.24xlarge"].band.label == "10-15%"
    assert by_key["us-west-2", "p4de.24xlarge"].band.label == "15-20%"
    assert by_key["us-east-1", "trn1.32xlarge"].band.label == "<5%"
    assert by_key["us-east-1", "p5.48xlarge"].savings_share == pytest.approx(0.52)


def test_bands_take_their_bounds_from_the_label_and_close_the_top_with_max(feed):
    bounds = [(b.label, b.low_share, b.high_share) for b in feed.bands]
    assert bounds == [
        ("<5%", 0.0, 0.05),
        ("5-10%", 0.05, 0.10),
        ("10-15%", 0.10, 0.15),
        ("15-20%", 0.15, 0.20),
        (">20%", 0.20, 1.0),  # "max": 100
    ]
    # ">20%" read with the feed's own max: a smaller max lowers its midpoint
    doc = sample()
    doc["ranges"][4]["max"] = 40
    assert parse_doc(doc).bands[4].probability == pytest.approx(0.30)


def test_band_rates_rise_with_the_band(feed):
    rates = [b.interruptions_per_hour for b in feed.bands]
    assert rates == sorted(rates)
    assert len(set(rates)) == len(rates)
    # by hand: -ln(1 - 0.125) / 730 for 10-15%
    assert feed.bands[2].interruptions_per_hour == pytest.approx(-math.log(0.875) / 730)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("ranges"), "ranges"),
        (lambda d: d.__setitem__("ranges", []), "ranges"),
        (lambda d: d["ranges"][1].__setitem__("label", "five to ten"), "ranges[1].label"),
        (lambda d: d["ranges"][1].__setitem__("label", 5), "ranges[1].label"),
        (lambda d: d["ranges"][4].__setitem__("max", "100"), "ranges[4].max"),
        (lambda d: d["ranges"][2].__setitem__("index", -1), "ranges[2].index"),
        (lambda d: d["ranges"][2].__setitem__("index", 7), "ranges"),
        (lambda d: d["ranges"][1].__setitem__("label", "<3%"), "ranges"),
        (lambda d: d.pop("spot_advisor"), "spot_advisor"),
        (lambda d: d["spot_advisor"].__setitem__("us-east-1", []), "spot_advisor.us-east-1"),
        (
            lambda d: d["spot_advisor"]["us-east-1"]["Linux"]["p5.48xlarge"].__setitem__("r", 5),
            "spot_advisor.us-east-1.Linux.p5.48xlarge.r",
        ),
        (
            lambda d: d["spot_advisor"]["us-west-2"]["Linux"]["g5.xlarge"].pop("r"),
            "spot_advisor.us-west-2.Linux.g5.xlarge.r",
        ),
        (
            lambda d: d["spot_advisor"]["us-west-2"]["Linux"].__setitem__("g5.xlarge", 4),
            "spot_advisor.us-west-2.Linux.g5.xlarge",
        ),
    ],
)
def test_a_bad_feed_names_the_file_and_the_field(mutate, field):
    doc = sample()
    mutate(doc)
    with pytest.raises(FeedError) as err:
        parse_doc(doc)
    assert err.value.file == FILE
    assert err.value.field == field
    assert isinstance(err.value, InputError) and err.value.exit_code == 2
    assert FILE in str(err.value) and field in str(err.value)


@pytest.mark.parametrize("data", [b"", b"{", b"[1, 2]", b"\xff\xfe\x00"])
def test_unreadable_bytes_are_a_feed_error(data):
    with pytest.raises(FeedError) as err:
        aws_spot_advisor.parse(data, make_context(FILE))
    assert err.value.file == FILE
