"""SkyPilot catalog ``vms.csv`` (skypilot-org/skypilot-catalog, schema v7/v8) → offers.

One file per cloud (``catalogs/v8/<cloud>/vms.csv``). Each cloud orders the columns its
own way, so columns are read by header name. ``Price`` is the on-demand USD per instance-hour,
``SpotPrice`` the spot one (empty: none). Rules, and why:

- The accelerator comes from the instance-type table when it knows the instance (SkyPilot
  says ``A100`` for both p4d = A100 40GB and ``A100-80GB`` for p4de), else from
  ``AcceleratorName`` through the alias table. Unknown chips (T4, V100 ...) are unmapped;
  rows without an accelerator are skipped as CPU-only.
- Rows repeat per zone (AWS: once per AZ ID such as ``use1-az4``). One offer is kept per
  (instance type, region, regime): the cheapest zone's, named in ``zone``.
- A missing on-demand price (AWS p5e, trn2: capacity blocks only) is counted as skipped;
  the spot price of the same row is still kept. A missing spot price is normal and not counted.
- GCP splits a GPU VM's price: the host row (``a3-highgpu-8g``) holds the VM part and an
  accelerator row (empty ``InstanceType``, ``AcceleratorName`` ``H100``, count 8) the GPU
  part, per zone. The offer is their sum (``derived``). TPU rows are priced per slice;
  their ``700.0`` prices are placeholders, not prices.
- Identical rows (upstream has some) are counted once and then as duplicates.

The files carry no date: ``as_of`` is the day the file was observed (``ctx.observed_on``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.instance_types import shape_of
from arbiter.catalog.names import PROVIDERS, canonical_accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.regions import local_zone_region

SOURCE = "SkyPilot catalog (skypilot-org/skypilot-catalog)"
REQUIRED_COLUMNS = (
    "InstanceType",
    "AcceleratorName",
    "AcceleratorCount",
    "Price",
    "SpotPrice",
    "Region",
)
_HEADER = "a SkyPilot vms.csv header naming " + ", ".join(REQUIRED_COLUMNS) + " (any order)"
_PRICE_VALID = "empty, or a number >= 0 (USD per instance-hour)"

# SkyPilot's GCP catalog prices TPU slices it has no published price for at 700.0.
TPU_PLACEHOLDER_USD = 700.0

# Skip and unmap reasons: fixed strings, so counts add up across files.
CPU_ONLY = "CPU-only instance"
UNKNOWN_ACCELERATOR = "unknown accelerator"
NOT_IN_TABLE = "accelerator not in the accelerator table"
UNKNOWN_INSTANCE = "unknown instance type"
NO_COUNT = "accelerator count missing or fractional"
NO_ON_DEMAND = "no on-demand price"
ZERO_PRICE = "zero price"
PLACEHOLDER = "placeholder price 700.0"
DUPLICATE = "duplicate row"
NO_HOST = "accelerator row with no host VM row"
NO_ACCELERATOR_ROW = "host VM row with no accelerator row"

_SOURCE_REGIMES = {PriceRegime.ON_DEMAND: "on_demand", PriceRegime.SPOT: "spot"}

# SkyPilot's RunPod catalog names PCIe parts bare and SXM parts with "-SXM" (A100-80GB-SXM,
# H100-SXM), the opposite of the alias table's default for bare names.
_PROVIDER_SPELLINGS: dict[tuple[str, str], str] = {
    ("runpod", "A100-80GB"): "A100-PCIe-80GB",
    ("runpod", "H100"): "H100-PCIe",
}

# Which SkyPilot accelerator rows price the GPUs of a GCP host family. The instance-type
# table gives the chip, but A3 Mega's GPUs are priced under their own name (H100-MEGA).
GCP_HOST_ACCELERATOR_ROWS: tuple[tuple[str, str], ...] = (
    ("a2-highgpu-", "A100"),
    ("a2-megagpu-", "A100"),
    ("a2-ultragpu-", "A100-80GB"),
    ("a3-edgegpu-", "H100"),
    ("a3-highgpu-", "H100"),
    ("a3-megagpu-", "H100-MEGA"),
    ("a3-ultragpu-", "H200"),
    ("a4-highgpu-", "B200"),
    ("a4x-highgpu-", "GB200"),
    ("g2-standard-", "L4"),
)
# GCP's accelerator-optimized families; a host of these the table does not know is a gap.
_GCP_GPU_FAMILY = re.compile(r"^(a\d+[a-z]*|g\d+)-")

# TPU slice names count TensorCores for v4 and v5p (two per chip: tpu-v5p-8 is 4 chips)
# and chips for v5e and v6e (one TensorCore each: tpu-v6e-8 is 8 chips).
TENSORCORES_PER_CHIP: dict[str, int] = {"TPU-v4": 2, "TPU-v5p": 2, "TPU-v5e": 1, "TPU-v6e": 1}
_TPU_SLICE = re.compile(r"(?:tpu-)?(v\d+[a-z]*)-(\d+)")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A priced instance in one zone, before the cheapest zone of its region is chosen."""

    instance_type: str
    accelerator: str
    accelerators_per_instance: int
    region: str
    zone: str
    regime: PriceRegime
    usd_per_hour: float
    source_regime: str = ""
    provenance: str = ""
    derived: bool = False


@dataclass(frozen=True, slots=True)
class _Row:
    record: str
    instance_type: str
    accelerator_name: str
    accelerator_count: float | None
    region: str
    zone: str
    on_demand_usd: float | None
    spot_usd: float | None

    @property
    def example(self) -> str:
        if self.instance_type or self.accelerator_name.lower().startswith("tpu-"):
            name = self.instance_type or self.accelerator_name
        else:  # a GCP accelerator row: name and count
            name = f"{self.accelerator_name} x{self.accelerator_count or 0:g}"
        return f"{name} {self.zone or self.region}"


@dataclass(frozen=True, slots=True)
class _Chip:
    accelerator: str
    count: int


@dataclass(frozen=True, slots=True)
class _Reject:
    reason: str
    unmapped: bool

    def record(self, tally: Tally, example: str) -> None:
        if self.unmapped:
            tally.unmap(self.reason, example)
        else:
            tally.skip(self.reason, example)


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse one SkyPilot ``vms.csv``; every row becomes offers, a skip or an unmap."""
    provider = provider_of(ctx)
    tally = Tally()
    rows = _unique(_read_rows(data, ctx), tally)
    if provider == "gcp":
        candidates = _GcpJoin(ctx.known_accelerators, tally).candidates(rows)
    else:
        candidates = [
            c for row in rows for c in _row_candidates(row, provider, ctx.known_accelerators, tally)
        ]
    as_of = AsOf.of_day(ctx.observed_on)
    source = f"{SOURCE} {ctx.file}"
    offers = tuple(to_offer(c, provider, as_of, source) for c in cheapest_per_region(candidates))
    return FeedResult(source=source, file=ctx.file, offers=offers, tally=tally)


# --- provider ------------------------------------------------------------------------


def provider_of(ctx: FeedContext) -> str:
    """``ctx.provider``, else the cloud named by the file or its folder; else a FeedError."""
    if ctx.provider:
        key = ctx.provider.strip().lower()
        if key not in PROVIDERS:
            raise FeedError(
                f"unknown provider {ctx.provider!r}", file=ctx.file, valid=", ".join(PROVIDERS)
            )
        return key
    inferred = provider_from_path(ctx.file)
    if inferred is None:
        raise FeedError(
            "cannot tell which cloud this catalog file holds from its name or folder;"
            " pass the provider explicitly",
            file=ctx.file,
            valid=f"a provider ({', '.join(PROVIDERS)}), or a file named like aws/vms.csv"
            " or aws_vms.csv",
        )
    return inferred


def provider_from_path(file: str) -> str | None:
    """The provider a file's name or parent folder starts with (``aws_vms.csv``, ``gcp/vms.csv``).

    Only the two nearest path parts are looked at: folders higher up (``/home/lambda/data/``)
    say nothing about the file.
    """
    for part in reversed(PurePath(file).parts[-2:]):
        first = re.split(r"[^a-z0-9]+", part.lower())[0]
        if first in PROVIDERS:
            return first
    return None


# --- reading -------------------------------------------------------------------------


def _read_rows(data: bytes, ctx: FeedContext) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(_text(data, ctx)), strict=True)
    header = _header(reader, ctx)
    try:
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
            yield _row(dict(zip(header, fields, strict=True)), record, ctx)
    except csv.Error as exc:
        raise FeedError(
            f"malformed CSV ({exc}); the file may be truncated",
            file=ctx.file,
            record=f"line {reader.line_num}",
            valid="RFC 4180 CSV",
        ) from None


def _text(data: bytes, ctx: FeedContext) -> str:
    if not data.strip():
        raise FeedError("the file is empty", file=ctx.file, valid=_HEADER)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"not UTF-8 text (byte {exc.start})", file=ctx.file, valid="a UTF-8 CSV file"
        ) from None


def _header(reader: Iterator[list[str]], ctx: FeedContext) -> list[str]:
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise FeedError(f"malformed CSV header ({exc})", file=ctx.file, valid=_HEADER) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FeedError(
            f"the header lacks column(s) {', '.join(missing)}",
            file=ctx.file,
            record="line 1",
            field=missing[0],
            valid=_HEADER,
        )
    return header


def _row(raw: dict[str, str], record: str, ctx: FeedContext) -> _Row:
    if not raw["InstanceType"].strip() and not raw["AcceleratorName"].strip():
        raise FeedError(
            "the row names neither an instance type nor an accelerator",
            file=ctx.file,
            record=record,
            field="InstanceType",
            valid="an InstanceType, or (GCP accelerator and TPU rows) an AcceleratorName",
        )
    return _Row(
        record=record,
        instance_type=raw["InstanceType"].strip(),
        accelerator_name=raw["AcceleratorName"].strip(),
        accelerator_count=_number(raw, "AcceleratorCount", record, ctx, "empty, or a number > 0"),
        region=raw["Region"].strip(),
        zone=raw.get("AvailabilityZone", "").strip(),
        on_demand_usd=_number(raw, "Price", record, ctx, _PRICE_VALID),
        spot_usd=_number(raw, "SpotPrice", record, ctx, _PRICE_VALID),
    )


def _number(
    raw: dict[str, str], column: str, record: str, ctx: FeedContext, valid: str
) -> float | None:
    text = raw[column].strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FeedError(
            f"{text!r} is not a number", file=ctx.file, record=record, field=column, valid=valid
        ) from None
    if not math.isfinite(value) or value < 0:
        raise FeedError(
            f"{text!r} is negative or not finite",
            file=ctx.file,
            record=record,
            field=column,
            valid=valid,
        )
    return value


def _unique(rows: Iterable[_Row], tally: Tally) -> list[_Row]:
    """Rows counted as records; a row identical to an earlier one is skipped as a duplicate."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for row in rows:
        tally.records += 1
        key = dataclasses.astuple(row)[1:]  # everything but the line number
        if key in seen:
            tally.skip(DUPLICATE, row.example)
            continue
        seen.add(key)
        kept.append(row)
    return kept


# --- accelerators --------------------------------------------------------------------


def tpu_slice(name: str, known: Iterable[str]) -> tuple[str, int] | None:
    """``(chip, chips)`` of a TPU slice name (``tpu-v6e-8``, ``v5p-8``), or None if unknown."""
    match = _TPU_SLICE.fullmatch(name.strip().lower())
    if match is None:
        return None
    chip = canonical_accelerator(f"tpu-{match.group(1)}", known)
    cores_per_chip = TENSORCORES_PER_CHIP.get(chip or "")
    size = int(match.group(2))
    if chip is None or cores_per_chip is None or size % cores_per_chip:
        return None
    return chip, size // cores_per_chip


def _chip_of(row: _Row, provider: str, known: frozenset[str]) -> _Chip | _Reject:
    shape = shape_of(provider, row.instance_type)
    if shape is not None:
        if shape.accelerator not in known:
            return _Reject(NOT_IN_TABLE, unmapped=True)
        return _Chip(shape.accelerator, shape.accelerators_per_instance)
    if not row.accelerator_name:
        return _Reject(CPU_ONLY, unmapped=False)
    if row.accelerator_name.lower().startswith("tpu-"):
        tpu = tpu_slice(row.accelerator_name, known)
        return _Reject(UNKNOWN_ACCELERATOR, unmapped=True) if tpu is None else _Chip(*tpu)
    return _named_chip(row, provider, known)


def _named_chip(row: _Row, provider: str, known: frozenset[str]) -> _Chip | _Reject:
    """The chip named by ``AcceleratorName``, for instances the instance-type table lacks."""
    accelerator = canonical_accelerator(_spelling(provider, row), known)
    if accelerator is None:
        return _Reject(UNKNOWN_ACCELERATOR, unmapped=True)
    count = row.accelerator_count
    if count is None or count < 1 or not count.is_integer():
        return _Reject(NO_COUNT, unmapped=False)
    return _Chip(accelerator, int(count))


def _spelling(provider: str, row: _Row) -> str:
    name = _PROVIDER_SPELLINGS.get((provider, row.accelerator_name), row.accelerator_name)
    # Lambda marks PCIe parts in the instance name only (gpu_1x_h100_pcie says "H100").
    if "pcie" in row.instance_type.lower() and "pcie" not in name.lower():
        return f"{name}-PCIe"
    return name


# --- prices --------------------------------------------------------------------------


def _row_candidates(
    row: _Row, provider: str, known: frozenset[str], tally: Tally
) -> list[Candidate]:
    chip = _chip_of(row, provider, known)
    if isinstance(chip, _Reject):
        chip.record(tally, row.example)
        return []
    instance_type = row.instance_type or row.accelerator_name
    return _priced(row, instance_type, chip, tally)


def _priced(row: _Row, instance_type: str, chip: _Chip, tally: Tally) -> list[Candidate]:
    """The on-demand and spot candidates of one self-priced row (not a GCP host)."""
    out = []
    is_tpu = instance_type.lower().startswith("tpu-")
    for regime, usd in (
        (PriceRegime.ON_DEMAND, row.on_demand_usd),
        (PriceRegime.SPOT, row.spot_usd),
    ):
        if usd is None:
            # A row without spot is normal; one without on-demand is worth counting.
            if regime is PriceRegime.ON_DEMAND:
                tally.skip(NO_ON_DEMAND, row.example)
            continue
        reason = _unusable(usd, is_tpu=is_tpu)
        if reason:
            tally.skip(reason, row.example)
            continue
        out.append(
            Candidate(
                instance_type=instance_type,
                accelerator=chip.accelerator,
                accelerators_per_instance=chip.count,
                region=row.region,
                zone=row.zone,
                regime=regime,
                usd_per_hour=usd,
                source_regime=_SOURCE_REGIMES[regime],
            )
        )
    return out


def _unusable(usd: float, *, is_tpu: bool) -> str:
    """Why a present price gives no offer, or "" if it is usable."""
    if is_tpu and usd == TPU_PLACEHOLDER_USD:
        return PLACEHOLDER
    if usd == 0:
        return ZERO_PRICE
    return ""


class _GcpJoin:
    """GCP: host VM rows plus the accelerator rows of the same zone, and TPU rows."""

    def __init__(self, known: frozenset[str], tally: Tally) -> None:
        self.known = known
        self.tally = tally
        self.accelerator_rows: dict[tuple[str, int, str], list[_Row]] = {}
        self.used: set[str] = set()

    def candidates(self, rows: Sequence[_Row]) -> list[Candidate]:
        hosts, tpus, accelerators = [], [], []
        for row in rows:
            if row.instance_type:
                hosts.append(row)
            elif row.accelerator_name.lower().startswith("tpu-"):
                tpus.append(row)
            else:
                accelerators.append(row)
                key = (row.accelerator_name, int(row.accelerator_count or 0), row.region)
                self.accelerator_rows.setdefault(key, []).append(row)
        out = [c for host in hosts for c in self._host(host)]
        for row in tpus:
            out.extend(_row_candidates(row, "gcp", self.known, self.tally))
        for row in accelerators:
            if row.record not in self.used:
                self._orphan(row)
        return out

    def _host(self, host: _Row) -> list[Candidate]:
        shape = shape_of("gcp", host.instance_type)
        if shape is None:
            if _GCP_GPU_FAMILY.match(host.instance_type):
                self.tally.unmap(UNKNOWN_INSTANCE, host.example)
            else:
                self.tally.skip(CPU_ONLY, host.example)
            return []
        if shape.accelerator not in self.known:
            self.tally.unmap(NOT_IN_TABLE, host.example)
            return []
        row_name = gcp_accelerator_row_name(host.instance_type)
        if row_name is None:
            self.tally.unmap(UNKNOWN_INSTANCE, host.example)
            return []
        accelerator = self._find(row_name, shape.accelerators_per_instance, host)
        if accelerator is None:
            self.tally.skip(NO_ACCELERATOR_ROW, host.example)
            return []
        self.used.add(accelerator.record)
        chip = _Chip(shape.accelerator, shape.accelerators_per_instance)
        return self._sum(host, accelerator, row_name, chip)

    def _find(self, name: str, count: int, host: _Row) -> _Row | None:
        """The accelerator row of the host's zone, else of its region (cheapest zone)."""
        in_region = self.accelerator_rows.get((name, count, host.region), [])
        same_zone = [r for r in in_region if r.zone == host.zone]
        pool = same_zone or in_region
        if not pool:
            return None
        return min(pool, key=lambda r: math.inf if r.on_demand_usd is None else r.on_demand_usd)

    def _sum(self, host: _Row, accelerator: _Row, row_name: str, chip: _Chip) -> list[Candidate]:
        out = []
        pairs = (
            (PriceRegime.ON_DEMAND, host.on_demand_usd, accelerator.on_demand_usd),
            (PriceRegime.SPOT, host.spot_usd, accelerator.spot_usd),
        )
        other_zone = (
            "" if accelerator.zone == host.zone else f" (accelerator row of {accelerator.zone})"
        )
        for regime, host_usd, accelerator_usd in pairs:
            if host_usd is None or accelerator_usd is None:
                if regime is PriceRegime.ON_DEMAND:
                    self.tally.skip(NO_ON_DEMAND, host.example)
                continue
            # Round away float noise: the parts have at most 5 decimals.
            total_usd = round(host_usd + accelerator_usd, 6)
            if total_usd == 0:
                self.tally.skip(ZERO_PRICE, host.example)
                continue
            provenance = (
                f"host {host.instance_type} {host_usd} + {chip.count}x {row_name}"
                f" {accelerator_usd}{other_zone}"
            )
            out.append(
                Candidate(
                    instance_type=host.instance_type,
                    accelerator=chip.accelerator,
                    accelerators_per_instance=chip.count,
                    region=host.region,
                    zone=host.zone,
                    regime=regime,
                    usd_per_hour=total_usd,
                    source_regime=_SOURCE_REGIMES[regime],
                    provenance=provenance,
                    derived=True,
                )
            )
        return out

    def _orphan(self, row: _Row) -> None:
        if canonical_accelerator(row.accelerator_name, self.known) is None:
            self.tally.unmap(UNKNOWN_ACCELERATOR, row.accelerator_name)
        else:
            self.tally.skip(NO_HOST, row.example)


def gcp_accelerator_row_name(host_instance_type: str) -> str | None:
    """The SkyPilot ``AcceleratorName`` whose rows price a GCP host's GPUs, or None."""
    for prefix, name in GCP_HOST_ACCELERATOR_ROWS:
        if host_instance_type.startswith(prefix):
            return name
    return None


# --- offers --------------------------------------------------------------------------


def cheapest_per_region(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per (instance type, region, regime): the cheapest zone's, file order kept.

    An AWS Local Zone (another city, attached to a parent region) is a region of its own,
    named as AWS names its zone group (``use1-atl2-az1`` of us-east-1 is region
    ``us-east-1-atl-2``), so a fleet can allow or exclude it by name. The provenance says
    how many zones were compared; on a tie the first zone in the file wins.
    """
    groups: dict[tuple[str, str, PriceRegime], list[Candidate]] = {}
    for candidate in candidates:
        c = _in_local_zone_region(candidate)
        groups.setdefault((c.instance_type, c.region, c.regime), []).append(c)
    return [_cheapest(group) for group in groups.values()]


def _in_local_zone_region(c: Candidate) -> Candidate:
    region = local_zone_region(c.region, c.zone)
    return c if region is None else dataclasses.replace(c, region=region)


def _cheapest(group: list[Candidate]) -> Candidate:
    best = min(group, key=lambda c: c.usd_per_hour)
    zones = {c.zone for c in group}
    if len(zones) < 2:
        return best
    if all(c.usd_per_hour == best.usd_per_hour for c in group):
        note = f"same price in all {len(zones)} zones"
    else:
        note = f"cheapest of {len(zones)} zones"
    provenance = f"{best.provenance}; {note}" if best.provenance else note
    return dataclasses.replace(best, provenance=provenance)


def to_offer(c: Candidate, provider: str, as_of: AsOf, source: str) -> Offer:
    return Offer(
        provider=provider,
        region=c.region,
        zone=c.zone,
        instance_type=c.instance_type,
        accelerator=c.accelerator,
        accelerators_per_instance=c.accelerators_per_instance,
        price_regime=c.regime,
        source_regime=c.source_regime,
        usd_per_hour=c.usd_per_hour,
        as_of=as_of,
        source=source,
        derived=c.derived,
        provenance=c.provenance,
    )
