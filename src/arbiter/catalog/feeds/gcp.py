"""GCP Cloud Billing Catalog SKUs (``cloudbilling.googleapis.com/v1/services/<id>/skus``) → offers.

A page holds ``skus[]`` (and ``nextPageToken``). GCP prices resources, not VMs: a GPU SKU is
the price of one GPU-hour, and the VM's vCPU and RAM are separate SKUs. So each GPU SKU
becomes per-GPU *component* offers (``instance_type`` ``gpu-sku:<description>``, one
accelerator per instance) whose provenance says so; the VM parts (A2 core, RAM ...) are
skipped. TPU SKUs (v5e, v5p, v6e) are priced per chip-hour and become ``tpu-sku:`` offers.

The chip and the regime are only in the text: ``description`` ("Nvidia H100 80GB GPU
attached to DWS Defined Duration VMs running in Americas") and ``category.usageType``:
OnDemand → on_demand, Preemptible → spot, Commit1Yr / Commit3Yr → reserved_1y / reserved_3y,
"DWS Defined Duration" → capacity_block (dws_flex_start), "Calendar Mode" → capacity_block
(dws_calendar). Trimmed captures drop ``category`` and ``serviceRegions``; the usage type and
the region are then read from the description, and the provenance says so.

Price = ``units + nanos / 1e9`` of the last tier of the latest ``pricingInfo`` entry (GPU
SKUs have one tier, from 0). Only hourly (``usageUnit`` "h") USD prices are kept.
``as_of`` is the day of that entry's ``effectiveTime``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import list_field
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.limits import MAX_USD_PER_HOUR, shown
from arbiter.domain.offer import TERM_MONTHS_BY_REGIME, Offer, PriceRegime

PROVIDER = "gcp"
SOURCE = "GCP Cloud Billing Catalog API (cloudbilling.googleapis.com)"
_ENVELOPE = "a Cloud Billing Catalog skus response: a JSON object with a skus list"
_PRICE_VALID = "unitPrice {units: integer string, nanos: integer}, >= 0"
COMPONENT_NOTE = "GPU component only; the VM's vCPU/RAM are billed separately"

# Skip and unmap reasons: fixed strings, so counts add up across files.
NOT_ACCELERATOR = "not an accelerator SKU"
UNKNOWN_ACCELERATOR = "unknown accelerator"
NOT_IN_TABLE = "accelerator not in the accelerator table"
NOT_PER_CHIP = "TPU SKU not priced per chip (v2/v3/v4)"
NOT_HOURLY = "usage unit is not hours"
NOT_USD = "currency is not USD"
ZERO_PRICE = "zero price"
RESERVED_CAPACITY = "reserved-capacity SKU (not calendar mode)"
SOLE_TENANCY = "sole-tenancy SKU"
UNKNOWN_USAGE = "usage type not imported"
NO_REGION = "no serviceRegions and no region in the description"

# Ordered: the more specific description first ("H100 80GB Mega GPU" before "H100 80GB GPU").
# "Plus" is the older name of A3 Mega's GPU.
GPU_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), chip)
    for pattern, chip in (
        (r"\bH100 80GB (?:Mega|Plus) GPU\b", "H100-SXM"),
        (r"\bH100 80GB GPU\b", "H100-SXM"),
        (r"\bH200 141GB GPU\b", "H200-SXM"),
        (r"\bA100 80GB GPU\b", "A100-SXM-80GB"),
        (r"\bA100 GPU\b", "A100-SXM-40GB"),
        (r"\bL4 GPU\b", "L4"),
        (r"\bGB200\b", "GB200"),
        (r"\bB200\b", "B200"),
    )
)
# TPU SKUs say "Tpu v6e", "TPU-v5p", "Tpu v5 lite" ...; v5e and newer are per chip-hour.
_TPU = re.compile(r"\bTpu[-\s]?(v\d+[a-z]*|7x)(?:[-\s]?(lite))?", re.IGNORECASE)
_TPU_PER_CHIP = {"TPU-v5e", "TPU-v5p", "TPU-v6e", "TPU7x"}
_TPU_CHIPS = {
    "v4": "TPU-v4",
    "v5e": "TPU-v5e",
    "v5lite": "TPU-v5e",
    "v5p": "TPU-v5p",
    "v6e": "TPU-v6e",
    "7x": "TPU7x",
}

_USAGE_TYPES: dict[str, tuple[PriceRegime, str]] = {
    "OnDemand": (PriceRegime.ON_DEMAND, "on_demand"),
    "Preemptible": (PriceRegime.SPOT, "spot"),
    "Commit1Yr": (PriceRegime.RESERVED_1Y, "cud_1y"),
    "Commit3Yr": (PriceRegime.RESERVED_3Y, "cud_3y"),
}
# The description names these regimes whatever the usage type says (DWS SKUs are OnDemand).
_DESCRIBED_REGIMES: tuple[tuple[str, PriceRegime, str], ...] = (
    ("DWS Defined Duration", PriceRegime.CAPACITY_BLOCK, "dws_flex_start"),
    ("Calendar Mode", PriceRegime.CAPACITY_BLOCK, "dws_calendar"),
)
_REGION_IN_TEXT = re.compile(r"\bin ([A-Z][\w .-]*?)(?: in Calendar Mode| for \d+ Years?)?$")


@dataclass(frozen=True, slots=True)
class _Chip:
    accelerator: str
    kind: str  # "gpu" or "tpu"


@dataclass(frozen=True, slots=True)
class _Regime:
    regime: PriceRegime
    source_regime: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class _Price:
    usd: float
    as_of: AsOf
    note: str = ""


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse one page of Billing Catalog SKUs; every SKU becomes offers, a skip or an unmap."""
    skus = list_field(data, "skus", ctx, _ENVELOPE)
    reader = _Reader(ctx)
    for index, sku in enumerate(skus):
        reader.read(sku, f"skus[{index}]")
    return FeedResult(
        source=reader.source, file=ctx.file, offers=tuple(reader.offers), tally=reader.tally
    )


def chip_of(description: str) -> tuple[str, str] | None:
    """``(canonical chip, "gpu" | "tpu")`` named by a SKU description, or None."""
    for pattern, chip in GPU_PATTERNS:
        if pattern.search(description):
            return chip, "gpu"
    match = _TPU.search(description)
    if match:
        version = match.group(1).lower() + (match.group(2) or "").lower()
        tpu = _TPU_CHIPS.get(version)
        return (tpu, "tpu") if tpu else None
    return None


class _Reader:
    """Turns SKUs into offers; holds the per-file state."""

    def __init__(self, ctx: FeedContext) -> None:
        self.ctx = ctx
        self.tally = Tally()
        self.offers: list[Offer] = []
        self.source = f"{SOURCE} {ctx.file}"

    def read(self, sku: Any, record: str) -> None:
        self.tally.records += 1
        if not isinstance(sku, dict):
            raise self._error(
                f"the SKU is a JSON {type(sku).__name__}, not an object", record, None
            )
        description = self._text(sku, "description", record, required=True)
        category = self._category(sku, record)
        sku_id = self._text(sku, "skuId", record)
        example = f"{description} ({sku_id})" if sku_id else description
        chip = self._chip(description, category, example)
        if chip is None:
            return
        regime = self._regime(description, category, record, example)
        if regime is None:
            return
        price = self._price(sku, record, example)
        if price is None:
            return
        regions = self._regions(sku, description, record)
        if not regions:
            self.tally.skip(NO_REGION, example)
            return
        for region, region_note in regions:
            self._add(sku, description, chip, regime, price, region, region_note)

    # --- what the SKU is ---

    def _category(self, sku: dict[str, Any], record: str) -> dict[str, Any]:
        category = sku.get("category", {})
        if not isinstance(category, dict):
            raise self._error(
                f"category is a JSON {type(category).__name__}, not an object",
                record,
                "category",
                "an object {resourceFamily, resourceGroup, usageType}",
            )
        return category

    def _chip(self, description: str, category: dict[str, Any], example: str) -> _Chip | None:
        hit = chip_of(description)
        if hit is None:
            group = category.get("resourceGroup", "")
            if group in {"GPU", "TPU"} or re.search(r"\b[GT]PU\b", description, re.IGNORECASE):
                self.tally.unmap(UNKNOWN_ACCELERATOR, example)
            else:
                self.tally.skip(NOT_ACCELERATOR, example)
            return None
        accelerator, kind = hit
        if accelerator not in self.ctx.known_accelerators:
            self.tally.unmap(NOT_IN_TABLE, example)
            return None
        if kind == "tpu" and accelerator not in _TPU_PER_CHIP:
            self.tally.unmap(NOT_PER_CHIP, example)
            return None
        return _Chip(accelerator, kind)

    def _regime(
        self, description: str, category: dict[str, Any], record: str, example: str
    ) -> _Regime | None:
        for phrase, regime, source_regime in _DESCRIBED_REGIMES:
            if phrase in description:
                return _Regime(regime, source_regime)
        if "Sole Tenancy" in description:
            self.tally.skip(SOLE_TENANCY, example)
            return None
        if description.startswith("Reserved"):
            self.tally.skip(RESERVED_CAPACITY, example)
            return None
        usage: Any = category.get("usageType")
        note = ""
        if usage is None:
            usage = _usage_from_text(description)
            note = f"usage type {usage} read from the description (the SKU has no category)"
        if not isinstance(usage, str):
            raise self._error(
                f"usageType is a JSON {type(usage).__name__}, not a string",
                record,
                "category.usageType",
                ", ".join(_USAGE_TYPES),
            )
        if usage not in _USAGE_TYPES:
            self.tally.skip(UNKNOWN_USAGE, f"{usage}: {example}")
            return None
        regime, source_regime = _USAGE_TYPES[usage]
        return _Regime(regime, source_regime, note)

    # --- the price ---

    def _price(self, sku: dict[str, Any], record: str, example: str) -> _Price | None:
        info, where = self._pricing_info(sku, record)
        expression = self._object(info, "pricingExpression", where)
        unit = expression.get("usageUnit")
        if unit != "h":
            self.tally.skip(NOT_HOURLY, f"{unit}: {example}")
            return None
        rates = expression.get("tieredRates")
        if not isinstance(rates, list) or not rates:
            raise self._error(
                "tieredRates is missing or empty",
                where,
                "pricingExpression.tieredRates",
                "a non-empty list of {startUsageAmount, unitPrice}",
            )
        # Tiers rise with usage; the last one is the price of sustained use.
        tier = len(rates) - 1
        rate = rates[tier]
        tier_where = f"{where}.pricingExpression.tieredRates[{tier}]"
        if not isinstance(rate, dict):
            raise self._error("the tier is not an object", tier_where, None)
        unit_price = self._object(rate, "unitPrice", tier_where)
        if unit_price.get("currencyCode", "USD") != "USD":
            self.tally.skip(NOT_USD, example)
            return None
        usd = self._usd(unit_price, f"{tier_where}.unitPrice")
        if usd == 0:
            self.tally.skip(ZERO_PRICE, example)
            return None
        note = f"last of {len(rates)} price tiers" if len(rates) > 1 else ""
        return _Price(usd, self._as_of(info, where), note)

    def _pricing_info(self, sku: dict[str, Any], record: str) -> tuple[dict[str, Any], str]:
        infos = sku.get("pricingInfo")
        if not isinstance(infos, list) or not infos:
            raise self._error(
                "pricingInfo is missing or empty",
                record,
                "pricingInfo",
                "a non-empty list of {pricingExpression, effectiveTime}",
            )
        # Normally one entry; a time-range query returns several, and the latest is current.
        index = max(range(len(infos)), key=lambda i: _effective_time(infos[i]))
        info = infos[index]
        where = f"{record}.pricingInfo[{index}]"
        if not isinstance(info, dict):
            raise self._error("the entry is not an object", where, None)
        return info, where

    def _usd(self, unit_price: dict[str, Any], where: str) -> float:
        # The API sends units as a string and nanos as a number.
        units = _integer(unit_price.get("units", "0"))
        nanos = _integer(unit_price.get("nanos", 0))
        if units is None or nanos is None:
            raise self._error(
                f"units {unit_price.get('units')!r} / nanos {unit_price.get('nanos')!r}"
                " are not integers",
                where,
                "units",
                _PRICE_VALID,
            )
        if not 0 <= units <= MAX_USD_PER_HOUR or not -1e9 < nanos < 1e9:
            raise self._error(
                f"units {shown(units)} / nanos {shown(nanos)} are out of range",
                where,
                "units",
                f"{_PRICE_VALID}, units at most {MAX_USD_PER_HOUR:,} and |nanos| below 1e9",
            )
        # Round away float noise: nanos are exact to 1e-9.
        usd = round(units + nanos / 1e9, 9)
        if usd < 0:
            raise self._error(f"the price {usd} is negative", where, "units", _PRICE_VALID)
        return usd

    def _as_of(self, info: dict[str, Any], where: str) -> AsOf:
        text = info.get("effectiveTime")
        if text is None:
            return AsOf.of_day(self.ctx.observed_on)
        day = _day(text)
        if day is None:
            raise self._error(
                f"effectiveTime {text!r} is not a timestamp",
                where,
                "effectiveTime",
                "an RFC 3339 timestamp such as 2025-06-16T20:08:26Z",
            )
        return AsOf.of_day(day)

    # --- where ---

    def _regions(self, sku: dict[str, Any], description: str, record: str) -> list[tuple[str, str]]:
        """``(region, note)`` pairs: serviceRegions, else the geography in the description."""
        regions = sku.get("serviceRegions")
        if regions is not None:
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                raise self._error(
                    "serviceRegions is not a list of strings",
                    record,
                    "serviceRegions",
                    "a list of region names such as us-central1",
                )
            return [(r, "") for r in regions]
        match = _REGION_IN_TEXT.search(description)
        if match is None:
            return []
        geography = match.group(1).strip()
        note = f"region {geography!r} read from the description (the SKU lists no serviceRegions)"
        return [(re.sub(r"\s+", "-", geography.lower()), note)]

    def _add(
        self,
        sku: dict[str, Any],
        description: str,
        chip: _Chip,
        regime: _Regime,
        price: _Price,
        region: str,
        region_note: str,
    ) -> None:
        what = COMPONENT_NOTE if chip.kind == "gpu" else "TPU price per chip-hour"
        sku_id = sku.get("skuId")
        notes = [what, f"SKU {sku_id}" if sku_id else "", regime.note, price.note, region_note]
        self.offers.append(
            Offer(
                provider=PROVIDER,
                region=region,
                instance_type=f"{chip.kind}-sku:{description}",
                accelerator=chip.accelerator,
                accelerators_per_instance=1,
                price_regime=regime.regime,
                source_regime=regime.source_regime,
                term_months=TERM_MONTHS_BY_REGIME.get(regime.regime),
                usd_per_hour=price.usd,
                as_of=price.as_of,
                source=self.source,
                provenance="; ".join(n for n in notes if n),
            )
        )

    # --- helpers ---

    def _object(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            found = "missing" if value is None else f"a JSON {type(value).__name__}"
            raise self._error(f"{key} is {found}, not an object", where, key, "an object")
        return value

    def _text(self, sku: dict[str, Any], key: str, record: str, *, required: bool = False) -> str:
        value = sku.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            found = "missing" if value is None else repr(value)
            raise self._error(f"{key} is {found}, not a non-empty string", record, key, "a string")
        return value

    def _error(
        self, message: str, record: str, field: str | None, valid: str | None = None
    ) -> FeedError:
        return FeedError(message, file=self.ctx.file, record=record, field=field, valid=valid)


def _usage_from_text(description: str) -> str:
    """The usage type a trimmed SKU (no category) implies by its description."""
    if description.startswith("Commitment"):
        if re.search(r"\b1 Year\b", description):
            return "Commit1Yr"
        if re.search(r"\b3 Years\b", description):
            return "Commit3Yr"
        return "Commitment"  # a term we do not know: skipped as an unknown usage type
    if "Preemptible" in description:
        return "Preemptible"
    return "OnDemand"


def _effective_time(info: Any) -> str:
    value = info.get("effectiveTime", "") if isinstance(info, dict) else ""
    return value if isinstance(value, str) else ""


def _integer(value: Any) -> int | None:
    """An integer from a JSON number or a numeric string; None otherwise (a bool too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _day(text: Any) -> dt.date | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
