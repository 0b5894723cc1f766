"""Filter and sort a catalog's offers, vectorised.

:class:`OfferTable` holds the offers column-wise (NumPy arrays, string columns as integer
codes into sorted vocabularies), built once per catalog; :meth:`OfferTable.select` then
filters by provider, accelerator, vendor, regime and region glob with array masks, so a
query over 50,000 offers costs well under a millisecond of Python.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.names import PROVIDERS, resolve_accelerator
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime

SORT_KEYS = ("usd_per_accelerator_hour", "usd_per_hour", "as_of", "provider", "accelerator")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class OfferQuery:
    """A selection of offers; every field optional. Names are matched case-insensitively;
    accelerators by any alias; ``region`` is a shell glob (``us-*``)."""

    providers: Sequence[str] = ()
    accelerators: Sequence[str] = ()
    vendors: Sequence[str] = ()
    regimes: Sequence[str] = ()
    region: str | None = None
    sort: str = "usd_per_accelerator_hour"
    limit: int | None = None


def _codes(values: Sequence[str]) -> tuple[tuple[str, ...], IntArray]:
    vocab = tuple(sorted(set(values)))
    index = {v: i for i, v in enumerate(vocab)}
    return vocab, np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


class OfferTable:
    """The offers of one catalog, column-wise, for fast selection."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        offers = catalog.offers
        self.offers: tuple[Offer, ...] = offers
        self.providers, self.provider_code = _codes([o.provider for o in offers])
        self.accelerator_names, self.accelerator_code = _codes([o.accelerator for o in offers])
        vendors = [catalog.accelerators[o.accelerator].vendor for o in offers]
        self.vendors, self.vendor_code = _codes(vendors)
        self.regions, self.region_code = _codes([o.region for o in offers])
        self.regimes, self.regime_code = _codes([o.price_regime.value for o in offers])
        self.usd_per_hour: FloatArray = np.array([o.usd_per_hour for o in offers], dtype=np.float64)
        chips = np.array([o.accelerators_per_instance for o in offers], dtype=np.float64)
        self.usd_per_accelerator_hour: FloatArray = self.usd_per_hour / np.maximum(chips, 1.0)
        self.as_of_ordinal: IntArray = np.array(
            [o.as_of.end.toordinal() for o in offers], dtype=np.int64
        )

    def __len__(self) -> int:
        return len(self.offers)

    def select(self, query: OfferQuery) -> list[Offer]:
        """The offers matching ``query``, sorted and limited. Unknown names raise
        :class:`UnknownNameError` with close matches."""
        return [self.offers[i] for i in self.select_indices(query)]

    def select_indices(self, query: OfferQuery) -> IntArray:
        mask = np.ones(len(self.offers), dtype=bool)
        if query.providers:
            known = {*self.providers, *PROVIDERS}
            wanted = _lookup("provider", query.providers, self.providers, known, "--provider")
            mask &= np.isin(self.provider_code, wanted)
        if query.accelerators:
            names = [
                resolve_accelerator(a, self.catalog.accelerators, field="--accelerator")
                for a in query.accelerators
            ]
            wanted = [self.accelerator_names.index(n) for n in names if n in self.accelerator_names]
            mask &= np.isin(self.accelerator_code, wanted)
        if query.vendors:
            known = {*self.vendors, *self.catalog.vendors}
            wanted = _lookup("vendor", query.vendors, self.vendors, known, "--vendor")
            mask &= np.isin(self.vendor_code, wanted)
        if query.regimes:
            valid = [r.value for r in PriceRegime]
            for r in query.regimes:
                if r not in valid:
                    raise UnknownNameError("price regime", r, valid, field="--regime")
            wanted = [self.regimes.index(r) for r in query.regimes if r in self.regimes]
            mask &= np.isin(self.regime_code, wanted)
        if query.region:
            pattern = query.region.lower()
            wanted = [
                i for i, r in enumerate(self.regions) if fnmatch.fnmatchcase(r.lower(), pattern)
            ]
            mask &= np.isin(self.region_code, wanted)
        hits = np.flatnonzero(mask)
        hits = hits[self._order(hits, query.sort)]
        return hits[: query.limit] if query.limit is not None else hits

    def _order(self, hits: IntArray, sort: str) -> IntArray:
        # Ties are broken by position, which follows the catalog's sorted offer keys,
        # so the order is deterministic.
        if sort == "usd_per_accelerator_hour":
            key = self.usd_per_accelerator_hour[hits]
        elif sort == "usd_per_hour":
            key = self.usd_per_hour[hits]
        elif sort == "as_of":
            key = -self.as_of_ordinal[hits].astype(np.float64)
        elif sort == "provider":
            key = self.provider_code[hits].astype(np.float64)
        elif sort == "accelerator":
            key = self.accelerator_code[hits].astype(np.float64)
        else:
            raise InputError(f"cannot sort by {sort!r}", field="--sort", valid=", ".join(SORT_KEYS))
        return np.argsort(key, kind="stable")


def _lookup(
    kind: str, names: Sequence[str], vocab: tuple[str, ...], known: set[str], field: str
) -> list[int]:
    """Codes of ``names`` in ``vocab``; a name outside ``known`` raises, a known name with
    no offers in this catalog simply matches nothing."""
    by_lower = {v.lower(): i for i, v in enumerate(vocab)}
    known_lower = {k.lower() for k in known}
    out = []
    for name in names:
        key = name.strip().lower()
        if key not in known_lower:
            raise UnknownNameError(kind, name, known, field=field)
        if key in by_lower:
            out.append(by_lower[key])
    return out
