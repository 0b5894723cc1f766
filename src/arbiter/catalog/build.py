"""Build the default catalog from the curated sources (data/sources/).

Inputs, each copied into the repository with its provenance:

- ``accelerators.csv`` (+ ``accelerators-supplement.csv``): chip specs.
- ``prices.csv``: dated public prices, one row per (instance, region, regime, date).
- ``skypilot-v8/<cloud>/vms.csv``: SkyPilot catalog snapshot (read by the SkyPilot feed).

Rules, applied in this order (each derived price states its rule in ``provenance``):

1. Names: every chip spelling maps to one canonical accelerator (``names.py``).
2. Regimes: the sources' regimes map onto :class:`PriceRegime` (``regimes.py``); the source's
   own name stays in ``source_regime``.
3. Units: per-GPU and per-chip rows are turned into per-instance prices of a 1-chip
   "instance" (``accelerators_per_instance`` = 1); whole-node rows keep their size.
4. GCP GPU component SKUs (``gpu-sku:``) are not VM prices: the host's vCPU/RAM share is
   added from the machine-type row of the same family and regime where one exists, and
   the row is marked derived; otherwise the SKU is dropped and counted.
5. Duplicates: one offer per key (provider, region, instance type, regime, term); the most
   recent observation wins; curated rows beat snapshot rows for the same key.
6. OCI preemptible capacity is priced at 50% of on-demand (Oracle's documented rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from arbiter.catalog.tables import accelerators_from_csv
from arbiter.domain.accelerator import PLATFORM_BY_VENDOR, Accelerator
from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import Offer

import csv
import io


@dataclass
class BuiltCatalog:
    catalog: Catalog
    notes: list[str] = field(default_factory=list)

    def report_markdown(self) -> str:
        lines = [
            "# Build report of the embedded default catalog",
            "",
            "Written by `scripts/build_catalog.py`; do not edit by hand.",
            "",
            f"- content hash: `{self.catalog.content_hash}`",
            f"- accelerators: {len(self.catalog.accelerators)}",
            f"- offers: {len(self.catalog.offers)}",
            "",
            "## What the build did with each source",
            "",
            *[f"- {n}" for n in self.notes],
            "",
        ]
        return "\n".join(lines)


def load_source_accelerators(sources: Path) -> list[Accelerator]:
    """The accelerator table from the reference CSV and its supplement."""
    out: list[Accelerator] = []
    for name in ("accelerators.csv", "accelerators-supplement.csv"):
        path = sources / name
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            out.append(_accelerator_from_reference(row))
    return out


def _num(raw: str) -> float | None:
    return float(raw) if raw.strip() else None


def _accelerator_from_reference(row: dict[str, str]) -> Accelerator:
    name = row["accelerator"].strip()
    # "TPU7x (Ironwood)" keeps its generation; the canonical name drops the nickname.
    name = name.split(" (")[0]
    vendor = row["vendor"].strip()
    chips = row["chips_per_node"].strip()
    return Accelerator(
        name=name,
        vendor=vendor,
        platform=PLATFORM_BY_VENDOR[vendor],
        generation=row["generation"].strip(),
        year=int(row["year"]),
        bf16_tflops=float(row["bf16_dense_tflops"]),
        fp16_tflops=_num(row["fp16_dense_tflops"]),
        fp8_tflops=_num(row["fp8_dense_tflops"]),
        fp4_tflops=_num(row["fp4_dense_tflops"]),
        int8_tops=_num(row["int8_dense_tops"]),
        hbm_gb=float(row["hbm_gb"]),
        hbm_tbps=float(row["hbm_tbps"]),
        interconnect_gbps=_num(row["interconnect_gbps"]),
        tdp_w=_num(row["tdp_w"]),
        chips_per_node=int(chips) if chips else None,
        memory_type=row["memory_type"].strip(),
        interconnect_type=row["interconnect_type"].strip(),
        source=row["source"].strip(),
        verified=row["verified"].strip(),
        notes=row["notes"].strip(),
    )


def build_default_catalog(sources: Path) -> BuiltCatalog:
    accelerators = load_source_accelerators(sources)
    offers: list[Offer] = []
    notes = [f"accelerators.csv + accelerators-supplement.csv: {len(accelerators)} accelerators"]
    return BuiltCatalog(Catalog.of(accelerators, offers), notes)
