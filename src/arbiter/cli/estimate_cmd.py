"""``arbiter estimate``: cost per unit of work for each workload on every accelerator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arbiter import api
from arbiter.cli import perf_views as views
from arbiter.cli import shared
from arbiter.cli.shared import CalibrationOpt, JsonOpt, VersionOpt


def estimate(
    file: Annotated[Path, typer.Argument(help="Workload file (YAML).")],
    accelerator: Annotated[
        list[str] | None,
        typer.Option("--accelerator", "-a", help="Only this accelerator (repeatable)."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", "-n", min=1, help="Options shown per workload.")
    ] = 10,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
) -> None:
    """Each workload's best configuration per accelerator, cheapest per unit of work first."""
    config = shared.settings()
    report = api.estimate(
        file,
        accelerators=accelerator,
        top=top,
        catalog=version,
        calibration=shared.calibration(config, calibration),
        config=config,
    )
    if as_json:
        typer.echo(report.to_json())
        return
    console = shared.out()
    for w in report.workloads:
        console.print(views.estimates_table(w))
        for line in views.notes_lines(w):
            console.print(line)
        console.print()
