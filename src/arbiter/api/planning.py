"""Planning a fleet: the options of every workload on the catalog, the optimal plan, and
the analyses that come with it (baselines, binding rows, alternatives, the audit); the
price of diversification (a sweep of one share cap)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from arbiter.api.capacity_text import no_option_message
from arbiter.api.loading import Source, fleet_source, load_catalog
from arbiter.api.provenance import provenance as provenance_of
from arbiter.api.settings import Settings
from arbiter.api.spot_traces import with_measured_spot
from arbiter.api.stores import (
    default_capacity_file,
    load_calibration,
    plan_store,
    settings,
)
from arbiter.catalog.capacity import obtainable
from arbiter.domain.capacity import CapacityAssumption
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError, InputError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.price_age import price_age
from arbiter.optimize.audit import plan_audit
from arbiter.optimize.capacity import assumptions_used, build_capacity_options
from arbiter.optimize.fleet import (
    DEFAULT_MIP_GAP,
    FleetSolution,
    limit_sentence,
    solve_fleet,
)
from arbiter.optimize.folding import Folded
from arbiter.optimize.folding import fold as fold_fleet
from arbiter.optimize.linear import Status, export_path
from arbiter.optimize.options import Option, build_options
from arbiter.optimize.plan import plan_document
from arbiter.optimize.pruning import prune
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import default_efficiency
from arbiter.results.base import Rows
from arbiter.results.plan import Plan, SweepPoint
from arbiter.workloads.capacity_file import load_capacity_file

__all__ = [
    "ALTERNATIVES",
    "DEFAULT_MIP_GAP",
    "PLAN_TIME_LIMIT_S",
    "SWEEP_TIME_LIMIT_S",
    "Planned",
    "plan",
    "planned_of",
    "save_plan",
    "solve",
    "sweep",
    "sweep_caps",
]

PLAN_TIME_LIMIT_S = 60.0  # a plan's solve and its analyses, unless told otherwise
SWEEP_TIME_LIMIT_S = 20.0  # per cap value; a cap with no plan by then is reported as such
ALTERNATIVES = 3


@dataclass(frozen=True, slots=True)
class Planned:
    """A fleet's options and optimal plan: what the analyses, the sweep and the risk
    engine start from."""

    fleet: Fleet  # the fleet the model solves: the file's, or folded (``folded``)
    catalog: Catalog
    everything: list[Option]  # every option built (baselines and alternatives)
    options: list[Option]  # pruned: what the plan is solved on
    solution: FleetSolution  # on ``fleet``
    input_hash: str
    input_name: str = "<fleet>"  # the name the input's errors use (a path, <string>...)
    folded: Folded | None = None  # set when identical workloads were folded
    assumptions: dict[str, CapacityAssumption] | None = None  # obtainable, by offer id
    # the options built without obtainable capacity (the baselines'), on demand, and how
    # long building the options took (so a caller can tell whether there is time for it)
    build_unlimited: Callable[[], list[Option]] | None = None
    options_s: float = 0.0

    def unlimited(self) -> list[Option] | None:
        """The options built without obtainable capacity, where the baselines are found
        (they ignore capacity as they ignore caps); None when not given."""
        return None if self.build_unlimited is None else self.build_unlimited()


def resolve_calibration(
    calibration: str | CalibrationProfile | None, config: Settings
) -> CalibrationProfile | None:
    if isinstance(calibration, str):
        return load_calibration(calibration, config)
    return calibration


def solve(
    source: Source | Fleet,
    *,
    catalog: Catalog | str | None = None,
    seed: int = 0,
    time_limit_s: float | None = PLAN_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    fold: bool = True,
    capacity_file: Path | None = None,
    calibration: str | CalibrationProfile | None = None,
    config: Settings | None = None,
    export_model: Path | str | None = None,
) -> Planned:
    """Read the fleet ``source``, build and prune its options on ``catalog`` (a catalog,
    a version, or None for the store's current one) and solve it within
    ``time_limit_s`` to ``mip_gap``; a workload with no option is named with the reasons
    of its best chips (:class:`InfeasibleError`). With ``fold``, identical
    train/finetune/batch workloads are folded into one first
    (:mod:`arbiter.optimize.folding`): the same optimum, far fewer options. The time limit
    counts from the call: building the options uses it too, and the solve gets what is
    left (at least a tenth of it). Obtainable capacity (``docs/capacity.md``): the fleet's
    ``capacity:`` rows, then ``capacity_file`` (default: the stored one, if any), then the
    default rules. ``calibration`` (a profile or a stored profile's name) corrects the
    estimates of the chips it covers. ``export_model`` (``.mps`` or ``.lp``) writes the
    model solved, for another solver."""
    started = time.monotonic()
    export = None if export_model is None else export_path(export_model)
    config = config or settings()
    fleet, name, input_hash = fleet_source(source)
    profile = resolve_calibration(calibration, config)
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog, config=config)
    fleet = with_measured_spot(fleet, catalog, name)
    folded = fold_fleet(fleet) if fold else None
    if folded is not None:
        fleet = folded.fleet
    capacity_file = capacity_file or default_capacity_file(config)
    stated = load_capacity_file(capacity_file) if capacity_file is not None else ()
    assumptions = obtainable(catalog.offers, fleet.capacity, stated, str(capacity_file or ""))
    eff = default_efficiency()
    unbounded, on = fleet, catalog

    def build_unlimited() -> list[Option]:
        # the baselines ignore capacity, as they ignore caps: their options are built
        # without it (on demand: at thousands of workloads this is seconds)
        return build_options(unbounded, on, eff, calibration=profile)[0]

    built = build_capacity_options(fleet, catalog, eff, assumptions, profile)
    fleet, everything, estimates = built.fleet, built.options, built.estimates
    options_s = time.monotonic() - started
    placed = {o.workload for o in everything}
    for wi, w in enumerate(fleet.workloads):
        if wi not in placed:
            at = wi if folded is None else folded.members[wi][0]
            alone = [o for o in build_unlimited() if o.workload == wi]
            if alone:  # options without capacity, none within it
                raise InfeasibleError(no_option_message(name, w.name, at, alone, assumptions))
            reasons = "; ".join(
                f"{e.accelerator}: {e.reason}" for e in estimates[wi][:3] if e.reason
            )
            raise InfeasibleError(
                f"In {name}: workload {w.name!r} (workloads[{at}]) has no option: no chip and "
                f"offer it may use meets its deadline or SLO within the fleet's regions and "
                f"platforms{f' ({reasons})' if reasons else ''}"
            )
    options = prune(everything, fleet)
    return Planned(
        fleet=fleet,
        catalog=catalog,
        everything=everything,
        options=options,
        solution=solve_fleet(
            fleet,
            options,
            seed=seed,
            time_limit_s=None
            if time_limit_s is None
            else max(time_limit_s - (time.monotonic() - started), time_limit_s / 10),
            mip_gap=mip_gap,
            export_model=export,
        ),
        input_hash=input_hash,
        input_name=name,
        folded=folded,
        assumptions=assumptions,
        build_unlimited=build_unlimited,
        options_s=options_s,
    )


def plan(
    fleet: Source | Fleet,
    *,
    catalog: Catalog | str | None = None,
    alternatives: int = ALTERNATIVES,
    seed: int = 0,
    time_limit_s: float = PLAN_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    capacity_file: Path | None = None,
    calibration: str | CalibrationProfile | None = None,
    config: Settings | None = None,
    export_model: Path | str | None = None,
) -> Plan:
    """The cheapest placement of ``fleet`` (a path, YAML text, a mapping or a
    :class:`Fleet`) under its caps, capacity and budget, with its analyses: baselines on
    the same inputs, the binding rows and what relaxing each saves, the alternatives, the
    capacity and price audit. ``time_limit_s`` bounds the whole: the solve first, the
    analyses with what is left (what they do not reach is marked so). ``export_model``
    (``.mps`` or ``.lp``) writes the placement model as solved, for another solver."""
    started = time.monotonic()
    config = config or settings()
    profile = resolve_calibration(calibration, config)
    planned = solve(
        fleet,
        catalog=catalog,
        seed=seed,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        capacity_file=capacity_file,
        calibration=profile,
        config=config,
        export_model=export_model,
    )
    solution = planned.solution
    provenance = provenance_of(
        planned.catalog, name=planned.input_name, input_hash=planned.input_hash,
        profile=profile, seed=seed,
    )  # fmt: skip
    # the analyses (baselines, binding rows) get what the plan left of the limit, less a
    # seventh kept for a solve's overrun and for writing the plan out; the baselines'
    # options (built without capacity) are built only when that leaves time for them
    analyses_s = max(0.85 * time_limit_s - (time.monotonic() - started), 0.0)
    unlimited = planned.unlimited() if analyses_s > 2.0 * planned.options_s else None
    doc = plan_document(
        planned.fleet,
        planned.options,
        solution,
        provenance=provenance,
        n_alternatives=alternatives,
        all_options=planned.everything,
        time_limit_s=max(0.85 * time_limit_s - (time.monotonic() - started), 0.0),
        folded=planned.folded,
        baseline_options=unlimited,
        baseline_time_s=None if unlimited is not None else 0.0,
    )
    offers = {o.offer.offer_id: o.offer for o in planned.everything}
    for a in doc["assignments"]:  # ages at the settings' date (ARBITER_TODAY)
        a["price_age_days"] = price_age(offers[a["offer_id"]], config.today).age_days
    doc["capacity_assumptions"] = assumptions_used(solution.placed, planned.assumptions or {})
    audited = (
        (planned.fleet, solution)
        if planned.folded is None
        else (planned.folded.original, planned.folded.unfold(solution))
    )
    doc["audit"] = plan_audit(*audited, doc["capacity_assumptions"], today=config.today)
    note = limit_sentence(solution, time_limit_s)
    if note:
        doc["solver_note"] = note
    return Plan.model_validate(doc).with_engine(planned)


def planned_of(plan: Plan) -> Planned:
    """The options and solution behind ``plan`` (a plan made by :func:`plan` in this
    process; one read from JSON has none)."""
    engine = plan.engine
    if not isinstance(engine, Planned):
        raise InputError(
            "this plan carries no solved model (it was read from a document)",
            field="plan",
            valid="a plan made by arbiter.plan() in this process",
        )
    return engine


def sweep_caps(spec: str) -> tuple[str, list[float]]:
    """``GROUP=START:STOP:STEP`` (``vendor=1.0:0.3:0.1``) as a group and its caps."""
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
    caps = np.arange(start, stop + direction * step / 2, direction * step)
    return group, [round(float(c), 6) for c in caps]


def sweep(
    plan: Plan,
    group: str,
    caps: Iterable[float],
    *,
    seed: int | None = None,
    time_limit_s: float = SWEEP_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
) -> Rows[SweepPoint]:
    """The price of diversification: the plan's cost with the ``group`` share cap
    (vendor, provider or region) at each of ``caps``, each solved within
    ``time_limit_s`` on the plan's options. A cap stopped at the limit with a plan
    reports it (status ``feasible``, its gap); one with none is ``time_limit``; a cap
    tighter than one proven infeasible is infeasible too and is not solved again."""
    planned = planned_of(plan)
    caps = [float(c) for c in caps]
    if group not in GROUPS or not all(0 < c <= 1 for c in caps):
        raise InputError(
            f"cannot sweep {group} over {caps}",
            field="sweep",
            valid=f"a group of {', '.join(GROUPS)} and caps in (0, 1]",
        )
    run_seed = (plan.provenance.seed or 0) if seed is None else seed
    fleet, options = planned.fleet, planned.options
    solved: dict[float, SweepPoint] = {}
    worst_infeasible: float | None = None
    for cap in sorted(caps, reverse=True):
        row: dict[str, object] = {"group": group, "cap": cap, "total_usd": None, "feasible": False}
        if worst_infeasible is None:
            capped = replace(fleet, caps=replace(fleet.caps, **{group: cap}))
            try:
                found = solve_fleet(
                    capped,
                    options,
                    seed=run_seed,
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
        solved[cap] = SweepPoint.model_validate(row)
    return Rows(solved[c] for c in caps)


def save_plan(plan: Plan, *, name: str, config: Settings | None = None) -> Plan:
    """Save ``plan`` in the store (``arbiter plans list`` lists it); the plan returned
    carries its ``plan_id``."""
    doc = plan.to_dict()
    plan_id = plan_store(config or settings()).save(doc, name=name)
    return plan.model_copy(update={"plan_id": plan_id})  # the copy keeps the engine
