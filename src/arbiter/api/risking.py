"""Stress-testing a plan: its concentration, and its cost under sampled shocks beside
the locked-in status quo (and any saved plans) on the same samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arbiter.api.loading import Source, scenarios_source
from arbiter.api.planning import Planned, planned_of, resolve_calibration, solve
from arbiter.api.provenance import provenance
from arbiter.api.settings import Settings
from arbiter.api.stores import plan_store, settings
from arbiter.domain.errors import InputError
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ScenarioSet
from arbiter.optimize.baselines import locked_in
from arbiter.optimize.fleet import FleetSolution
from arbiter.optimize.plan import solution_from_document
from arbiter.parallel import executor_for
from arbiter.perf.calibration import CalibrationProfile
from arbiter.results.plan import Plan
from arbiter.results.risk import PlanSamplesView, RiskReport, RiskSamples
from arbiter.risk.concentration import concentration
from arbiter.risk.evaluate import LOCKED_IN, PlanSamples, RiskContext, headline, summarise
from arbiter.risk.evaluate import optionality as optionality_of
from arbiter.risk.evaluate import run as run_samples

DIVERSIFIED = "plan"
REFERENCE = LOCKED_IN


def risk(
    plan: Plan | Source | Fleet,
    scenarios: Source | ScenarioSet,
    *,
    samples: int | None = None,
    seed: int | None = None,
    recourse: bool = False,
    compare: Sequence[str] = (),
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    catalog: str | None = None,
    calibration: str | CalibrationProfile | None = None,
    progress: Callable[[int, int], None] | None = None,
    config: Settings | None = None,
) -> RiskReport:
    """How exposed ``plan`` is to the shocks of ``scenarios`` (a path, YAML text, a
    mapping or a scenario set): concentration and single points of failure, the cost of
    the plan and of the locked-in status quo (and of every saved plan in ``compare``) on
    the same ``samples`` (default: the scenario file's), with re-planning under every
    sample when ``recourse``, and the optionality value of the plan over the locked-in
    one. ``plan`` is a :class:`Plan` from :func:`arbiter.plan`, or a fleet (then solved
    with the sampling seed on ``catalog`` with ``calibration``, without the plan's
    analyses). ``engine`` ``ray`` runs the samples on a Ray cluster (``address``)."""
    config = config or settings()
    shocks, source_name = scenarios_source(scenarios)
    n = samples if samples is not None else shocks.samples
    run_seed = seed if seed is not None else shocks.seed
    if isinstance(plan, Plan):  # its estimates carry the calibration it was made with
        planned, calibrated = planned_of(plan), plan.provenance.calibration
    else:
        profile = resolve_calibration(calibration, config)
        planned = solve(plan, catalog=catalog, seed=run_seed, calibration=profile, config=config)
        calibrated = None if profile is None else profile.summary()
    fleet = planned.fleet
    _check_workload_names(shocks, fleet, source_name)
    plans: list[tuple[str, FleetSolution]] = [(DIVERSIFIED, planned.solution)]
    reference = locked_in(fleet, planned.unlimited() or planned.everything)
    if reference is not None:
        plans.append((REFERENCE, reference))
    plans.extend(_saved(compare, planned, config))
    ctx = RiskContext(
        fleet=fleet,
        plans=tuple(plans),
        options=tuple(planned.options),
        scenarios=shocks,
        recourse=recourse,
        seed=run_seed,
    )
    with executor_for(engine, workers=workers, address=address) as pool:
        results = run_samples(ctx, n, pool, progress=progress)
        engine_name, engine_workers = pool.name, pool.workers
    accs = planned.catalog.accelerators
    plan_usd = {name: sol.total_usd for name, sol in plans}
    doc: dict[str, Any] = {
        "samples": n,
        "seed": run_seed,
        "engine": engine_name,
        "workers": engine_workers,
        "recourse": recourse,
        "scenarios": {
            "file": source_name if source_name.startswith("<") else Path(source_name).name,
            "penalty": shocks.penalty,
            "perf_error": shocks.perf_error,
            "shocks": [
                {"name": s.name, "kind": s.kind.value, "probability": s.probability}
                for s in shocks.shocks
            ],
        },
        "concentration": concentration(fleet, planned.solution.placed, accs).as_dict(),
        **summarise(results, plan_usd),
        "optionality_value_usd": None,
        "optionality": None,
        "provenance": provenance(
            planned.catalog, name=planned.input_name, input_hash=planned.input_hash,
            profile=calibrated,
        ),
    }  # fmt: skip
    for name, sol in plans:
        c = concentration(fleet, sol.placed, accs)
        doc["plans"][name]["hhi"] = c.hhi["spend"]
        doc["plans"][name]["top"] = c.top
    if reference is not None:
        value = optionality_of(results, DIVERSIFIED, REFERENCE, plan_usd)
        doc["optionality"] = value
        doc["optionality_value_usd"] = value["value_usd"]
    return RiskReport.model_validate(doc).with_samples(_samples_of(results))


def _saved(
    compare: Sequence[str], planned: Planned, config: Settings
) -> list[tuple[str, FleetSolution]]:
    if not compare:
        return []
    saved = plan_store(config)
    out = []
    for plan_id in compare:
        full = saved.resolve(plan_id)
        stored = saved.load(full)
        name = f"saved:{full[:12]}"
        out.append(
            (name, solution_from_document(planned.fleet, planned.everything, stored, name=name))
        )
    return out


def _samples_of(results: dict[str, PlanSamples]) -> RiskSamples:
    views = {}
    for name, s in results.items():
        cost, unmet, missed = headline(s)
        views[name] = PlanSamplesView(cost_usd=cost, unmet_share=unmet, missed_deadlines=missed)
    return RiskSamples(views)


def _check_workload_names(scenarios: ScenarioSet, fleet: Fleet, file: str) -> None:
    names = {w.name for w in fleet.workloads}
    for i, shock in enumerate(scenarios.shocks):
        for name in shock.selector.workloads or ():
            if name not in names:
                raise InputError(
                    f"shock {shock.name!r} selects workload {name!r}, which the fleet lacks",
                    file=file,
                    field=f"shocks[{i}].select.workload",
                    valid=", ".join(sorted(names)),
                )
