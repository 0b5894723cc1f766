"""``arbiter plan``: the cheapest placement of a fleet; ``arbiter export``: launch files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from arbiter import api
from arbiter.api.planning import DEFAULT_MIP_GAP, PLAN_TIME_LIMIT_S, SWEEP_TIME_LIMIT_S
from arbiter.cli import shared
from arbiter.cli.audit_text import audit_lines
from arbiter.cli.perf_views import band_text
from arbiter.cli.shared import (
    CalibrationOpt,
    ExportModelOpt,
    HtmlOpt,
    JsonOpt,
    MipGapOpt,
    TimeLimitOpt,
    VersionOpt,
)
from arbiter.domain.errors import InputError
from arbiter.domain.fleet import GROUPS
from arbiter.export.launchers import read_plan, to_dstack, to_json, to_skypilot
from arbiter.report.plan_html import plan_html
from arbiter.results.money import usd
from arbiter.results.plan import Assignment, Plan, SweepPoint


def plan(
    file: Annotated[Path, typer.Argument(help="Fleet file (YAML).")],
    html: HtmlOpt = None,
    alternatives: Annotated[
        int, typer.Option("--alternatives", min=0, help="Next-best options per workload.")
    ] = 3,
    sweep: Annotated[
        str | None,
        typer.Option(
            "--sweep",
            help="Price of diversification: GROUP=START:STOP:STEP, e.g. vendor=1.0:0.3:0.1",
        ),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the plan in the store.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Solver seed.")] = 0,
    time_limit: TimeLimitOpt = None,
    mip_gap: MipGapOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    capacity: Annotated[
        Path | None,
        typer.Option(
            "--capacity",
            help="Capacity file (YAML or CSV) of the chips you can obtain; default "
            "$ARBITER_CAPACITY_FILE or ~/.local/share/arbiter/capacity.yaml (docs/capacity.md).",
        ),
    ] = None,
    calibration: CalibrationOpt = None,
    export_model: ExportModelOpt = None,
) -> None:
    """Place every workload of FLEET at least cost under its caps, capacity and budget."""
    config = shared.settings()
    result = api.plan(
        file,
        catalog=version,
        alternatives=alternatives,
        seed=seed,
        time_limit_s=PLAN_TIME_LIMIT_S if time_limit is None else time_limit,
        mip_gap=DEFAULT_MIP_GAP if mip_gap is None else mip_gap,
        capacity_file=capacity,
        calibration=shared.calibration(config, calibration),
        config=config,
        export_model=export_model,
    )
    if sweep:
        group, caps = api.sweep_caps(sweep)
        points = api.sweep(
            result,
            group,
            caps,
            time_limit_s=SWEEP_TIME_LIMIT_S if time_limit is None else time_limit,
            mip_gap=DEFAULT_MIP_GAP if mip_gap is None else mip_gap,
        )
        result = result.model_copy(update={"sweep": points})
    if html is not None:
        html.write_text(plan_html(result, title=f"arbiter plan: {file.name}"), encoding="utf-8")
    if save:
        result = api.save_plan(result, name=file.name, config=config)
    if as_json:
        typer.echo(result.to_json())
        return
    _print(result, html)


def _print(plan: Plan, html: Path | None) -> None:
    console = shared.out()
    table = Table(title=f"plan: {usd(plan.total_usd)} ({plan.status})", title_justify="left")
    for col in (
        "workload",
        "accelerator",
        "provider",
        "region",
        "regime",
        "instances",
        "chips",
        "hours",
        "USD",
        "error band",
    ):
        table.add_column(
            col,
            justify="right"
            if col in ("instances", "chips", "hours", "USD", "error band")
            else "left",
        )
    for a in plan.assignments:
        table.add_row(
            a.workload,
            a.accelerator,
            a.provider,
            a.region,
            a.price_regime,
            f"{a.instance_count:,}",
            f"{a.accelerator_count:,}",
            f"{a.hours:,.0f}",
            usd(a.usd),
            band_text(a.error_band_share, a.band_cases, chip=a.chip_cases),
        )
    console.print(table)
    for line in spot_lines(plan.assignments):
        console.print(escape(line))
    if plan.solver_note:
        console.print(escape(plan.solver_note))
    if plan.cheaper_plan_usd is not None:
        saved = plan.total_usd - plan.cheaper_plan_usd
        console.print(
            f"A plan {usd(saved)} cheaper ({saved / plan.total_usd:.2%}) that meets every "
            "row came up while the binding rows were re-solved: this plan is within its "
            f"{plan.mip_gap or 0:.2%} gap; a smaller --mip-gap may find the cheaper one."
        )
    enabled = ", ".join(f"{p.platform} ({usd(p.enable_usd)})" for p in plan.platforms_enabled)
    console.print(
        f"compute {usd(plan.compute_usd)}, platform enablement {usd(plan.enablement_usd)}"
        + (f": {enabled}" if enabled else "")
    )
    for group in GROUPS:
        shares = ", ".join(
            f"{k} {v:.0%}" for k, v in sorted(plan.shares[group].items(), key=lambda kv: -kv[1])
        )
        cap = plan.caps[group]
        console.print(
            f"{group}: {shares} (HHI {plan.hhi[group]:.2f}{f', cap {cap:.0%}' if cap else ''})"
        )
    for b in plan.binding:
        console.print(f"  {escape(b.text)}")
    base = Table(title="baselines, same inputs", title_justify="left")
    for col in ("baseline", "total", "meets the fleet's constraints", "vs plan"):
        base.add_column(col)
    for name, found in (plan.baselines or {}).items():
        diff = None if found.total_usd is None else found.total_usd - plan.total_usd
        base.add_row(
            name,
            usd(found.total_usd),
            found.note or ("yes" if found.feasible else "no"),
            "-" if diff is None else f"{diff:+,.0f}",
        )
    console.print(base)
    if plan.audit is not None:
        for line in audit_lines(plan.audit):
            console.print(escape(line))
    if plan.sweep:
        sweep = Table(title="price of diversification", title_justify="left")
        for col in ("cap", "total"):
            sweep.add_column(col)
        for row in plan.sweep:
            sweep.add_row(f"{row.group} {row.cap:.0%}", _sweep_cell(row))
        console.print(sweep)
    if html is not None:
        console.print(f"report written to {html}")
    if plan.plan_id is not None:
        console.print(f"saved as plan {plan.plan_id}")


def _sweep_cell(row: SweepPoint) -> str:
    if row.feasible:
        gap = row.mip_gap or 0.0
        return usd(row.total_usd) + (f" (within {gap:.1%})" if row.status == "feasible" else "")
    return "no plan found in time" if row.status == "time_limit" else "infeasible"


def export(
    plan_file: Annotated[Path, typer.Argument(help="A plan written by `arbiter plan --json`.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="skypilot, dstack or json.")
    ] = "skypilot",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write one file per assignment here.")
    ] = None,
) -> None:
    """Launch files for a saved plan: SkyPilot tasks, dstack configurations or JSON."""
    doc = read_plan(plan_file)
    if fmt == "json":
        files = [(plan_file.name, to_json(doc))]
    elif fmt == "skypilot":
        files = to_skypilot(doc)
    elif fmt == "dstack":
        files = to_dstack(doc)
    else:
        raise InputError(
            f"unknown format {fmt!r}", field="--format", valid="skypilot, dstack, json"
        )
    if out is None:
        for name, text in files:
            typer.echo(f"# {name}\n{text}")
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (out / name).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(files)} files to {out}")


def spot_lines(assignments: Iterable[Assignment]) -> list[str]:
    """One line per spot offer of a plan: the spot model's rate and what it rests on; under
    it, one line per job with a deadline on it: its expected outcome (``docs/spot.md``)."""
    listed = sorted(
        (a for a in assignments if a.spot is not None),
        key=lambda a: (a.provider, a.region, a.instance_type, a.workload),
    )
    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for a in listed:
        s = a.spot
        assert s is not None
        place = (a.provider, a.region, a.instance_type)
        if place not in seen:
            seen.add(place)
            out.append(
                f"spot {' '.join(place)}: {s.interruptions_per_hour:.3g} interruptions/h "
                f"({s.basis}: {s.source}, as of {s.as_of}); {s.restart_hours} h lost per "
                f"interruption, throughput x{s.throughput_factor:.4f}"
            )
        if s.policy is not None and s.spot_share is not None:
            fallback = (
                "no on-demand fallback there"
                if s.on_demand_usd_per_hour is None
                else f"{s.on_demand_hours or 0.0:,.0f} chip-h on demand at "
                f"${s.on_demand_usd_per_hour:,.2f}/h"
            )
            out.append(
                f"  {a.workload}: {s.policy}, {s.spot_share:.1%} of the work on spot (spot "
                f"there {s.available_share or 0.0:.1%} of the time, outages of "
                f"{s.mean_outage_hours or 0.0:g} h), {fallback}, late "
                f"{s.miss_probability or 0.0:.1%}"
            )
    return out
