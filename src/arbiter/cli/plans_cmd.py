"""``arbiter plans ...``: the fleet plans saved in the store."""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.api import plans as api
from arbiter.cli import plans_views as views
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt

app = typer.Typer(help="Saved fleet plans: list them and show one.", no_args_is_help=True)


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List saved plans, newest first."""
    infos = api.saved_plans(config=shared.settings())
    if as_json:
        typer.echo(infos.to_json())
    else:
        shared.out().print(views.plans_table(infos))


@app.command("show")
def show(
    plan_id: Annotated[str, typer.Argument(metavar="ID", help="A plan id or a unique prefix.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the stored plan document unchanged.")
    ] = False,
) -> None:
    """Show a saved plan: total, assignments and shares."""
    saved = api.saved_plan(plan_id, config=shared.settings())
    if as_json:
        typer.echo(saved.document_json())
        return
    out = shared.out()
    for renderable in views.plan_summary(saved):
        out.print(renderable)
