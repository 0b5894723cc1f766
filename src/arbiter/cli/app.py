"""The ``arbiter`` command. The one place where errors become messages and exit codes."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from types import ModuleType
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from arbiter._version import __version__
from arbiter.cli import (
    calibrate_cmd,
    catalog_cmd,
    deal_cmd,
    estimate_cmd,
    perf_cmd,
    plan_cmd,
    plans_cmd,
    procure_cmd,
    risk_cmd,
    serve_cmd,
    spot_cmd,
    tokens_cmd,
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
perf_cmd.app.command("calibrate")(calibrate_cmd.calibrate)
perf_cmd.app.command("calibrations")(calibrate_cmd.calibrations)
app.add_typer(plans_cmd.app, name="plans")
app.add_typer(spot_cmd.app, name="spot")
app.add_typer(tokens_cmd.app, name="tokens")
app.command("estimate")(estimate_cmd.estimate)
app.command("plan")(plan_cmd.plan)
app.command("export")(plan_cmd.export)
app.command("risk")(risk_cmd.risk)
app.command("procure")(procure_cmd.procure)
app.command("deal")(deal_cmd.deal)
app.command("serve")(serve_cmd.serve)

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


def _click_modules() -> list[ModuleType]:
    """The click exception modules in use: click's own and the copy Typer may vendor.

    Typer 0.12-0.2x raises click's classes; later releases vendor click as ``typer._click``
    and raise those instead, which ``except click.ClickException`` does not catch. Both are
    looked up, so the CLI does not depend on which Typer the install resolved.
    """
    found = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


def _classes(attr: str, *extra: type[BaseException]) -> tuple[type[BaseException], ...]:
    found = {getattr(m, attr) for m in _click_modules() if hasattr(m, attr)}
    found.update(extra)
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, BaseException))


# Usage errors (a missing argument, an unknown option or command, a bad value) and the other
# click errors: whichever click Typer uses. ``typer.Exit``/``typer.Abort`` are Typer's own
# classes in vendored releases and aliases of click's before.
_CLICK_ERRORS = _classes("ClickException")
_EXITS = _classes("Exit", typer.Exit)
_ABORTS = _classes("Abort", typer.Abort)


def _show_click_error(exc: BaseException) -> int:
    """Print a click error the way click does (usage, hint, message); return exit code 2."""
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    else:  # pragma: no cover - every click exception has show()
        Console(stderr=True, highlight=False).print(f"Error: {exc}")
    return 2


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 - one return per outcome
    """Run the CLI; return the exit code (2 bad input, 3 infeasible, 4 solver, 5 store,
    6 a refresh in which some feeds failed, 7 one in which all failed).

    No input ends in a traceback: usage errors print click's message and return 2, arbiter's
    errors their own exit code, a file that cannot be read or written 2. Anything else is a
    bug: one line saying so (the traceback with ``--debug``) and exit code 1.
    """
    args = sys.argv[1:] if argv is None else argv
    _STATE["debug"] = "--debug" in args or os.environ.get("ARBITER_DEBUG") == "1"
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = app(args=args, prog_name="arbiter", standalone_mode=False)
    except ArbiterError as exc:
        if _STATE["debug"]:
            traceback.print_exc()
        err.print(Text.assemble(("error: ", "bold red"), str(exc)))
        return exc.exit_code
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _CLICK_ERRORS as exc:
        return _show_click_error(exc)
    except _ABORTS:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as exc:  # a path given on the command line: --out, --html, a file
        if _STATE["debug"]:
            traceback.print_exc()
        where = f" {exc.filename}" if exc.filename else ""
        err.print(
            Text.assemble(
                ("error: ", "bold red"), f"cannot read or write{where}: {exc.strerror or exc}"
            )
        )
        return 2
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug, never a traceback by default
        if _STATE["debug"]:
            traceback.print_exc()
        err.print(
            Text.assemble(
                ("internal error: ", "bold red"),
                f"{type(exc).__name__}: {exc} (a bug in arbiter; --debug shows the traceback)",
            )
        )
        return 1
    # In non-standalone mode an explicit ``ctx.exit(n)`` comes back as the return value.
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


if __name__ == "__main__":
    sys.exit(main())
