"""``arbiter catalog refresh``: a new catalog version from the public price feeds.

The command prints :func:`arbiter.api.refreshing.refresh_catalog`'s result (a table, or
``--json``) and exits 0 when every source that ran worked, 6 when some failed (the others
were saved), 7 when every one failed (nothing saved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from arbiter.api.refreshing import refresh_catalog
from arbiter.catalog.feeds.retry import DEFAULT_TIMEOUT_S
from arbiter.catalog.refresh_sources import AWS_REGIONS_ENV, DEFAULT_AWS_REGIONS, SOURCES
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt
from arbiter.domain.errors import NothingRefreshedError, RefreshError
from arbiter.results.refresh import CatalogRefresh

_SHORT = 12  # hash digits shown


def refresh(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help=f"A feed to refresh (repeatable; default all): {', '.join(SOURCES)}."
        ),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", help="Take only this provider's offers (repeatable)."),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="A note stored with the version (default: the sources)."),
    ] = None,
    aws_region: Annotated[
        list[str] | None,
        typer.Option(
            "--aws-region",
            help=f"AWS region whose price files to fetch (repeatable; default {AWS_REGIONS_ENV} "
            f"or {', '.join(DEFAULT_AWS_REGIONS)}).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds a request may wait for the server."),
    ] = DEFAULT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Download the public price feeds and save the current version plus what they return
    as a new current version. Exit 6: some feeds failed (the others were saved); 7: all
    failed (nothing saved)."""
    config = shared.settings()

    def run(progress: Callable[[str, int, int], None] | None = None) -> CatalogRefresh:
        return refresh_catalog(
            source or (),
            providers=provider or (),
            label=label,
            aws_regions=aws_region or (),
            timeout_s=timeout,
            progress=progress,
            config=config,
        )

    if as_json:
        result = run()
        typer.echo(result.to_json())
        err = shared.err()
        for row in result.sources:
            if row.status == "skipped":
                err.print(f"{row.source} skipped: {row.reason}", markup=False)
    else:
        labels = {name: (f"{name} ({s.host})", "files") for name, s in SOURCES.items()}
        with shared.stages(labels) as tick:
            result = run(tick)
        _print(result)
    _exit(result)


def _print(result: CatalogRefresh) -> None:
    table = Table(title=f"catalog refresh: offers dated {result.observed_on} where undated")
    table.add_column("source")
    table.add_column("status")
    for column in ("offers", "added", "repriced", "unchanged", "older", "dropped"):
        table.add_column(column, justify="right")
    table.add_column("reason")
    for row in result.sources:
        counts = (row.offers, row.added, row.repriced, row.unchanged, row.older, row.dropped)
        shown = [str(n) for n in counts] if row.status == "ok" else [""] * len(counts)
        table.add_row(row.source, row.status, *shown, Text(row.reason or ""))
    out = shared.out()
    out.print(table)
    err = shared.err()
    for row in result.sources:
        for line in row.notes:
            err.print(f"{row.source}: {line}", markup=False, highlight=False)
    if result.version is not None:
        out.print(
            f"catalog version {result.version[:_SHORT]} ({result.label}): "
            f"{result.n_offers} offers, from {result.parent[:_SHORT]} (now current)",
            markup=False,
        )


def _exit(result: CatalogRefresh) -> None:
    failed = [r for r in result.sources if r.status == "failed"]
    named = "; ".join(f"{r.source}: {r.reason}" for r in failed)
    if result.status == "partial":
        ran = sum(r.status != "skipped" for r in result.sources)
        raise RefreshError(
            f"{len(failed)} of {ran} sources failed ({named}); the others were saved as "
            f"catalog version {(result.version or '')[:_SHORT]} (now current)"
        )
    if result.status == "failed":
        raise NothingRefreshedError(
            f"every source failed ({named}); nothing was saved and the current catalog "
            f"version ({result.parent[:_SHORT]}) is unchanged"
        )
    if result.status == "nothing":
        skipped = "; ".join(f"{r.source}: {r.reason}" for r in result.sources)
        shared.err().print(f"no source ran ({skipped}); nothing was saved", markup=False)
