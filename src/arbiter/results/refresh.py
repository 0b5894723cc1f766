"""What ``arbiter catalog refresh --json`` prints: the new catalog version, and what each
price feed did to it (``arbiter.api.refresh_catalog``)."""

from __future__ import annotations

from typing import Literal

from arbiter.results.base import Result, Rows


class SourceRefresh(Result):
    """One refresh source. ``status``: ``ok`` (its offers are in the new version),
    ``failed`` (named with its ``reason``; it contributed nothing) or ``skipped`` (not run:
    no API key, or none of the providers asked for). Against the version refreshed:
    ``added`` offers it had no key for, ``repriced`` at another price, ``unchanged`` at the
    same price, ``older`` than the price held (not taken), ``dropped`` (priced last by this
    feed, within what it covered, and no longer in any refreshed feed: removed). For
    ``aws-spot-advisor``, which prices nothing, ``repriced`` counts AWS spot offers whose
    interruption rate it set or changed and ``offers`` those it rated. ``offers``: what it
    returned of the ``providers`` refreshed; ``records``: what its files held;
    ``fetched_at``: when its download ended (UTC); ``urls``: what it fetched, without
    query strings; ``notes``: per file, what was read, skipped and not mapped."""

    source: str
    status: Literal["ok", "failed", "skipped"]
    reason: str | None
    providers: list[str]
    added: int
    repriced: int
    unchanged: int
    older: int
    dropped: int
    offers: int
    records: int
    fetched_at: str | None
    urls: list[str]
    notes: list[str]


class CatalogRefresh(Result):
    """A refresh: ``status`` ``ok`` (every source that ran worked), ``partial`` (some
    failed; the others were saved), ``failed`` (none worked: nothing saved) or ``nothing``
    (no source ran). ``version``: the new current version (None when nothing was saved),
    made from ``parent`` (the version current before) and labelled ``label``; ``n_offers``
    the offers it holds; ``observed_on``: the day offers without a date of their own are
    dated to."""

    status: Literal["ok", "partial", "failed", "nothing"]
    version: str | None
    parent: str
    label: str | None
    n_offers: int
    observed_on: str
    sources: Rows[SourceRefresh]
