"""One name per product: the instance-type spellings of the curated price tables mapped
onto the name the provider's own feed uses (data/sources/instance-aliases.csv).

Two sources that spell one product differently would otherwise give two current offers
of it, the older price beside the newer one; under one name the newer is the price and
the older is history. Each row says why the spellings are the same product.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class Spellings:
    by_spelling: dict[tuple[str, str], str]

    def canonical(self, offer: Offer) -> Offer:
        """``offer`` under its product's one name (the offer itself when it has it)."""
        name = self.by_spelling.get((offer.provider, offer.instance_type))
        if name is None:
            return offer
        note = f"instance type {offer.instance_type!r} in the source"
        return replace(
            offer,
            instance_type=name,
            provenance="; ".join(p for p in (offer.provenance, note) if p),
        )


def load_spellings(path: Path) -> Spellings:
    if not path.exists():
        return Spellings({})
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return Spellings({(r["provider"], r["spelling"]): r["instance_type"] for r in rows})
