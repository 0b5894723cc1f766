"""The boundary between arbiter's models and a solver.

A :class:`~arbiter.optimize.linear.LinearModel` hands a solver its arrays
(:class:`Problem`: costs, bounds, the CSC matrix, which columns are integer, the names of
its columns and rows) with :class:`Limits` (time, MIP gap, and the deterministic work
limits: branch-and-bound nodes and simplex iterations) and, optionally, a :class:`Warm`
start; the solver answers with a :class:`Run`, whose :class:`Status` and :class:`Stop`
are arbiter's own. :class:`Solver` is that contract; :class:`arbiter.optimize.highs.
HighsSolver` implements it, mapping HiGHS's model-status enum (never its text) onto these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

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
    ITERATIONS = "iterations"
    OTHER = "other"  # solution or memory limit, an objective bound, or an interrupt


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a solve may run and when it may stop: wall-clock ``time_limit_s``, the
    relative ``mip_gap`` that counts as optimal, and the deterministic work limits
    ``node_limit`` (branch-and-bound nodes) and ``iteration_limit`` (simplex
    iterations), which stop at the same point on every machine. ``seed`` seeds the
    solver's random choices."""

    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    node_limit: int | None = None
    iteration_limit: int | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Arrays:
    """One model as a solver takes it: costs, bounds and the CSC matrix."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    start: IntArray
    index: IntArray
    value: FloatArray


@dataclass(frozen=True, slots=True)
class Problem:
    """What a solver is given: the arrays, the integer columns, whether its presolve may
    run, and (for writing the model out) a name per column and per row."""

    arrays: Arrays
    integer: IntArray
    presolve: bool = True
    col_names: tuple[str, ...] = ()
    row_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Basis:
    """A simplex basis as status codes (``BASIC``, ``AT_LOWER``...), one per column and
    one per row (a row's status is its slack's)."""

    col_status: npt.NDArray[np.int8]
    row_status: npt.NDArray[np.int8]


AT_LOWER, BASIC, AT_UPPER, AT_ZERO = 0, 1, 2, 3
Simplex = Literal["primal", "dual"]


@dataclass(frozen=True, slots=True)
class Warm:
    """Where a solve starts: a point (``start``, one value per column) that seeds a
    mixed-integer search when it is feasible; or, for an LP, a ``basis`` and the
    ``simplex`` that suits what changed since (``primal`` after columns entered at zero,
    ``dual`` after bounds changed)."""

    start: FloatArray | None = None
    basis: Basis | None = None
    simplex: Simplex = "primal"


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
    basis: Basis | None = None  # an LP's final simplex basis, when the solver has one
    iterations: int = 0  # simplex iterations (an LP's)


class Solver(Protocol):
    """Solves a model's arrays within limits, and writes them out for another solver."""

    def run(self, problem: Problem, limits: Limits, warm: Warm | None = None) -> Run: ...

    def write(self, problem: Problem, path: Path) -> None: ...


def unproven(run: Run, mip_gap: float) -> bool:
    """Reported optimal, yet its own bound leaves a gap above the one asked for."""
    return run.status is Status.OPTIMAL and run.gap > 1.01 * mip_gap + 1e-9
