"""``arbiter plans ...``: the fleet plans saved in the store."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from arbiter.cli import plans_views as views
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt

app = typer.Typer(help="Saved fleet plans: list them and show one.", no_args_is_help=True)


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List saved plans, newest first."""
    with shared.plan_store(shared.settings()) as store:
        infos = store.list()
    if as_json:
        typer.echo(json.dumps([views.plan_record(p) for p in infos], indent=2))
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
    with shared.plan_store(shared.settings()) as store:
        info = store.info(plan_id)
        document = store.document(info.plan_id)
    if as_json:
        typer.echo(document)
        return
    out = shared.out()
    for renderable in views.plan_summary(info, json.loads(document)):
        out.print(renderable)
