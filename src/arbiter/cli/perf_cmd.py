"""``arbiter perf ...``: the performance model against published results, and its models."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arbiter.catalog.embedded import default_accelerators
from arbiter.cli import perf_views as views
from arbiter.cli import shared
from arbiter.cli.shared import JsonOpt
from arbiter.perf.cases import read_cases, shipped_cases
from arbiter.perf.cross_validation import cross_validate, default_workers
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.validation import validate as validate_cases
from arbiter.workloads import model_names, resolve_model

app = typer.Typer(
    help="The performance model: validate it on published results (--cv: out of sample); "
    "calibrate it on your own runs; list models.",
    no_args_is_help=True,
)


class SourceGrouping(StrEnum):
    DOCUMENT = "document"
    PUBLISHER = "publisher"


@app.command("validate")
def validate(
    cases: Annotated[
        Path | None,
        typer.Argument(
            help="Benchmark cases (CSV, see docs/perf-cases.md); the shipped ones by default."
        ),
    ] = None,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv",
            help="Leave one source out: refit without each source and predict it; "
            "errors by platform, chip and kind.",
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes for the --cv folds.")
    ] = default_workers(),
    by: Annotated[
        SourceGrouping,
        typer.Option(
            "--by",
            help="What --cv leaves out at once: one published document (an MLPerf "
            "submitter's round, a vendor's page, a paper), or a whole publisher "
            "(a repository or site).",
        ),
    ] = SourceGrouping.DOCUMENT,
    as_json: JsonOpt = False,
) -> None:
    """Predict every case; print predicted vs published, the error and MAPE. With
    ``--cv``, the out-of-sample error instead (each source predicted by the model fitted
    on every other; MLPerf rounds after v4.1 reported apart, never fitted)."""
    found = shipped_cases() if cases is None else read_cases(cases)
    if cv:
        result = cross_validate(
            found, default_accelerators(), default_efficiency(), workers=workers, by=by.value
        )
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        views.print_cross_validation(shared.out(), result)
        return
    report = validate_cases(found, default_accelerators(), default_efficiency())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    console = shared.out()
    console.print(views.validation_table(report))
    for attribute in ("accelerator", "kind", "metric"):
        console.print(views.mape_table(report, attribute))
    console.print(
        f"MAPE {100 * report.mape:.1f}% over {len(report.results)} cases; "
        f"{100 * report.mape_excluding_outliers:.1f}% without {len(report.outliers)} "
        "outlier submissions"
    )
    if report.skipped:
        console.print(f"{len(report.skipped)} cases not predicted:")
        for s in report.skipped:
            console.print(f"  {s.case_id}: {s.reason}")


@app.command("models")
def models(as_json: JsonOpt = False) -> None:
    """The model architectures arbiter knows."""
    archs = [resolve_model(n) for n in model_names()]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": m.name,
                        "params_total": m.params_total,
                        "params_active": m.params_active,
                        "n_layers": m.n_layers,
                        "d_model": m.d_model,
                        "n_heads": m.n_heads,
                        "n_kv_heads": m.n_kv_heads,
                        "attention": m.attention.value,
                        "n_experts": m.n_experts,
                        "n_active_experts": m.n_active_experts,
                        "kv_cache_bytes_per_token_bf16": m.kv_cache_bytes_per_token(2),
                        "source": m.source,
                    }
                    for m in archs
                ],
                indent=2,
            )
        )
        return
    shared.out().print(views.models_table(archs))
