"""GCP Cloud Billing Catalog SKUs: the sample page (opencost's test SKUs + a 2025-06 capture)."""

import copy
import json
from collections import Counter
from typing import Any

import pytest

from arbiter.catalog.feeds import gcp
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "gcp-cloud-billing-catalog-skus.sample.json"
FILE = "skus.json"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def parse_doc(doc: Any) -> FeedResult:
    return gcp.parse(json.dumps(doc).encode(), make_context(FILE))


def by_sku(result: FeedResult, sku_id: str) -> list[Offer]:
    return [o for o in result.offers if f"SKU {sku_id}" in o.provenance]


@pytest.fixture(scope="module")
def result() -> FeedResult:
    return gcp.parse(SAMPLE.read_bytes(), make_context(str(SAMPLE)))


def test_gpu_sku_is_a_per_gpu_component_offer_in_each_service_region(result):
    # "Nvidia Tesla A100 GPU running in Americas": units "2", nanos 933908000, 3 regions
    offers = by_sku(result, "039F-D0DA-4055")
    assert [o.region for o in offers] == ["us-central1", "us-east1", "us-west1"]
    for offer in offers:
        assert offer.usd_per_hour == 2.933908
        assert offer.accelerator == "A100-SXM-40GB"
        assert offer.accelerators_per_instance == 1
        assert offer.instance_type == "gpu-sku:Nvidia Tesla A100 GPU running in Americas"
        assert offer.provenance.startswith(gcp.COMPONENT_NOTE)
        assert offer.as_of.text == "2023-03-24"  # effectiveTime 2023-03-24T10:52:50.681Z
        assert (offer.price_regime, offer.source_regime) == (PriceRegime.ON_DEMAND, "on_demand")


def test_vm_parts_are_skipped(result):
    assert result.tally.skipped == Counter({gcp.NOT_ACCELERATOR: 1})  # A2 Instance Core
    assert not by_sku(result, "2922-40C5-B19F")


@pytest.mark.parametrize(
    ("sku_id", "regime", "source_regime", "term_months", "usd"),
    [
        ("D4E2-451A-15B9", PriceRegime.ON_DEMAND, "on_demand", None, 9.796550569),
        ("7A6D-F74C-B0A3", PriceRegime.SPOT, "spot", None, 2.253),
        ("302A-B1A1-06DD", PriceRegime.RESERVED_1Y, "cud_1y", 12, 6.79880857),
        ("2C3A-BAB7-8C82", PriceRegime.RESERVED_3Y, "cud_3y", 36, 4.299898566),
        ("341A-49A5-0C07", PriceRegime.CAPACITY_BLOCK, "dws_flex_start", None, 4.200761),
        ("AE60-7D45-1DF5", PriceRegime.CAPACITY_BLOCK, "dws_calendar", None, 4.570090841),
    ],
)
def test_regime_comes_from_description_and_usage_type(
    result, sku_id, regime, source_regime, term_months, usd
):
    (offer,) = by_sku(result, sku_id)
    assert (offer.price_regime, offer.source_regime, offer.term_months) == (
        regime,
        source_regime,
        term_months,
    )
    assert offer.usd_per_hour == usd
    assert offer.accelerator == "H100-SXM"
    assert offer.as_of.text == "2025-06-16"


def test_h200_skus(result):
    (on_demand,) = by_sku(result, "455B-5067-C961")
    (spot,) = by_sku(result, "65B6-35B7-A1E7")
    assert (on_demand.accelerator, on_demand.usd_per_hour) == ("H200-SXM", 9.31174)
    assert (spot.price_regime, spot.usd_per_hour) == (PriceRegime.SPOT, 3.7247)


def test_trimmed_skus_take_usage_type_and_region_from_the_description(result):
    (offer,) = by_sku(result, "302A-B1A1-06DD")  # no category, no serviceRegions
    assert offer.region == "americas"
    assert "read from the description" in offer.provenance
    assert "usage type Commit1Yr" in offer.provenance


def test_sample_totals(result):
    assert result.tally.records == 10
    assert len(result.offers) == 3 + 8
    assert not result.tally.unmapped


@pytest.mark.parametrize(
    ("description", "chip"),
    [
        ("Nvidia Tesla A100 GPU running in Americas", ("A100-SXM-40GB", "gpu")),
        ("Nvidia Tesla A100 80GB GPU running in EMEA", ("A100-SXM-80GB", "gpu")),
        ("Nvidia H100 80GB Mega GPU running in Americas", ("H100-SXM", "gpu")),
        ("Spot Preemptible Nvidia H100 80GB Plus GPU running in Iowa", ("H100-SXM", "gpu")),
        ("H200 141GB GPU running in Americas", ("H200-SXM", "gpu")),
        ("Nvidia L4 GPU running in Belgium", ("L4", "gpu")),
        ("Tpu v6e chip running in Americas", ("TPU-v6e", "tpu")),
        ("TPU v5 lite PodSlice Chip running in Iowa", ("TPU-v5e", "tpu")),
        ("Nvidia Tesla T4 GPU running in Americas", None),
        ("A2 Instance Ram running in Americas", None),
    ],
)
def test_chip_pattern_table(description, chip):
    assert gcp.chip_of(description) == chip


def _with(sku_index: int, **changes: Any) -> dict[str, Any]:
    doc = sample()
    doc["skus"][sku_index].update(changes)
    return doc


def test_unknown_gpu_is_unmapped_and_tpu_skus_are_per_chip():
    doc = sample()
    t4 = copy.deepcopy(doc["skus"][0])
    t4["description"] = "Nvidia Tesla T4 GPU running in Americas"
    tpu = copy.deepcopy(doc["skus"][0])
    tpu["description"] = "Tpu v6e chip running in Americas"
    tpu["category"]["resourceGroup"] = "TPU"
    doc["skus"] = [t4, tpu]
    result = parse_doc(doc)
    assert result.tally.unmapped == Counter({gcp.UNKNOWN_ACCELERATOR: 1})
    assert {o.instance_type for o in result.offers} == {"tpu-sku:Tpu v6e chip running in Americas"}
    assert all(o.accelerator == "TPU-v6e" for o in result.offers)


def test_last_tier_and_latest_pricing_info_are_used():
    doc = sample()
    info = doc["skus"][0]["pricingInfo"][0]
    info["pricingExpression"]["tieredRates"].append(
        {
            "startUsageAmount": 100,
            "unitPrice": {"currencyCode": "USD", "units": "1", "nanos": 500000000},
        }
    )
    older = copy.deepcopy(info)
    older["effectiveTime"] = "2020-01-01T00:00:00Z"
    doc["skus"][0]["pricingInfo"].insert(0, older)  # the older entry comes first in the list
    offers = by_sku(parse_doc(doc), "039F-D0DA-4055")
    assert {o.usd_per_hour for o in offers} == {1.5}
    assert {o.as_of.text for o in offers} == {"2023-03-24"}
    assert "last of 2 price tiers" in offers[0].provenance


def test_non_hourly_and_non_usd_skus_are_skipped():
    doc = sample()
    doc["skus"][0]["pricingInfo"][0]["pricingExpression"]["usageUnit"] = "mo"
    tier = doc["skus"][2]["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]
    tier["unitPrice"]["currencyCode"] = "EUR"
    result = parse_doc(doc)
    assert result.tally.skipped[gcp.NOT_HOURLY] == 1
    assert result.tally.skipped[gcp.NOT_USD] == 1


def test_region_list_is_not_capped():
    regions = [f"region-{i}" for i in range(60)]
    result = parse_doc({"skus": [_with(0, serviceRegions=regions)["skus"][0]]})
    assert [o.region for o in result.offers] == regions


# --- malformed input ---------------------------------------------------------------


def _bad(data: bytes) -> FeedError:
    with pytest.raises(FeedError) as info:
        gcp.parse(data, make_context(FILE))
    assert info.value.file == FILE
    return info.value


def test_empty_file_is_an_error():
    assert "empty" in str(_bad(b""))


def test_truncated_json_is_an_error():
    error = _bad(SAMPLE.read_bytes()[:1500])
    assert "truncated" in str(error)


def test_missing_skus_list_is_an_error():
    error = _bad(json.dumps({"nextPageToken": "x"}).encode())
    assert error.field == "skus"
    assert "Valid:" in str(error)
    assert _bad(b"[]").record is None


@pytest.mark.parametrize(
    ("units", "nanos"),
    [("two", 0), ("-2", 0), ("2", "many"), (True, 0)],
)
def test_bad_prices_name_the_sku(units, nanos):
    doc = sample()
    price = doc["skus"][0]["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]["unitPrice"]
    price.update(units=units, nanos=nanos)
    error = _bad(json.dumps(doc).encode())
    assert error.record == "skus[0].pricingInfo[0].pricingExpression.tieredRates[0].unitPrice"
    assert error.field == f"{error.record}.units"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": 7}, "skus[1].description"),
        ({"category": "Compute"}, "skus[1].category"),
        ({"pricingInfo": []}, "skus[1].pricingInfo"),
        ({"serviceRegions": "us-east1"}, "skus[1].serviceRegions"),
    ],
)
def test_wrong_types_name_the_field(change, field):
    doc = sample()
    doc["skus"][1] = {**sample()["skus"][0], **change}
    assert _bad(json.dumps(doc).encode()).field == field


def test_missing_tiers_and_bad_dates_are_errors():
    doc = sample()
    del doc["skus"][0]["pricingInfo"][0]["pricingExpression"]["tieredRates"]
    assert "tieredRates" in str(_bad(json.dumps(doc).encode()))
    doc = sample()
    doc["skus"][0]["pricingInfo"][0]["effectiveTime"] = "yesterday"
    assert _bad(json.dumps(doc).encode()).field == "skus[0].pricingInfo[0].effectiveTime"


def test_a_sku_that_is_not_an_object_is_an_error():
    assert _bad(json.dumps({"skus": ["039F-D0DA-4055"]}).encode()).record == "skus[0]"
