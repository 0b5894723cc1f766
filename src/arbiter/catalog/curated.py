"""The curated price table (data/sources/prices.csv) turned into offers.

Each row is a dated public price: ``provider, instance_type, accelerator,
accelerator_count, region, pricing_regime, usd_per_hour, as_of, source``. The rules
below turn the sources' conventions into one form; a row they change is marked
``derived`` and says how in ``provenance``.

- Region labels: ``us-east-1 (use1-az3)`` is region ``us-east-1`` in zone ``use1-az3``;
  "all regions (uniform ...)" and "(list)" prices are region ``global``; RunPod's
  "secure cloud" and "community cloud" are regions ``secure-cloud`` / ``community-cloud``;
  a described region (``us (North America)``, ``us-east4 (Virginia)``) is the code before the
  description; an AWS Local Zone (``us-east-1-dfw-2a``) is the region of its zone group
  (``us-east-1-dfw-2``, :mod:`arbiter.domain.regions`) in that zone.
- Per-GPU prices of multi-GPU products (``8x NVIDIA H100 SXM (per GPU)``, ``HGX H200 (per
  GPU)``) become whole-instance prices: GPUs per instance x price, the count read from
  the name or, failing that, the chip's ``chips_per_node``.
- GCP GPU component SKUs (``gpu-sku: ...``) are not VM prices. Where a machine-type row of
  the same chip gives the host's vCPU/RAM/SSD share (machine price - n x on-demand SKU),
  the SKU becomes a machine-type offer: n x SKU + host share at the on-demand rate (an
  upper bound for discounted regimes). Where none does, the SKU row is counted and left out.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from arbiter.catalog.feeds.tally import Tally
from arbiter.catalog.names import canonical_accelerator
from arbiter.catalog.regimes import map_source_regime
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer
from arbiter.domain.regions import local_zone_region

COLUMNS = (
    "provider",
    "instance_type",
    "accelerator",
    "accelerator_count",
    "region",
    "pricing_regime",
    "usd_per_hour",
    "as_of",
    "source",
)
_ZONE = re.compile(r"^(?P<region>[a-z0-9-]+) \((?P<zone>[a-z0-9-]+)\)$")
_DESCRIBED = re.compile(r"^(?P<region>[a-z0-9-]+) \([A-Z][^)]*\)$")  # "us (North America)"
_GPUS_IN_NAME = re.compile(r"(?:^|\()(\d+)x\b")

# The chip of a GCP GPU SKU -> the machine type whose row gives the host share.
_GCP_HOST_FAMILY: dict[tuple[str, bool], str] = {
    ("H100-SXM", False): "a3-highgpu-8g",
    ("H100-SXM", True): "a3-megagpu-8g",
    ("A100-SXM-40GB", False): "a2-highgpu-8g",
    ("A100-SXM-80GB", False): "a2-ultragpu-8g",
    ("L4", False): "g2-standard-48",
}


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    provider: str
    instance_type: str
    accelerator: str
    count: int
    region: str
    zone: str
    source_regime: str
    usd_per_hour: float
    as_of: AsOf
    source: str


def parse_curated_prices(
    text: str, accelerators: dict[str, Accelerator], *, file: str = "prices.csv"
) -> tuple[list[Offer], Tally]:
    """Offers from the curated price table, and the tally of what was left out and why."""
    tally = Tally()
    rows = [_read_row(raw, line, accelerators, file, tally) for line, raw in _records(text, file)]
    tally.records = len(rows)
    kept = [r for r in rows if r is not None]
    offers = [
        o
        for r in kept
        if not r.instance_type.startswith("gpu-sku:")
        for o in [_offer(r, accelerators)]
    ]
    offers += _offers_from_gpu_skus(
        [r for r in kept if r.instance_type.startswith("gpu-sku:")], kept, tally
    )
    return offers, tally


def _records(text: str, file: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise FeedError(
            f"missing columns {', '.join(missing)}", file=file, valid=", ".join(COLUMNS)
        )
    return list(enumerate(reader, start=2))


def _read_row(
    raw: dict[str, str], line: int, accelerators: dict[str, Accelerator], file: str, tally: Tally
) -> _Row | None:
    record = f"line {line}"
    name = raw["accelerator"].strip()
    acc = canonical_accelerator(name, accelerators)
    if acc is None:
        tally.unmap("unknown accelerator", name)
        return None
    try:
        usd = float(raw["usd_per_hour"])
    except ValueError:
        raise FeedError("not a number", file=file, record=record, field="usd_per_hour") from None
    if not usd > 0:
        raise FeedError("price must be > 0", file=file, record=record, field="usd_per_hour")
    try:
        as_of = AsOf.parse(raw["as_of"])
    except ValueError as exc:
        raise FeedError(str(exc), file=file, record=record, field="as_of") from None
    map_source_regime(raw["pricing_regime"], file=f"{file}:{line}")
    region, zone = _region_and_zone(raw["region"].strip())
    return _Row(
        line=line,
        provider=raw["provider"].strip(),
        instance_type=raw["instance_type"].strip(),
        accelerator=acc,
        count=int(raw["accelerator_count"]),
        region=region,
        zone=zone,
        source_regime=raw["pricing_regime"].strip(),
        usd_per_hour=usd,
        as_of=as_of,
        source=raw["source"].strip(),
    )


def _region_and_zone(label: str) -> tuple[str, str]:
    lowered = label.lower()
    if "uniform" in lowered or lowered.endswith("(list)"):
        return "global", ""
    if lowered.startswith("runpod "):
        return lowered.removeprefix("runpod ").replace(" ", "-"), ""
    if match := _ZONE.match(label):
        return match["region"], match["zone"]
    if match := _DESCRIBED.match(label):  # "us-east4 (Virginia)", "us (North America)"
        return match["region"], ""
    if group := local_zone_region("", label):  # "us-east-1-dfw-2a": a Local Zone's zone
        return group, label
    return label, ""


def _offer(row: _Row, accelerators: dict[str, Accelerator]) -> Offer:
    mapping = map_source_regime(row.source_regime)
    count, usd, provenance, derived = row.count, row.usd_per_hour, "", False
    if "(per gpu)" in row.instance_type.lower():
        count = _gpus_per_instance(row.instance_type, accelerators[row.accelerator])
        usd = row.usd_per_hour * count
        derived = True
        provenance = (
            f"per-GPU price {row.usd_per_hour} x {count} GPUs per instance "
            "(count from the product name, else the chip's chips_per_node)"
        )
    return Offer(
        provider=row.provider,
        region=row.region,
        zone=row.zone,
        instance_type=row.instance_type,
        accelerator=row.accelerator,
        accelerators_per_instance=count,
        price_regime=mapping.regime,
        source_regime=row.source_regime,
        term_months=mapping.term_months,
        usd_per_hour=usd,
        as_of=row.as_of,
        source=row.source,
        derived=derived,
        provenance=provenance,
    )


def _gpus_per_instance(instance_type: str, accelerator: Accelerator) -> int:
    match = _GPUS_IN_NAME.search(instance_type)
    if match:
        return int(match[1])
    return accelerator.chips_per_node or 1


def _offers_from_gpu_skus(skus: list[_Row], rows: list[_Row], tally: Tally) -> list[Offer]:
    """Machine-type offers priced from GPU component SKUs plus the host's share."""
    on_demand_sku = {
        (r.accelerator, "Mega" in r.instance_type): r.usd_per_hour
        for r in skus
        if r.source_regime == "on_demand"
    }
    machines = {(r.instance_type, r.source_regime): r for r in rows if r.provider == "gcp"}
    offers = []
    for sku in skus:
        mega = "Mega" in sku.instance_type
        family = _GCP_HOST_FAMILY.get((sku.accelerator, mega))
        host_row = machines.get((family, "on_demand")) if family else None
        gpu_on_demand = on_demand_sku.get((sku.accelerator, mega))
        if host_row is None or gpu_on_demand is None:
            tally.skip(
                "GPU component SKU with no machine-type row to price the host", sku.instance_type
            )
            continue
        if (host_row.instance_type, sku.source_regime) in machines:
            tally.skip(
                "GPU component SKU where the machine-type price is observed", sku.instance_type
            )
            continue
        n = host_row.count
        host_usd = host_row.usd_per_hour - n * gpu_on_demand
        mapping = map_source_regime(sku.source_regime)
        offers.append(
            Offer(
                provider="gcp",
                region=host_row.region,
                instance_type=host_row.instance_type,
                accelerator=sku.accelerator,
                accelerators_per_instance=n,
                price_regime=mapping.regime,
                source_regime=sku.source_regime,
                term_months=mapping.term_months,
                usd_per_hour=round(n * sku.usd_per_hour + host_usd, 6),
                as_of=max(sku.as_of, host_row.as_of),
                source=sku.source,
                derived=True,
                provenance=_sku_rule(sku, host_row, host_usd, gpu_on_demand),
            )
        )
    return offers


def _sku_rule(sku: _Row, host_row: _Row, host_usd: float, gpu_on_demand: float) -> str:
    n = host_row.count
    return (
        f"{n} x GPU SKU {sku.usd_per_hour} ({sku.instance_type.removeprefix('gpu-sku: ')}) "
        f"+ host vCPU/RAM/SSD {host_usd:.6f} at the on-demand rate "
        f"({host_row.instance_type} {host_row.usd_per_hour} - {n} x {gpu_on_demand}, "
        f"prices.csv line {host_row.line}); an upper bound where the host is discounted too"
    )
