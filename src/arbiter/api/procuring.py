"""Buying ahead: the commitment schedule of a procurement file, period by period, under
its demand scenarios (what ``arbiter procure`` prints)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from arbiter.api.loading import Source, load_catalog, read_source
from arbiter.api.planning import resolve_calibration
from arbiter.api.provenance import provenance
from arbiter.api.settings import Settings
from arbiter.api.stores import settings
from arbiter.domain.catalog import Catalog
from arbiter.optimize.linear import Status, export_path
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import default_efficiency
from arbiter.procure.loading import parse_procurement
from arbiter.procure.milp import solve
from arbiter.procure.model import build_data
from arbiter.procure.report import document, frontier, value_of_uncertainty
from arbiter.results.procure import ProcurementPlan


def procure(
    source: Source,
    *,
    catalog: Catalog | str | None = None,
    with_frontier: bool = False,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    calibration: str | CalibrationProfile | None = None,
    config: Settings | None = None,
    export_model: Path | str | None = None,
) -> ProcurementPlan:
    """The commitments of the procurement file ``source`` (a path, YAML text or a
    mapping) on ``catalog`` (a catalog, a version, or the store's current one): the
    two-stage stochastic MILP over its scenarios (``arbiter.procure.model``), with
    expected cost, P95, CVaR, utilisation, stranded spend, VSS and EVPI, and the
    cost-risk frontier when ``with_frontier``. ``time_limit_s`` and ``mip_gap`` default
    to the model's own (120 s, 0.01%). ``export_model`` (``.mps`` or ``.lp``) writes the
    schedule's model as solved, for another solver."""
    export = None if export_model is None else export_path(export_model)
    config = config or settings()
    profile = resolve_calibration(calibration, config)
    loaded = read_source(source, "procurement")
    problem = parse_procurement(loaded.data, file=loaded.name)
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog, config=config)
    data = build_data(problem, catalog, default_efficiency(), profile)
    limits: dict[str, Any] = {}
    if time_limit_s is not None:
        limits["time_limit_s"] = time_limit_s
    if mip_gap is not None:
        limits["mip_gap"] = mip_gap
    solution = solve(data, export_model=export, **limits)
    doc: dict[str, Any] = document(data, solution, config.today)
    note = _limit_note(solution.status, solution.mip_gap, time_limit_s)
    if note:
        doc["solver_note"] = note
    doc["value_of_uncertainty"] = value_of_uncertainty(data)
    if with_frontier:
        doc["frontier"] = frontier(data)
    doc["provenance"] = provenance(
        catalog, name=loaded.name, input_hash=loaded.sha256, profile=profile
    )
    return ProcurementPlan.model_validate(doc)


def _limit_note(status: Status, gap: float, time_limit_s: float | None) -> str | None:
    """The sentence for a schedule stopped at the solver's limit (``None`` otherwise)."""
    if status is not Status.FEASIBLE:
        return None
    within = f"within {gap:.1%} of the best possible" if math.isfinite(gap) else "unbounded gap"
    limit = "time limit" if time_limit_s is None else f"{time_limit_s:g} s time limit"
    return f"Stopped at the {limit} with the best schedule found, {within}."
