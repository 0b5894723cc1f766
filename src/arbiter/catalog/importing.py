"""Import price feeds into a catalog: parse each file, then merge into a base catalog."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.registry import SOURCES
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.catalog import Catalog
from arbiter.domain.current_prices import is_newer
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    catalog: Catalog
    results: tuple[FeedResult, ...]
    replaced: int
    added: int
    older: int = 0
    """Imported offers older than the catalog's price of the same offer: not taken."""


@dataclass(frozen=True, slots=True)
class FeedFile:
    """A feed's bytes and the name its messages give it (an upload's file name: a label,
    never opened as a path)."""

    name: str
    data: bytes


def read_feed_file(path: Path) -> bytes:
    """The bytes of a feed file; a missing, unreadable or empty file is bad input."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    return _non_empty(FeedFile(str(path), data)).data


def _non_empty(feed: FeedFile) -> FeedFile:
    if not feed.data.strip():
        raise InputError("the file is empty", file=feed.name, valid="a non-empty price feed")
    return feed


def import_feeds(
    base: Catalog,
    source: str,
    paths: Sequence[Path | FeedFile],
    *,
    observed_on: dt.date,
    provider: str | None = None,
) -> ImportOutcome:
    """Parse every file (a path, or a :class:`FeedFile` already read) with the ``source``
    parser and merge the offers into ``base``.

    All files are parsed before anything is merged, so one bad file leaves nothing
    half-imported. Imported offers replace base offers with the same key.
    """
    parser = SOURCES.get(source)
    if parser is None:
        raise UnknownNameError("feed source", source, SOURCES, field="SOURCE")
    known = frozenset(base.accelerators)
    results = []
    for item in paths:
        feed = item if isinstance(item, FeedFile) else FeedFile(str(item), read_feed_file(item))
        ctx = FeedContext(
            file=feed.name, known_accelerators=known, observed_on=observed_on, provider=provider
        )
        results.append(parser(_non_empty(feed).data, ctx))
    imported = [o for r in results for o in r.offers]
    merged, replaced, added, older = merge_offers(base, imported)
    return ImportOutcome(merged, tuple(results), replaced, added, older)


def merge_offers(base: Catalog, offers: Sequence[Offer]) -> tuple[Catalog, int, int, int]:
    """``base`` with ``offers`` added: ``(catalog, replaced, added, older)``.

    An offer with the key of a base offer replaces it unless it was observed earlier
    (then it is counted in ``older`` and left out: the newest observation is the price);
    on the same date the imported offer, a correction, replaces the base one. The merged
    catalog keeps only current prices (:meth:`Catalog.of`)."""
    by_key = {o.key: o for o in base.offers}
    replaced = added = older = 0
    for offer in offers:
        prev = by_key.get(offer.key)
        if prev is not None and is_newer(prev, offer):
            older += 1
            continue
        if prev is not None:
            replaced += 1
        else:
            added += 1
        by_key[offer.key] = offer
    merged = Catalog.of(base.accelerators.values(), by_key.values())
    return merged, replaced, added, older
