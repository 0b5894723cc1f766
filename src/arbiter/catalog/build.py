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
5. Current prices: one offer per key (provider, region, instance type, regime, term); the
   newest observation is the price and older ones are history, and a ``global`` price is
   history once the same instance, regime and term has a newer per-region price
   (:mod:`arbiter.domain.current_prices`). A snapshot row's date is a placeholder
   interval (``SNAPSHOT_DATE``), so it replaces a dated prices.csv row of the same key only
   when the whole interval is later than that row's date; otherwise the dated row stays.
6. OCI preemptible capacity is priced at 50% of on-demand (Oracle's documented rule).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from arbiter.catalog.curated import parse_curated_prices
from arbiter.catalog.exclusions import Exclusions, load_exclusions
from arbiter.catalog.feeds import skypilot
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.tally import Tally
from arbiter.catalog.regimes import map_source_regime
from arbiter.catalog.spellings import load_spellings
from arbiter.domain.accelerator import PLATFORM_BY_VENDOR, Accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.current_prices import Superseded, current_prices
from arbiter.domain.offer import Offer, PriceRegime


@dataclass
class BuiltCatalog:
    catalog: Catalog
    notes: list[str] = field(default_factory=list)
    history: tuple[Superseded, ...] = ()
    """Observations set aside as no longer current (written to price_history.csv)."""

    def report_markdown(self) -> str:
        lines = [
            "# Build report of the embedded default catalog",
            "",
            "Written by `scripts/build_catalog.py`; do not edit by hand.",
            "",
            f"- content hash: `{self.catalog.content_hash}`",
            f"- accelerators: {len(self.catalog.accelerators)}",
            f"- offers: {len(self.catalog.offers)}",
            f"- superseded observations (history): {len(self.history)}",
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
        rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
        out.extend(_accelerator_from_reference(row) for row in rows)
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


SNAPSHOT_CLOUDS = ("aws", "gcp", "lambda", "oci")
SNAPSHOT_DATE = "2025-10/2026-09"  # undated SkyPilot v8 snapshot; see skypilot-v8/README.md


CURATED_FILES = ("prices.csv", "prices-extra.csv")


def build_default_catalog(sources: Path) -> BuiltCatalog:
    """The default catalog from ``sources`` (the repository's data/sources/)."""
    accelerators = {a.name: a for a in load_source_accelerators(sources)}
    notes = [f"accelerators.csv + accelerators-supplement.csv: {len(accelerators)} accelerators"]
    exclusions = load_exclusions(sources / "exclusions.csv")
    spellings = load_spellings(sources / "instance-aliases.csv")
    curated: list[Offer] = []
    for name in CURATED_FILES:
        path = sources / name
        if not path.exists():
            continue
        parsed, tally = parse_curated_prices(
            path.read_text(encoding="utf-8"), accelerators, file=name
        )
        kept, left_out = _without_exclusions(
            (_five_year_reservation(spellings.canonical(o)) for o in parsed), exclusions, name
        )
        curated += kept
        notes.append(_tally_note(name, len(parsed), tally) + _left_out_note(left_out))
    curated_latest = {o.key: o for o in current_prices(curated).offers}
    observed: list[Offer] = list(curated)
    for cloud in SNAPSHOT_CLOUDS:
        path = sources / "skypilot-v8" / cloud / "vms.csv"
        ctx = FeedContext(
            file=f"skypilot-v8/{cloud}/vms.csv",
            known_accelerators=frozenset(accelerators),
            observed_on=dt.date(2026, 9, 30),
            provider=cloud,
        )
        result = skypilot.parse(path.read_bytes(), ctx)
        added = excluded = shadowed = newer = 0
        for raw in result.offers:
            reason = exclusions.reason(raw, ctx.file)
            if reason:
                excluded += 1
                continue
            offer = _with_snapshot_date(raw)
            dated = curated_latest.get(offer.key)
            if dated is not None and not offer.as_of.start > dated.as_of.end:
                shadowed += 1
                continue
            newer += dated is not None
            observed.append(offer)
            added += 1
        notes.append(
            _tally_note(ctx.file, len(result.offers), result.tally)
            + f"; {added} added ({newer} of them newer than the curated row of the same "
            f"offer), {shadowed} already priced by a curated row not older than the "
            f"snapshot, {excluded} excluded by exclusions.csv"
        )
    current = current_prices(observed)
    by_key = {o.key: o for o in current.offers}
    oci_spot = [_oci_preemptible(o) for o in by_key.values() if _is_oci_on_demand(o)]
    for offer in oci_spot:
        by_key.setdefault(offer.key, offer)
    notes.append(f"OCI preemptible: {len(oci_spot)} spot offers derived at 50% of on-demand")
    final = current_prices(by_key.values())
    history = (*current.superseded, *final.superseded)
    reasons: dict[str, int] = {}
    for s in history:
        reasons[s.reason] = reasons.get(s.reason, 0) + 1
    notes.append(
        f"superseded observations kept as history (price_history.csv): {len(history)}"
        + "".join(f"; {r}: {n}" for r, n in sorted(reasons.items()))
    )
    return BuiltCatalog(Catalog.of(accelerators.values(), final.offers), notes, history=history)


def _without_exclusions(
    offers: Iterable[Offer], exclusions: Exclusions, file: str
) -> tuple[list[Offer], Counter[str]]:
    """The offers no exclusion rule matches, and how many each reason left out."""
    kept: list[Offer] = []
    left_out: Counter[str] = Counter()
    for offer in offers:
        reason = exclusions.reason(offer, file)
        if reason:
            left_out[reason] += 1
        else:
            kept.append(offer)
    return kept, left_out


def _left_out_note(left_out: Counter[str]) -> str:
    if not left_out:
        return ""
    parts = [f"{n} excluded ({reason})" for reason, n in sorted(left_out.items())]
    return "; " + "; ".join(parts)


def _five_year_reservation(offer: Offer) -> Offer:
    """prices-extra.csv records Azure's 5-year VM reservations as ``committed`` (its note
    says so): they are ``reserved_5y``, a 60-month commitment."""
    if offer.provider != "azure" or offer.source_regime != "committed":
        return offer
    mapping = map_source_regime("reserved_5y")
    return replace(
        offer,
        source_regime="reserved_5y",
        term_months=mapping.term_months,
        derived=True,
        provenance=_joined(
            offer.provenance, "5-year Azure VM reservation (the source row's note), 60 months"
        ),
    )


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _tally_note(file: str, n_offers: int, tally: Tally) -> str:
    parts = [f"{file}: {tally.records} records, {n_offers} offers"]
    for reason, n in sorted(tally.unmapped.items()):
        examples = ", ".join(tally.examples.get(f"unmapped: {reason}", []))
        parts.append(f"unmapped {reason}: {n} (e.g. {examples})")
    for reason, n in sorted(tally.skipped.items()):
        parts.append(f"skipped {reason}: {n}")
    return "; ".join(parts)


def _with_snapshot_date(offer: Offer) -> Offer:
    return replace(offer, as_of=AsOf.parse(SNAPSHOT_DATE))


def _is_oci_on_demand(offer: Offer) -> bool:
    return offer.provider == "oci" and offer.price_regime is PriceRegime.ON_DEMAND


# Oracle bills preemptible instances at 50% of on-demand (docs.oracle.com, Compute,
# "Preemptible Instances", Billing); gpuhunt applies the same rule.
OCI_PREEMPTIBLE_SHARE = 0.5


def _oci_preemptible(offer: Offer) -> Offer:
    return replace(
        offer,
        price_regime=PriceRegime.SPOT,
        source_regime="preemptible",
        usd_per_hour=offer.usd_per_hour * OCI_PREEMPTIBLE_SHARE,
        derived=True,
        provenance=(
            f"OCI preemptible = {OCI_PREEMPTIBLE_SHARE} x on-demand {offer.usd_per_hour} "
            "(Oracle's documented billing rule for preemptible capacity)"
        ),
    )
