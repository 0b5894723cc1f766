"""Refresh the catalog from the public price feeds (what ``arbiter catalog refresh``
prints): a new catalog version, the current one plus what the feeds returned.

The rules (each source on its own, what counts as added, repriced, unchanged, older and
dropped) are in :mod:`arbiter.catalog.refresh`; the sources in
:mod:`arbiter.catalog.refresh_sources`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

import httpx

from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.catalog.feeds.retry import DEFAULT_TIMEOUT_S, retrying_client
from arbiter.catalog.refresh import Progress, RefreshOutcome, SourceRun, plan_refresh, run_refresh
from arbiter.domain.errors import InputError
from arbiter.results.base import Rows
from arbiter.results.refresh import CatalogRefresh, SourceRefresh

__all__ = ["refresh_catalog"]


def refresh_catalog(
    sources: Sequence[str] = (),
    *,
    providers: Sequence[str] = (),
    label: str | None = None,
    aws_regions: Sequence[str] = (),
    client: httpx.Client | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    config: Settings | None = None,
) -> CatalogRefresh:
    """Download ``sources`` (default: every one; ``arbiter.catalog.refresh_sources.SOURCES``),
    keep the offers of ``providers`` (default: all), and save the current version plus
    what they returned as a new version, made current, labelled ``label`` (default: the
    sources that worked). Each source runs on its own: one that fails is named with its
    reason and the others are still saved; when none works nothing is saved. Offers with
    no date of their own are dated to the settings' day (``ARBITER_TODAY``, default
    today). API keys come from the settings' environment (``ARBITER_GCP_API_KEY``,
    ``ARBITER_RUNPOD_API_KEY``); AWS regions from ``aws_regions``, else
    ``ARBITER_AWS_REGIONS``. ``client`` defaults to one that times out after ``timeout_s``
    seconds and retries (:func:`arbiter.catalog.feeds.retry.retrying_client`);
    ``progress(source, done, total)`` follows each source's files. Bad names (an unknown
    source or provider) raise :class:`~arbiter.domain.errors.InputError`."""
    config = config or settings()
    if not (math.isfinite(timeout_s) and timeout_s > 0):
        raise InputError(f"{timeout_s} is not a timeout", field="timeout", valid="seconds > 0")
    request = plan_refresh(sources, providers, aws_regions, config.env)
    with catalog_store(config) as store:
        parent = store.current()
        base = store.load(parent)
    used = retrying_client(timeout_s=timeout_s) if client is None else client
    try:
        outcome = run_refresh(
            base,
            request,
            client=used,
            observed_on=config.today,
            env=config.env,
            progress=progress,
            clock=clock,
        )
    finally:
        if client is None:
            used.close()
    ran = [r for r in outcome.runs if r.status != "skipped"]
    worked = [r.source.name for r in ran if r.status == "ok"]
    if outcome.catalog is None:
        status = "failed" if ran else "nothing"
        return _result(outcome, status, None, parent, None, len(base.offers), config)
    name = label or f"refresh {' '.join(worked)}"
    with catalog_store(config) as store:
        info = store.save(outcome.catalog, label=name, created_at=_now(clock), parent=parent)
        store.use(info.version)
    status = "ok" if len(worked) == len(ran) else "partial"
    return _result(outcome, status, info.version, parent, info.label, info.n_offers, config)


def _now(clock: Callable[[], dt.datetime] | None) -> dt.datetime:
    return clock() if clock else dt.datetime.now(dt.UTC).replace(microsecond=0)


def _result(
    outcome: RefreshOutcome,
    status: str,
    version: str | None,
    parent: str,
    label: str | None,
    n_offers: int,
    config: Settings,
) -> CatalogRefresh:
    return CatalogRefresh.model_validate(
        {
            "status": status,
            "version": version,
            "parent": parent,
            "label": label,
            "n_offers": n_offers,
            "observed_on": config.today.isoformat(),
            "sources": Rows(_row(r) for r in outcome.runs),
        }
    )


def _row(run: SourceRun) -> SourceRefresh:
    c = run.counts
    return SourceRefresh(
        source=run.source.name,
        status=run.status,
        reason=run.reason,
        providers=list(run.providers),
        added=c.added,
        repriced=c.repriced,
        unchanged=c.unchanged,
        older=c.older,
        dropped=c.dropped,
        offers=len(run.offers),
        records=run.records,
        fetched_at=None if run.fetched_at is None else run.fetched_at.isoformat(),
        urls=list(run.urls),
        notes=list(run.notes),
    )
