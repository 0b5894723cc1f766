"""``arbiter estimate``: cost per unit of work for each workload on every accelerator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from arbiter.catalog.names import resolve_accelerator
from arbiter.cli import perf_views as views
from arbiter.cli import shared
from arbiter.cli.shared import CalibrationOpt, JsonOpt, VersionOpt
from arbiter.domain.errors import InputError
from arbiter.domain.workload import ServeJob, TrainJob, Workload
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.perf.pricing import PriceBook
from arbiter.workloads import load_workloads


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
    workloads = load_workloads(file)
    config = shared.settings()
    profile = shared.calibration(config, calibration)
    store = shared.store(config)
    name = version or store.current()
    catalog = store.load(name)
    accs = list(catalog.accelerators.values())
    if accelerator:
        wanted = {
            resolve_accelerator(a, catalog.accelerators, field="--accelerator") for a in accelerator
        }
        accs = [a for a in accs if a.name in wanted]
    eff = default_efficiency()
    prices = PriceBook(catalog)
    results = [(w, estimate_workload(w, accs, eff, prices, calibration=profile)) for w in workloads]
    if not accelerator:  # with --accelerator, "not on these chips" is an answer, not an error
        for index, (w, found) in enumerate(results):
            _check_feasible(file, index, w, found)
    if as_json:
        doc: dict[str, Any] = {
            "catalog_version": name,
            "efficiency": eff.fitted_on,
            "workloads": [views.workload_record(w, found, top) for w, found in results],
        }
        if profile is not None:
            doc["calibration"] = profile.summary()
        typer.echo(json.dumps(doc, indent=2))
        return
    console = shared.out()
    for w, found in results:
        console.print(views.estimates_table(w, found, top))
        for line in views.notes_lines(found, top):
            console.print(line)
        console.print()


def _check_feasible(file: Path, index: int, w: Workload, found: tuple[Estimate, ...]) -> None:
    """A workload no allowed accelerator can run is bad input: say what is reachable."""
    if any(e.feasible for e in found):
        return
    where = f"workloads[{index}]"
    if not found:
        raise InputError(
            f"workload {w.name!r}: no accelerator satisfies its vendors/platforms",
            file=str(file),
            field=f"{where}.vendors",
        )
    job = w.job
    slo = [e for e in found if e.best_tpot_s is not None and e.best_ttft_s is not None]
    if isinstance(job, ServeJob) and slo:
        tpot = min(slo, key=lambda e: e.best_tpot_s or 0.0)
        ttft = min(slo, key=lambda e: e.best_ttft_s or 0.0)
        raise InputError(
            f"workload {w.name!r}: no accelerator meets TTFT <= {job.ttft_s:g} s and TPOT <= "
            f"{job.tpot_s:g} s (p99); the best reachable is TPOT {tpot.best_tpot_s:.3f} s on "
            f"{tpot.accelerator} and TTFT {ttft.best_ttft_s:.2f} s on {ttft.accelerator}",
            file=str(file),
            field=f"{where}.slo",
            valid="a looser SLO, or a smaller model or precision",
        )
    if isinstance(job, TrainJob) and any(e.reason.startswith("too slow") for e in found):
        reasons = "; ".join(f"{e.accelerator}: {e.reason}" for e in found[:3])
        raise InputError(
            f"workload {w.name!r}: no accelerator finishes by the deadline ({reasons})",
            file=str(file),
            field=f"{where}.deadline_days",
        )
    raise InputError(
        f"workload {w.name!r} fits no accelerator: {found[0].accelerator}: {found[0].reason}",
        file=str(file),
        field=f"{where}.model",
    )
