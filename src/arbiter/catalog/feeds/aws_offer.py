"""AWS Price List offer file (Amazon EC2, one region) → offers, from its JSON or CSV form.

Both forms hold the same data: products (one SKU per instance type, OS, tenancy, licence,
capacity status ...) and their price terms. The CSV has one row per (SKU, term, price
dimension); the JSON nests dimensions under ``terms.<OnDemand|Reserved>.<sku>.<term>``.
A *record* is one price dimension in either form, so both forms of one file count alike.

Kept: Linux, shared tenancy, no pre-installed software, no licence fee, ``CapacityStatus``
``Used`` (the others are capacity-reservation rows), accelerator instance types.
``OnDemand`` terms become ``on_demand``; ``Reserved`` terms of class ``standard`` become
``reserved_1y`` / ``reserved_3y`` at their effective hourly rate: the hourly fee plus any
upfront fee spread over the hours of the term (``derived`` is then true).
Convertible RIs are skipped: they trade a higher price for exchangeability, which the
catalog does not model. ``as_of`` is the file's publication day.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.aws_price_list import (
    PRICE_VALID,
    PriceListCsv,
    looks_accelerated,
    parse_usd,
    publication_day,
    region_of_location,
)
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import load_json_object, string_field
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.instance_types import InstanceShape, shape_of
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.units import HOURS_PER_YEAR

PROVIDER = "aws"
SOURCE = "AWS Price List bulk API (pricing.us-east-1.amazonaws.com)"


# Skip and unmap reasons, fixed strings so that counts add up across files.
NOT_COMPUTE = "not a compute instance"
NOT_ACCELERATOR = "not an accelerator instance"
UNKNOWN_TYPE = "unknown instance type"
UNKNOWN_CHIP = "accelerator not in the accelerator table"
UNKNOWN_LOCATION = "unknown location"

_TERM_TYPES = ("OnDemand", "Reserved")
_LEASE_YEARS = {"1yr": 1, "3yr": 3}
_RESERVED_REGIME = {1: PriceRegime.RESERVED_1Y, 3: PriceRegime.RESERVED_3Y}
_OFFERING_CLASSES = ("standard", "convertible")
_PURCHASE_OPTIONS = ("No Upfront", "Partial Upfront", "All Upfront")
_JSON_VALID = "an AWS Price List offer file: a JSON object with publicationDate, products, terms"
_CSV_VALID = "an AWS Price List offer file: metadata lines, then a header line with an SKU column"


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse an offer file in either form: JSON starts with ``{``, anything else is CSV."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    # "[" too: a JSON list is no offer file, and the JSON error says so more clearly.
    if head.startswith((b"{", b"[")):
        return parse_json(data, ctx)
    return parse_csv(data, ctx)


# ---------------------------------------------------------------------------------------------
# What one product is, and whether the catalog wants it


@dataclass(frozen=True, slots=True)
class _Product:
    """The attributes the filters read, under neutral names (JSON and CSV name them apart)."""

    sku: str
    family: str
    instance_type: str
    region_code: str
    location: str
    operating_system: str
    tenancy: str
    license_model: str
    capacity_status: str
    preinstalled_sw: str
    market_option: str
    gpu: str


# _Product field -> (JSON attribute, CSV column)
_ATTRIBUTE_NAMES: dict[str, tuple[str, str]] = {
    "instance_type": ("instanceType", "Instance Type"),
    "region_code": ("regionCode", "Region Code"),
    "location": ("location", "Location"),
    "operating_system": ("operatingSystem", "Operating System"),
    "tenancy": ("tenancy", "Tenancy"),
    "license_model": ("licenseModel", "License Model"),
    "capacity_status": ("capacitystatus", "CapacityStatus"),
    "preinstalled_sw": ("preInstalledSw", "Pre Installed S/W"),
    "market_option": ("marketoption", "MarketOption"),
    "gpu": ("gpu", "GPU"),
}


@dataclass(frozen=True, slots=True)
class _Kept:
    shape: InstanceShape
    region: str


@dataclass(frozen=True, slots=True)
class _Rejected:
    reason: str
    example: str
    unmapped: bool = False


def _judge(p: _Product, known_accelerators: frozenset[str]) -> _Kept | _Rejected:
    # Bare-metal sizes are "Compute Instance (bare metal)".
    if not p.family.startswith("Compute Instance"):
        return _Rejected(NOT_COMPUTE, f"{p.sku} ({p.family or 'no productFamily'})")
    shape = shape_of(PROVIDER, p.instance_type)
    # CPU instances are most of the file: name that first, before the OS and tenancy filters,
    # so that "unmapped" only counts rows that would otherwise have become offers.
    if shape is None and not looks_accelerated(p.instance_type, p.gpu):
        return _Rejected(NOT_ACCELERATOR, p.instance_type or p.sku)
    for attribute, accepted, reason in _FILTERS:
        value: str = getattr(p, attribute)
        if value not in accepted:
            return _Rejected(reason, f"{p.instance_type} ({value or 'none'})")
    return _mapped(p, shape, known_accelerators)


def _mapped(
    p: _Product, shape: InstanceShape | None, known_accelerators: frozenset[str]
) -> _Kept | _Rejected:
    """A wanted product: its shape and region, or why it cannot be mapped."""
    if shape is None:
        return _Rejected(UNKNOWN_TYPE, p.instance_type, unmapped=True)
    if shape.accelerator not in known_accelerators:
        return _Rejected(UNKNOWN_CHIP, f"{p.instance_type} ({shape.accelerator})", unmapped=True)
    region = p.region_code or region_of_location(p.location)
    if not region:
        return _Rejected(UNKNOWN_LOCATION, p.location or p.sku, unmapped=True)
    return _Kept(shape, region)


# What makes a product the plain Linux row the catalog prices: (attribute, accepted, reason).
# An empty value is accepted where older files leave the column blank.
_FILTERS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("operating_system", frozenset({"Linux"}), "operating system is not Linux"),
    (
        "license_model",
        frozenset({"No License required", ""}),
        "licence is not included (bring your own licence)",
    ),
    ("tenancy", frozenset({"Shared"}), "tenancy is not Shared"),
    (
        "capacity_status",
        frozenset({"Used", ""}),
        "capacity-reservation row (CapacityStatus is not Used)",
    ),
    ("preinstalled_sw", frozenset({"NA", ""}), "pre-installed software"),
    ("market_option", frozenset({"OnDemand", ""}), "market option is not OnDemand"),
)


# ---------------------------------------------------------------------------------------------
# Terms and their price dimensions, and the offers they make


@dataclass(frozen=True, slots=True)
class _Dimension:
    unit: str
    usd: float


@dataclass(slots=True)
class _Term:
    """One price term of one SKU; ``record`` names it in errors, ``attr_prefix`` is where
    its term attributes sit (``termAttributes.`` in JSON, top-level columns in CSV)."""

    record: str
    term_type: str
    code: str
    effective_date: str
    lease: str
    offering_class: str
    purchase_option: str
    attr_prefix: str
    dimensions: list[_Dimension] = dataclasses.field(default_factory=list)


class _Builder:
    """Judges products (once per SKU) and turns kept terms into offers; counts the rest."""

    def __init__(self, ctx: FeedContext, as_of: AsOf, form: str) -> None:
        self.ctx = ctx
        self.as_of = as_of
        self.tally = Tally()
        self.offers: list[Offer] = []
        self.source = f"{SOURCE}, EC2 offer file ({form}), {ctx.file}"
        self._verdicts: dict[str, _Kept | _Rejected] = {}

    def verdict(self, sku: str, product: Callable[[], _Product]) -> _Kept | _Rejected:
        hit = self._verdicts.get(sku)
        if hit is None:
            hit = _judge(product(), self.ctx.known_accelerators)
            self._verdicts[sku] = hit
        return hit

    def reject(self, rejected: _Rejected, records: int) -> None:
        count = self.tally.unmap if rejected.unmapped else self.tally.skip
        for _ in range(records):
            count(rejected.reason, rejected.example)

    def term(self, kept: _Kept, term: _Term) -> None:
        if term.term_type == "OnDemand":
            self._on_demand(kept, term)
        else:
            self._reserved(kept, term)

    def _on_demand(self, kept: _Kept, term: _Term) -> None:
        example = kept.shape.instance_type
        for dim in term.dimensions:
            if dim.unit != "Hrs":
                self.tally.skip("price unit is not Hrs", f"{example} ({dim.unit})")
            elif dim.usd == 0:
                self.tally.skip("zero price", example)
            else:
                provenance = f"OnDemand term {term.code}, effectiveDate {term.effective_date}"
                self._add(kept, PriceRegime.ON_DEMAND, dim.usd, "OnDemand", None, provenance)

    def _reserved(self, kept: _Kept, term: _Term) -> None:
        self._check(term, "LeaseContractLength", term.lease, tuple(_LEASE_YEARS))
        self._check(term, "OfferingClass", term.offering_class, _OFFERING_CLASSES)
        self._check(term, "PurchaseOption", term.purchase_option, _PURCHASE_OPTIONS)
        years = _LEASE_YEARS[term.lease]
        records = len(term.dimensions)
        if term.offering_class == "convertible":
            self.reject(
                _Rejected("convertible reserved instance", kept.shape.instance_type), records
            )
            return
        hourly_usd = upfront_usd = 0.0
        for dim in term.dimensions:
            if dim.unit == "Hrs":
                hourly_usd += dim.usd
            elif dim.unit == "Quantity":
                upfront_usd += dim.usd
            else:
                raise FeedError(
                    f"a reserved term has a price dimension in {dim.unit!r}",
                    file=self.ctx.file,
                    record=term.record,
                    field="Unit" if not term.attr_prefix else "priceDimensions.unit",
                    valid="Hrs (the hourly fee) or Quantity (the upfront fee)",
                )
        term_hours = HOURS_PER_YEAR * years
        effective_usd = hourly_usd + upfront_usd / term_hours
        if effective_usd == 0:
            self.reject(_Rejected("zero price", kept.shape.instance_type), records)
            return
        if upfront_usd:
            provenance = (
                f"effective hourly rate = {hourly_usd} USD/h + upfront fee {upfront_usd} USD"
                f" / {term_hours:.0f} h ({years} x {HOURS_PER_YEAR:.0f} h)"
            )
        else:
            provenance = f"{hourly_usd} USD/h, no upfront fee"
        self._add(
            kept,
            _RESERVED_REGIME[years],
            effective_usd,
            f"Reserved {term.lease} {term.offering_class} {term.purchase_option}",
            12 * years,
            f"{provenance}; Reserved term {term.code}, effectiveDate {term.effective_date}",
            derived=upfront_usd > 0,
        )

    def _check(self, term: _Term, name: str, value: str, valid: Sequence[str]) -> None:
        if value not in valid:
            raise FeedError(
                f"unknown {name} {value!r} on a reserved term",
                file=self.ctx.file,
                record=term.record,
                field=f"{term.attr_prefix}{name}",
                valid=", ".join(valid),
            )

    def _add(
        self,
        kept: _Kept,
        regime: PriceRegime,
        usd_per_hour: float,
        source_regime: str,
        term_months: int | None,
        provenance: str,
        derived: bool = False,
    ) -> None:
        self.offers.append(
            Offer(
                provider=PROVIDER,
                region=kept.region,
                instance_type=kept.shape.instance_type,
                accelerator=kept.shape.accelerator,
                accelerators_per_instance=kept.shape.accelerators_per_instance,
                price_regime=regime,
                usd_per_hour=usd_per_hour,
                as_of=self.as_of,
                source=self.source,
                source_regime=source_regime,
                term_months=term_months,
                derived=derived,
                provenance=provenance,
            )
        )

    def result(self) -> FeedResult:
        return FeedResult(
            source=self.source, file=self.ctx.file, offers=tuple(self.offers), tally=self.tally
        )


# ---------------------------------------------------------------------------------------------
# JSON form


def parse_json(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse the JSON offer file (``…/AmazonEC2/<version>/<region>/index.json``)."""
    doc = load_json_object(data, ctx, _JSON_VALID)
    builder = _Builder(
        ctx, publication_day(doc.get("publicationDate"), ctx, "publicationDate"), "JSON"
    )
    products = _as_object(doc.get("products"), ctx, "products")
    terms = _as_object(doc.get("terms"), ctx, "terms")
    for term_type, by_sku in terms.items():
        if term_type not in _TERM_TYPES:
            raise FeedError(
                f"unknown term type {term_type!r}",
                file=ctx.file,
                field=f"terms.{term_type}",
                valid=", ".join(_TERM_TYPES),
            )
        where = f"terms.{term_type}"
        for sku, by_code in _as_object(by_sku, ctx, where).items():
            for code_key, raw_term in _as_object(by_code, ctx, f"{where}.{sku}").items():
                record = f"{where}.{sku}.{code_key}"
                term = _json_term(raw_term, term_type, ctx, record)
                builder.tally.records += len(term.dimensions)
                product = functools.partial(_json_product, products, sku, ctx, record)
                verdict = builder.verdict(sku, product)
                if isinstance(verdict, _Rejected):
                    builder.reject(verdict, len(term.dimensions))
                else:
                    builder.term(verdict, term)
    return builder.result()


def _as_object(value: Any, ctx: FeedContext, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(f"{found}, not an object", file=ctx.file, field=where, valid=_JSON_VALID)
    return value


def _json_product(products: dict[str, Any], sku: str, ctx: FeedContext, record: str) -> _Product:
    raw = products.get(sku)
    if raw is None:
        raise FeedError(
            f"the term is for SKU {sku!r}, which is not under products",
            file=ctx.file,
            record=record,
            valid="a SKU listed under products",
        )
    product = _as_object(raw, ctx, f"products.{sku}")
    attributes = _as_object(product.get("attributes", {}), ctx, f"products.{sku}.attributes")
    where = f"products.{sku}.attributes"
    values = {
        name: string_field(attributes, json_name, ctx, where)
        for name, (json_name, _) in _ATTRIBUTE_NAMES.items()
    }
    family = string_field(product, "productFamily", ctx, f"products.{sku}")
    return _Product(sku=sku, family=family, **values)


def _json_term(raw: Any, term_type: str, ctx: FeedContext, record: str) -> _Term:
    term = _as_object(raw, ctx, record)
    attributes = _as_object(term.get("termAttributes", {}), ctx, f"{record}.termAttributes")
    where = f"{record}.termAttributes"
    out = _Term(
        record=record,
        term_type=term_type,
        code=string_field(term, "offerTermCode", ctx, record),
        effective_date=string_field(term, "effectiveDate", ctx, record),
        lease=string_field(attributes, "LeaseContractLength", ctx, where),
        offering_class=string_field(attributes, "OfferingClass", ctx, where),
        purchase_option=string_field(attributes, "PurchaseOption", ctx, where),
        attr_prefix="termAttributes.",
    )
    dimensions = _as_object(term.get("priceDimensions"), ctx, f"{record}.priceDimensions")
    if not dimensions:
        raise FeedError(
            "the term has no price dimensions",
            file=ctx.file,
            record=record,
            field="priceDimensions",
            valid="at least one price dimension",
        )
    for rate_code, raw_dim in dimensions.items():
        dim_record = f"{record}.priceDimensions.{rate_code}"
        dim = _as_object(raw_dim, ctx, dim_record)
        prices = _as_object(dim.get("pricePerUnit"), ctx, f"{dim_record}.pricePerUnit")
        usd = prices.get("USD")
        if not isinstance(usd, str):
            problem = "missing" if usd is None else f"a JSON {type(usd).__name__}"
            raise FeedError(
                f"the USD price is {problem}",
                file=ctx.file,
                record=dim_record,
                field="pricePerUnit.USD",
                valid=PRICE_VALID,
            )
        unit = string_field(dim, "unit", ctx, dim_record)
        out.dimensions.append(_Dimension(unit, parse_usd(usd, ctx, dim_record, "pricePerUnit.USD")))
    return out


# ---------------------------------------------------------------------------------------------
# CSV form


_CSV_REQUIRED = (
    "SKU",
    "OfferTermCode",
    "TermType",
    "EffectiveDate",
    "Unit",
    "PricePerUnit",
    "Currency",
    "LeaseContractLength",
    "PurchaseOption",
    "OfferingClass",
    "Product Family",
    *(csv_name for name, (_, csv_name) in _ATTRIBUTE_NAMES.items() if name != "region_code"),
)


def parse_csv(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse the CSV offer file (``…/AmazonEC2/<version>/<region>/index.csv``)."""
    table = PriceListCsv(data, ctx, _CSV_REQUIRED, _CSV_VALID)
    as_of = publication_day(table.metadata.get("Publication Date"), ctx, "Publication Date")
    builder = _Builder(ctx, as_of, "CSV")
    col = table.columns
    i_sku, i_code, i_type = col["SKU"], col["OfferTermCode"], col["TermType"]
    i_unit, i_price, i_currency = col["Unit"], col["PricePerUnit"], col["Currency"]
    # The hourly and upfront rows of one RI are separate rows: gather them per term.
    terms: dict[tuple[str, str], tuple[_Kept, _Term]] = {}
    for record, row in table.rows():
        builder.tally.records += 1
        term_type = row[i_type]
        if term_type not in _TERM_TYPES:
            raise FeedError(
                f"unknown TermType {term_type!r}",
                file=ctx.file,
                record=record,
                field="TermType",
                valid=", ".join(_TERM_TYPES),
            )
        usd = parse_usd(row[i_price], ctx, record, "PricePerUnit")
        sku = row[i_sku]
        verdict = builder.verdict(sku, functools.partial(_csv_product, row, col))
        if isinstance(verdict, _Kept) and row[i_currency] != "USD":
            verdict = _Rejected("currency is not USD", row[i_currency])
        if isinstance(verdict, _Rejected):
            builder.reject(verdict, 1)
            continue
        key = (sku, row[i_code])
        if key not in terms:
            terms[key] = (verdict, _csv_term(row, col, record))
        terms[key][1].dimensions.append(_Dimension(row[i_unit], usd))
    for kept, term in terms.values():
        builder.term(kept, term)
    return builder.result()


def _csv_product(row: list[str], col: dict[str, int]) -> _Product:
    values = {
        name: row[col[csv_name]] if csv_name in col else ""
        for name, (_, csv_name) in _ATTRIBUTE_NAMES.items()
    }
    return _Product(sku=row[col["SKU"]], family=row[col["Product Family"]], **values)


def _csv_term(row: list[str], col: dict[str, int], record: str) -> _Term:
    return _Term(
        record=record,
        term_type=row[col["TermType"]],
        code=row[col["OfferTermCode"]],
        effective_date=row[col["EffectiveDate"]],
        lease=row[col["LeaseContractLength"]],
        offering_class=row[col["OfferingClass"]],
        purchase_option=row[col["PurchaseOption"]],
        attr_prefix="",
    )
