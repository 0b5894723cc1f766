"""AWS Savings Plans rate file → ``committed`` offers, from its CSV or JSON form.

A rate file (``…/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/<version>/<region>/index.csv``)
lists, for each plan (kind, term, purchase option), the discounted hourly rate of every
usage type it covers. A *record* is one rate.

Kept: EC2 rates for Linux (operation ``RunInstances``) on shared tenancy (usage type
``BoxUsage``) of accelerator instance types. ``DiscountedRate`` is already the effective
hourly rate: an upfront payment pre-pays the hourly commitment and is not added on top.
``as_of`` is the rate's ``EffectiveDate`` day; the file's publication date goes into the
provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.aws_price_list import (
    PriceListCsv,
    looks_accelerated,
    parse_usd,
    region_of_location,
)
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import load_json_object, string_field
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.instance_types import InstanceShape, shape_of
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime

PROVIDER = "aws"
SOURCE = "AWS Price List bulk API (pricing.us-east-1.amazonaws.com)"

NOT_EC2 = "not an EC2 rate (Fargate, Lambda, SageMaker)"
NOT_ACCELERATOR = "not an accelerator instance"
UNKNOWN_TYPE = "unknown instance type"
UNKNOWN_CHIP = "accelerator not in the accelerator table"
UNKNOWN_LOCATION = "unknown location"

_LEASE_YEARS = {"1": 1, "3": 3}
_LEASE_UNITS = ("year", "years", "yr")
_PURCHASE_OPTIONS = ("No Upfront", "Partial Upfront", "All Upfront")
_PLAN_KINDS = {"ComputeSavingsPlans": "compute", "EC2InstanceSavingsPlans": "ec2_instance"}
_PLAN_KIND_WORDS = {"Compute Savings Plan": "compute", "EC2 Instance Savings Plan": "ec2_instance"}
_CSV_VALID = "an AWS Savings Plans rate file: metadata lines, then a header line with an SKU column"
_JSON_VALID = "an AWS Savings Plans rate file: a JSON object with terms.savingsPlan[]"
_CSV_REQUIRED = (
    "SKU",
    "RateCode",
    "Unit",
    "EffectiveDate",
    "DiscountedRate",
    "Currency",
    "DiscountedServiceCode",
    "DiscountedUsageType",
    "DiscountedOperation",
    "PurchaseOption",
    "LeaseContractLength",
    "LeaseContractLengthUnit",
    "Description",
    "Location",
)


@dataclass(frozen=True, slots=True)
class _Rate:
    """One rate, under neutral names (the CSV and the JSON name fields apart)."""

    record: str
    plan_sku: str
    rate_code: str
    description: str
    effective_date: str
    usd: float
    currency: str
    unit: str
    service_code: str
    usage_type: str
    operation: str
    purchase_option: str
    lease: str
    lease_unit: str
    plan_family: str
    region_code: str
    location: str
    instance_type: str


@dataclass(frozen=True, slots=True)
class _Kept:
    shape: InstanceShape
    region: str


@dataclass(frozen=True, slots=True)
class _Rejected:
    reason: str
    example: str
    unmapped: bool = False


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse a rate file in either form: JSON starts with ``{``, anything else is CSV."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    # "[" too: a JSON list is no offer file, and the JSON error says so more clearly.
    if head.startswith((b"{", b"[")):
        return parse_json(data, ctx)
    return parse_csv(data, ctx)


def parse_csv(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse the CSV rate file; metadata lines before the ``SKU,…`` header are optional."""
    table = PriceListCsv(data, ctx, _CSV_REQUIRED, _CSV_VALID)
    builder = _Builder(ctx, table.metadata.get("Publication Date", ""), "CSV")
    col = table.columns

    def cell(row: list[str], name: str) -> str:
        index = col.get(name)
        return row[index] if index is not None else ""

    for record, row in table.rows():
        rate = _Rate(
            record=record,
            plan_sku=cell(row, "SKU"),
            rate_code=cell(row, "RateCode"),
            description=cell(row, "Description"),
            effective_date=cell(row, "EffectiveDate"),
            usd=parse_usd(cell(row, "DiscountedRate"), ctx, record, "DiscountedRate"),
            currency=cell(row, "Currency"),
            unit=cell(row, "Unit"),
            service_code=cell(row, "DiscountedServiceCode"),
            usage_type=cell(row, "DiscountedUsageType"),
            operation=cell(row, "DiscountedOperation"),
            purchase_option=cell(row, "PurchaseOption"),
            lease=cell(row, "LeaseContractLength"),
            lease_unit=cell(row, "LeaseContractLengthUnit"),
            plan_family=cell(row, "Product Family"),
            region_code=cell(row, "DiscountedRegionCode"),
            location=cell(row, "Location"),
            instance_type=cell(row, "DiscountedInstanceType"),
        )
        builder.rate(rate)
    return builder.result()


def parse_json(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse the JSON rate file (``terms.savingsPlan[]``, each plan with its ``rates[]``)."""
    doc = load_json_object(data, ctx, _JSON_VALID)
    publication = doc.get("publicationDate")
    builder = _Builder(ctx, publication if isinstance(publication, str) else "", "JSON")
    products = _products_by_sku(doc.get("products", []), ctx)
    terms = _object(doc.get("terms"), ctx, "terms", None)
    plans = _list(terms.get("savingsPlan"), ctx, "terms.savingsPlan")
    for index, raw_plan in enumerate(plans):
        where = f"terms.savingsPlan[{index}]"
        plan = _object(raw_plan, ctx, where, None)
        for rate in _json_rates(plan, products, ctx, where):
            builder.rate(rate)
    return builder.result()


class _Builder:
    """Judges each rate, caching the instance-type lookups; counts what it does not keep."""

    def __init__(self, ctx: FeedContext, publication: str, form: str) -> None:
        self.ctx = ctx
        self.publication = publication or "not given"
        self.tally = Tally()
        self.offers: list[Offer] = []
        self.source = f"{SOURCE}, Savings Plans rate file ({form}), {ctx.file}"
        self._shapes: dict[str, InstanceShape | str] = {}
        self._days: dict[str, AsOf] = {}

    def rate(self, rate: _Rate) -> None:
        self.tally.records += 1
        years = self._lease_years(rate)
        as_of = self._as_of(rate)
        if rate.purchase_option not in _PURCHASE_OPTIONS:
            raise self._error(
                rate,
                f"unknown purchase option {rate.purchase_option!r}",
                "PurchaseOption",
                ", ".join(_PURCHASE_OPTIONS),
            )
        verdict = self._judge(rate)
        if isinstance(verdict, _Rejected):
            count = self.tally.unmap if verdict.unmapped else self.tally.skip
            count(verdict.reason, verdict.example)
        elif rate.usd == 0:
            self.tally.skip("zero price", verdict.shape.instance_type)
        else:
            self._add(rate, verdict, years, as_of)

    def _judge(self, rate: _Rate) -> _Kept | _Rejected:
        if rate.service_code != "AmazonEC2":
            return _Rejected(NOT_EC2, f"{rate.service_code} ({rate.usage_type})")
        # DiscountedInstanceType is newer than the rest; USE1-BoxUsage:p5.48xlarge says the same.
        instance_type = rate.instance_type or rate.usage_type.partition(":")[2]
        shape = self._shape(instance_type)
        if shape == NOT_ACCELERATOR:
            return _Rejected(NOT_ACCELERATOR, instance_type or rate.usage_type)
        reason = _skip_reason(rate)
        if reason:
            return _Rejected(reason, f"{instance_type} ({rate.usage_type} {rate.operation})")
        if isinstance(shape, str):
            return _Rejected(shape, instance_type, unmapped=True)
        region = rate.region_code or region_of_location(rate.location)
        if not region:
            return _Rejected(UNKNOWN_LOCATION, rate.location or rate.usage_type, unmapped=True)
        return _Kept(shape, region)

    def _add(self, rate: _Rate, kept: _Kept, years: int, as_of: AsOf) -> None:
        kind = self._plan_kind(rate)
        provenance = (
            f"{rate.description}; DiscountedRate is the effective hourly rate (an upfront"
            f" payment pre-pays the commitment); rate {rate.rate_code}, effectiveDate"
            f" {rate.effective_date}, file published {self.publication}"
        )
        self.offers.append(
            Offer(
                provider=PROVIDER,
                region=kept.region,
                instance_type=kept.shape.instance_type,
                accelerator=kept.shape.accelerator,
                accelerators_per_instance=kept.shape.accelerators_per_instance,
                price_regime=PriceRegime.COMMITTED,
                usd_per_hour=rate.usd,
                as_of=as_of,
                source=self.source,
                source_regime=f"savings_plan {kind} {years}yr {rate.purchase_option}",
                term_months=12 * years,
                provenance=provenance,
            )
        )

    def _shape(self, instance_type: str) -> InstanceShape | str:
        hit = self._shapes.get(instance_type)
        if hit is None:
            hit = _classify(instance_type, self.ctx.known_accelerators)
            self._shapes[instance_type] = hit
        return hit

    def _lease_years(self, rate: _Rate) -> int:
        years = _LEASE_YEARS.get(rate.lease)
        if years is None or rate.lease_unit.lower() not in _LEASE_UNITS:
            raise self._error(
                rate,
                f"unknown lease length {rate.lease!r} {rate.lease_unit!r}",
                "LeaseContractLength",
                "1 or 3, in years",
            )
        return years

    def _as_of(self, rate: _Rate) -> AsOf:
        # A file holds a handful of distinct effective dates: parse each once.
        day = self._days.get(rate.effective_date)
        if day is None:
            try:
                day = AsOf.parse(rate.effective_date[:10])
            except ValueError:
                raise self._error(
                    rate,
                    f"{rate.effective_date!r} is not a date",
                    "EffectiveDate",
                    "an ISO-8601 timestamp such as 2025-06-05T18:51:13Z",
                ) from None
            self._days[rate.effective_date] = day
        return day

    def _plan_kind(self, rate: _Rate) -> str:
        kind = _PLAN_KINDS.get(rate.plan_family)
        if kind is None:
            kind = next((k for w, k in _PLAN_KIND_WORDS.items() if w in rate.description), None)
        if kind is None:
            raise self._error(
                rate,
                f"cannot tell the plan kind from {rate.plan_family!r} or {rate.description!r}",
                "Product Family",
                ", ".join(_PLAN_KINDS),
            )
        return kind

    def _error(self, rate: _Rate, message: str, field: str, valid: str) -> FeedError:
        return FeedError(message, file=self.ctx.file, record=rate.record, field=field, valid=valid)

    def result(self) -> FeedResult:
        return FeedResult(
            source=self.source, file=self.ctx.file, offers=tuple(self.offers), tally=self.tally
        )


def _skip_reason(rate: _Rate) -> str:
    """Why an accelerator rate is not the plain Linux hourly rate, or ""."""
    # RunInstances alone is Linux; RunInstances:0002 is Windows, :0010 RHEL and so on.
    if rate.operation != "RunInstances":
        return "operation is not RunInstances (not Linux)"
    if "BoxUsage" not in rate.usage_type:
        return "tenancy is not Shared (dedicated instance or host)"
    if rate.unit != "Hrs":
        return "rate unit is not Hrs"
    if rate.currency != "USD":
        return "currency is not USD"
    return ""


def _classify(instance_type: str, known_accelerators: frozenset[str]) -> InstanceShape | str:
    shape = shape_of(PROVIDER, instance_type)
    if shape is None:
        return UNKNOWN_TYPE if looks_accelerated(instance_type) else NOT_ACCELERATOR
    if shape.accelerator not in known_accelerators:
        return UNKNOWN_CHIP
    return shape


# ---------------------------------------------------------------------------------------------
# JSON form


def _json_rates(
    plan: dict[str, Any], products: dict[str, dict[str, Any]], ctx: FeedContext, where: str
) -> list[_Rate]:
    sku = string_field(plan, "sku", ctx, where)
    description = string_field(plan, "description", ctx, where)
    lease = _object(plan.get("leaseContractLength"), ctx, where, "leaseContractLength")
    duration = lease.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int | str):
        raise FeedError(
            f"the lease duration {duration!r} is not a number",
            file=ctx.file,
            record=where,
            field="leaseContractLength.duration",
            valid="1 or 3",
        )
    product = products.get(sku, {})
    attributes = product.get("attributes", {})
    purchase_option = attributes.get("purchaseOption") if isinstance(attributes, dict) else None
    if not isinstance(purchase_option, str):
        # Plans name their purchase option in the description: "1 year No Upfront …".
        purchase_option = next((p for p in _PURCHASE_OPTIONS if p in description), "")
    family = product.get("productFamily", "")
    common = {
        "plan_sku": sku,
        "description": description,
        "effective_date": string_field(plan, "effectiveDate", ctx, where),
        "purchase_option": purchase_option,
        "lease": str(duration),
        "lease_unit": string_field(lease, "unit", ctx, f"{where}.leaseContractLength"),
        "plan_family": family if isinstance(family, str) else "",
    }
    rates = []
    for index, raw in enumerate(_list(plan.get("rates"), ctx, f"{where}.rates")):
        record = f"{where}.rates[{index}]"
        rate = _object(raw, ctx, record, None)
        price = _object(rate.get("discountedRate"), ctx, record, "discountedRate")
        rates.append(
            _Rate(
                record=record,
                rate_code=string_field(rate, "rateCode", ctx, record),
                usd=_json_price(price.get("price"), ctx, record),
                currency=string_field(price, "currency", ctx, f"{record}.discountedRate"),
                unit=string_field(rate, "unit", ctx, record),
                service_code=string_field(rate, "discountedServiceCode", ctx, record),
                usage_type=string_field(rate, "discountedUsageType", ctx, record),
                operation=string_field(rate, "discountedOperation", ctx, record),
                region_code=string_field(rate, "discountedRegionCode", ctx, record),
                location="",
                instance_type=string_field(rate, "discountedInstanceType", ctx, record),
                **common,
            )
        )
    return rates


def _json_price(value: Any, ctx: FeedContext, record: str) -> float:
    # The Price List writes prices as strings; accept a bare number too, but not a bool.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problem = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(
            f"the price is {problem}",
            file=ctx.file,
            record=record,
            field="discountedRate.price",
            valid="a decimal number >= 0 (USD), as a string",
        )
    return parse_usd(str(value), ctx, record, "discountedRate.price")


def _products_by_sku(value: Any, ctx: FeedContext) -> dict[str, dict[str, Any]]:
    """The plan products (kind and purchase option), by plan SKU; optional in the file."""
    out: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(_list(value, ctx, "products")):
        product = _object(raw, ctx, f"products[{index}]", None)
        sku = product.get("sku")
        if isinstance(sku, str):
            out[sku] = product
    return out


def _object(value: Any, ctx: FeedContext, record: str, field: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(
            f"{found}, not an object", file=ctx.file, record=record, field=field, valid=_JSON_VALID
        )
    return value


def _list(value: Any, ctx: FeedContext, record: str) -> list[Any]:
    if not isinstance(value, list):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(f"{found}, not a list", file=ctx.file, record=record, valid=_JSON_VALID)
    return value
