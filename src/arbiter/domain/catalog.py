"""The catalog: accelerators and offers, identified by a content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.current_prices import current_prices
from arbiter.domain.errors import UnknownNameError
from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class Catalog:
    """Accelerators by canonical name and the offers that sell them.

    Offers are kept sorted by :attr:`Offer.key`, so equal content gives equal bytes and
    an equal :attr:`content_hash`. :meth:`of` keeps only current prices (the newest
    observation of each offer; a ``global`` price newer per-region prices replaced is
    dropped: :mod:`arbiter.domain.current_prices`).
    """

    accelerators: Mapping[str, Accelerator]
    offers: tuple[Offer, ...]

    @classmethod
    def of(cls, accelerators: Iterable[Accelerator], offers: Iterable[Offer]) -> Catalog:
        accs = {a.name: a for a in sorted(accelerators, key=lambda a: a.name)}
        given = list(offers)
        for offer in given:
            if offer.accelerator not in accs:
                raise UnknownNameError(
                    "accelerator", offer.accelerator, accs, field="offers.accelerator"
                )
        # Only current prices: the newest observation of each offer (current_prices.py).
        unique = {o.key: o for o in current_prices(given).offers}
        ordered = tuple(unique[k] for k in sorted(unique))
        return cls(accelerators=accs, offers=ordered)

    def accelerator(self, name: str) -> Accelerator:
        try:
            return self.accelerators[name]
        except KeyError:
            raise UnknownNameError("accelerator", name, self.accelerators) from None

    def vendor_of(self, offer: Offer) -> str:
        return self.accelerators[offer.accelerator].vendor

    @property
    def providers(self) -> list[str]:
        return sorted({o.provider for o in self.offers})

    @property
    def vendors(self) -> list[str]:
        return sorted({a.vendor for a in self.accelerators.values()})

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form of the catalog (see ``canonical_json``)."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def canonical_json(self) -> str:
        """One deterministic text for the whole content: sorted keys, fixed float format."""
        return json.dumps(
            {
                "accelerators": [_plain(a) for a in self.accelerators.values()],
                "offers": [_plain(o) for o in self.offers],
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def _plain(obj: Accelerator | Offer) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        if hasattr(value, "text") and hasattr(value, "end"):
            value = value.text
        elif isinstance(value, float):
            value = repr(value)
        elif hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out
