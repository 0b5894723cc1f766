"""``arbiter catalog ...``: accelerators, offers, imports, versions and diffs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arbiter.api import cataloging as api
from arbiter.api.importing import import_catalog
from arbiter.api.price_history import price_history
from arbiter.catalog.feeds.registry import SOURCES
from arbiter.catalog.query import SORT_KEYS
from arbiter.cli import catalog_views as views
from arbiter.cli import shared
from arbiter.cli.shared import HtmlOpt, JsonOpt, VersionOpt

app = typer.Typer(
    help="The compute catalog: accelerators, offers, feeds and versions.", no_args_is_help=True
)

_settings = shared.settings
_store = shared.store
_out = shared.out
_err = shared.err


@app.command("accelerators")
def accelerators(
    vendor: Annotated[
        list[str] | None, typer.Option("--vendor", help="Only this vendor (repeatable).")
    ] = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List accelerators and their specs."""
    accs = api.accelerators(vendor or (), version=version, config=_settings())
    if as_json:
        typer.echo(accs.to_json())
    else:
        _out().print(views.accelerators_table(accs))


@app.command("offers")
def offers(
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Provider (repeatable).")
    ] = None,
    accelerator: Annotated[
        list[str] | None,
        typer.Option("--accelerator", "-a", help="Accelerator, any alias (repeatable)."),
    ] = None,
    vendor: Annotated[
        list[str] | None, typer.Option("--vendor", help="Vendor (repeatable).")
    ] = None,
    regime: Annotated[
        list[str] | None,
        typer.Option(
            "--regime", help="on_demand, spot, reserved_1y, reserved_3y, capacity_block, committed."
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Region glob, e.g. 'us-*'.")
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", help=f"One of: {', '.join(SORT_KEYS)}.")
    ] = "usd_per_accelerator_hour",
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Show at most N offers.")
    ] = None,
    max_age_days: Annotated[
        int | None,
        typer.Option(
            "--max-age-days", min=0, help="Warn about offers older than this (default 180)."
        ),
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="The default catalog's superseded prices (older observations) instead.",
        ),
    ] = False,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every way to buy accelerators, cheapest per accelerator-hour first."""
    settings = _settings()
    chosen = api.offers(
        providers=provider or (),
        accelerators=accelerator or (),
        vendors=vendor or (),
        regimes=regime or (),
        region=region,
        sort=sort,
        limit=limit,
        history=history,
        version=version,
        config=settings,
    )
    max_age = settings.max_age_days if max_age_days is None else max_age_days
    if as_json:
        typer.echo(chosen.to_json())
    else:
        _out().print(views.offers_table(chosen, settings.today))
    warning = None if history else views.staleness_warning(chosen, settings.today, max_age)
    if warning:
        _err().print(warning, style="yellow")


@app.command("summary")
def summary(version: VersionOpt = None, as_json: JsonOpt = False) -> None:
    """Counts by vendor, provider and regime, and the cheapest offer per accelerator."""
    result = api.catalog_summary(version, config=_settings())
    if as_json:
        typer.echo(result.to_json())
        return
    out = _out()
    for renderable in views.summary(result):
        out.print(renderable)


@app.command("history")
def history(
    accelerator: Annotated[str, typer.Argument(help="A chip, any alias (H100, H100-SXM).")],
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Provider (repeatable).")
    ] = None,
    regime: Annotated[
        list[str] | None, typer.Option("--regime", help="Price regime (repeatable).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show at most N price moves.")
    ] = 20,
    html: HtmlOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every dated price of a chip: by provider and regime, and the offers whose price moved."""
    result = price_history(
        accelerator,
        providers=provider or (),
        regimes=regime or (),
        version=version,
        config=_settings(),
    )
    if html is not None:
        from arbiter.report.history_html import history_html  # noqa: PLC0415 - plotly optional

        page = history_html(result, title=f"arbiter catalog history: {result.accelerator}")
        html.write_text(page, encoding="utf-8")
    if as_json:
        typer.echo(result.to_json())
        return
    out = _out()
    for renderable in views.history_tables(result, limit):
        out.print(renderable)
    if html is not None:
        out.print(f"report written to {html}")


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help=f"One of: {', '.join(SOURCES)}.")],
    files: Annotated[list[Path], typer.Argument(help="Feed files to import.")],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider", help="The cloud a SkyPilot/gpuhunt file holds, if its name does not say."
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", help="A note stored with the version.")
    ] = None,
) -> None:
    """Import price feeds into a new catalog version (the current one plus the feed)."""
    result = import_catalog(
        source, files, provider=provider, label=label, clock=views.now, config=_settings()
    )
    err = _err()
    for line in result.notes:
        err.print(line, markup=False)
    _out().print(
        f"catalog version {result.version[:12]}: {result.added} offers added, "
        f"{result.replaced} replaced; {result.older} older than the price held, not taken; "
        f"{result.n_offers} offers in all (now current)"
    )


@app.command("versions")
def versions(as_json: JsonOpt = False) -> None:
    """List catalog versions; the current one is marked."""
    found = api.catalog_versions(config=_settings())
    if as_json:
        typer.echo(found.to_json())
    else:
        _out().print(views.versions_table(found))


@app.command("use")
def use(
    version: Annotated[
        str, typer.Argument(help="A version hash (or unique prefix), or 'default'.")
    ],
) -> None:
    """Make VERSION the current catalog version."""
    store = _store(_settings())
    resolved = store.resolve(version)
    store.use(resolved)
    _out().print(f"current catalog version: {resolved}")


@app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="Older version (hash prefix or 'default').")],
    new: Annotated[str, typer.Argument(help="Newer version.")],
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=1, help="Show at most N price changes."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Offers added, removed, and price changes (largest move first) between two versions."""
    result = api.catalog_diff(old, new, config=_settings())
    if as_json:
        typer.echo(result.to_json())
    else:
        for renderable in views.diff_tables(result, limit):
            _out().print(renderable)


# `arbiter catalog refresh` lives in its own module, registered here on this app.
from arbiter.cli import catalog_refresh_cmd  # noqa: E402 - after the app it registers on

app.command("refresh")(catalog_refresh_cmd.refresh)
