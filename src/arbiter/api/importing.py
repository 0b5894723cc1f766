"""Import price-feed files into a new catalog version (what ``arbiter catalog import``
and ``POST /api/v1/catalog/import`` do): the current version plus the feed's offers,
made current."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.catalog.feeds.registry import SOURCES
from arbiter.catalog.importing import FeedFile, import_feeds
from arbiter.catalog.names import resolve_provider
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.results.catalog import CatalogImport

__all__ = ["FeedFile", "import_catalog"]


def import_catalog(
    source: str,
    files: Sequence[Path | FeedFile],
    *,
    provider: str | None = None,
    label: str | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    config: Settings | None = None,
) -> CatalogImport:
    """Parse ``files`` (paths, or :class:`FeedFile` bytes with the name messages use)
    with the ``source`` parser (``arbiter.catalog.feeds.registry.SOURCES``; ``provider``
    names the cloud of a SkyPilot or gpuhunt file whose name does not say), and save the
    current catalog plus their offers as a new version, made current, labelled ``label``
    (default: the source and the files' names). Offers without a date of their own are
    dated to the settings' day. A bad file is an :class:`InputError` naming it, and so is
    a feed with no offer at all; nothing is saved then."""
    config = config or settings()
    if source not in SOURCES:
        raise UnknownNameError("feed source", source, SOURCES, field="SOURCE")
    if provider is not None:
        provider = resolve_provider(provider, field="--provider")
    names = [f.name if isinstance(f, FeedFile) else str(f) for f in files]
    with catalog_store(config) as store:
        parent = store.current()
        base = store.load(parent)
        outcome = import_feeds(base, source, files, observed_on=config.today, provider=provider)
        notes = [line for r in outcome.results for line in r.summary_lines()]
        if not any(r.offers for r in outcome.results):
            raise InputError(
                f"no offers found in the feed ({' '.join(notes)})", file=", ".join(names)
            )
        short = " ".join(Path(n).name for n in names)
        info = store.save(
            outcome.catalog,
            label=label or f"import {source} {short}",
            created_at=clock() if clock else dt.datetime.now(dt.UTC).replace(microsecond=0),
            parent=parent,
        )
        store.use(info.version)
    return CatalogImport(
        version=info.version,
        parent=parent,
        label=info.label,
        source=source,
        files=names,
        added=outcome.added,
        replaced=outcome.replaced,
        older=outcome.older,
        n_offers=len(outcome.catalog.offers),
        notes=notes,
    )
