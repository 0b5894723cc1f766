"""Which observation of a price is THE price: the newest; the others are history.

Rules (``docs/catalog-sources.md``, "Current prices and history"):

1. **Same key.** Observations with the same :attr:`Offer.key` (provider, region, instance
   type, regime, source regime, term) are one offer: the newest is its price. "Newest"
   is :class:`AsOf` order: the latest end of the observation interval, on equal ends the
   latest start (``2025-10/2026-09`` is newer than ``2026-09-16``; ``2026-09`` is newer
   than ``2025-10/2026-09``). Two observations with the same end and start but different
   prices: the dearer is kept (a plan must not rest on the cheaper of two prices seen on
   the same day), the cheaper goes to history. Identical prices on the same date keep
   the first given.
2. **Broad region.** An observation in region ``global`` (a provider's uniform or list
   price, see ``curated.py``) stands for every region of that provider. It is history
   once the same provider, instance type, regime, source regime and term has an
   observation in a specific region that is strictly newer (rule 1's order): the newer
   per-region prices show the uniform price no longer holds. A ``global`` row with no
   newer per-region row stays.
3. **Newer uniform price.** The other way round, a per-region observation is history once
   the same group has a ``global`` observation that is strictly newer: the provider's
   later list price replaced it everywhere (Nebius's 2025 price in a snapshot of its
   regions, and its list price of 2026-10-01). The ``global`` offer stays, and a region
   glob does not match it (decision 0001), so a plan does not buy at a price the provider
   no longer asks.

:func:`current_prices` applies both and returns what it set aside with the reason, so
a catalog build can keep it as history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from arbiter.domain.offer import Offer

BROAD_REGION = "global"
"""The region of a price that holds in every region of its provider."""

OfferKey = tuple[str, str, str, str, str, int]


@dataclass(frozen=True, slots=True)
class Superseded:
    """An observation that is no longer the price, the one that replaced it, and why."""

    offer: Offer
    by: Offer
    reason: str


@dataclass(frozen=True, slots=True)
class CurrentPrices:
    """The current offers (one per key) and the observations they superseded."""

    offers: tuple[Offer, ...]
    superseded: tuple[Superseded, ...]


def is_newer(a: Offer, b: Offer) -> bool:
    """Whether ``a`` was observed strictly later than ``b`` (latest end, then latest start)."""
    return (a.as_of.end, a.as_of.start) > (b.as_of.end, b.as_of.start)


def _group(key: OfferKey) -> tuple[str, str, str, str, int]:
    provider, _region, instance_type, regime, source_regime, term = key
    return provider, instance_type, regime, source_regime, term


def current_prices(offers: Iterable[Offer]) -> CurrentPrices:
    """Rule 1, then rules 2 and 3 of the module docstring over ``offers`` (order kept otherwise)."""
    latest: dict[OfferKey, Offer] = {}
    history: list[Superseded] = []
    for offer in offers:
        prev = latest.get(offer.key)
        if prev is None:
            latest[offer.key] = offer
            continue
        if is_newer(offer, prev):
            history.append(Superseded(prev, offer, "older observation of the same offer"))
            latest[offer.key] = offer
        elif is_newer(prev, offer):
            history.append(Superseded(offer, prev, "older observation of the same offer"))
        elif offer.usd_per_hour > prev.usd_per_hour:
            history.append(Superseded(prev, offer, "same date as a dearer observation"))
            latest[offer.key] = offer
        elif offer.usd_per_hour < prev.usd_per_hour:
            history.append(Superseded(offer, prev, "same date as a dearer observation"))
        # equal date and price: a duplicate, the first given stays
    newest_specific: dict[tuple[str, str, str, str, int], Offer] = {}
    for key, offer in latest.items():
        if offer.region == BROAD_REGION:
            continue
        group = _group(key)
        best = newest_specific.get(group)
        if best is None or is_newer(offer, best):
            newest_specific[group] = offer
    newest_broad: dict[tuple[str, str, str, str, int], Offer] = {
        _group(key): offer for key, offer in latest.items() if offer.region == BROAD_REGION
    }
    kept: list[Offer] = []
    for key, offer in latest.items():
        if offer.region == BROAD_REGION:
            newer = newest_specific.get(_group(key))
            reason = f"{BROAD_REGION} price older than per-region prices"
        else:
            newer = newest_broad.get(_group(key))
            reason = f"per-region price older than a {BROAD_REGION} list price"
        if newer is not None and is_newer(newer, offer):
            history.append(Superseded(offer, newer, reason))
        else:
            kept.append(offer)
    return CurrentPrices(tuple(kept), tuple(history))
