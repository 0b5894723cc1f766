"""What changed between two catalog versions: offers added, removed and repriced."""

from __future__ import annotations

from dataclasses import dataclass

from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class PriceChange:
    before: Offer
    after: Offer

    @property
    def change_share(self) -> float:
        """Relative change of the hourly price: +0.25 is 25% dearer."""
        return self.after.usd_per_hour / self.before.usd_per_hour - 1.0


@dataclass(frozen=True, slots=True)
class CatalogDiff:
    added: tuple[Offer, ...]
    removed: tuple[Offer, ...]
    changed: tuple[PriceChange, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogDiff:
    """Offers are matched by :attr:`Offer.key` (provider, region, instance type, regime,
    term); a matched offer whose hourly price differs is a price change."""
    before = {o.key: o for o in old.offers}
    after = {o.key: o for o in new.offers}
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    common = sorted(before.keys() & after.keys())
    changed = tuple(
        PriceChange(before[k], after[k])
        for k in common
        if before[k].usd_per_hour != after[k].usd_per_hour
    )
    return CatalogDiff(added, removed, changed, unchanged=len(common) - len(changed))
