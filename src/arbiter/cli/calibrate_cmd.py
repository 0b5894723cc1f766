"""``arbiter perf calibrate`` and ``arbiter perf calibrations``: calibration profiles from
the user's own runs (``perf/user_runs.py`` reads them, ``perf/calibration.py`` fits them,
``store/calibration_store.py`` keeps them)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arbiter._version import __version__
from arbiter.catalog.embedded import default_accelerators
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt
from arbiter.domain.errors import InputError
from arbiter.perf.calibration import CalibrationProfile, Skipped, check_name, fit_profile
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.user_runs import RunFormat, RunOptions, parse_user_runs, read_file


def calibrate(
    file: Annotated[
        Path,
        typer.Argument(
            help="Your runs: a benchmark-case CSV, a vLLM benchmark_serving.py result JSON, "
            "or a training log (YAML or CSV); docs/perf.md, 'Calibration profiles'."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Name to store the profile under.")],
    accelerator: Annotated[
        str | None,
        typer.Option("--accelerator", "-a", help="The chip the runs ran on (vLLM, training log)."),
    ] = None,
    chips: Annotated[
        int | None, typer.Option("--chips", help="Chips of the whole server (vLLM result).")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="The model (vLLM: instead of model_id; training log)."),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option("--precision", help="bf16, fp16, fp8 or fp4 (vLLM result, training log)."),
    ] = None,
    run_format: Annotated[
        str | None,
        typer.Option("--format", help="cases, vllm or train-log (default: told from the file)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a profile of the same name.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit a calibration profile on your own runs and store it: per chip and regime
    (train, inference), the factor between what you measured and what the model predicts,
    shrunk toward 1. Use it with --calibration NAME on estimate, plan, risk, procure, deal."""
    label = check_name(name)
    fmt = _format(run_format)
    accelerators = default_accelerators()
    data = read_file(file)
    runs = parse_user_runs(
        data,
        file=str(file),
        options=RunOptions(accelerator=accelerator, chips=chips, model=model, precision=precision),
        accelerators=accelerators,
        run_format=fmt,
    )
    excluded = {e.case_id for e in runs.excluded}
    usable = [c for c in runs.cases if c.case_id not in excluded]
    if not usable:
        reasons = "; ".join(f"{e.case_id}: {e.reason}" for e in runs.excluded[:3])
        raise InputError(
            f"none of the {len(runs.cases)} runs measures the chip ({reasons})", file=str(file)
        )
    profile = fit_profile(
        label,
        usable,
        accelerators,
        default_efficiency(),
        file=str(file),
        file_sha256=hashlib.sha256(data).hexdigest(),
        arbiter_version=__version__,
        run_format=runs.format.value,
    )
    profile = dataclasses.replace(
        profile,
        skipped=profile.skipped + tuple(Skipped(e.case_id, e.reason) for e in runs.excluded),
    )
    with shared.calibration_store(shared.settings()) as store:
        store.save(profile, replace=replace)
    if as_json:
        typer.echo(json.dumps(profile.to_dict(), indent=2))
        return
    console = shared.out()
    console.print(factors_table(profile))
    console.print(cases_table(profile))
    for s in profile.skipped:
        console.print(f"not fitted: {s.case_id}: {s.reason}")
    console.print(
        f"stored calibration profile {profile.name!r} ({profile.provenance.cases} cases of "
        f"{profile.provenance.file}, sha256 {profile.provenance.file_sha256[:12]}); use it "
        f"with --calibration {profile.name}"
    )


def calibrations(as_json: JsonOpt = False) -> None:
    """The stored calibration profiles: their factors and where they came from."""
    with shared.calibration_store(shared.settings()) as store:
        profiles = store.list()
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in profiles], indent=2))
        return
    shared.out().print(profiles_table(profiles))


def _format(raw: str | None) -> RunFormat | None:
    if raw is None:
        return None
    try:
        return RunFormat(raw.strip().lower())
    except ValueError:
        raise InputError(
            f"{raw!r} is not a format",
            field="--format",
            valid=", ".join(f.value for f in RunFormat),
        ) from None


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.4g}"


def _spread(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def factors_table(profile: CalibrationProfile) -> Table:
    table = Table(
        title=f"calibration profile {profile.name}: factors on the model's speed",
        title_justify="left",
    )
    for col in ("accelerator", "regime", "cases", "measured / model", "factor", "spread (log)"):
        table.add_column(col, justify="left" if col in ("accelerator", "regime") else "right")
    for f in profile.factors:
        table.add_row(
            f.accelerator, f.regime.value, str(f.cases), f"{f.raw:.3f}", f"{f.factor:.3f}",
            _spread(f.spread),
        )  # fmt: skip
    return table


def cases_table(profile: CalibrationProfile) -> Table:
    table = Table(title="your runs against the model", title_justify="left")
    for col in ("case", "accelerator", "kind", "metric", "measured", "model", "ratio"):
        table.add_column(col, justify="right" if col in ("measured", "model", "ratio") else "left")
    for r in profile.ratios:
        table.add_row(
            r.case_id, r.accelerator, r.kind, r.metric, _num(r.published), _num(r.predicted),
            f"{r.ratio:.3f}",
        )  # fmt: skip
    return table


def profiles_table(profiles: list[CalibrationProfile]) -> Table:
    table = Table(title=f"{len(profiles)} calibration profiles", title_justify="left")
    for col in ("name", "created", "file", "sha256", "cases", "factors", "arbiter"):
        table.add_column(col, justify="right" if col == "cases" else "left")
    for p in profiles:
        prov = p.provenance
        factors = ", ".join(
            f"{f.accelerator} {f.regime.value} x{f.factor:.3g} ({f.cases})" for f in p.factors
        )
        table.add_row(
            p.name, prov.created, prov.file, prov.file_sha256[:12], str(prov.cases), factors,
            prov.arbiter_version,
        )  # fmt: skip
    return table
