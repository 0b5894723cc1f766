"""What every command shares: settings, the catalog store, consoles and common options."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from arbiter.api.settings import Settings
from arbiter.api.stores import (
    calibration_store,
    default_capacity_file,
    load_calibration,
    plan_store,
    settings,
)
from arbiter.api.stores import catalog_store as store
from arbiter.perf.calibration import CalibrationProfile, efficiency_fingerprint
from arbiter.perf.efficiency import default_efficiency

__all__ = [
    "Settings",
    "calibration_store",
    "default_capacity_file",
    "plan_store",
    "settings",
    "store",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
VersionOpt = Annotated[
    str | None, typer.Option("--version", "-V", help="Catalog version (default: the current one).")
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where the work runs: local or ray.")]
AddressOpt = Annotated[
    str | None, typer.Option("--address", help="Ray cluster address (--engine ray).")
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Worker processes (default: CPUs).")
]
CalibrationOpt = Annotated[
    str | None,
    typer.Option(
        "--calibration",
        help="A calibration profile (`arbiter perf calibrations`): the model's speed on the "
        "chips it covers corrected by your own runs.",
    ),
]

TimeLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        min=0.0,
        help="Seconds the solver may take; at the limit the best plan found is returned "
        "with its proven gap (default: 60 for a plan, 20 per cap of a sweep, 120 for "
        "procure).",
    ),
]
MipGapOpt = Annotated[
    float | None,
    typer.Option(
        "--mip-gap",
        min=0.0,
        max=1.0,
        help="Relative gap to the best possible plan that counts as optimal, e.g. 0.01 "
        "for 1% (default: 0.001 for a plan, 0.0001 for procure).",
    ),
]
ExportModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--export-model",
        help="Write the model solved to FILE.mps or FILE.lp (MPS or LP format), to read "
        "into another solver.",
    ),
]

# Wide tables fold badly at the 80 columns Rich assumes when output is not a terminal
# (a log, a pipe, CI): give them room there; a terminal keeps its own width.
PIPE_WIDTH = 180


def calibration(config: Settings, name: str | None) -> CalibrationProfile | None:
    """The profile ``--calibration`` names (None when not given); an unknown name exits 2
    naming the stored ones. Says on stderr what it applies, and warns when the model's
    parameters changed since the profile was fitted."""
    if name is None:
        return None
    profile = load_calibration(name, config)
    factors = ", ".join(
        f"{f.accelerator} {f.regime.value} x{f.factor:.3g}" for f in profile.factors
    )
    console = err()
    console.print(
        f"calibration profile {profile.name!r}: {factors} "
        f"({profile.provenance.cases} cases of {profile.provenance.file})",
        soft_wrap=True,
    )
    now = efficiency_fingerprint(default_efficiency())
    if profile.provenance.efficiency != now:
        console.print(
            f"warning: profile {profile.name!r} was fitted against the model parameters "
            f"{profile.provenance.efficiency}; the model now uses {now}. Its factors correct "
            "a model that has changed since: calibrate again with --replace.",
            soft_wrap=True,
        )
    return profile


def out() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def err() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr: ``tick(done, total)`` moves it (``unit`` names the items)."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn(f"{{task.completed}}/{{task.total}} {unit}"),
        TimeRemainingColumn(),
        console=err(),
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def tick(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield tick


@contextmanager
def stages(labels: Mapping[str, tuple[str, str]]) -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars on stderr, one per stage as it starts: ``tick(stage, done, total)``
    moves the stage's bar; ``labels`` gives each stage its label and the unit of its
    items."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} {task.fields[unit]}"),
        TimeRemainingColumn(),
        console=err(),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def tick(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            label, unit = labels.get(stage, (stage, "items"))
            tasks[stage] = bar.add_task(label, total=total, unit=unit)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield tick
