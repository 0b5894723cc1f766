"""The ``arbiter`` command. The one place where errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.text import Text

from arbiter import __version__
from arbiter.cli import (
    catalog_cmd,
    deal_cmd,
    estimate_cmd,
    perf_cmd,
    plan_cmd,
    plans_cmd,
    procure_cmd,
    risk_cmd,
)
from arbiter.domain.errors import ArbiterError

app = typer.Typer(
    name="arbiter",
    help="Decide where AI workloads run across chips, clouds and price regimes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(perf_cmd.app, name="perf")
app.add_typer(plans_cmd.app, name="plans")
app.command("estimate")(estimate_cmd.estimate)
app.command("plan")(plan_cmd.plan)
app.command("export")(plan_cmd.export)
app.command("risk")(risk_cmd.risk)
app.command("procure")(procure_cmd.procure)
app.command("deal")(deal_cmd.deal)

_STATE = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"arbiter {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[  # noqa: ARG001 - handled eagerly by its callback
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    _STATE["debug"] = debug


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 bad input, 3 infeasible, 4 solver, 5 store)."""
    args = sys.argv[1:] if argv is None else argv
    _STATE["debug"] = "--debug" in args or os.environ.get("ARBITER_DEBUG") == "1"
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=args, prog_name="arbiter", standalone_mode=False)
    except ArbiterError as exc:
        if _STATE["debug"]:
            traceback.print_exc()
        err.print(Text.assemble(("error: ", "bold red"), str(exc)))
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
