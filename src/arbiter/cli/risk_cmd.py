"""``arbiter risk``: how exposed a plan is, and what its diversification is worth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arbiter import __version__
from arbiter.cli import shared
from arbiter.cli.planning import plan_file
from arbiter.cli.shared import CalibrationOpt, JsonOpt, VersionOpt
from arbiter.domain.errors import InputError
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ScenarioSet
from arbiter.optimize.baselines import locked_in
from arbiter.optimize.plan import solution_from_document
from arbiter.parallel import executor_for
from arbiter.risk.concentration import concentration
from arbiter.risk.evaluate import LOCKED_IN, RiskContext, optionality, run, summarise
from arbiter.scenarios import load_scenarios

DIVERSIFIED = "plan"
REFERENCE = LOCKED_IN


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
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
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
    scenarios = load_scenarios(scenarios_file)
    profile = shared.calibration(shared.settings(), calibration)
    n = samples if samples is not None else scenarios.samples
    run_seed = seed if seed is not None else scenarios.seed
    planned = plan_file(file, version=version, seed=run_seed, calibration=profile)
    fleet = planned.fleet
    _check_workload_names(scenarios, fleet, scenarios_file)
    plans = [(DIVERSIFIED, planned.solution)]
    reference = locked_in(fleet, planned.unlimited() or planned.everything)
    if reference is not None:
        plans.append((REFERENCE, reference))
    if compare:
        saved = shared.plan_store(shared.settings())
        for plan_id in compare:
            full = saved.resolve(plan_id)
            stored = saved.load(full)
            name = f"saved:{full[:12]}"
            plans.append(
                (name, solution_from_document(fleet, planned.everything, stored, name=name))
            )
    ctx = RiskContext(
        fleet=fleet,
        plans=tuple(plans),
        options=tuple(planned.options),
        scenarios=scenarios,
        recourse=recourse,
        seed=run_seed,
    )
    with (
        executor_for(engine, workers=workers, address=address) as pool,
        shared.progress("samples", "batches") as tick,
    ):
        results = run(ctx, n, pool, progress=tick)
        engine_name, engine_workers = pool.name, pool.workers
    accs = planned.catalog.accelerators
    doc: dict[str, Any] = {
        "samples": n,
        "seed": run_seed,
        "engine": engine_name,
        "workers": engine_workers,
        "recourse": recourse,
        "scenarios": {
            "file": scenarios_file.name,
            "penalty": scenarios.penalty,
            "perf_error": scenarios.perf_error,
            "shocks": [
                {"name": s.name, "kind": s.kind.value, "probability": s.probability}
                for s in scenarios.shocks
            ],
        },
        "concentration": concentration(fleet, planned.solution.placed, accs).as_dict(),
        **summarise(results, {name: sol.total_usd for name, sol in plans}),
        "optionality_value_usd": None,
        "optionality": None,
        "provenance": {
            "catalog_hash": planned.catalog.content_hash,
            "input_hash": planned.input_hash,
            "arbiter_version": __version__,
        },
    }
    if profile is not None:
        doc["provenance"]["calibration"] = profile.summary()
    for name, sol in plans:
        c = concentration(fleet, sol.placed, accs)
        doc["plans"][name]["hhi"] = c.hhi["spend"]
        doc["plans"][name]["top"] = c.top
    if reference is not None:
        value = optionality(
            results, DIVERSIFIED, REFERENCE, {name: sol.total_usd for name, sol in plans}
        )
        doc["optionality"] = value
        doc["optionality_value_usd"] = value["value_usd"]
    if html is not None:
        from arbiter.report.risk_html import risk_html  # noqa: PLC0415 - plotly is optional

        html.write_text(risk_html(doc, title=f"arbiter risk: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    _print(doc, html)


def _check_workload_names(scenarios: ScenarioSet, fleet: Fleet, file: Path) -> None:
    names = {w.name for w in fleet.workloads}
    for i, shock in enumerate(scenarios.shocks):
        for name in shock.selector.workloads or ():
            if name not in names:
                raise InputError(
                    f"shock {shock.name!r} selects workload {name!r}, which the fleet lacks",
                    file=str(file),
                    field=f"shocks[{i}].select.workload",
                    valid=", ".join(sorted(names)),
                )


def _usd(x: float | None) -> str:
    return "-" if x is None else f"${x:,.0f}"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _print(doc: dict[str, Any], html: Path | None) -> None:
    console = shared.out()
    conc = doc["concentration"]
    console.print(
        f"{doc['samples']:,} samples, seed {doc['seed']}, engine {doc['engine']} "
        f"({doc['workers']} workers), {'with' if doc['recourse'] else 'without'} re-planning"
        + (
            ", perf-model error sampled per platform"
            if doc["scenarios"].get("perf_error")
            else ", perf-model error off"
        )
    )
    table = Table(title="concentration of the plan", title_justify="left")
    for col in ("group", "top (spend)", "HHI spend", "HHI compute"):
        table.add_column(col)
    for group, top in conc["top"].items():
        table.add_row(
            group,
            f"{top.get('name', '-')} {_pct(top.get('share', 0.0))}",
            f"{conc['hhi']['spend'][group]:.2f}",
            f"{conc['hhi']['compute'][group]:.2f}",
        )
    console.print(table)
    points = conc["single_points_of_failure"][:5]
    if points:
        console.print("single points of failure (work lost if it disappeared, plan fixed):")
        for p in points:
            stopped = (
                f"; stops {', '.join(p['workloads_stopped'])}" if p["workloads_stopped"] else ""
            )
            console.print(f"  {p['group']} {p['name']}: {_pct(p['unserved_share'])}{stopped}")
    stats = Table(title="cost under the scenarios", title_justify="left")
    for col in ("plan", "plan cost", "mean", "P50", "P95", "CVaR95", "P(unmet)", "mean unmet"):
        stats.add_column(col, justify="right" if col != "plan" else "left")
    for name, s in doc["plans"].items():
        stats.add_row(
            name,
            _usd(s["plan_usd"]),
            _usd(s["mean_usd"]),
            _usd(s["p50_usd"]),
            _usd(s["p95_usd"]),
            _usd(s["cvar95_usd"]),
            _pct(s["unmet_demand_probability"]),
            _pct(s["expected_unmet_share"]),
        )
    console.print(stats)
    value = doc["optionality"]
    if value is not None:
        console.print(
            f"optionality value: {_usd(value['value_usd'])} expected saving of the plan over "
            f"locked_in ({_usd(value['plan_difference_usd'])} between the plans themselves, "
            f"{_usd(value['from_shocks_usd'])} from the shocks; "
            f"P5 {_usd(value['p5_usd'])}, P95 {_usd(value['p95_usd'])}; CVaR95 "
            f"lower by {_usd(value['cvar95_reduction_usd'])}; the plan is cheaper in "
            f"{_pct(value['probability_it_pays'])} of samples)"
        )
    if html is not None:
        console.print(f"report written to {html}")
