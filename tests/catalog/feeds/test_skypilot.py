"""SkyPilot catalog vms.csv: the v7 samples and the v8 snapshot in data/sources/skypilot-v8.

Every number asserted here can be read off the CSV files by hand.
"""

from collections import Counter
from pathlib import Path

import pytest

from arbiter.catalog.feeds import skypilot
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.catalog.instance_types import instance_shapes
from arbiter.catalog.names import canonical_accelerator
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, REPO, make_context

V8 = REPO / "data" / "sources" / "skypilot-v8"
SAMPLES = FEEDS / "skypilot-catalog"
ON_DEMAND, SPOT = PriceRegime.ON_DEMAND, PriceRegime.SPOT


def parse_file(path: Path, provider: str | None = None) -> FeedResult:
    return skypilot.parse(path.read_bytes(), make_context(str(path), provider))


def parse_text(text: str, file: str = "aws/vms.csv") -> FeedResult:
    return skypilot.parse(text.encode(), make_context(file))


def find(result: FeedResult, instance_type: str, region: str, regime: PriceRegime) -> Offer:
    (offer,) = [
        o
        for o in result.offers
        if (o.instance_type, o.region, o.price_regime) == (instance_type, region, regime)
    ]
    return offer


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


@pytest.fixture(scope="module")
def aws() -> FeedResult:
    return parse_file(V8 / "aws" / "vms.csv")


@pytest.fixture(scope="module")
def gcp() -> FeedResult:
    return parse_file(V8 / "gcp" / "vms.csv")


# --- AWS ---------------------------------------------------------------------------


def test_aws_spot_is_the_cheapest_standard_az_of_the_region(aws):
    # p5.48xlarge us-east-1: 7 AZ rows, SpotPrice 10.2397 (use1-atl2-az1, the Atlanta Local
    # Zone: another city, so not the region's price), 55.04 (az1), 19.2531 (az2),
    # 21.1543 (az3), 55.04 (az4), 25.7522 (az5), 17.6289 (az6).
    spot = find(aws, "p5.48xlarge", "us-east-1", SPOT)
    assert spot.usd_per_hour == 17.6289
    assert spot.zone == "use1-az6"
    assert spot.provenance == "cheapest of 6 zones"
    assert (spot.accelerator, spot.accelerators_per_instance) == ("H100-SXM", 8)


def test_aws_on_demand_is_one_offer_per_region(aws):
    on_demand = find(aws, "p5.48xlarge", "us-east-1", ON_DEMAND)
    assert on_demand.usd_per_hour == 55.04
    assert on_demand.provenance == "same price in all 6 zones"  # the Local Zone aside
    assert on_demand.source_regime == "on_demand"
    assert not on_demand.derived


def test_aws_offers_are_unique_per_instance_region_and_regime(aws):
    keys = Counter(o.key for o in aws.offers)
    assert max(keys.values()) == 1


def test_aws_without_on_demand_price_gives_spot_only_and_counts_the_gap(aws):
    # p5e.48xlarge and trn2.48xlarge have an empty Price in every row; spot where given.
    assert not [
        o for o in aws.offers if o.instance_type == "p5e.48xlarge" and o.price_regime is ON_DEMAND
    ]
    p5e_spot = find(aws, "p5e.48xlarge", "us-east-2", SPOT)
    assert p5e_spot.usd_per_hour == 18.7359  # use2-az1 62.9957, use2-az3 18.7359, az2 empty
    assert (p5e_spot.zone, p5e_spot.provenance) == ("use2-az3", "cheapest of 2 zones")
    assert p5e_spot.accelerator == "H200-SXM"
    trn2 = find(aws, "trn2.48xlarge", "us-east-2", SPOT)
    assert (trn2.usd_per_hour, trn2.accelerator, trn2.accelerators_per_instance) == (
        23.0631,
        "Trainium2",
        16,
    )
    # 9 p5e rows + 3 trn2.48xlarge + 4 trn1.32xlarge + 1 trn2.3xlarge rows have no Price
    assert aws.tally.skipped == Counter({skypilot.NO_ON_DEMAND: 17})


def test_aws_v8_totals(aws):
    assert aws.tally.records == 157
    # 121 offers in standard zones, and 6 in the Atlanta Local Zone (3 types x 2 regimes)
    assert len(aws.offers) == 127
    assert not aws.tally.unmapped


def test_aws_local_zone_is_a_region_of_its_own(aws):
    # use1-atl2-az1 is Atlanta (zone group us-east-1-atl-2): its own region, not us-east-1's
    atlanta = [o for o in aws.offers if o.zone == "use1-atl2-az1"]
    assert {o.region for o in atlanta} == {"us-east-1-atl-2"}
    assert {(o.instance_type, o.price_regime) for o in atlanta} == {
        (t, r)
        for t in ("p5.48xlarge", "p5en.48xlarge", "p6-b200.48xlarge")
        for r in (ON_DEMAND, SPOT)
    }
    b200 = find(aws, "p6-b200.48xlarge", "us-east-1-atl-2", SPOT)
    assert b200.usd_per_hour == 13.0338
    assert not [o for o in aws.offers if o.region == "us-east-1" and o.zone == "use1-atl2-az1"]


def test_instance_type_table_beats_the_skypilot_accelerator_name():
    result = parse_file(SAMPLES / "aws_vms.sample.csv")
    # SkyPilot says "A100" for p4d (40 GB) and "A100-80GB" for p4de.
    assert find(result, "p4d.24xlarge", "us-east-1", ON_DEMAND).accelerator == "A100-SXM-40GB"
    assert find(result, "p4de.24xlarge", "us-east-1", ON_DEMAND).accelerator == "A100-SXM-80GB"
    p4d_spot = find(result, "p4d.24xlarge", "us-east-1", SPOT)
    assert (p4d_spot.usd_per_hour, p4d_spot.zone) == (5.0933, "use1-az6")


def test_aws_sample_counts():
    result = parse_file(SAMPLES / "aws_vms.sample.csv")
    assert result.tally.records == 13
    assert len(result.offers) == 16
    assert result.tally.skipped == Counter({skypilot.NO_ON_DEMAND: 1})  # p5e.48xlarge


# --- GCP: host + accelerator -------------------------------------------------------


def test_gcp_price_is_host_plus_accelerator_row_of_the_same_zone(gcp):
    # Host rows a3-highgpu-8g in us-east4-a, -b and -c: Price 9.46006, SpotPrice 2.15966.
    # Accelerator rows H100 x8 in the same zones: Price 78.37241, SpotPrice 17.8848.
    on_demand = find(gcp, "a3-highgpu-8g", "us-east4", ON_DEMAND)
    assert on_demand.usd_per_hour == pytest.approx(9.46006 + 78.37241)
    assert on_demand.derived
    assert on_demand.provenance == (
        "host a3-highgpu-8g 9.46006 + 8x H100 78.37241; same price in all 3 zones"
    )
    assert (on_demand.accelerator, on_demand.accelerators_per_instance) == ("H100-SXM", 8)
    spot = find(gcp, "a3-highgpu-8g", "us-east4", SPOT)
    assert spot.usd_per_hour == pytest.approx(2.15966 + 17.8848)


def test_gcp_a3_mega_uses_the_h100_mega_rows(gcp):
    # a3-megagpu-8g asia-northeast1-b 12.14861 / 3.04013; H100-MEGA x8 35.39149 / 19.1312
    offer = find(gcp, "a3-megagpu-8g", "asia-northeast1", ON_DEMAND)
    assert offer.usd_per_hour == pytest.approx(12.14861 + 35.39149)
    assert "8x H100-MEGA 35.39149" in offer.provenance
    spot = find(gcp, "a3-megagpu-8g", "asia-northeast1", SPOT)
    assert spot.usd_per_hour == pytest.approx(3.04013 + 19.1312)


def test_gcp_a4_host_is_zero_and_the_b200_row_carries_the_price(gcp):
    # a4-highgpu-8g europe-west4-b: 0.0 / 0.0; B200 x8 europe-west4-b: 90.216 / 35.8672
    offer = find(gcp, "a4-highgpu-8g", "europe-west4", ON_DEMAND)
    assert offer.usd_per_hour == 90.216
    assert offer.provenance == "host a4-highgpu-8g 0.0 + 8x B200 90.216"
    assert offer.accelerator == "B200"
    assert find(gcp, "a4-highgpu-8g", "europe-west4", SPOT).usd_per_hour == 35.8672


def test_gcp_accelerator_rows_without_host_and_unknown_chips_are_counted(gcp):
    # T4 153 + P4 51 + P100 36 + V100 2 rows: chips arbiter does not model
    assert gcp.tally.unmapped == Counter({skypilot.UNKNOWN_ACCELERATOR: 242})
    # L4 rows (the g2 hosts are not in this partial file), A100 x16 and H100 rows in
    # zones without a host row
    assert gcp.tally.skipped[skypilot.NO_HOST] == 207
    assert gcp.tally.skipped[skypilot.NO_ACCELERATOR_ROW] == 5
    assert gcp.tally.skipped[skypilot.CPU_ONLY] == 1  # n1-highmem-8


def test_every_gcp_host_family_is_priced_by_rows_of_its_own_chip():
    for (provider, instance_type), shape in instance_shapes().items():
        if provider != "gcp" or shape.accelerator.startswith("TPU"):
            continue  # TPU slices and per-chip prices are rows of their own, not hosts
        row_name = skypilot.gcp_accelerator_row_name(instance_type)
        assert row_name is not None, instance_type
        assert canonical_accelerator(row_name, make_context("x").known_accelerators) == (
            shape.accelerator
        )


# --- GCP: TPUs, placeholders, duplicates -------------------------------------------


def test_gcp_tpu_slice_price_and_chip_count(gcp):
    # TPU rows tpu-v6e-8 in us-central1-a, -b and -c: Price 21.6, SpotPrice 4.35366.
    offer = find(gcp, "tpu-v6e-8", "us-central1", ON_DEMAND)
    assert (offer.accelerator, offer.accelerators_per_instance) == ("TPU-v6e", 8)
    assert offer.usd_per_hour == 21.6
    assert offer.usd_per_accelerator_hour == pytest.approx(2.7)
    # v5p slice names count TensorCores (2 per chip): tpu-v5p-11776 is 5,888 chips
    v5p = find(gcp, "tpu-v5p-11776", "us-central1", ON_DEMAND)
    assert (v5p.accelerators_per_instance, v5p.usd_per_hour) == (5888, 24729.6)
    assert v5p.usd_per_accelerator_hour == pytest.approx(4.2)


def test_gcp_tpu_placeholder_700_is_skipped(gcp):
    # asia-east1-c: 700.0 / 700.0 -> nothing; southamerica-west1-a: 21.6 / 700.0 -> on-demand
    assert not [
        o for o in gcp.offers if o.instance_type == "tpu-v6e-8" and o.region == "asia-east1"
    ]
    assert find(gcp, "tpu-v6e-8", "southamerica-west1", ON_DEMAND).usd_per_hour == 21.6
    assert not [
        o
        for o in gcp.offers
        if o.instance_type == "tpu-v6e-8"
        and o.region == "southamerica-west1"
        and o.price_regime is SPOT
    ]
    assert gcp.tally.skipped[skypilot.PLACEHOLDER] == 56
    assert all(o.usd_per_hour != 700.0 for o in gcp.offers)


def test_gcp_identical_rows_are_counted_as_duplicates(gcp):
    # 5 v5p rows in europe-west4-b and 8 v6e rows in us-central2-b appear twice
    assert gcp.tally.skipped[skypilot.DUPLICATE] == 13
    assert find(gcp, "tpu-v5p-11776", "europe-west4", ON_DEMAND).usd_per_hour == 25038.72


def test_gcp_v8_totals(gcp):
    assert gcp.tally.records == 1244
    assert len(gcp.offers) == 612
    assert Counter(o.price_regime for o in gcp.offers) == Counter({ON_DEMAND: 312, SPOT: 300})


# --- Lambda, RunPod, OCI, Azure ----------------------------------------------------


def test_lambda_price_is_for_the_whole_instance():
    result = parse_file(SAMPLES / "lambda_vms.sample.csv")
    offer = find(result, "gpu_8x_h100_sxm5", "us-east-1", ON_DEMAND)
    assert (offer.usd_per_hour, offer.accelerators_per_instance) == (23.92, 8)
    assert offer.usd_per_accelerator_hour == pytest.approx(2.99)
    assert offer.zone == ""
    # the instance name, not AcceleratorName "H100", marks the PCIe part
    assert find(result, "gpu_1x_h100_pcie", "us-east-1", ON_DEMAND).accelerator == "H100-PCIe"
    assert find(result, "gpu_1x_gh200", "us-east-1", ON_DEMAND).accelerator == "GH200"
    assert result.tally.skipped == Counter({skypilot.CPU_ONLY: 1})
    assert not [o for o in result.offers if o.price_regime is SPOT]  # SpotPrice is empty


def test_lambda_v8_totals():
    result = parse_file(V8 / "lambda" / "vms.csv")
    # 24 instance types x 17 regions; A6000, RTX6000, V100 (6 types) are not modelled
    assert result.tally.records == 408
    assert len(result.offers) == 16 * 17
    assert result.tally.unmapped == Counter({skypilot.UNKNOWN_ACCELERATOR: 6 * 17})
    assert result.tally.skipped == Counter({skypilot.CPU_ONLY: 2 * 17})
    assert find(result, "gpu_8x_b200_sxm6", "us-east-1", ON_DEMAND).usd_per_hour == 53.52


def test_runpod_v7_names_pcie_bare_and_sxm_with_suffix():
    result = parse_file(SAMPLES / "runpod_vms.sample.csv")
    pcie = find(result, "1x_A100-80GB_SECURE", "US", ON_DEMAND)
    assert (pcie.accelerator, pcie.usd_per_hour, pcie.zone) == ("A100-PCIe-80GB", 1.64, "US-TX-3")
    assert find(result, "1x_A100-80GB_SECURE", "CA", SPOT).usd_per_hour == 1.19
    sxm = find(result, "8x_A100-80GB-SXM_SECURE", "US", ON_DEMAND)
    assert (sxm.accelerator, sxm.accelerators_per_instance, sxm.usd_per_hour) == (
        "A100-SXM-80GB",
        8,
        15.12,
    )
    assert len(result.offers) == 8


def test_oci_prices_are_emitted_per_region():
    result = parse_file(V8 / "oci" / "vms.csv")
    for region in ("af-casablanca-1", "af-johannesburg-1"):
        h100 = find(result, "BM.GPU.H100.8", region, ON_DEMAND)
        assert (h100.usd_per_hour, h100.accelerator, h100.accelerators_per_instance) == (
            80.0,
            "H100-SXM",
            8,
        )
    rtx = find(result, "BM.GPU.RTXPRO.8", "af-casablanca-1", ON_DEMAND)
    assert (rtx.accelerator, rtx.accelerators_per_instance) == ("RTX-PRO-6000", 8)
    assert result.tally.records == 131
    assert len(result.offers) == 27
    assert result.tally.unmapped == Counter({skypilot.UNKNOWN_ACCELERATOR: 8})  # P100, V100
    assert result.tally.skipped == Counter({skypilot.CPU_ONLY: 96})


def test_azure_column_order_is_read_by_header_name():
    result = parse_file(SAMPLES / "azure_vms.sample.csv")
    assert result.tally.records == 3
    assert result.tally.skipped == Counter({skypilot.CPU_ONLY: 3})
    gpu_row = "Standard_ND96isr_H100_v5,H100,8.0,96.0,1900,,98.32,35.1,eastus,V2\n"
    header = lines(SAMPLES / "azure_vms.sample.csv")[0]
    (offer, spot) = parse_text(header + gpu_row, "azure_vms.csv").offers
    assert (offer.provider, offer.region, offer.usd_per_hour) == ("azure", "eastus", 98.32)
    assert (spot.price_regime, spot.usd_per_hour) == (SPOT, 35.1)


# --- provider, date, source --------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "provider"),
    [
        ("catalogs/v8/aws/vms.csv", "aws"),
        ("aws_vms.sample.csv", "aws"),
        ("/tmp/gcp/vms.csv", "gcp"),
        ("lambda-vms.csv", "lambda"),
    ],
)
def test_provider_is_inferred_from_the_file_name(file, provider):
    assert skypilot.provider_from_path(file) == provider


def test_an_unknown_provider_asks_for_it():
    data = (SAMPLES / "aws_vms.sample.csv").read_bytes()
    with pytest.raises(FeedError, match="pass the provider"):
        skypilot.parse(data, make_context("downloads/vms.csv"))
    result = skypilot.parse(data, make_context("downloads/vms.csv", provider="aws"))
    assert {o.provider for o in result.offers} == {"aws"}
    with pytest.raises(FeedError, match="unknown provider"):
        skypilot.parse(data, make_context("vms.csv", provider="nowhere"))


def test_offers_are_dated_by_the_observation_day_and_name_the_file():
    result = parse_file(SAMPLES / "aws_vms.sample.csv")
    offer = result.offers[0]
    assert offer.as_of.text == "2026-11-01"
    assert (
        offer.source
        == f"SkyPilot catalog (skypilot-org/skypilot-catalog) {SAMPLES / 'aws_vms.sample.csv'}"
    )


# --- malformed input ---------------------------------------------------------------


def _bad(text: str) -> FeedError:
    with pytest.raises(FeedError) as info:
        parse_text(text)
    return info.value


def test_empty_file_is_an_error():
    error = _bad("  \n")
    assert "empty" in str(error)
    assert error.file == "aws/vms.csv"


def test_truncated_row_names_its_line():
    text = (SAMPLES / "aws_vms.sample.csv").read_text()
    cut = text[: text.index(",us-west-2,usw2-az1")]  # the 5th line loses its last two fields
    error = _bad(cut)
    assert error.record == "line 5"
    assert "truncated" in str(error)


def test_truncated_inside_a_quoted_field_is_an_error():
    text = (SAMPLES / "aws_vms.sample.csv").read_text()
    error = _bad(text[: text.index("'Manufacturer'", 400)])
    assert "truncated" in str(error)


def test_missing_column_is_named():
    text = (SAMPLES / "aws_vms.sample.csv").read_text().replace(",SpotPrice,", ",Spot,", 1)
    error = _bad(text)
    assert error.field == "line 1.SpotPrice"
    assert "SpotPrice" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (",32.7726,6.791500,", ",n/a,6.791500,", "Price"),  # not a number
        (",32.7726,6.791500,", ",-32.7726,6.791500,", "Price"),  # negative
        (",32.7726,6.791500,", ",32.7726,inf,", "SpotPrice"),  # not finite
        ("p4d.24xlarge,A100,8.0,", "p4d.24xlarge,A100,eight,", "AcceleratorCount"),  # wrong type
    ],
)
def test_bad_values_name_line_and_column(old, new, field):
    text = (SAMPLES / "aws_vms.sample.csv").read_text().replace(old, new, 1)
    error = _bad(text)
    assert error.field == f"line 2.{field}"
    assert error.file == "aws/vms.csv"
    assert "Valid:" in str(error)


def test_a_row_naming_nothing_is_an_error():
    header = lines(SAMPLES / "aws_vms.sample.csv")[0]
    error = _bad(header + ",,,,,,1.0,,us-east-1,use1-az1\n")
    assert error.field == "line 2.InstanceType"


def test_non_utf8_bytes_are_an_error():
    with pytest.raises(FeedError, match="UTF-8"):
        skypilot.parse(b"InstanceType\n\xff\xfe\n", make_context("aws/vms.csv"))
