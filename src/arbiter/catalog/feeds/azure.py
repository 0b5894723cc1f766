"""Azure Retail Prices API (``prices.azure.com/api/retail/prices``) → offers.

One JSON page (or several merged by :func:`arbiter.catalog.feeds.download.fetch_azure_retail`)
holds ``Items``; each item is one meter of one VM size in one region. What becomes an offer:

- ``Consumption`` rows: ``on_demand``, or ``spot`` when the meter name ends in " Spot";
  their ``savingsPlan[]`` entries (2023-01-01-preview API) become ``committed`` offers.
- ``Reservation`` rows: ``reserved_1y`` / ``reserved_3y``. Their ``retailPrice`` is the
  total for the whole term, so it is divided by the hours of the term.

Skipped, and counted: DevTest prices, Windows images, Low Priority meters (being retired,
and not spot), Dedicated Host products, zero prices and VM sizes without accelerators.
The feed does not say which chips a VM size carries; the instance-type table does.
"""

from __future__ import annotations

import math
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import list_field
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.instance_types import InstanceShape, shape_of
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.limits import MAX_USD_PRICE, shown
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.units import HOURS_PER_YEAR

PROVIDER = "azure"
SOURCE = "Azure Retail Prices API (prices.azure.com)"

_TERM_YEARS = {"1 Year": 1, "3 Years": 3}
_RESERVED_REGIME = {1: PriceRegime.RESERVED_1Y, 3: PriceRegime.RESERVED_3Y}
_PRICE_TYPES = ("Consumption", "Reservation", "DevTestConsumption")
_ENVELOPE = "an Azure Retail Prices API response: a JSON object with an Items list"

# Skip and unmap reasons, fixed strings so that counts add up across files.
NOT_ACCELERATOR = "not an accelerator instance"
UNKNOWN_TYPE = "unknown instance type"
UNKNOWN_CHIP = "accelerator not in the accelerator table"


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse one Retail Prices response; every item becomes offers, a skip or an unmap."""
    items = list_field(data, "Items", ctx, _ENVELOPE)
    reader = _Reader(ctx)
    reader.tally.records = len(items)
    for index, item in enumerate(items):
        reader.read(item, index)
    return FeedResult(
        source=reader.source, file=ctx.file, offers=tuple(reader.offers), tally=reader.tally
    )


class _Reader:
    """Turns items into offers; holds the per-file state (tally, caches, date, source)."""

    def __init__(self, ctx: FeedContext) -> None:
        self.ctx = ctx
        self.tally = Tally()
        self.offers: list[Offer] = []
        self.source = f"{SOURCE}, {ctx.file}"
        # The feed carries when a price became effective, not when it was observed.
        self.as_of = AsOf.of_day(ctx.observed_on)
        # shape_of scans the whole table on a miss for Azure (case-insensitive names);
        # a real download repeats each VM size hundreds of times, so look each up once.
        self._shapes: dict[str, InstanceShape | str] = {}

    def read(self, item: Any, index: int) -> None:
        # This runs for every item of a download (100,000s): the common case is kept to
        # plain dict lookups and type checks, and error texts are built only on errors.
        if type(item) is not dict:
            raise self._error(
                f"the item is a JSON {type(item).__name__}, not an object", _record(index), None
            )
        price_type = item.get("type")
        if price_type not in _PRICE_TYPES:
            raise self._error(
                f"unknown price type {price_type!r}",
                _record(index),
                "type",
                ", ".join(_PRICE_TYPES),
            )
        price_usd = item.get("retailPrice")
        if type(price_usd) is not float or not 0.0 <= price_usd < math.inf:
            price_usd = self._price(price_usd, _record(index), "retailPrice")
        sku = item.get("armSkuName", "")
        meter = item.get("meterName", "")
        product = item.get("productName", "")
        if type(sku) is not str or type(meter) is not str or type(product) is not str:
            self._strings(item, _record(index), ("armSkuName", "meterName", "productName"))
        example = sku or meter

        reason = _skip_reason(item, price_type, product, meter)
        if reason:
            self.tally.skip(reason, example)
            return
        shape = self._shape(sku)
        if isinstance(shape, str):
            self._reject(shape, example)
            return
        region = item.get("armRegionName", "")
        if type(region) is not str:
            self._strings(item, _record(index), ("armRegionName",))
        if not region:
            self.tally.skip("no armRegionName (a global meter)", example)
            return
        if price_usd == 0:
            self.tally.skip("zero price", example)
            return
        record = _record(index)
        if price_type == "Reservation":
            self._reservation(item, record, shape, region, price_usd)
        else:
            self._consumption(item, record, shape, region, price_usd, meter)

    def _consumption(
        self,
        item: dict[str, Any],
        record: str,
        shape: InstanceShape,
        region: str,
        price_usd: float,
        meter: str,
    ) -> None:
        spot = meter.endswith(" Spot")
        regime = PriceRegime.SPOT if spot else PriceRegime.ON_DEMAND
        source_regime = "Consumption Spot" if spot else "Consumption"
        self._add(shape, region, regime, price_usd, source_regime, None, _dated(item), False)
        if not spot:
            # Savings plans apply to pay-as-you-go meters only; spot rows carry none.
            self._savings_plans(item, record, shape, region)

    def _reservation(
        self, item: dict[str, Any], record: str, shape: InstanceShape, region: str, total_usd: float
    ) -> None:
        term = item.get("reservationTerm")
        years = _TERM_YEARS.get(term) if isinstance(term, str) else None
        if years is None:
            raise self._error(
                f"unknown reservationTerm {term!r}", record, "reservationTerm", "1 Year, 3 Years"
            )
        hours = HOURS_PER_YEAR * years
        provenance = (
            f"retailPrice {total_usd} USD is the total for {term}; hourly = total / {hours:.0f} h"
            f"; {_dated(item)}"
        )
        self._add(
            shape,
            region,
            _RESERVED_REGIME[years],
            total_usd / hours,
            f"Reservation {term}",
            12 * years,
            provenance,
            True,
        )

    def _savings_plans(
        self, item: dict[str, Any], record: str, shape: InstanceShape, region: str
    ) -> None:
        plans = item.get("savingsPlan")
        if plans is None:
            return
        if not isinstance(plans, list):
            raise self._error(
                f"savingsPlan is a JSON {type(plans).__name__}, not a list",
                record,
                "savingsPlan",
                "a list of {unitPrice, retailPrice, term}",
            )
        for index, plan in enumerate(plans):
            where = f"{record}.savingsPlan[{index}]"
            if not isinstance(plan, dict):
                raise self._error("the entry is not an object", where, None)
            hourly_usd = self._price(plan.get("retailPrice"), where, "retailPrice")
            term = plan.get("term")
            years = _TERM_YEARS.get(term) if isinstance(term, str) else None
            if years is None:
                raise self._error(f"unknown term {term!r}", where, "term", "1 Year, 3 Years")
            if hourly_usd == 0:
                self.tally.skip("zero savings plan price", shape.instance_type)
                continue
            provenance = f"savingsPlan retailPrice is hourly; {_dated(item)}"
            self._add(
                shape,
                region,
                PriceRegime.COMMITTED,
                hourly_usd,
                f"savings_plan {term}",
                12 * years,
                provenance,
                False,
            )

    def _add(
        self,
        shape: InstanceShape,
        region: str,
        regime: PriceRegime,
        usd_per_hour: float,
        source_regime: str,
        term_months: int | None,
        provenance: str,
        derived: bool,
    ) -> None:
        self.offers.append(
            Offer(
                provider=PROVIDER,
                region=region,
                instance_type=shape.instance_type,
                accelerator=shape.accelerator,
                accelerators_per_instance=shape.accelerators_per_instance,
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

    def _shape(self, sku: str) -> InstanceShape | str:
        """The VM size's shape, or the reason it has none (cached per armSkuName)."""
        hit = self._shapes.get(sku)
        if hit is None:
            hit = _classify(sku, self.ctx.known_accelerators)
            self._shapes[sku] = hit
        return hit

    def _reject(self, reason: str, example: str) -> None:
        if reason == NOT_ACCELERATOR:
            self.tally.skip(reason, example)
        else:
            self.tally.unmap(reason, example)

    def _price(self, value: Any, record: str, field: str) -> float:
        # bool is an int in Python; a JSON true is not a price.
        if value is None:
            raise self._error("the price is missing", record, field, "a number >= 0 (USD)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(
                f"the price {value!r} is not a number", record, field, "a number >= 0 (USD)"
            )
        if not 0 <= value <= MAX_USD_PRICE or not math.isfinite(value):
            raise self._error(
                f"the price {shown(value)} is negative or not finite, or out of range",
                record,
                field,
                f"a number >= 0 (USD), at most {MAX_USD_PRICE:,.0f}",
            )
        return float(value)

    def _strings(self, item: dict[str, Any], record: str, fields: tuple[str, ...]) -> None:
        for field in fields:
            value = item.get(field, "")
            if not isinstance(value, str):
                raise self._error(
                    f"{field} is a JSON {type(value).__name__}, not a string",
                    record,
                    field,
                    "a string",
                )

    def _error(
        self, message: str, record: str, field: str | None, valid: str | None = None
    ) -> FeedError:
        return FeedError(message, file=self.ctx.file, record=record, field=field, valid=valid)


def _skip_reason(item: dict[str, Any], price_type: str, product: str, meter: str) -> str:
    """Why a row is outside the catalog, or "" if it is a candidate offer."""
    if price_type == "DevTestConsumption":
        return "dev/test price (DevTestConsumption)"
    if item.get("currencyCode", "USD") != "USD":
        return "currency is not USD"
    if item.get("serviceName", "Virtual Machines") != "Virtual Machines":
        return "not a Virtual Machines meter"
    if item.get("unitOfMeasure", "1 Hour") != "1 Hour":
        return "unit is not 1 Hour"
    return _meter_skip_reason(product, meter)


def _meter_skip_reason(product: str, meter: str) -> str:
    # Low Priority first: its rows are often Windows too, and the meter is the better reason.
    if "Low Priority" in meter:
        return "Low Priority meter"
    if "Windows" in product:
        return "Windows image"
    if "Dedicated" in product:
        return "Dedicated Host product"
    return ""


def _classify(sku: str, known_accelerators: frozenset[str]) -> InstanceShape | str:
    shape = shape_of(PROVIDER, sku)
    if shape is None:
        # N-series (NC, ND, NV, NG, NP) are Azure's GPU and FPGA families: a size we do not
        # know there is a gap in the table, anything else is simply not an accelerator VM.
        return UNKNOWN_TYPE if sku.lower().startswith("standard_n") else NOT_ACCELERATOR
    if shape.accelerator not in known_accelerators:
        return UNKNOWN_CHIP
    return shape


def _record(index: int) -> str:
    return f"Items[{index}]"


def _dated(item: dict[str, Any]) -> str:
    start = item.get("effectiveStartDate")
    return f"effectiveStartDate {start}" if start else "no effectiveStartDate in the feed"
