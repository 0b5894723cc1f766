"""dstack gpuhunt catalog CSV (``<provider>.csv`` inside ``v3/<provider>/<version>/catalog.zip``).

Columns (``CATALOG_V2_FIELDS``): ``instance_name, location, price, cpu, memory, gpu_count,
gpu_name, gpu_memory, spot, disk_size, gpu_vendor, flags, cpu_arch, provider_data``; older
catalogs lack the last four. One row per (instance, location, spot); ``price`` is USD per
instance-hour. gpuhunt publishes one file per provider, so the provider comes from
``ctx.provider`` or the file name (``aws.csv``, ``gcp/catalog.csv``).

The chip comes from the instance-type table when it knows the instance, else from
``gpu_name`` and ``gpu_memory`` (A100 with 80 GB is the 80 GB part). TPU rows
(``v5litepod-1``; older catalogs ``tpu-v5litepod-1``) are one slice: chips from the name.
GCP locations are zones: one offer per region is kept, the cheapest zone's, as for SkyPilot.
The file carries no date: ``as_of`` is ``ctx.observed_on``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.skypilot import (
    Candidate,
    cheapest_per_region,
    provider_from_path,
    to_offer,
    tpu_slice,
)
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.instance_types import shape_of
from arbiter.catalog.names import PROVIDERS, canonical_accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.limits import MAX_NESTING, nesting_depth
from arbiter.domain.offer import PriceRegime

SOURCE = "dstack gpuhunt catalog"
REQUIRED_COLUMNS = (
    "instance_name",
    "location",
    "price",
    "gpu_count",
    "gpu_name",
    "gpu_memory",
    "spot",
)
_HEADER = "a gpuhunt catalog header naming " + ", ".join(REQUIRED_COLUMNS) + " (any order)"
_SPOT_VALUES = {"true": True, "false": False, "1": True, "0": False}

# Skip and unmap reasons: fixed strings, so counts add up across files.
CPU_ONLY = "CPU-only instance"
UNKNOWN_ACCELERATOR = "unknown accelerator"
NOT_IN_TABLE = "accelerator not in the accelerator table"
OTHER_PROVIDER = "instance type of another provider"
NO_COUNT = "accelerator count missing or fractional"
ZERO_PRICE = "zero price"
DUPLICATE = "duplicate row"

_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


@dataclass(frozen=True, slots=True)
class _Row:
    record: str
    instance_name: str
    location: str
    usd_per_hour: float
    gpu_count: float | None
    gpu_name: str
    gpu_memory_gb: float | None
    spot: bool
    gpu_vendor: str
    calendar_mode: bool

    @property
    def example(self) -> str:
        return f"{self.instance_name} {self.location}"


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse one gpuhunt catalog CSV; every row becomes an offer, a skip or an unmap."""
    provider = _provider(ctx)
    tally = Tally()
    seen: set[tuple[object, ...]] = set()
    candidates = []
    for row in _read_rows(data, ctx):
        tally.records += 1
        key = _fields(row)
        if key in seen:
            tally.skip(DUPLICATE, row.example)
            continue
        seen.add(key)
        candidate = _candidate(row, provider, ctx.known_accelerators, tally)
        if candidate is not None:
            candidates.append(candidate)
    as_of = AsOf.of_day(ctx.observed_on)
    source = f"{SOURCE} {ctx.file}"
    offers = tuple(to_offer(c, provider, as_of, source) for c in cheapest_per_region(candidates))
    return FeedResult(source=source, file=ctx.file, offers=offers, tally=tally)


def _provider(ctx: FeedContext) -> str:
    name = (ctx.provider or provider_from_path(ctx.file) or "").strip().lower()
    if name not in PROVIDERS:
        what = f"unknown provider {ctx.provider!r}" if ctx.provider else "no provider given"
        raise FeedError(
            f"{what}, and the file name does not name one (gpuhunt publishes one CSV per"
            " provider, e.g. aws.csv); pass the provider explicitly",
            file=ctx.file,
            valid=", ".join(PROVIDERS),
        )
    return name


def _fields(row: _Row) -> tuple[object, ...]:
    return (
        row.instance_name,
        row.location,
        row.usd_per_hour,
        row.gpu_count,
        row.gpu_name,
        row.gpu_memory_gb,
        row.spot,
        row.calendar_mode,
    )


# --- reading -------------------------------------------------------------------------


def _read_rows(data: bytes, ctx: FeedContext) -> Iterator[_Row]:
    if not data.strip():
        raise FeedError("the file is empty", file=ctx.file, valid=_HEADER)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"not UTF-8 text (byte {exc.start})", file=ctx.file, valid="a UTF-8 CSV file"
        ) from None
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        _check_header(header, ctx)
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue  # a blank line is not a record
            record = f"line {reader.line_num}"
            if len(fields) != len(header):
                raise FeedError(
                    f"the row has {len(fields)} fields but the header has {len(header)};"
                    " the file may be truncated or the row malformed",
                    file=ctx.file,
                    record=record,
                    valid="one value per header column",
                )
            yield _Parser(dict(zip(header, fields, strict=True)), record, ctx).row()
    except csv.Error as exc:
        raise FeedError(
            f"malformed CSV ({exc}); the file may be truncated",
            file=ctx.file,
            record=f"line {reader.line_num}",
            valid="RFC 4180 CSV",
        ) from None


def _check_header(header: list[str], ctx: FeedContext) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FeedError(
            f"the header lacks column(s) {', '.join(missing)}",
            file=ctx.file,
            record="line 1",
            field=missing[0],
            valid=_HEADER,
        )


class _Parser:
    """Typed values of one CSV row; a bad value raises a FeedError naming line and column."""

    def __init__(self, raw: dict[str, str], record: str, ctx: FeedContext) -> None:
        self.raw = raw
        self.record = record
        self.ctx = ctx

    def row(self) -> _Row:
        price = self.number("price", "a number >= 0 (USD per instance-hour)")
        if price is None:
            raise self.error("price", "the price is empty", "a number >= 0 (USD per instance-hour)")
        return _Row(
            record=self.record,
            instance_name=self.raw["instance_name"].strip(),
            location=self.raw["location"].strip(),
            usd_per_hour=price,
            gpu_count=self.number("gpu_count", "empty, or a whole number >= 0"),
            gpu_name=self.raw["gpu_name"].strip(),
            gpu_memory_gb=self.number("gpu_memory", "empty, or a number >= 0 (GB)"),
            spot=self.spot(),
            gpu_vendor=self.raw.get("gpu_vendor", "").strip().lower(),
            calendar_mode=self.provider_data().get("is_dws_calendar_mode") is True,
        )

    def number(self, column: str, valid: str) -> float | None:
        text = self.raw[column].strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.error(column, f"{text!r} is not a number", valid) from None
        if not math.isfinite(value) or value < 0:
            raise self.error(column, f"{text!r} is negative or not finite", valid)
        return value

    def spot(self) -> bool:
        text = self.raw["spot"].strip()
        value = _SPOT_VALUES.get(text.lower())
        if value is None:
            raise self.error("spot", f"{text!r} is not a boolean", "True or False")
        return value

    def provider_data(self) -> dict[str, Any]:
        text = self.raw.get("provider_data", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.error(
                "provider_data", f"not valid JSON ({exc.msg})", "a JSON object"
            ) from None
        except RecursionError:
            raise self.error("provider_data", "nests too deeply", "a JSON object") from None
        if nesting_depth(value) > MAX_NESTING:
            raise self.error(
                "provider_data",
                f"nests more than {MAX_NESTING} levels deep",
                f"a JSON object nesting at most {MAX_NESTING} levels",
            )
        if not isinstance(value, dict):
            raise self.error("provider_data", "not a JSON object", "a JSON object")
        return value

    def error(self, column: str, message: str, valid: str) -> FeedError:
        return FeedError(message, file=self.ctx.file, record=self.record, field=column, valid=valid)


# --- offers --------------------------------------------------------------------------


def _candidate(row: _Row, provider: str, known: frozenset[str], tally: Tally) -> Candidate | None:
    chip = _chip(row, provider, known)
    if isinstance(chip, tuple):
        reason, unmapped = chip
        if unmapped:
            tally.unmap(reason, row.example)
        else:
            tally.skip(reason, row.example)
        return None
    if row.usd_per_hour == 0:
        tally.skip(ZERO_PRICE, row.example)
        return None
    regime, source_regime = _regime(row)
    region, zone = _region_zone(provider, row.location)
    return Candidate(
        instance_type=row.instance_name,
        accelerator=chip.accelerator,
        accelerators_per_instance=chip.accelerators_per_instance,
        region=region,
        zone=zone,
        regime=regime,
        usd_per_hour=row.usd_per_hour,
        source_regime=source_regime,
    )


@dataclass(frozen=True, slots=True)
class _Chip:
    accelerator: str
    accelerators_per_instance: int


def _chip(row: _Row, provider: str, known: frozenset[str]) -> _Chip | tuple[str, bool]:
    """The chip and count, or ``(reason, unmapped)``."""
    by_table = _table_chip(row, provider, known)
    if by_table is not None:
        return by_table
    if not row.gpu_name or not row.gpu_count:
        return CPU_ONLY, False
    if _is_tpu(row):
        return _tpu(row, provider, known)
    return _gpu(row, known)


def _table_chip(row: _Row, provider: str, known: frozenset[str]) -> _Chip | tuple[str, bool] | None:
    """What the instance-type table says, or None if no provider's table knows the name."""
    shape = shape_of(provider, row.instance_name)
    if shape is None:
        misfiled = any(shape_of(p, row.instance_name) for p in PROVIDERS if p != provider)
        return (OTHER_PROVIDER, True) if misfiled else None
    if shape.accelerator not in known:
        return NOT_IN_TABLE, True
    return _Chip(shape.accelerator, shape.accelerators_per_instance)


def _tpu(row: _Row, provider: str, known: frozenset[str]) -> _Chip | tuple[str, bool]:
    # TPUs are Google's only: a TPU row in another provider's file is misfiled.
    if provider != "gcp":
        return OTHER_PROVIDER, True
    tpu = tpu_slice(row.gpu_name, known)
    return (UNKNOWN_ACCELERATOR, True) if tpu is None else _Chip(*tpu)


def _is_tpu(row: _Row) -> bool:
    return row.gpu_vendor == "google" or row.gpu_name.lower().startswith("tpu-")


def _gpu(row: _Row, known: frozenset[str]) -> _Chip | tuple[str, bool]:
    # gpu_name is the bare model (A100); the memory tells the 40 and 80 GB parts apart.
    names = [row.gpu_name]
    if row.gpu_memory_gb:
        names.insert(0, f"{row.gpu_name}-{row.gpu_memory_gb:g}GB")
    accelerator = next((a for a in (canonical_accelerator(n, known) for n in names) if a), None)
    if accelerator is None:
        return UNKNOWN_ACCELERATOR, True
    count = row.gpu_count
    if count is None or count < 1 or not count.is_integer():
        return NO_COUNT, False
    return _Chip(accelerator, int(count))


def _regime(row: _Row) -> tuple[PriceRegime, str]:
    if row.spot:
        return PriceRegime.SPOT, "spot"
    if row.calendar_mode:
        return PriceRegime.CAPACITY_BLOCK, "dws_calendar"
    return PriceRegime.ON_DEMAND, "on_demand"


def _region_zone(provider: str, location: str) -> tuple[str, str]:
    """gpuhunt's GCP locations are zones (us-central1-a); the others are regions."""
    match = _GCP_ZONE.match(location) if provider == "gcp" else None
    return (match.group(1), location) if match else (location, "")
