"""Every observation of a price, with its date: the history of one chip's prices.

A catalog version holds the current price of each offer (the newest observation). The
older ones are kept too: the embedded catalog's superseded prices (``price_history.csv``)
and every stored version the chosen one descends from (an import or a refresh writes a
new version and never changes an old one). :func:`observations` puts them together, one
row per (offer, date, price), and :func:`price_moves` follows each offer through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class Observation:
    """One dated price of one offer; ``current`` when it is the price the catalog holds."""

    offer: Offer
    current: bool


@dataclass(frozen=True, slots=True)
class PriceMove:
    """One offer's price from its first observation to its last (at least two)."""

    first: Offer
    last: Offer
    observations: int

    @property
    def change_share(self) -> float:
        """Relative change per chip-hour: +0.25 is 25% dearer."""
        return self.last.usd_per_accelerator_hour / self.first.usd_per_accelerator_hour - 1.0


def observations(current: Iterable[Offer], past: Iterable[Offer]) -> list[Observation]:
    """The current offers and the past observations, one per (offer, date, price), oldest
    first within an offer. A past observation equal to a current price is the same one."""
    seen: dict[tuple[object, ...], Observation] = {}
    for offer in current:
        seen[_identity(offer)] = Observation(offer, current=True)
    for offer in past:
        seen.setdefault(_identity(offer), Observation(offer, current=False))
    return sorted(seen.values(), key=lambda o: (o.offer.key, o.offer.as_of, o.offer.usd_per_hour))


def price_moves(found: Iterable[Observation]) -> list[PriceMove]:
    """Each offer observed at least twice, from its oldest observation to its newest,
    largest relative move first (then by offer)."""
    by_key: dict[tuple[str, str, str, str, str, int], list[Offer]] = {}
    for o in found:
        by_key.setdefault(o.offer.key, []).append(o.offer)
    moves = [
        PriceMove(first=min(seen, key=_when), last=max(seen, key=_when), observations=len(seen))
        for seen in by_key.values()
        if len(seen) > 1
    ]
    return sorted(moves, key=lambda m: (-abs(m.change_share), m.first.key))


def _when(offer: Offer) -> tuple[object, ...]:
    return (offer.as_of, offer.usd_per_hour)


def _identity(offer: Offer) -> tuple[object, ...]:
    return (offer.key, offer.as_of.text, offer.usd_per_hour)
