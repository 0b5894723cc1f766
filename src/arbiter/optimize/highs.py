"""Running HiGHS on a model given as arrays: the solver made quiet and seeded, the
model passed in one call, its status read from HiGHS's model-status enum (never its
text), and what comes back (the point, objective, gap, bound, row duals and the limit
that stopped it). ``linear.py`` builds the arrays; this module only runs them."""

from __future__ import annotations

import enum
import functools
import os
import sys
from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import SolverError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
INF = float("inf")


class Status(enum.StrEnum):
    OPTIMAL = "optimal"  # within the gap asked for
    FEASIBLE = "feasible"  # stopped at a limit with a plan: ``mip_gap`` is its proven gap
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"  # stopped at a limit with nothing feasible found


class Stop(enum.StrEnum):
    """What ended a solve that is not proven within its gap."""

    TIME = "time"
    NODES = "nodes"
    OTHER = "other"  # iteration, solution or memory limit, or an interrupt


@functools.cache
def highs_ready() -> bool:
    """HiGHS prints a banner to standard output when the first solver is made; make that
    one with the output sent to /dev/null so ``--json`` output stays JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:  # noqa: PTH123 - a file descriptor is needed
            os.dup2(null.fileno(), 1)
            highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return True


def _new_highs(
    time_limit_s: float | None,
    mip_gap: float,
    seed: int,
    node_limit: int | None = None,
    presolve: bool = True,
) -> highspy.Highs:
    highs_ready()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("mip_rel_gap", mip_gap)
    h.setOptionValue("threads", 1)  # deterministic
    if not presolve:
        h.setOptionValue("presolve", "off")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(time_limit_s), 0.0))
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    return h


@dataclass(frozen=True, slots=True)
class Arrays:
    """One model as HiGHS takes it: costs, bounds and the CSC matrix."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    start: IntArray
    index: IntArray
    value: FloatArray


def _lp(a: Arrays) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_ = len(a.cost)
    lp.num_row_ = len(a.row_lower)
    lp.col_cost_ = a.cost
    lp.col_lower_ = a.col_lower
    lp.col_upper_ = a.col_upper
    lp.row_lower_ = a.row_lower
    lp.row_upper_ = a.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.start
    lp.a_matrix_.index_ = a.index
    lp.a_matrix_.value_ = a.value
    return lp


_MS = highspy.HighsModelStatus
_STATUS = {
    _MS.kOptimal: Status.OPTIMAL,
    _MS.kInfeasible: Status.INFEASIBLE,
    _MS.kUnbounded: Status.UNBOUNDED,
    _MS.kUnboundedOrInfeasible: Status.INFEASIBLE,
}
_LIMITS = {
    _MS.kTimeLimit: Stop.TIME,
    _MS.kSolutionLimit: Stop.NODES,  # mip_max_nodes (and leaves) end here
    _MS.kIterationLimit: Stop.OTHER,
    _MS.kInterrupt: Stop.OTHER,
    _MS.kMemoryLimit: Stop.OTHER,
    _MS.kObjectiveBound: Stop.OTHER,
    _MS.kObjectiveTarget: Stop.OTHER,
}


@dataclass(frozen=True, slots=True)
class Run:
    x: FloatArray | None
    status: Status
    objective: float
    gap: float
    bound: float
    row_dual: FloatArray
    stop: Stop | None
    seconds: float
    basis: Basis | None = None  # an LP's final simplex basis, when HiGHS has one
    iterations: int = 0  # simplex iterations (an LP's)


@dataclass(frozen=True, slots=True)
class Basis:
    """A simplex basis as HiGHS's status codes (``BASIC``, ``AT_LOWER``...), one per
    column and one per row (a row's status is its slack's)."""

    col_status: npt.NDArray[np.int8]
    row_status: npt.NDArray[np.int8]


AT_LOWER, BASIC, AT_UPPER, AT_ZERO = 0, 1, 2, 3
Simplex = Literal["primal", "dual"]
SIMPLEX_STRATEGY: dict[Simplex, int] = {"dual": 1, "primal": 4}  # HiGHS's simplex_strategy
_BASIS_STATUS = [highspy.HighsBasisStatus(k) for k in range(5)]


def _set_basis(h: highspy.Highs, basis: Basis) -> None:
    """Start HiGHS's simplex from ``basis`` (which skips presolve); a basis HiGHS finds
    invalid for the model is ignored, and the solve starts cold."""
    given = highspy.HighsBasis()
    given.col_status = [_BASIS_STATUS[k] for k in basis.col_status.tolist()]
    given.row_status = [_BASIS_STATUS[k] for k in basis.row_status.tolist()]
    given.valid = True
    h.setBasis(given)


def _get_basis(h: highspy.Highs) -> Basis | None:
    found = h.getBasis()
    if not found.valid:
        return None
    return Basis(
        np.array([int(k) for k in found.col_status], dtype=np.int8),
        np.array([int(k) for k in found.row_status], dtype=np.int8),
    )


def _empty(a: Arrays) -> Run:
    """A model without columns, which HiGHS will not solve: feasible when every row's
    bounds hold zero."""
    ok = bool(np.all(a.row_lower <= 0.0) and np.all(a.row_upper >= 0.0))
    return Run(
        x=np.zeros(0) if ok else None,
        status=Status.OPTIMAL if ok else Status.INFEASIBLE,
        objective=0.0,
        gap=0.0,
        bound=0.0,
        row_dual=np.zeros(len(a.row_lower)),
        stop=None,
        seconds=0.0,
    )


def unproven(run: Run, mip_gap: float) -> bool:
    """Reported optimal, yet its own bound leaves a gap above the one asked for."""
    return run.status is Status.OPTIMAL and run.gap > 1.01 * mip_gap + 1e-9


def run_highs(
    arrays: Arrays,
    integer: IntArray,
    *,
    time_limit_s: float | None,
    mip_gap: float,
    seed: int,
    node_limit: int | None = None,
    start: FloatArray | None = None,
    presolve: bool = True,
    basis: Basis | None = None,
    simplex: Simplex = "primal",
) -> Run:
    """Solve once: the point (if any), status, objective, MIP gap, bound and row duals;
    ``presolve=False`` turns HiGHS's presolve off; an LP starts from ``basis`` when one
    is given, by the ``simplex`` that suits what changed since (``primal`` after columns
    entered at zero, which keeps it primal feasible; ``dual`` after bounds changed,
    which keeps it dual feasible), and its final basis comes back."""
    if len(arrays.cost) == 0:
        return _empty(arrays)
    lp = _lp(arrays)
    if len(integer):
        kinds = np.full(len(arrays.cost), highspy.HighsVarType.kContinuous)
        kinds[integer] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds.tolist()
    h = _new_highs(time_limit_s, mip_gap, seed, node_limit, presolve)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model")
    if start is not None and len(integer):
        seed_point = highspy.HighsSolution()
        seed_point.col_value = np.asarray(start, dtype=np.float64).tolist()
        seed_point.value_valid = True
        h.setSolution(seed_point)
    if basis is not None and not len(integer):
        _set_basis(h, basis)
        h.setOptionValue("simplex_strategy", SIMPLEX_STRATEGY[simplex])
        if simplex == "dual":
            # Devex: the dual steepest-edge weights of a given basis cost a solve per row
            # (a 2.6 s warm start takes 11 s with them at 10,000 workloads)
            h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2
    solution = h.getSolution()
    x = np.array(solution.col_value, dtype=np.float64) if has_solution else None
    stop: Stop | None = None
    if model_status in _STATUS:
        status = _STATUS[model_status]
    elif model_status in _LIMITS:
        stop = _LIMITS[model_status]
        status = Status.FEASIBLE if x is not None else Status.TIME_LIMIT
    elif basis is not None:
        # a warm start HiGHS could not finish from (seen as "Unknown"): start cold
        return run_highs(
            arrays,
            integer,
            time_limit_s=None if time_limit_s is None else time_limit_s - h.getRunTime(),
            mip_gap=mip_gap,
            seed=seed,
            node_limit=node_limit,
            start=start,
            presolve=presolve,
        )
    else:
        raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(model_status)!r}")
    mip = len(integer) > 0
    # the objective of the point returned (HiGHS's own figure can be another incumbent's
    # when a search stops at a limit), and the gap measured against it
    objective = float(arrays.cost @ x) if x is not None else float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if mip else objective
    gap = float(info.mip_gap) if mip else 0.0
    if mip and x is not None and np.isfinite(bound):
        gap = max(objective - bound, 0.0) / max(abs(objective), 1e-9)
    if not mip and status is not Status.OPTIMAL:
        bound = -INF  # an LP stopped early bounds nothing
    return Run(
        x=x,
        status=status,
        objective=objective,
        gap=gap,
        bound=bound,
        row_dual=np.array(solution.row_dual, dtype=np.float64),
        stop=stop,
        seconds=float(h.getRunTime()),
        basis=None if mip else _get_basis(h),
        iterations=int(info.simplex_iteration_count),
    )
