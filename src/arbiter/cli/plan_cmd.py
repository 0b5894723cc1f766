"""``arbiter plan``: the cheapest placement of a fleet; ``arbiter export``: launch files."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from arbiter.cli import shared
from arbiter.cli.audit_text import audit_lines
from arbiter.cli.perf_views import band_text
from arbiter.cli.planning import MipGapOpt, TimeLimitOpt, plan_file
from arbiter.cli.shared import CalibrationOpt, JsonOpt, VersionOpt
from arbiter.domain.errors import InfeasibleError, InputError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.price_age import price_age
from arbiter.export.launchers import read_plan, to_dstack, to_json, to_skypilot
from arbiter.optimize.audit import plan_audit
from arbiter.optimize.capacity import assumptions_used
from arbiter.optimize.fleet import DEFAULT_MIP_GAP, limit_sentence, solve_fleet
from arbiter.optimize.linear import Status
from arbiter.optimize.options import Option
from arbiter.optimize.plan import plan_document
from arbiter.report.plan_html import plan_html

PLAN_TIME_LIMIT_S = 60.0  # the plan's own solve, unless --time-limit says otherwise
SWEEP_TIME_LIMIT_S = 20.0  # per cap value; a cap with no plan by then is reported as such


def plan(
    file: Annotated[Path, typer.Argument(help="Fleet file (YAML).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
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
) -> None:
    """Place every workload of FLEET at least cost under its caps, capacity and budget."""
    started = time.monotonic()
    profile = shared.calibration(shared.settings(), calibration)
    limit = PLAN_TIME_LIMIT_S if time_limit is None else time_limit
    gap = DEFAULT_MIP_GAP if mip_gap is None else mip_gap
    planned = plan_file(
        file,
        version=version,
        seed=seed,
        time_limit_s=limit,
        mip_gap=gap,
        fold=True,
        capacity_file=capacity,
        calibration=profile,
    )
    fleet, options, solution = planned.fleet, planned.options, planned.solution
    config = shared.settings()
    provenance = {
        "catalog_hash": planned.catalog.content_hash,
        "input_hash": planned.input_hash,
        "seed": seed,
    }
    if profile is not None:
        provenance["calibration"] = profile.summary()
    # the analyses (baselines, binding rows) get what the plan left of the limit, less a
    # seventh kept for a solve's overrun and for writing the plan out; the baselines'
    # options (built without capacity) are built only when that leaves time for them
    analyses_s = max(0.85 * limit - (time.monotonic() - started), 0.0)
    unlimited = planned.unlimited() if analyses_s > 2.0 * planned.options_s else None
    doc = plan_document(
        fleet,
        options,
        solution,
        provenance=provenance,
        n_alternatives=alternatives,
        all_options=planned.everything,
        time_limit_s=max(0.85 * limit - (time.monotonic() - started), 0.0),
        folded=planned.folded,
        baseline_options=unlimited,
        baseline_time_s=None if unlimited is not None else 0.0,
    )
    offers = {o.offer.offer_id: o.offer for o in planned.everything}
    for a in doc["assignments"]:  # ages at the settings' date (ARBITER_TODAY)
        a["price_age_days"] = price_age(offers[a["offer_id"]], config.today).age_days
    doc["capacity_assumptions"] = assumptions_used(solution.placed, planned.assumptions or {})
    audited = (
        (fleet, solution)
        if planned.folded is None
        else (planned.folded.original, planned.folded.unfold(solution))
    )
    doc["audit"] = plan_audit(*audited, doc["capacity_assumptions"], today=config.today).to_dict()
    note = limit_sentence(solution, limit)
    if note:
        doc["solver_note"] = note
    if sweep:
        sweep_limit = SWEEP_TIME_LIMIT_S if time_limit is None else time_limit
        doc["sweep"] = _sweep(fleet, options, sweep, seed, sweep_limit, gap)
    if html is not None:
        html.write_text(plan_html(doc, title=f"arbiter plan: {file.name}"), encoding="utf-8")
    if save:
        doc_id = shared.plan_store(config).save(doc, name=file.name)
        doc["plan_id"] = doc_id
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    _print(doc, html)


def _sweep(
    fleet: Fleet,
    options: list[Option],
    spec: str,
    seed: int,
    time_limit_s: float = SWEEP_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> list[dict[str, Any]]:
    """The plan's cost at each cap of ``spec``, each solved within ``time_limit_s``: a
    cap stopped at the limit with a plan reports it (status ``feasible``, its gap), one
    with none is ``time_limit``."""
    try:
        group, span = spec.split("=", 1)
        start, stop, step = (float(x) for x in span.split(":"))
    except ValueError:
        raise InputError(
            f"cannot read sweep {spec!r}",
            field="--sweep",
            valid="GROUP=START:STOP:STEP, e.g. vendor=1.0:0.3:0.1",
        ) from None
    if group not in GROUPS or not (0 < stop <= 1 and 0 < start <= 1 and step > 0):
        raise InputError(
            f"cannot sweep {spec!r}",
            field="--sweep",
            valid=f"a group of {', '.join(GROUPS)} and caps in (0, 1] with a positive step",
        )
    direction = -1.0 if stop < start else 1.0
    caps = [round(c, 6) for c in np.arange(start, stop + direction * step / 2, direction * step)]
    # tightening a cap only shrinks the feasible set: caps tighter than one proven
    # infeasible are infeasible too, and are not solved again
    solved: dict[float, dict[str, Any]] = {}
    worst_infeasible: float | None = None
    for cap in sorted(caps, reverse=True):
        row: dict[str, Any] = {"group": group, "cap": cap, "total_usd": None, "feasible": False}
        if worst_infeasible is None:
            capped = replace(fleet, caps=replace(fleet.caps, **{group: cap}))
            try:
                found = solve_fleet(
                    capped,
                    options,
                    seed=seed,
                    time_limit_s=time_limit_s,
                    mip_gap=mip_gap,
                    explain=False,
                )
                row |= {"total_usd": found.total_usd, "feasible": True}
                if found.status is Status.FEASIBLE:
                    row |= {"status": found.status.value, "mip_gap": found.mip_gap}
            except InfeasibleError:
                worst_infeasible = cap
            except SolverError:
                row["status"] = "time_limit"
        solved[cap] = row
    return [solved[c] for c in caps]


def _usd(x: float | None) -> str:
    return "-" if x is None else f"${x:,.0f}"


def _print(doc: dict[str, Any], html: Path | None) -> None:
    console = shared.out()
    table = Table(title=f"plan: {_usd(doc['total_usd'])} ({doc['status']})", title_justify="left")
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
    for a in doc["assignments"]:
        table.add_row(
            a["workload"],
            a["accelerator"],
            a["provider"],
            a["region"],
            a["price_regime"],
            f"{a['instance_count']:,}",
            f"{a['accelerator_count']:,}",
            f"{a['hours']:,.0f}",
            _usd(a["usd"]),
            band_text(a.get("error_band_share"), a.get("band_cases"), chip=a.get("chip_cases")),
        )
    console.print(table)
    for line in spot_lines(doc["assignments"]):
        console.print(escape(line))
    if doc.get("solver_note"):
        console.print(escape(doc["solver_note"]))
    if doc.get("cheaper_plan_usd") is not None:
        saved = doc["total_usd"] - doc["cheaper_plan_usd"]
        console.print(
            f"A plan {_usd(saved)} cheaper ({saved / doc['total_usd']:.2%}) that meets every "
            "row came up while the binding rows were re-solved: this plan is within its "
            f"{doc['mip_gap'] or 0:.2%} gap; a smaller --mip-gap may find the cheaper one."
        )
    enabled = ", ".join(
        f"{p['platform']} ({_usd(p['enable_usd'])})" for p in doc["platforms_enabled"]
    )
    console.print(
        f"compute {_usd(doc['compute_usd'])}, platform enablement {_usd(doc['enablement_usd'])}"
        + (f": {enabled}" if enabled else "")
    )
    for group in GROUPS:
        shares = ", ".join(
            f"{k} {v:.0%}" for k, v in sorted(doc["shares"][group].items(), key=lambda kv: -kv[1])
        )
        cap = doc["caps"][group]
        console.print(
            f"{group}: {shares} (HHI {doc['hhi'][group]:.2f}{f', cap {cap:.0%}' if cap else ''})"
        )
    for b in doc["binding"]:
        console.print(f"  {escape(b['text'])}")
    base = Table(title="baselines, same inputs", title_justify="left")
    for col in ("baseline", "total", "meets the fleet's constraints", "vs plan"):
        base.add_column(col)
    for name, b in doc.get("baselines", {}).items():
        diff = None if b["total_usd"] is None else b["total_usd"] - doc["total_usd"]
        base.add_row(
            name,
            _usd(b["total_usd"]),
            b["note"] if b.get("note") else ("yes" if b["feasible"] else "no"),
            "-" if diff is None else f"{diff:+,.0f}",
        )
    console.print(base)
    for line in audit_lines(doc["audit"]):
        console.print(escape(line))
    if doc.get("sweep"):
        sweep = Table(title="price of diversification", title_justify="left")
        for col in ("cap", "total"):
            sweep.add_column(col)
        for row in doc["sweep"]:
            sweep.add_row(
                f"{row['group']} {row['cap']:.0%}",
                _usd(row["total_usd"])
                + (f" (within {row['mip_gap']:.1%})" if row.get("status") == "feasible" else "")
                if row["feasible"]
                else "no plan found in time"
                if row.get("status") == "time_limit"
                else "infeasible",
            )
        console.print(sweep)
    if html is not None:
        console.print(f"report written to {html}")
    if "plan_id" in doc:
        console.print(f"saved as plan {doc['plan_id']}")


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


def spot_lines(assignments: list[dict[str, Any]]) -> list[str]:
    """One line per spot offer of a plan: the spot model's rate and what it rests on."""
    spot = {
        (a["provider"], a["region"], a["instance_type"]): a["spot"]
        for a in assignments
        if a.get("spot")
    }
    return [
        f"spot {provider} {region} {instance_type}: {s['interruptions_per_hour']:.3g} "
        f"interruptions/h ({s['basis']}: {s['source']}, as of {s['as_of']}); "
        f"{s['restart_hours']} h lost per interruption, throughput x{s['throughput_factor']:.4f}"
        for (provider, region, instance_type), s in sorted(spot.items())
    ]
