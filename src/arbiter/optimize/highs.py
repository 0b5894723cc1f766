"""HiGHS behind the :class:`~arbiter.optimize.solver.Solver` protocol: the solver made
quiet, seeded and single-threaded, the model passed in one call, limits set as HiGHS's
options (``time_limit``, ``mip_rel_gap``, ``mip_max_nodes``, ``simplex_iteration_limit``),
its status mapped from the ``HighsModelStatus`` enum (never its text), and what comes
back (the point, objective, gap, bound, row duals, the limit that stopped it, an LP's
basis). Models are written out by HiGHS's own writer (``.mps``, ``.lp``)."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

import highspy
import numpy as np

from arbiter.domain.errors import SolverError
from arbiter.optimize.solver import (
    INF,
    Arrays,
    Basis,
    Limits,
    Problem,
    Run,
    Simplex,
    Status,
    Stop,
    Warm,
)

HIGHS_INF = 1e20  # HiGHS reads bounds and costs at or above this as infinite
HIGHS_LARGE_COEFFICIENT = 1e15  # and refuses a model with a coefficient above this

SIMPLEX_STRATEGY: dict[Simplex, int] = {"dual": 1, "primal": 4}  # HiGHS's simplex_strategy
_BASIS_STATUS = [highspy.HighsBasisStatus(k) for k in range(5)]
_MS = highspy.HighsModelStatus
STATUS_OF: dict[highspy.HighsModelStatus, Status] = {
    _MS.kOptimal: Status.OPTIMAL,
    _MS.kInfeasible: Status.INFEASIBLE,
    _MS.kUnbounded: Status.UNBOUNDED,
    _MS.kUnboundedOrInfeasible: Status.INFEASIBLE,
}
STOP_OF: dict[highspy.HighsModelStatus, Stop] = {
    _MS.kTimeLimit: Stop.TIME,
    _MS.kSolutionLimit: Stop.NODES,  # mip_max_nodes (and leaves) end here
    _MS.kIterationLimit: Stop.ITERATIONS,
    _MS.kInterrupt: Stop.OTHER,
    _MS.kMemoryLimit: Stop.OTHER,
    _MS.kObjectiveBound: Stop.OTHER,
    _MS.kObjectiveTarget: Stop.OTHER,
}
if "kHighsInterrupt" in _MS.__members__:  # an interrupt of HiGHS's own (not in its stubs)
    STOP_OF[_MS.__members__["kHighsInterrupt"]] = Stop.OTHER
# characters HiGHS's LP writer keeps in a name (others make it drop every name)
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_(),.@;{}~!#$%&?]")


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


def highs_version() -> str:
    return str(highspy.Highs().version()) if highs_ready() else ""  # type: ignore[no-untyped-call]


class HighsSolver:
    """The :class:`~arbiter.optimize.solver.Solver` arbiter uses."""

    def run(self, problem: Problem, limits: Limits, warm: Warm | None = None) -> Run:
        """Solve once: the point (if any), status, objective, MIP gap, bound and row
        duals; an LP starts from ``warm.basis`` when one is given, by ``warm.simplex``,
        and its final basis comes back; a mixed-integer search is seeded with
        ``warm.start``."""
        warm = warm or Warm()
        if len(problem.arrays.cost) == 0:
            return _empty(problem.arrays)
        h = _new_highs(limits, problem.presolve)
        _pass(h, problem)
        mip = len(problem.integer) > 0
        if warm.start is not None and mip:
            seed_point = highspy.HighsSolution()
            seed_point.col_value = np.asarray(warm.start, dtype=np.float64).tolist()
            seed_point.value_valid = True
            h.setSolution(seed_point)
        if warm.basis is not None and not mip:
            _set_basis(h, warm.basis, warm.simplex)
        h.run()
        model_status = h.getModelStatus()
        if model_status not in STATUS_OF and model_status not in STOP_OF:
            if warm.basis is not None:
                # a warm start HiGHS could not finish from (seen as "Unknown"): start cold
                left = limits.time_limit_s
                left = None if left is None else left - h.getRunTime()
                cold = Limits(left, limits.mip_gap, limits.node_limit, limits.iteration_limit,
                              limits.seed)  # fmt: skip
                return self.run(problem, cold, Warm(start=warm.start))
            raise SolverError(f"HiGHS stopped with status {model_status.name}")
        return _read(h, problem, model_status)

    def write(self, problem: Problem, path: Path) -> None:
        """Write the model to ``path`` in the format its suffix names (``.mps``, ``.lp``),
        columns and rows named as the model names them (characters the LP format does
        not allow replaced)."""
        named = Problem(
            problem.arrays,
            problem.integer,
            problem.presolve,
            _unique([_file_name(n) for n in problem.col_names]),
            _unique([_file_name(n) for n in problem.row_names]),
        )
        h = _new_highs(Limits(), presolve=True)
        _pass(h, named)
        if h.writeModel(str(path)) == highspy.HighsStatus.kError:
            raise SolverError(f"HiGHS could not write the model to {path}")


def _file_name(name: str) -> str:
    return _NOT_IN_NAME.sub("_", name.replace("[", "(").replace("]", ")"))


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if not count else f"{name}#{count}")
    return tuple(out)


def _new_highs(limits: Limits, presolve: bool) -> highspy.Highs:
    highs_ready()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", limits.seed)
    h.setOptionValue("mip_rel_gap", limits.mip_gap)
    h.setOptionValue("threads", 1)  # deterministic
    if not presolve:
        h.setOptionValue("presolve", "off")
    if limits.time_limit_s is not None:
        h.setOptionValue("time_limit", max(float(limits.time_limit_s), 0.0))
    if limits.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(limits.node_limit))
    if limits.iteration_limit is not None:
        h.setOptionValue("simplex_iteration_limit", int(limits.iteration_limit))
    return h


def _pass(h: highspy.Highs, problem: Problem) -> None:
    a = problem.arrays
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
    if len(problem.integer):
        kinds = np.full(len(a.cost), highspy.HighsVarType.kContinuous)
        kinds[problem.integer] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds.tolist()
    if problem.col_names:
        lp.col_names_ = list(problem.col_names)
    if problem.row_names:
        lp.row_names_ = list(problem.row_names)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model")


def _set_basis(h: highspy.Highs, basis: Basis, simplex: Simplex) -> None:
    """Start HiGHS's simplex from ``basis`` (which skips presolve) by ``simplex``; a
    basis HiGHS finds invalid for the model is ignored, and the solve starts cold."""
    given = highspy.HighsBasis()
    given.col_status = [_BASIS_STATUS[k] for k in basis.col_status.tolist()]
    given.row_status = [_BASIS_STATUS[k] for k in basis.row_status.tolist()]
    given.valid = True
    h.setBasis(given)
    h.setOptionValue("simplex_strategy", SIMPLEX_STRATEGY[simplex])
    if simplex == "dual":
        # Devex: the dual steepest-edge weights of a given basis cost a solve per row
        # (a 2.6 s warm start takes 11 s with them at 10,000 workloads)
        h.setOptionValue("simplex_dual_edge_weight_strategy", 1)


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


def _read(h: highspy.Highs, problem: Problem, model_status: highspy.HighsModelStatus) -> Run:
    """What a finished run says, its status mapped from ``model_status``."""
    info = h.getInfo()
    solution = h.getSolution()
    x = np.array(solution.col_value, dtype=np.float64) if info.primal_solution_status == 2 else None
    stop = STOP_OF.get(model_status)
    if stop is None:
        status = STATUS_OF[model_status]
    else:
        status = Status.FEASIBLE if x is not None else Status.TIME_LIMIT
    mip = len(problem.integer) > 0
    # the objective of the point returned (HiGHS's own figure can be another incumbent's
    # when a search stops at a limit), and the gap measured against it
    cost = problem.arrays.cost
    objective = float(cost @ x) if x is not None else float(info.objective_function_value)
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
