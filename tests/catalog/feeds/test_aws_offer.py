"""The AWS Price List offer-file parser (JSON and CSV), on the real samples and inputs
derived from them.

The samples hold no GPU instance priced as Linux (m5.large, a Windows BYOL p3.8xlarge, gp3
storage; a Windows SQL c6i.large RI), so the happy paths copy their structure and turn one
product into a p5.48xlarge on Linux.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import pytest

from arbiter.catalog.feeds import aws_offer
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, make_context

JSON_SAMPLE = FEEDS / "aws-price-list-offer.sample.json"
CSV_SAMPLE = FEEDS / "aws-price-list-offer.sample.csv"
M5_SKU = "8D49XP354UEYTHGM"  # m5.large Linux; its one term is a 3yr convertible RI
P3_SKU = "9ZEEN7WWWQKAG292"  # p3.8xlarge Windows BYOL, on-demand 12.24
P5_SKU = "P5X48XLARGE0TEST"
P5_LINUX = {
    "instanceType": "p5.48xlarge",
    "gpu": "8",
    "operatingSystem": "Linux",
    "licenseModel": "No License required",
    "operation": "RunInstances",
    "usagetype": "USE2-BoxUsage:p5.48xlarge",
}


def _parse_json(doc: dict[str, Any] | bytes) -> FeedResult:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return aws_offer.parse_json(raw, make_context("aws-offer.json"))


def _only(result: FeedResult, regime: PriceRegime) -> Offer:
    found = [o for o in result.offers if o.price_regime == regime]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------------------------
# Building inputs from the JSON sample


def _json_doc() -> dict[str, Any]:
    return json.loads(JSON_SAMPLE.read_bytes())


def _renamed(obj: Any, old: str, new: str) -> Any:
    return json.loads(json.dumps(obj).replace(old, new))


def _p5_doc(price_usd: str = "55.04", **attributes: str) -> dict[str, Any]:
    """The sample plus a p5.48xlarge Linux product, copied from the p3.8xlarge, on demand."""
    doc = _json_doc()
    product = _renamed(doc["products"][P3_SKU], P3_SKU, P5_SKU)
    product["attributes"].update(P5_LINUX)
    product["attributes"].update(attributes)
    doc["products"][P5_SKU] = product
    on_demand = _renamed(doc["terms"]["OnDemand"][P3_SKU], P3_SKU, P5_SKU)
    (term,) = on_demand.values()
    (dimension,) = term["priceDimensions"].values()
    dimension["pricePerUnit"]["USD"] = price_usd
    doc["terms"]["OnDemand"][P5_SKU] = on_demand
    return doc


def _add_p5_reserved(
    doc: dict[str, Any],
    code: str,
    attributes: dict[str, str],
    hourly_usd: str | None,
    upfront_usd: str | None,
) -> None:
    """A reserved p5 term, shaped like the sample's one (m5.large: an Upfront Fee dimension)."""
    term = _renamed(doc["terms"]["Reserved"][M5_SKU][f"{M5_SKU}.MZU6U2429S"], M5_SKU, P5_SKU)
    term = _renamed(term, "MZU6U2429S", code)
    term["termAttributes"] = attributes
    dimensions = term["priceDimensions"]
    (upfront_key,) = dimensions
    upfront = dimensions.pop(upfront_key)
    if upfront_usd is not None:
        upfront["pricePerUnit"]["USD"] = upfront_usd
        dimensions[upfront_key] = upfront
    if hourly_usd is not None:
        hourly = copy.deepcopy(upfront)
        hourly.update(unit="Hrs", description="p5.48xlarge reserved instance applied")
        hourly["pricePerUnit"]["USD"] = hourly_usd
        dimensions[f"{P5_SKU}.{code}.6YS6EN2CT7"] = hourly
    doc["terms"]["Reserved"].setdefault(P5_SKU, {})[f"{P5_SKU}.{code}"] = term


def _ri(lease: str, offering_class: str, purchase: str) -> dict[str, str]:
    return {
        "LeaseContractLength": lease,
        "OfferingClass": offering_class,
        "PurchaseOption": purchase,
    }


# ---------------------------------------------------------------------------------------------
# The real JSON sample


def test_json_sample_tally() -> None:
    result = _parse_json(JSON_SAMPLE.read_bytes())
    tally = result.tally
    assert tally.records == 3  # three price dimensions: gp3, p3.8xlarge, the m5.large RI
    assert not result.offers
    assert tally.skipped == {
        "not a compute instance": 1,
        "not an accelerator instance": 1,
        "operating system is not Linux": 1,
    }
    assert not tally.unmapped
    assert tally.examples["skipped: not a compute instance"] == ["M6UGCCQ3CDJQAA37 (Storage)"]
    assert tally.examples["skipped: not an accelerator instance"] == ["m5.large"]
    assert tally.examples["skipped: operating system is not Linux"] == ["p3.8xlarge (Windows)"]


def test_parse_sniffs_json_and_csv() -> None:
    ctx = make_context("x")
    from_json = aws_offer.parse(JSON_SAMPLE.read_bytes(), ctx)
    from_csv = aws_offer.parse(CSV_SAMPLE.read_bytes(), ctx)
    assert "(JSON)" in from_json.source
    assert "(CSV)" in from_csv.source
    assert from_json.tally.records == 3
    assert from_csv.tally.records == 2


# ---------------------------------------------------------------------------------------------
# Happy paths built from the JSON sample


def test_p5_on_demand_from_json() -> None:
    result = _parse_json(_p5_doc())
    assert result.tally.records == 4
    offer = _only(result, PriceRegime.ON_DEMAND)
    assert offer.provider == "aws"
    assert offer.region == "us-east-2"
    assert offer.instance_type == "p5.48xlarge"
    assert offer.accelerator == "H100-SXM"
    assert offer.accelerators_per_instance == 8
    assert offer.usd_per_hour == 55.04
    assert offer.usd_per_accelerator_hour == pytest.approx(6.88)
    assert offer.source_regime == "OnDemand"
    assert offer.as_of.text == "2023-03-22"  # the file's publicationDate
    assert "effectiveDate 2023-03-01T00:00:00Z" in offer.provenance
    assert not offer.derived
    assert offer.source.startswith("AWS Price List bulk API")


def test_partial_upfront_ri_amortises_the_fee() -> None:
    doc = _p5_doc()
    _add_p5_reserved(doc, "PARTIAL1YR", _ri("1yr", "standard", "Partial Upfront"), "30", "100000")
    result = _parse_json(doc)
    assert result.tally.records == 6  # the sample's 3, p5 on demand, the RI's 2 dimensions
    offer = _only(result, PriceRegime.RESERVED_1Y)
    assert offer.usd_per_hour == pytest.approx(30 + 100000 / 8760)
    assert offer.term_months == 12
    assert offer.source_regime == "Reserved 1yr standard Partial Upfront"
    assert offer.derived
    assert "upfront fee 100000.0 USD / 8760 h" in offer.provenance


def test_all_upfront_and_no_upfront_ris() -> None:
    doc = _p5_doc()
    _add_p5_reserved(doc, "ALLUP3YR00", _ri("3yr", "standard", "All Upfront"), "0", "1000000")
    _add_p5_reserved(doc, "NOUP3YR000", _ri("3yr", "standard", "No Upfront"), "40.5", None)
    result = _parse_json(doc)
    by_option = {
        o.source_regime: o for o in result.offers if o.price_regime == PriceRegime.RESERVED_3Y
    }
    all_upfront = by_option["Reserved 3yr standard All Upfront"]
    assert all_upfront.usd_per_hour == pytest.approx(1_000_000 / 26280)
    assert all_upfront.term_months == 36
    assert all_upfront.derived
    no_upfront = by_option["Reserved 3yr standard No Upfront"]
    assert no_upfront.usd_per_hour == 40.5
    assert not no_upfront.derived


def test_convertible_ri_is_skipped_per_dimension() -> None:
    doc = _p5_doc()
    _add_p5_reserved(doc, "CONV1YR000", _ri("1yr", "convertible", "Partial Upfront"), "35", "9000")
    result = _parse_json(doc)
    assert result.tally.skipped["convertible reserved instance"] == 2
    assert [o.price_regime for o in result.offers] == [PriceRegime.ON_DEMAND]


def test_region_from_location_when_region_code_is_missing() -> None:
    doc = _p5_doc()
    del doc["products"][P5_SKU]["attributes"]["regionCode"]
    assert _only(_parse_json(doc), PriceRegime.ON_DEMAND).region == "us-east-2"

    doc["products"][P5_SKU]["attributes"]["location"] = "US West (Los Angeles)"
    result = _parse_json(doc)
    assert result.tally.unmapped == {"unknown location": 1}
    assert result.tally.examples["unmapped: unknown location"] == ["US West (Los Angeles)"]


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({"operatingSystem": "RHEL"}, "operating system is not Linux"),
        (
            {"licenseModel": "Bring your own license"},
            "licence is not included (bring your own licence)",
        ),
        ({"tenancy": "Dedicated"}, "tenancy is not Shared"),
        (
            {"capacitystatus": "UnusedCapacityReservation"},
            "capacity-reservation row (CapacityStatus is not Used)",
        ),
        ({"preInstalledSw": "SQL Web"}, "pre-installed software"),
        ({"marketoption": "CapacityBlock"}, "market option is not OnDemand"),
    ],
)
def test_filtered_gpu_products_are_skipped(attributes: dict[str, str], reason: str) -> None:
    before = _parse_json(_json_doc()).tally.skipped
    result = _parse_json(_p5_doc(**attributes))
    assert not result.offers
    assert result.tally.skipped - before == {reason: 1}


def test_unknown_gpu_instance_types_are_unmapped() -> None:
    # The sample's p3.8xlarge (it has a gpu attribute) and a g4dn (a GPU family), on Linux.
    doc = _p5_doc(instanceType="p3.8xlarge", gpu="4")
    result = _parse_json(doc)
    assert result.tally.unmapped == {"unknown instance type": 1}
    assert result.tally.examples["unmapped: unknown instance type"] == ["p3.8xlarge"]
    doc = _p5_doc(instanceType="g4dn.xlarge")
    del doc["products"][P5_SKU]["attributes"]["gpu"]
    assert _parse_json(doc).tally.unmapped == {"unknown instance type": 1}


def test_zero_on_demand_price_is_skipped() -> None:
    result = _parse_json(_p5_doc(price_usd="0.0000000000"))
    assert result.tally.skipped["zero price"] == 1


# ---------------------------------------------------------------------------------------------
# The CSV form


def _csv_parts() -> tuple[list[list[str]], list[str], list[list[str]]]:
    rows = [r for r in csv.reader(io.StringIO(CSV_SAMPLE.read_text())) if r]
    return rows[:5], rows[5], rows[6:]


def _csv_bytes(meta: list[list[str]], header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([*meta, header, *rows])
    return buf.getvalue().encode()


def _set(header: list[str], row: list[str], values: dict[str, str]) -> list[str]:
    out = list(row)
    for name, value in values.items():
        out[header.index(name)] = value
    return out


P5_CSV = {
    "Instance Type": "p5.48xlarge",
    "Instance Family": "GPU instance",
    "GPU": "8",
    "Operating System": "Linux",
    "Tenancy": "Shared",
    "Pre Installed S/W": "NA",
    "License Model": "No License required",
    "operation": "RunInstances",
    "usageType": "APN1-BoxUsage:p5.48xlarge",
}


def _p5_csv() -> bytes:
    """The sample's RI rows (3yr Partial Upfront standard) turned into p5.48xlarge Linux,
    with new prices, plus an on-demand row."""
    meta, header, (hourly, upfront) = _csv_parts()
    hourly = _set(header, hourly, {**P5_CSV, "PricePerUnit": "20.0000000000"})
    upfront = _set(header, upfront, {**P5_CSV, "PricePerUnit": "300000"})
    on_demand = _set(
        header,
        hourly,
        {
            "OfferTermCode": "JRTCKXETXF",
            "TermType": "OnDemand",
            "PricePerUnit": "55.0400000000",
            "LeaseContractLength": "",
            "PurchaseOption": "",
            "OfferingClass": "",
        },
    )
    return _csv_bytes(meta, header, [hourly, upfront, on_demand])


def _parse_csv(data: bytes) -> FeedResult:
    return aws_offer.parse_csv(data, make_context("aws-offer.csv"))


def test_csv_sample_tally() -> None:
    result = _parse_csv(CSV_SAMPLE.read_bytes())
    assert result.tally.records == 2  # the hourly row and the Upfront Fee row
    assert not result.offers
    assert result.tally.skipped == {"not an accelerator instance": 2}
    assert result.tally.examples["skipped: not an accelerator instance"] == ["c6i.large"]


def test_csv_p5_reserved_and_on_demand() -> None:
    result = _parse_csv(_p5_csv())
    assert result.tally.records == 3
    reserved = _only(result, PriceRegime.RESERVED_3Y)
    assert reserved.usd_per_hour == pytest.approx(20 + 300000 / 26280)
    assert reserved.region == "ap-northeast-1"
    assert reserved.term_months == 36
    assert reserved.source_regime == "Reserved 3yr standard Partial Upfront"
    assert reserved.derived
    assert reserved.as_of.text == "2025-09-12"  # the Publication Date metadata line
    on_demand = _only(result, PriceRegime.ON_DEMAND)
    assert on_demand.usd_per_hour == 55.04
    assert on_demand.usd_per_accelerator_hour == pytest.approx(6.88)


def test_csv_columns_are_read_by_name() -> None:
    # Reverse the column order and drop Region Code: the region then comes from Location.
    meta, header, rows = _csv_parts_of(_p5_csv())
    keep = [i for i, name in enumerate(header) if name != "Region Code"][::-1]
    shuffled = _csv_bytes(meta, [header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    result = _parse_csv(shuffled)
    assert len(result.offers) == 2
    assert {o.region for o in result.offers} == {"ap-northeast-1"}


def _csv_parts_of(data: bytes) -> tuple[list[list[str]], list[str], list[list[str]]]:
    rows = [r for r in csv.reader(io.StringIO(data.decode())) if r]
    return rows[:5], rows[5], rows[6:]


def test_csv_non_usd_currency_is_skipped() -> None:
    meta, header, rows = _csv_parts_of(_p5_csv())
    rows[2] = _set(header, rows[2], {"Currency": "CNY"})
    result = _parse_csv(_csv_bytes(meta, header, rows))
    assert result.tally.skipped == {"currency is not USD": 1}


# ---------------------------------------------------------------------------------------------
# Malformed JSON


def _json_error(data: dict[str, Any] | bytes) -> FeedError:
    with pytest.raises(FeedError) as info:
        _parse_json(data)
    text = str(info.value)
    assert "aws-offer.json" in text
    assert "\n" not in text
    return info.value


def test_json_empty_and_truncated() -> None:
    assert "empty" in str(_json_error(b""))
    raw = JSON_SAMPLE.read_bytes()
    assert "not valid JSON" in str(_json_error(raw[: len(raw) // 3]))


def test_json_wrong_types() -> None:
    assert "not an object" in str(_json_error(b"[]"))
    doc = _json_doc()
    doc["products"] = list(doc["products"].values())
    assert _json_error(doc).field == "products"
    doc = _json_doc()
    doc["terms"]["OnDemand"][P3_SKU] = list(doc["terms"]["OnDemand"][P3_SKU].values())
    assert _json_error(doc).field == f"terms.OnDemand.{P3_SKU}"


def _p3_dimension(doc: dict[str, Any]) -> dict[str, Any]:
    term = doc["terms"]["OnDemand"][P3_SKU][f"{P3_SKU}.JRTCKXETXF"]
    return term["priceDimensions"][f"{P3_SKU}.JRTCKXETXF.6YS6EN2CT7"]


@pytest.mark.parametrize(
    ("price", "words"), [("abc", "not a number"), ("-12.24", "negative"), ("NaN", "not finite")]
)
def test_json_bad_price(price: str, words: str) -> None:
    doc = _json_doc()
    _p3_dimension(doc)["pricePerUnit"]["USD"] = price
    error = _json_error(doc)
    assert (
        error.record
        == f"terms.OnDemand.{P3_SKU}.{P3_SKU}.JRTCKXETXF.priceDimensions.{P3_SKU}.JRTCKXETXF.6YS6EN2CT7"
    )
    assert error.field is not None
    assert error.field.endswith("pricePerUnit.USD")
    assert words in str(error)


def test_json_missing_price() -> None:
    doc = _json_doc()
    _p3_dimension(doc)["pricePerUnit"] = {}
    assert "USD price is missing" in str(_json_error(doc))
    doc = _json_doc()
    _p3_dimension(doc)["pricePerUnit"]["USD"] = 12.24
    assert "is a JSON float" in str(_json_error(doc))
    doc = _json_doc()
    del doc["terms"]["OnDemand"][P3_SKU][f"{P3_SKU}.JRTCKXETXF"]["priceDimensions"]
    assert "priceDimensions" in str(_json_error(doc))


def test_json_unknown_term_type_and_sku() -> None:
    doc = _json_doc()
    doc["terms"]["Spot"] = doc["terms"].pop("OnDemand")
    error = _json_error(doc)
    assert "unknown term type 'Spot'" in str(error)
    assert "Valid: OnDemand, Reserved" in str(error)
    doc = _json_doc()
    doc["products"].pop(P3_SKU)
    assert "not under products" in str(_json_error(doc))


def test_json_bad_publication_date() -> None:
    doc = _json_doc()
    doc["publicationDate"] = "yesterday"
    assert _json_error(doc).field == "publicationDate"
    del doc["publicationDate"]
    assert "missing" in str(_json_error(doc))


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        (_ri("5yr", "standard", "No Upfront"), "LeaseContractLength"),
        (_ri("1yr", "premium", "No Upfront"), "OfferingClass"),
        (_ri("1yr", "standard", "Heavy Utilization"), "PurchaseOption"),
    ],
)
def test_json_unknown_reserved_term_values(attributes: dict[str, str], field: str) -> None:
    doc = _p5_doc()
    _add_p5_reserved(doc, "BADTERM000", attributes, "30", None)
    error = _json_error(doc)
    assert error.field == f"terms.Reserved.{P5_SKU}.{P5_SKU}.BADTERM000.termAttributes.{field}"


# ---------------------------------------------------------------------------------------------
# Malformed CSV


def _csv_error(data: bytes) -> FeedError:
    with pytest.raises(FeedError) as info:
        _parse_csv(data)
    text = str(info.value)
    assert "aws-offer.csv" in text
    assert "\n" not in text
    return info.value


def test_csv_empty_and_not_utf8() -> None:
    assert "empty" in str(_csv_error(b""))
    assert "not UTF-8" in str(_csv_error(CSV_SAMPLE.read_bytes().replace(b"Tokyo", b"T\xffkyo")))


def test_csv_truncated() -> None:
    raw = CSV_SAMPLE.read_bytes().rstrip()
    # Cut inside the last row's last quoted field: an unterminated quote.
    error = _csv_error(raw[:-3])
    assert error.record == "line 8"
    assert "truncated" in str(error)
    # Cut between fields: too few columns.
    cut = raw[: raw.rindex(b',"Yes"')]
    error = _csv_error(cut)
    assert error.record == "line 8"
    assert "columns" in str(error)


def test_csv_without_header_or_columns() -> None:
    meta, header, rows = _csv_parts()
    assert "no header line" in str(_csv_error(_csv_bytes(meta, [], rows)))
    i = header.index("TermType")
    dropped = _csv_bytes(meta, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    assert "lacks the columns TermType" in str(_csv_error(dropped))


@pytest.mark.parametrize(("price", "words"), [("abc", "not a number"), ("-0.1", "negative")])
def test_csv_bad_price(price: str, words: str) -> None:
    meta, header, rows = _csv_parts()
    rows[1] = _set(header, rows[1], {"PricePerUnit": price})
    error = _csv_error(_csv_bytes(meta, header, rows))
    assert error.record == "line 8"
    assert error.field == "line 8.PricePerUnit"
    assert words in str(error)


def test_csv_missing_price() -> None:
    meta, header, rows = _csv_parts()
    rows[0] = _set(header, rows[0], {"PricePerUnit": ""})
    assert _csv_error(_csv_bytes(meta, header, rows)).record == "line 7"


def test_csv_unknown_term_type() -> None:
    meta, header, rows = _csv_parts()
    rows[0] = _set(header, rows[0], {"TermType": "Spot"})
    error = _csv_error(_csv_bytes(meta, header, rows))
    assert error.field == "line 7.TermType"
    assert "OnDemand, Reserved" in str(error)


def test_csv_unknown_lease_on_a_kept_product() -> None:
    meta, header, rows = _csv_parts_of(_p5_csv())
    rows[0] = _set(header, rows[0], {"LeaseContractLength": "2yr"})
    rows[1] = _set(header, rows[1], {"LeaseContractLength": "2yr"})
    error = _csv_error(_csv_bytes(meta, header, rows))
    assert error.field == "line 7.LeaseContractLength"
    assert "1yr, 3yr" in str(error)


def test_csv_missing_publication_date() -> None:
    meta, header, rows = _csv_parts()
    meta = [m for m in meta if m[0] != "Publication Date"]
    assert "publication date is missing" in str(_csv_error(_csv_bytes(meta, header, rows)))
