"""What every command shares: settings, the catalog store, consoles and common options."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from arbiter.cli.settings import Settings
from arbiter.store import CatalogStore, PlanStore, default_db_url

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
VersionOpt = Annotated[
    str | None, typer.Option("--version", "-V", help="Catalog version (default: the current one).")
]

# Wide tables fold badly at the 80 columns Rich assumes when output is not a terminal
# (a log, a pipe, CI): give them room there; a terminal keeps its own width.
PIPE_WIDTH = 180


def settings() -> Settings:
    return Settings.from_env(os.environ)


def store(config: Settings) -> CatalogStore:
    return CatalogStore(config.db_url or default_db_url(config.env))


def plan_store(config: Settings) -> PlanStore:
    """The saved plans, in the same database as the catalog (``ARBITER_DB_URL``)."""
    return PlanStore(config.db_url or default_db_url(config.env))


def out() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def err() -> Console:
    return Console(stderr=True, highlight=False)
