"""The Azure Retail Prices parser, on the real sample and on inputs derived from it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from arbiter.catalog.feeds import azure
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "azure-retail-prices.sample.json"
H100 = "Standard_ND96isr_H100_v5"
# Indexes of the sample's items (see tests/data/feeds/README.md).
B1S, B16ALS_SAVINGS_PLAN, D8_RESERVATION, H100_LINUX, H100_WINDOWS, H100_SPOT, H100_LOW = range(7)


def _doc() -> dict[str, Any]:
    return json.loads(SAMPLE.read_bytes())


def _parse(data: bytes | dict[str, Any]) -> FeedResult:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return azure.parse(raw, make_context("azure-retail-prices.json"))


def _only(result: FeedResult, regime: PriceRegime) -> Offer:
    found = [o for o in result.offers if o.price_regime == regime]
    assert len(found) == 1, found
    return found[0]


def _with_items(*items: dict[str, Any]) -> dict[str, Any]:
    doc = _doc()
    doc["Items"] = list(items)
    return doc


def _item(index: int, **changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(_doc()["Items"][index])
    item.update(changes)
    return item


# ---------------------------------------------------------------------------------------------
# The real sample


def test_sample_tally_accounts_for_every_item() -> None:
    result = _parse(SAMPLE.read_bytes())
    tally = result.tally
    assert tally.records == 7
    assert len(result.offers) == 2
    assert tally.skipped == {
        "not an accelerator instance": 3,
        "Windows image": 1,
        "Low Priority meter": 1,
    }
    assert not tally.unmapped
    assert len(result.offers) + sum(tally.skipped.values()) == tally.records
    assert tally.examples["skipped: not an accelerator instance"] == [
        "Standard_B1s",
        "Standard_B16als_v2",
        "Standard_D8_v4",
    ]


def test_sample_h100_on_demand() -> None:
    offer = _only(_parse(SAMPLE.read_bytes()), PriceRegime.ON_DEMAND)
    assert offer.provider == "azure"
    assert offer.region == "eastus"
    assert offer.instance_type == H100
    assert offer.accelerator == "H100-SXM"
    assert offer.accelerators_per_instance == 8
    assert offer.usd_per_hour == 98.32
    assert offer.usd_per_accelerator_hour == pytest.approx(12.29)
    assert offer.source_regime == "Consumption"
    assert offer.term_months is None
    assert not offer.derived
    # The feed has no observation date: the context's observed_on dates the offer.
    assert offer.as_of.text == "2026-11-01"
    assert offer.source == "Azure Retail Prices API (prices.azure.com), azure-retail-prices.json"


def test_sample_h100_spot() -> None:
    offer = _only(_parse(SAMPLE.read_bytes()), PriceRegime.SPOT)
    assert offer.usd_per_hour == 18.169536
    assert offer.usd_per_accelerator_hour == pytest.approx(2.271192)
    assert offer.source_regime == "Consumption Spot"


# ---------------------------------------------------------------------------------------------
# Regimes, on items derived from the sample


def test_reservation_is_total_for_term_divided_by_hours() -> None:
    # The sample's only reservation row is a D8 v4; give it a GPU size.
    one_year = _item(D8_RESERVATION, armSkuName=H100)
    three_years = _item(D8_RESERVATION, armSkuName=H100, reservationTerm="3 Years")
    result = _parse(_with_items(one_year, three_years))
    reserved_1y = _only(result, PriceRegime.RESERVED_1Y)
    assert reserved_1y.usd_per_hour == pytest.approx(2377.0 / 8760)
    assert reserved_1y.term_months == 12
    assert reserved_1y.source_regime == "Reservation 1 Year"
    assert reserved_1y.derived
    assert "effectiveStartDate 2020-08-01T00:00:00Z" in reserved_1y.provenance
    assert "/ 8760 h" in reserved_1y.provenance
    reserved_3y = _only(result, PriceRegime.RESERVED_3Y)
    assert reserved_3y.usd_per_hour == pytest.approx(2377.0 / 26280)
    assert reserved_3y.term_months == 36


def test_savings_plan_entries_become_committed_offers() -> None:
    item = _item(B16ALS_SAVINGS_PLAN, armSkuName=H100)
    result = _parse(_with_items(item))
    assert result.tally.records == 1
    assert _only(result, PriceRegime.ON_DEMAND).usd_per_hour == 0.673
    committed = sorted(
        (o for o in result.offers if o.price_regime == PriceRegime.COMMITTED),
        key=lambda o: o.term_months or 0,
    )
    assert [(o.term_months, o.usd_per_hour, o.source_regime) for o in committed] == [
        (12, 0.49129, "savings_plan 1 Year"),
        (36, 0.34323, "savings_plan 3 Years"),
    ]
    assert all(o.region == "australiacentral" for o in committed)
    assert len({o.offer_id for o in result.offers}) == 3


def test_spot_row_does_not_read_savings_plans() -> None:
    plans = _item(B16ALS_SAVINGS_PLAN)["savingsPlan"]
    result = _parse(_with_items(_item(H100_SPOT, savingsPlan=plans)))
    assert [o.price_regime for o in result.offers] == [PriceRegime.SPOT]


def test_arm_sku_name_matches_case_insensitively() -> None:
    result = _parse(_with_items(_item(H100_LINUX, armSkuName=H100.lower())))
    assert _only(result, PriceRegime.ON_DEMAND).instance_type == H100


# ---------------------------------------------------------------------------------------------
# Skipped and unmapped rows


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "DevTestConsumption"}, "dev/test price (DevTestConsumption)"),
        ({"retailPrice": 0.0}, "zero price"),
        ({"productName": "Virtual Machines NDsr H100 v5 Series Dedicated Host"}, None),
        ({"currencyCode": "EUR"}, "currency is not USD"),
        ({"unitOfMeasure": "100 Hours"}, "unit is not 1 Hour"),
        ({"serviceName": "Storage"}, "not a Virtual Machines meter"),
        ({"armRegionName": ""}, "no armRegionName (a global meter)"),
    ],
)
def test_rows_outside_the_catalog_are_skipped(changes: dict[str, Any], reason: str | None) -> None:
    result = _parse(_with_items(_item(H100_LINUX, **changes)))
    assert not result.offers
    assert result.tally.skipped == {reason or "Dedicated Host product": 1}


def test_unknown_n_series_size_is_unmapped_and_other_sizes_skipped() -> None:
    unknown_gpu = _item(H100_LINUX, armSkuName="Standard_NC4as_T4_v3")
    cpu = _item(H100_LINUX, armSkuName="Standard_E8s_v5")
    result = _parse(_with_items(unknown_gpu, unknown_gpu, cpu))
    assert result.tally.unmapped == {"unknown instance type": 2}
    assert result.tally.examples["unmapped: unknown instance type"] == ["Standard_NC4as_T4_v3"]
    assert result.tally.skipped == {"not an accelerator instance": 1}


def test_zero_savings_plan_price_is_counted() -> None:
    item = _item(B16ALS_SAVINGS_PLAN, armSkuName=H100)
    item["savingsPlan"][0]["retailPrice"] = 0.0
    result = _parse(_with_items(item))
    assert result.tally.skipped == {"zero savings plan price": 1}
    assert len(result.offers) == 2


# ---------------------------------------------------------------------------------------------
# Malformed input: one clear FeedError naming the file, the record and the field


def _error(data: bytes | dict[str, Any]) -> FeedError:
    with pytest.raises(FeedError) as info:
        _parse(data)
    error = info.value
    text = str(error)
    assert "azure-retail-prices.json" in text
    assert "\n" not in text
    return error


def test_empty_file() -> None:
    assert "empty" in str(_error(b""))
    assert "empty" in str(_error(b"  \n"))


def test_truncated_json() -> None:
    raw = SAMPLE.read_bytes()
    text = str(_error(raw[: len(raw) // 2]))
    assert "not valid JSON" in text
    assert "truncated" in text


def test_top_level_list() -> None:
    assert "not an object" in str(_error(json.dumps([_doc()]).encode()))


def test_items_not_a_list() -> None:
    doc = _doc()
    doc["Items"] = {"0": doc["Items"][0]}
    error = _error(doc)
    assert error.field == "Items"
    assert "not a list" in str(error)
    doc.pop("Items")
    assert "Items is missing" in str(_error(doc))


def test_item_that_is_not_an_object() -> None:
    doc = _doc()
    doc["Items"][5] = [doc["Items"][5]]
    error = _error(doc)
    assert error.record == "Items[5]"
    assert "not an object" in str(error)


@pytest.mark.parametrize(
    ("value", "words"),
    [("abc", "not a number"), (-1.5, "negative"), (True, "not a number"), (None, "missing")],
)
def test_bad_retail_price(value: Any, words: str) -> None:
    doc = _doc()
    doc["Items"][H100_LINUX]["retailPrice"] = value
    error = _error(doc)
    assert error.record == "Items[3]"
    assert error.field == "Items[3].retailPrice"
    assert words in str(error)
    assert "Valid: a number >= 0 (USD)" in str(error)


def test_bad_price_on_a_skipped_row_still_raises() -> None:
    # A broken feed is broken wherever the break is, not only on rows we keep.
    doc = _doc()
    doc["Items"][H100_WINDOWS]["retailPrice"] = "102.736"
    assert _error(doc).record == "Items[4]"


def test_unknown_price_type() -> None:
    doc = _doc()
    doc["Items"][H100_LINUX]["type"] = "Spot"
    error = _error(doc)
    assert error.field == "Items[3].type"
    assert "Consumption, Reservation, DevTestConsumption" in str(error)


def test_unknown_reservation_term() -> None:
    doc = _with_items(_item(D8_RESERVATION, armSkuName=H100, reservationTerm="5 Years"))
    error = _error(doc)
    assert error.field == "Items[0].reservationTerm"
    assert "1 Year, 3 Years" in str(error)


def test_savings_plan_of_the_wrong_shape() -> None:
    item = _item(B16ALS_SAVINGS_PLAN, armSkuName=H100)
    item["savingsPlan"] = item["savingsPlan"][0]
    assert _error(_with_items(item)).field == "Items[0].savingsPlan"

    item = _item(B16ALS_SAVINGS_PLAN, armSkuName=H100)
    item["savingsPlan"][1]["term"] = "5 Years"
    assert _error(_with_items(item)).field == "Items[0].savingsPlan[1].term"

    item = _item(B16ALS_SAVINGS_PLAN, armSkuName=H100)
    item["savingsPlan"][0]["retailPrice"] = "0.34"
    assert _error(_with_items(item)).field == "Items[0].savingsPlan[0].retailPrice"


def test_sku_name_that_is_not_a_string() -> None:
    doc = _doc()
    doc["Items"][H100_LINUX]["armSkuName"] = ["Standard_ND96isr_H100_v5"]
    assert _error(doc).field == "Items[3].armSkuName"


# ---------------------------------------------------------------------------------------------
# Size: a full GPU download is tens of thousands of items (its speed is measured by
# bench/run.py, never by a timed test)


def test_parses_100k_items() -> None:
    # The sample's items plus GPU reservation and savings-plan rows, so that most of the
    # work is building offers, not skipping: 9 items make 6 offers.
    doc = _doc()
    cycle = [
        *doc["Items"],
        _item(D8_RESERVATION, armSkuName=H100),
        _item(B16ALS_SAVINGS_PLAN, armSkuName=H100),
    ]
    offers_per_cycle = 6
    doc["Items"] = [cycle[i % len(cycle)] for i in range(99_999)]
    raw = json.dumps(doc).encode()
    result = _parse(raw)
    assert result.tally.records == 99_999
    assert len(result.offers) == offers_per_cycle * 99_999 // len(cycle)
