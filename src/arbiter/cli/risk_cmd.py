"""``arbiter risk``: how exposed a plan is, and what its diversification is worth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arbiter import api
from arbiter.cli import shared
from arbiter.cli.shared import CalibrationOpt, HtmlOpt, JsonOpt, VersionOpt
from arbiter.results.money import usd
from arbiter.results.risk import RiskReport


def risk(
    file: Annotated[Path, typer.Argument(help="Fleet file (YAML).")],
    scenarios_file: Annotated[
        Path, typer.Option("--scenarios", help="Scenario file (YAML) of shocks.")
    ],
    samples: Annotated[
        int | None, typer.Option("--samples", min=1, help="Monte Carlo samples.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling and solver seed.")] = None,
    recourse: Annotated[
        bool, typer.Option("--recourse", help="Re-plan under every sample.")
    ] = False,
    engine: shared.EngineOpt = "local",
    address: shared.AddressOpt = None,
    workers: shared.WorkersOpt = None,
    html: HtmlOpt = None,
    compare: Annotated[
        list[str] | None,
        typer.Option("--compare", help="A saved plan (arbiter plan --save) to add; repeatable."),
    ] = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
) -> None:
    """Stress-test a fleet's plan against sampled shocks, with and without re-planning,
    beside the locked-in status quo (and any saved plans named) on the same samples."""
    config = shared.settings()
    profile = shared.calibration(config, calibration)
    with shared.progress("samples", "batches") as tick:
        report = api.risk(
            file,
            scenarios_file,
            samples=samples,
            seed=seed,
            recourse=recourse,
            compare=compare or (),
            engine=engine,
            workers=workers,
            address=address,
            catalog=version,
            calibration=profile,
            progress=tick,
            config=config,
        )
    if html is not None:
        from arbiter.report.risk_html import risk_html  # noqa: PLC0415 - plotly is optional

        html.write_text(risk_html(report, title=f"arbiter risk: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(report.to_json())
        return
    _print(report, html)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _print(report: RiskReport, html: Path | None) -> None:
    console = shared.out()
    conc = report.concentration
    console.print(
        f"{report.sample_count:,} samples, seed {report.seed}, engine {report.engine} "
        f"({report.workers} workers), {'with' if report.recourse else 'without'} re-planning"
        + (
            ", perf-model error sampled per platform"
            if report.scenarios.perf_error
            else ", perf-model error off"
        )
    )
    table = Table(title="concentration of the plan", title_justify="left")
    for col in ("group", "top (spend)", "HHI spend", "HHI compute"):
        table.add_column(col)
    for group, top in conc.top.items():
        table.add_row(
            group,
            f"{top.name or '-'} {_pct(top.share or 0.0)}",
            f"{conc.hhi['spend'][group]:.2f}",
            f"{conc.hhi['compute'][group]:.2f}",
        )
    console.print(table)
    points = conc.single_points_of_failure[:5]
    if points:
        console.print("single points of failure (work lost if it disappeared, plan fixed):")
        for p in points:
            stopped = f"; stops {', '.join(p.workloads_stopped)}" if p.workloads_stopped else ""
            console.print(f"  {p.group} {p.name}: {_pct(p.unserved_share)}{stopped}")
    stats = Table(title="cost under the scenarios", title_justify="left")
    for col in ("plan", "plan cost", "mean", "P50", "P95", "CVaR95", "P(unmet)", "mean unmet"):
        stats.add_column(col, justify="right" if col != "plan" else "left")
    for name, s in report.plans.items():
        stats.add_row(
            name,
            usd(s.plan_usd),
            usd(s.mean_usd),
            usd(s.p50_usd),
            usd(s.p95_usd),
            usd(s.cvar95_usd),
            _pct(s.unmet_demand_probability),
            _pct(s.expected_unmet_share),
        )
    console.print(stats)
    value = report.optionality
    if value is not None:
        console.print(
            f"optionality value: {usd(value.value_usd)} expected saving of the plan over "
            f"locked_in ({usd(value.plan_difference_usd)} between the plans themselves, "
            f"{usd(value.from_shocks_usd)} from the shocks; "
            f"P5 {usd(value.p5_usd)}, P95 {usd(value.p95_usd)}; CVaR95 "
            f"lower by {usd(value.cvar95_reduction_usd)}; the plan is cheaper in "
            f"{_pct(value.probability_it_pays)} of samples)"
        )
    if html is not None:
        console.print(f"report written to {html}")
