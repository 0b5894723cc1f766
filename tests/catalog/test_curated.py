"""The curated price table: names, regions, per-GPU prices and GCP GPU SKUs."""

from pathlib import Path

import pytest

from arbiter.catalog.build import load_source_accelerators
from arbiter.catalog.curated import parse_curated_prices
from arbiter.domain.errors import FeedError, UnknownNameError
from arbiter.domain.offer import PriceRegime

SOURCES = Path(__file__).resolve().parents[2] / "data" / "sources"
ACCS = {a.name: a for a in load_source_accelerators(SOURCES)}
HEADER = "provider,instance_type,accelerator,accelerator_count,region,pricing_regime,usd_per_hour,as_of,source\n"


def parse(rows: str):
    return parse_curated_prices(HEADER + rows, ACCS, file="test.csv")


def test_every_row_of_the_real_table_is_accounted_for():
    offers, tally = parse_curated_prices((SOURCES / "prices.csv").read_text(), ACCS)
    assert tally.records == 251
    gpu_skus = 28
    # each non-SKU row is one offer; SKU rows become derived machine offers or are counted
    derived_from_skus = sum(1 for o in offers if o.provenance.startswith("8 x GPU SKU"))
    assert len(offers) - derived_from_skus == tally.records - gpu_skus
    assert derived_from_skus + sum(tally.skipped.values()) == gpu_skus
    assert not tally.unmapped


def test_aws_az_label_becomes_region_and_zone():
    offers, _ = parse(
        "aws,p5.48xlarge,H100,8,us-east-1 (use1-az6),spot,17.6289,2025-10/2026-09,src\n"
    )
    (offer,) = offers
    assert (offer.region, offer.zone, offer.accelerator) == ("us-east-1", "use1-az6", "H100-SXM")
    assert offer.usd_per_accelerator_hour == pytest.approx(17.6289 / 8)


def test_per_gpu_price_of_a_node_becomes_the_node_price():
    offers, _ = parse(
        "lambda,8x NVIDIA H100 SXM (per GPU),H100,1,us,on_demand,3.99,2026-09-16,src\n"
        "coreweave,HGX H200 (per GPU),H200,1,us,on_demand,6.31,2026-04-30,src\n"
    )
    lam, cw = sorted(offers, key=lambda o: o.provider)[::-1]
    assert (lam.accelerators_per_instance, lam.usd_per_hour) == (8, pytest.approx(31.92))
    assert lam.derived and "3.99 x 8" in lam.provenance
    # no count in the name: the chip's chips_per_node (8 for H200-SXM)
    assert (cw.accelerators_per_instance, cw.usd_per_hour) == (8, pytest.approx(50.48))


def test_source_regimes_map_onto_the_vocabulary_and_keep_their_name():
    offers, _ = parse(
        "gcp,a2-highgpu-8g,A100-40GB,8,us-central1,cud_3y,10.285667,2026-07-30,src\n"
        "runpod,NVIDIA H100 80GB HBM3 (secure cloud),H100-SXM,1,runpod secure cloud,commit_6m,2.601,2025-06-21,src\n"
    )
    by_provider = {o.provider: o for o in offers}
    assert by_provider["gcp"].price_regime is PriceRegime.RESERVED_3Y
    assert by_provider["gcp"].source_regime == "cud_3y"
    assert by_provider["gcp"].term_months == 36
    assert by_provider["runpod"].price_regime is PriceRegime.COMMITTED
    assert by_provider["runpod"].term_months == 6
    assert by_provider["runpod"].region == "secure-cloud"


def test_gcp_gpu_sku_gets_the_host_share_of_the_machine_type():
    rows = (
        "gcp,a3-highgpu-8g,H100,8,us-central1,on_demand,88.49,2026-07-30,src\n"
        "gcp,gpu-sku: Nvidia H100 80GB GPU running in Americas,H100,1,Americas,on_demand,9.796551,2025-06-16,src\n"
        "gcp,gpu-sku: Nvidia H100 80GB GPU attached to DWS Defined Duration VMs running in Americas,"
        "H100,1,Americas,dws_flex_start,4.200761,2025-06-16,src\n"
    )
    offers, tally = parse(rows)
    dws = next(o for o in offers if o.source_regime == "dws_flex_start")
    host = 88.49 - 8 * 9.796551
    assert dws.instance_type == "a3-highgpu-8g"
    assert dws.price_regime is PriceRegime.CAPACITY_BLOCK
    assert dws.usd_per_hour == pytest.approx(8 * 4.200761 + host, abs=1e-6)
    assert dws.derived
    # the on-demand SKU itself is not an offer: the machine's observed price is
    assert tally.skipped["GPU component SKU where the machine-type price is observed"] == 1


def test_gpu_sku_without_a_machine_row_is_counted_not_kept():
    offers, tally = parse(
        "gcp,gpu-sku: H200 141GB GPU running in Americas,H200,1,Americas,on_demand,9.31174,2025-06-16,src\n"
    )
    assert offers == []
    assert sum(tally.skipped.values()) == 1


def test_unknown_accelerator_is_counted_with_an_example():
    offers, tally = parse("aws,dl2q.24xlarge,AI100,8,us-west-2,on_demand,8.9194,2026-01-21,src\n")
    assert offers == []
    assert tally.unmapped["unknown accelerator"] == 1
    assert tally.examples["unmapped: unknown accelerator"] == ["AI100"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("aws,p5.48xlarge,H100,8,us-east-1,on_demand,-1,2026-01-21,src\n", "usd_per_hour"),
        ("aws,p5.48xlarge,H100,8,us-east-1,on_demand,abc,2026-01-21,src\n", "usd_per_hour"),
        ("aws,p5.48xlarge,H100,8,us-east-1,on_demand,55.04,last week,src\n", "as_of"),
    ],
)
def test_bad_rows_name_the_line_and_field(row, field):
    with pytest.raises(FeedError) as info:
        parse(row)
    assert (
        "test.csv" in str(info.value) and "line 2" in str(info.value) and field in str(info.value)
    )


def test_unknown_regime_suggests():
    with pytest.raises(UnknownNameError) as info:
        parse("aws,p5.48xlarge,H100,8,us-east-1,on_demnd,55.04,2026-01-21,src\n")
    assert "on_demand" in info.value.suggestions
