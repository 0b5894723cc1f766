"""``arbiter tokens ...``: the service's API tokens (create, list, revoke).

A token's secret is printed once, by ``create``, on stdout alone (so
``TOKEN=$(arbiter tokens create --role viewer)`` keeps it); the store holds only its
SHA-256, so it cannot be shown again. Everything else names a token by its public id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table

from arbiter.api.stores import token_store
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt

app = typer.Typer(
    help="API tokens of the web service: create, list and revoke them.", no_args_is_help=True
)


@app.command("create")
def create(
    role: Annotated[
        str,
        typer.Option(
            "--role", help="viewer (read), planner (also run jobs) or admin (also manage tokens)."
        ),
    ],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    expires_days: Annotated[
        int | None,
        typer.Option("--expires-days", min=1, help="Days until it expires (default: never)."),
    ] = None,
) -> None:
    """Create a token and print its secret, once: it cannot be shown again."""
    now = dt.datetime.now(dt.UTC)
    expires = None if expires_days is None else now + dt.timedelta(days=expires_days)
    with token_store(shared.settings()) as store:
        secret, info = store.create(role, label=label, expires_at=expires, now=now)
    err = shared.err()
    until = f", expires {info.expires_at}" if info.expires_at else ", does not expire"
    err.print(f"created {info.role} token {info.token_id}{until}", soft_wrap=True, markup=False)
    typer.echo(secret)
    err.print(
        "This is the token's secret: it is shown only now and cannot be shown again "
        "(arbiter keeps only its hash). Store it somewhere safe.",
        soft_wrap=True,
    )


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List the tokens, newest first (never their secrets)."""
    with token_store(shared.settings()) as store:
        infos = store.list()
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(i) for i in infos], indent=2))
        return
    now = dt.datetime.now(dt.UTC)
    table = Table(title="API tokens")
    for name in ("id", "role", "label", "created", "expires", "state"):
        table.add_column(name)
    for i in infos:
        expired = i.expires_at is not None and dt.datetime.fromisoformat(i.expires_at) <= now
        state = "revoked" if i.revoked else "expired" if expired else "active"
        table.add_row(
            i.token_id, i.role, i.label, _seconds(i.created_at),
            "" if i.expires_at is None else _seconds(i.expires_at), state,
        )  # fmt: skip
    shared.out().print(table)


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The token's id.")],
) -> None:
    """Revoke a token: it is refused from now on."""
    with token_store(shared.settings()) as store:
        info = store.revoke(token_id)
    typer.echo(f"revoked {info.role} token {info.token_id}")


def _seconds(stamp: str) -> str:
    return dt.datetime.fromisoformat(stamp).isoformat(timespec="seconds")
