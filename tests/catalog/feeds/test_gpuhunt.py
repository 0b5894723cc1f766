"""dstack gpuhunt catalog v2 CSV: the sample (format exact, rows constructed from prices.csv).

The sample mixes AWS and GCP rows; gpuhunt publishes one CSV per provider, so most tests
split it into ``aws.csv`` and ``gcp.csv`` the way the real catalog.zip files are laid out.
"""

from collections import Counter

import pytest

from arbiter.catalog.feeds import gpuhunt
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "gpuhunt-catalog-v2.sample.csv"
LINES = SAMPLE.read_text().splitlines(keepends=True)
HEADER, AWS_ROWS, GCP_ROWS = LINES[0], LINES[1:3], LINES[3:5]


def parse_text(text: str, file: str = "aws.csv", provider: str | None = None) -> FeedResult:
    return gpuhunt.parse(text.encode(), make_context(file, provider))


def find(result: FeedResult, instance_type: str, region: str, regime: PriceRegime) -> Offer:
    (offer,) = [
        o
        for o in result.offers
        if (o.instance_type, o.region, o.price_regime) == (instance_type, region, regime)
    ]
    return offer


def test_aws_rows_become_whole_instance_offers():
    result = parse_text(HEADER + "".join(AWS_ROWS), "aws.csv")
    on_demand = find(result, "p5.48xlarge", "us-east-1", PriceRegime.ON_DEMAND)
    assert (on_demand.provider, on_demand.usd_per_hour) == ("aws", 55.04)
    assert (on_demand.accelerator, on_demand.accelerators_per_instance) == ("H100-SXM", 8)
    assert on_demand.usd_per_accelerator_hour == pytest.approx(6.88)
    spot = find(result, "p5.48xlarge", "us-east-2", PriceRegime.SPOT)
    assert (spot.usd_per_hour, spot.source_regime) == (14.3773, "spot")
    assert spot.as_of.text == "2026-11-01"
    assert spot.source == "dstack gpuhunt catalog aws.csv"


def test_gcp_zones_become_region_and_zone_and_tpus_count_chips():
    result = parse_text(HEADER + "".join(GCP_ROWS), "gcp/catalog.csv")
    a3 = find(result, "a3-highgpu-8g", "us-central1", PriceRegime.ON_DEMAND)
    assert (a3.zone, a3.usd_per_hour, a3.accelerator) == ("us-central1-a", 88.49, "H100-SXM")
    tpu = find(result, "v5litepod-1", "us-central1", PriceRegime.ON_DEMAND)
    assert (tpu.accelerator, tpu.accelerators_per_instance, tpu.usd_per_hour) == ("TPU-v5e", 1, 1.2)
    assert result.tally.records == 2


def test_cheapest_zone_of_a_region_is_kept():
    row = GCP_ROWS[0]
    cheaper = row.replace("us-central1-a,88.49", "us-central1-b,80.5")
    result = parse_text(HEADER + row + cheaper, "gcp.csv")
    (offer,) = result.offers
    assert (offer.zone, offer.usd_per_hour) == ("us-central1-b", 80.5)
    assert offer.provenance == "cheapest of 2 zones"


def test_rows_of_another_provider_are_unmapped():
    result = parse_text(SAMPLE.read_text(), str(SAMPLE), provider="aws")
    assert len(result.offers) == 2
    assert result.tally.records == 4
    assert result.tally.unmapped == Counter(
        {gpuhunt.OTHER_PROVIDER: 2}
    )  # a3-highgpu-8g, v5litepod-1


def test_provider_must_be_known():
    with pytest.raises(FeedError, match="pass the provider"):
        parse_text(SAMPLE.read_text(), str(SAMPLE))
    with pytest.raises(FeedError, match="unknown provider"):
        parse_text(SAMPLE.read_text(), "aws.csv", provider="nowhere")


@pytest.mark.parametrize(
    ("gpu_name", "gpu_memory", "accelerator"),
    [
        ("A100", "40.0", "A100-SXM-40GB"),
        ("A100", "80.0", "A100-SXM-80GB"),
        ("H100", "80.0", "H100-SXM"),
    ],
)
def test_gpu_memory_tells_a100_40_from_80(gpu_name, gpu_memory, accelerator):
    row = f"gpu_8x_x,us-east-1,14.32,240,1800.0,8,{gpu_name},{gpu_memory},False,,nvidia,,x86,{{}}\n"
    (offer,) = parse_text(HEADER + row, "lambda.csv").offers
    assert (offer.provider, offer.accelerator, offer.accelerators_per_instance) == (
        "lambda",
        accelerator,
        8,
    )


def test_older_catalogs_without_the_last_four_columns():
    old_header = (
        "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot,disk_size\n"
    )
    rows = "tpu-v5litepod-4,us-west4-a,4.8,112,192.0,1,tpu-v5litepod-4,64.0,False,\n"
    rows += "n2-standard-4,us-west4-a,0.19,4,16.0,0,,,False,\n"
    result = parse_text(old_header + rows, "gcp.csv")
    (offer,) = result.offers
    assert (offer.accelerator, offer.accelerators_per_instance) == ("TPU-v5e", 4)
    assert result.tally.skipped == Counter({gpuhunt.CPU_ONLY: 1})


def test_unknown_chips_duplicates_and_zero_prices_are_counted():
    t4 = "g4dn.xlarge,us-east-1,0.526,4,16.0,1,T4,16.0,False,,nvidia,,x86,{}\n"
    zero = AWS_ROWS[0].replace("55.04", "0")
    result = parse_text(HEADER + t4 + AWS_ROWS[1] + AWS_ROWS[1] + zero, "aws.csv")
    assert result.tally.records == 4
    assert result.tally.unmapped == Counter({gpuhunt.UNKNOWN_ACCELERATOR: 1})
    assert result.tally.skipped == Counter({gpuhunt.DUPLICATE: 1, gpuhunt.ZERO_PRICE: 1})
    assert len(result.offers) == 1


def test_dws_calendar_mode_is_a_capacity_block():
    row = GCP_ROWS[0].replace('false}"', 'true}"')
    (offer,) = parse_text(HEADER + row, "gcp.csv").offers
    assert (offer.price_regime, offer.source_regime) == (PriceRegime.CAPACITY_BLOCK, "dws_calendar")


# --- malformed input ---------------------------------------------------------------


def _bad(text: str) -> FeedError:
    with pytest.raises(FeedError) as info:
        parse_text(text, "aws.csv")
    assert info.value.file == "aws.csv"
    return info.value


def test_empty_file_is_an_error():
    assert "empty" in str(_bad(""))


def test_truncated_file_names_the_line():
    text = SAMPLE.read_text()
    error = _bad(text[: text.index(",192,2048.0,8,H100,80.0,True")])
    assert error.record == "line 3"
    assert "truncated" in str(error)


def test_truncated_inside_quotes_is_an_error():
    text = SAMPLE.read_text()
    assert "truncated" in str(_bad(text[: text.index("is_dws") + 3]))


def test_missing_column_is_named():
    error = _bad(SAMPLE.read_text().replace(",spot,", ",preemptible,", 1))
    assert error.field == "line 1.spot"


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("55.04", "fifty", "price"),
        ("55.04", "-55.04", "price"),
        ("55.04", "", "price"),
        (",8,H100,80.0,False,", ",eight,H100,80.0,False,", "gpu_count"),
        (",8,H100,80.0,False,", ",8,H100,80.0,maybe,", "spot"),
        (",x86,{}", ",x86,{oops", "provider_data"),
    ],
)
def test_bad_values_name_line_and_column(old, new, column):
    error = _bad(HEADER + AWS_ROWS[0].replace(old, new, 1))
    assert error.field == f"line 2.{column}"
    assert "Valid:" in str(error)
