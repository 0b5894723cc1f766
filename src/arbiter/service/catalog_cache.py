"""The catalog versions a server has read, kept in memory.

Loading a version from the store takes tens of milliseconds and building its offer table
and rows as much again; a catalog query served from memory takes well under one. Versions
are immutable (named by their content hash), so a loaded one never goes stale: the
:class:`CatalogCache` keeps the last ``size`` versions read (an LRU of
:class:`~arbiter.api.cataloging.CatalogIndex`) and each version's summary per day. Only
which version is current can change (an import here, or ``arbiter catalog use`` in another
process): it is read from the store again after ``current_ttl_s`` seconds, and at once after
an import through this server (:meth:`CatalogCache.changed`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from arbiter.api import Settings
from arbiter.api.cataloging import CatalogIndex
from arbiter.api.stores import catalog_store
from arbiter.results import CatalogSummary

__all__ = ["CatalogCache"]

DEFAULT_SIZE = 8
CURRENT_TTL_S = 2.0


class CatalogCache:
    """The catalog versions of the store the settings name, loaded once each."""

    def __init__(
        self, config: Settings, *, size: int = DEFAULT_SIZE, current_ttl_s: float = CURRENT_TTL_S
    ) -> None:
        self._store = catalog_store(config)
        self._size = size
        self._ttl_s = current_ttl_s
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._indexes: OrderedDict[str, CatalogIndex] = OrderedDict()
        self._summaries: dict[tuple[str, str, int], CatalogSummary] = {}
        self._current: tuple[float, str] | None = None

    def close(self) -> None:
        self._store.close()

    def changed(self) -> None:
        """The current version may have changed: read it from the store next time."""
        with self._lock:
            self._current = None

    def resolve(self, version: str | None) -> str:
        """``default`` or the full hash ``version`` names (a hash, a unique prefix or
        ``default``); None: the current version."""
        if version is None:
            return self._current_version()
        with self._lock:
            if version in self._indexes:
                return version
        return self._store.resolve(version)

    def peek(self, version: str | None = None) -> CatalogIndex | None:
        """The version if it is at hand without reading the store (None: it is not): an
        async route answers from it at once, and reads the store in a thread otherwise."""
        with self._lock:
            if version is None:
                known = self._current
                fresh = known is not None and time.monotonic() - known[0] < self._ttl_s
                version = known[1] if known is not None and fresh else None
            found = None if version is None else self._indexes.get(version)
            if found is not None:
                self._indexes.move_to_end(found.name)
            return found

    def peek_summary(self, index: CatalogIndex, config: Settings) -> CatalogSummary | None:
        """The version's summary on the settings' day if it was made already."""
        with self._lock:
            return self._summaries.get(_summary_key(index, config))

    def index(self, version: str | None = None) -> CatalogIndex:
        """The version ``version`` names (None: the current one), loaded if need be."""
        name = self.resolve(version)
        found = self._cached(name)
        if found is not None:
            return found
        with self._loading:  # one load per version, however many ask at once
            found = self._cached(name)
            if found is None:
                found = CatalogIndex(name, self._store.load(name))
                with self._lock:
                    self._indexes[name] = found
                    while len(self._indexes) > self._size:
                        gone, _ = self._indexes.popitem(last=False)
                        self._summaries = {k: v for k, v in self._summaries.items() if k[0] != gone}
        return found

    def summary(self, index: CatalogIndex, config: Settings) -> CatalogSummary:
        """The summary of the version, ages on the settings' day."""
        key = _summary_key(index, config)
        found = self.peek_summary(index, config)
        if found is None:
            found = index.summary(config)
            with self._lock:  # a new day's summaries replace the last day's
                self._summaries = {k: v for k, v in self._summaries.items() if k[1] == key[1]}
                self._summaries[key] = found
        return found

    def _cached(self, name: str) -> CatalogIndex | None:
        with self._lock:
            found = self._indexes.get(name)
            if found is not None:
                self._indexes.move_to_end(name)
            return found

    def _current_version(self) -> str:
        now = time.monotonic()
        with self._lock:
            if self._current is not None and now - self._current[0] < self._ttl_s:
                return self._current[1]
        name = self._store.current()
        with self._lock:
            self._current = (now, name)
        return name


def _summary_key(index: CatalogIndex, config: Settings) -> tuple[str, str, int]:
    return (index.name, config.today.isoformat(), config.max_age_days)
