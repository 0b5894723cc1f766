"""The AWS Savings Plans rate-file parser, on the real CSV sample and inputs derived from it.

The sample's two rates are r7g (Graviton, no accelerator) dedicated-tenancy rates, so the
happy paths change one rate into a p5.48xlarge Linux rate. There is no JSON sample: the
JSON inputs are the CSV sample's rows in the documented layout (data/sources/prices.md 6.2).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from arbiter.catalog.feeds import aws_savings_plan
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import PriceRegime
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "aws-savings-plan-rates.sample.csv"
P5_RATE = {
    "DiscountedUsageType": "APE2-BoxUsage:p5.48xlarge",
    "DiscountedOperation": "RunInstances",
    "DiscountedInstanceType": "p5.48xlarge",
    "DiscountedRate": "31.4",
}


def _parts() -> tuple[list[list[str]], list[str], list[dict[str, str]]]:
    """Metadata lines, header, and the rows as dicts by column name."""
    lines = [r for r in csv.reader(io.StringIO(SAMPLE.read_text())) if r]
    header = lines[5]
    return lines[:5], header, [dict(zip(header, r, strict=True)) for r in lines[6:]]


def _csv(meta: list[list[str]], header: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([*meta, header, *([row[name] for name in header] for row in rows)])
    return buf.getvalue().encode()


def _with_p5(**changes: str) -> tuple[list[list[str]], list[str], list[dict[str, str]]]:
    """The sample, its second rate turned into a p5.48xlarge Linux shared-tenancy rate."""
    meta, header, rows = _parts()
    rows[1].update(P5_RATE)
    rows[1].update(changes)
    return meta, header, rows


def _parse(data: bytes) -> FeedResult:
    return aws_savings_plan.parse(data, make_context("savings-plan.csv"))


# ---------------------------------------------------------------------------------------------
# The real sample


def test_sample_tally() -> None:
    result = _parse(SAMPLE.read_bytes())
    assert result.tally.records == 2
    assert not result.offers
    assert result.tally.skipped == {"not an accelerator instance": 2}
    assert result.tally.examples["skipped: not an accelerator instance"] == [
        "r7g.medium",
        "r7g.xlarge",
    ]
    assert not result.tally.unmapped


# ---------------------------------------------------------------------------------------------
# Happy paths


def test_p5_rate_becomes_a_committed_offer() -> None:
    result = _parse(_csv(*_with_p5()))
    assert result.tally.records == 2
    assert result.tally.skipped == {"not an accelerator instance": 1}
    (offer,) = result.offers
    assert offer.provider == "aws"
    assert offer.region == "ap-east-2"
    assert offer.instance_type == "p5.48xlarge"
    assert offer.accelerator == "H100-SXM"
    assert offer.accelerators_per_instance == 8
    assert offer.price_regime == PriceRegime.COMMITTED
    assert offer.term_months == 36
    assert offer.usd_per_hour == 31.4
    assert offer.usd_per_accelerator_hour == pytest.approx(3.925)
    # The sample's Product Family says EC2 Instance Savings Plan (so does its Description).
    assert offer.source_regime == "savings_plan ec2_instance 3yr Partial Upfront"
    assert offer.as_of.text == "2025-06-05"  # EffectiveDate
    assert "file published 2025-09-11T18:44:47Z" in offer.provenance
    assert "3 year Partial Upfront r7g EC2 Instance Savings Plan" in offer.provenance
    assert not offer.derived


def test_compute_plan_one_year_no_upfront() -> None:
    meta, header, rows = _with_p5(
        **{
            "LeaseContractLength": "1",
            "PurchaseOption": "No Upfront",
            "Product Family": "ComputeSavingsPlans",
        }
    )
    (offer,) = _parse(_csv(meta, header, rows)).offers
    assert offer.source_regime == "savings_plan compute 1yr No Upfront"
    assert offer.term_months == 12


def test_instance_type_and_region_fall_back_to_usage_type_and_location() -> None:
    meta, header, rows = _with_p5(DiscountedInstanceType="", DiscountedRegionCode="")
    (offer,) = _parse(_csv(meta, header, rows)).offers
    assert offer.instance_type == "p5.48xlarge"  # from APE2-BoxUsage:p5.48xlarge
    assert offer.region == "ap-east-2"  # from Location "Asia Pacific (Taipei)"


def test_header_without_metadata_lines() -> None:
    _, header, rows = _with_p5()
    result = _parse(_csv([], header, rows))
    (offer,) = result.offers
    assert "file published not given" in offer.provenance


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"DiscountedOperation": "RunInstances:0002"}, "operation is not RunInstances (not Linux)"),
        (
            {"DiscountedUsageType": "APE2-DedicatedUsage:p5.48xlarge"},
            "tenancy is not Shared (dedicated instance or host)",
        ),
        ({"DiscountedServiceCode": "AmazonECS"}, "not an EC2 rate (Fargate, Lambda, SageMaker)"),
        ({"DiscountedRate": "0.0"}, "zero price"),
        ({"Currency": "CNY"}, "currency is not USD"),
    ],
)
def test_rates_outside_the_catalog_are_skipped(changes: dict[str, str], reason: str) -> None:
    result = _parse(_csv(*_with_p5(**changes)))
    assert not result.offers
    assert result.tally.skipped == {"not an accelerator instance": 1, reason: 1}


def test_unknown_gpu_type_is_unmapped() -> None:
    meta, header, rows = _with_p5(
        DiscountedInstanceType="p3.8xlarge", DiscountedUsageType="APE2-BoxUsage:p3.8xlarge"
    )
    result = _parse(_csv(meta, header, rows))
    assert result.tally.unmapped == {"unknown instance type": 1}
    assert result.tally.examples["unmapped: unknown instance type"] == ["p3.8xlarge"]


# ---------------------------------------------------------------------------------------------
# The JSON form


def _json(rows: list[dict[str, str]], meta: list[list[str]]) -> dict[str, Any]:
    """The CSV rows in the JSON layout: products[] and terms.savingsPlan[].rates[]."""
    plans: dict[str, dict[str, Any]] = {}
    products: dict[str, dict[str, Any]] = {}
    for row in rows:
        plan = plans.setdefault(
            row["SKU"],
            {
                "sku": row["SKU"],
                "description": row["Description"],
                "effectiveDate": row["EffectiveDate"],
                "leaseContractLength": {
                    "duration": int(row["LeaseContractLength"]),
                    "unit": row["LeaseContractLengthUnit"],
                },
                "rates": [],
            },
        )
        plan["rates"].append(
            {
                "discountedSku": row["DiscountedSKU"],
                "discountedUsageType": row["DiscountedUsageType"],
                "discountedOperation": row["DiscountedOperation"],
                "discountedServiceCode": row["DiscountedServiceCode"],
                "rateCode": row["RateCode"],
                "unit": row["Unit"],
                "discountedRate": {"price": row["DiscountedRate"], "currency": row["Currency"]},
                "discountedRegionCode": row["DiscountedRegionCode"],
                "discountedInstanceType": row["DiscountedInstanceType"],
            }
        )
        products[row["SKU"]] = {
            "sku": row["SKU"],
            "productFamily": row["Product Family"],
            "serviceCode": row["ServiceCode"],
            "usageType": row["UsageType"],
            "operation": row["Operation"],
            "attributes": {
                "purchaseOption": row["PurchaseOption"],
                "location": row["Location"],
                "instanceType": row["Instance Family"],
            },
        }
    metadata = dict(meta)
    return {
        "version": metadata.get("Version", ""),
        "publicationDate": metadata.get("Publication Date", ""),
        "products": list(products.values()),
        "terms": {"savingsPlan": list(plans.values())},
    }


def _parse_json(doc: dict[str, Any] | bytes) -> FeedResult:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return aws_savings_plan.parse(raw, make_context("savings-plan.json"))


def test_json_sample_rows_tally_like_the_csv() -> None:
    meta, _, rows = _parts()
    result = _parse_json(_json(rows, meta))
    assert "(JSON)" in result.source
    assert result.tally.records == 2
    assert result.tally.skipped == {"not an accelerator instance": 2}


def test_json_p5_rate() -> None:
    meta, _, rows = _with_p5()
    (offer,) = _parse_json(_json(rows, meta)).offers
    assert offer.usd_per_hour == 31.4
    assert offer.source_regime == "savings_plan ec2_instance 3yr Partial Upfront"
    assert offer.term_months == 36
    assert offer.as_of.text == "2025-06-05"


def test_json_without_products_reads_the_description() -> None:
    meta, _, rows = _with_p5()
    doc = _json(rows, meta)
    del doc["products"]
    (offer,) = _parse_json(doc).offers
    assert offer.source_regime == "savings_plan ec2_instance 3yr Partial Upfront"


# ---------------------------------------------------------------------------------------------
# Malformed input


def _error(data: bytes, file: str = "savings-plan.csv") -> FeedError:
    with pytest.raises(FeedError) as info:
        aws_savings_plan.parse(data, make_context(file))
    text = str(info.value)
    assert file in text
    assert "\n" not in text
    return info.value


def test_empty_and_truncated_csv() -> None:
    assert "empty" in str(_error(b""))
    raw = SAMPLE.read_bytes().rstrip()
    error = _error(raw[: raw.rindex(b",AWS Region")])
    assert error.record == "line 8"
    assert "truncated" in str(error)


def test_missing_column() -> None:
    meta, header, rows = _parts()
    header = [h for h in header if h != "DiscountedRate"]
    error = _error(_csv(meta, header, rows))
    assert "lacks the columns DiscountedRate" in str(error)


@pytest.mark.parametrize(
    ("rate", "words"), [("abc", "not a number"), ("-0.04", "negative"), ("", "not a number")]
)
def test_bad_rate(rate: str, words: str) -> None:
    meta, header, rows = _parts()
    rows[0]["DiscountedRate"] = rate
    error = _error(_csv(meta, header, rows))
    assert error.field == "line 7.DiscountedRate"
    assert words in str(error)


@pytest.mark.parametrize(
    ("column", "value", "valid"),
    [
        ("LeaseContractLength", "5", "1 or 3, in years"),
        ("PurchaseOption", "Heavy Utilization", "No Upfront, Partial Upfront, All Upfront"),
        ("EffectiveDate", "soon", "ISO-8601"),
    ],
)
def test_unknown_values(column: str, value: str, valid: str) -> None:
    meta, header, rows = _parts()
    rows[1][column] = value
    error = _error(_csv(meta, header, rows))
    assert error.field == f"line 8.{column}"
    assert valid in str(error)


def test_unknown_plan_kind_on_a_kept_rate() -> None:
    meta, header, rows = _with_p5(**{"Product Family": "Mystery", "Description": "a plan"})
    error = _error(_csv(meta, header, rows))
    assert error.field == "line 8.Product Family"
    assert "ComputeSavingsPlans, EC2InstanceSavingsPlans" in str(error)


def test_malformed_json() -> None:
    meta, _, rows = _parts()
    raw = json.dumps(_json(rows, meta)).encode()
    file = "savings-plan.json"
    assert "not valid JSON" in str(_error(raw[: len(raw) // 2], file))
    assert "not an object" in str(_error(b"[1]", file))

    doc = _json(rows, meta)
    doc["terms"]["savingsPlan"] = doc["terms"]["savingsPlan"][0]
    assert _error(json.dumps(doc).encode(), file).record == "terms.savingsPlan"

    doc = _json(rows, meta)
    doc["terms"]["savingsPlan"][0]["rates"][1] = ["a", "list"]
    assert _error(json.dumps(doc).encode(), file).record == "terms.savingsPlan[0].rates[1]"


@pytest.mark.parametrize(("price", "words"), [("abc", "not a number"), (None, "missing")])
def test_bad_json_price(price: Any, words: str) -> None:
    meta, _, rows = _parts()
    doc = _json(rows, meta)
    doc["terms"]["savingsPlan"][0]["rates"][0]["discountedRate"]["price"] = price
    error = _error(json.dumps(doc).encode(), "savings-plan.json")
    assert error.field == "terms.savingsPlan[0].rates[0].discountedRate.price"
    assert words in str(error)


def test_bad_json_lease() -> None:
    meta, _, rows = _parts()
    doc = _json(rows, meta)
    doc["terms"]["savingsPlan"][0]["leaseContractLength"]["duration"] = 5
    error = _error(json.dumps(doc).encode(), "savings-plan.json")
    assert error.field == "terms.savingsPlan[0].rates[0].LeaseContractLength"
