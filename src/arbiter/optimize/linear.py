"""A small linear (mixed-integer) model: named blocks of variables and named families of
constraints, held as arrays and handed to HiGHS in one call.

Every optimisation model in arbiter is written against this: variables come in blocks (one
array per kind of decision, labelled in domain words), constraints in families built from
coordinate arrays (row, column, coefficient) at once, never one Python object per
variable or row. The model is

    minimise    c' x
    subject to  row_lower <= A x <= row_upper
                col_lower <= x <= col_upper,   x_j integer for j in the integer blocks

After a mixed-integer solve the shadow prices are those of the LP with the integer
variables fixed at their optimum (the usual reading of "what one more unit of this
constraint is worth, keeping the discrete choices").
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import SolverError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
INF = float("inf")


class Status(enum.StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"


@dataclass(frozen=True, slots=True)
class Block:
    """A contiguous block of variables: columns ``start .. start + size``."""

    name: str
    start: int
    labels: tuple[str, ...]
    integer: bool

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def columns(self) -> IntArray:
        return np.arange(self.start, self.start + self.size, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Family:
    """A family of constraints: rows ``start .. start + size``, one label each."""

    name: str
    start: int
    labels: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.labels)

    def row_names(self) -> list[str]:
        return [f"{self.name}[{label}]" for label in self.labels]


@dataclass
class LinearModel:
    blocks: list[Block] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    _cost: list[FloatArray] = field(default_factory=list)
    _col_lower: list[FloatArray] = field(default_factory=list)
    _col_upper: list[FloatArray] = field(default_factory=list)
    _rows: list[IntArray] = field(default_factory=list)
    _cols: list[IntArray] = field(default_factory=list)
    _vals: list[FloatArray] = field(default_factory=list)
    _row_lower: list[FloatArray] = field(default_factory=list)
    _row_upper: list[FloatArray] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_variables(
        self,
        name: str,
        labels: Sequence[str],
        *,
        cost: FloatArray | float = 0.0,
        lower: FloatArray | float = 0.0,
        upper: FloatArray | float = INF,
        integer: bool = False,
    ) -> Block:
        size = len(labels)
        block = Block(name=name, start=self.n_cols, labels=tuple(labels), integer=integer)
        self.blocks.append(block)
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (size,)).copy())
        self._col_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (size,)).copy())
        self._col_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (size,)).copy())
        self.n_cols += size
        return block

    def add_constraints(
        self,
        name: str,
        labels: Sequence[str],
        rows: IntArray,
        cols: IntArray,
        vals: FloatArray,
        *,
        lower: FloatArray | float = -INF,
        upper: FloatArray | float = INF,
    ) -> Family:
        """Rows of ``name``: coefficient ``vals[k]`` at (local row ``rows[k]``, column
        ``cols[k]``); duplicates add up."""
        size = len(labels)
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= size):
            raise ValueError(f"constraint family {name}: row index out of range")
        family = Family(name=name, start=self.n_rows, labels=tuple(labels))
        self.families.append(family)
        self._rows.append(rows + self.n_rows)
        self._cols.append(np.asarray(cols, dtype=np.int64))
        self._vals.append(np.asarray(vals, dtype=np.float64))
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (size,)).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (size,)).copy())
        self.n_rows += size
        return family

    def relax(
        self, names: Sequence[str], weights: dict[str, float] | None = None
    ) -> dict[str, tuple[Block, Block]]:
        """Turn the model into its elastic version, for explaining infeasibility: the
        objective becomes the violation, and each row of the families ``names`` gets slack
        ``under >= 0`` (for its lower bound) and ``over >= 0`` (its upper bound), each
        costing one per unit of violation relative to the bound's size (times
        ``weights[name]``, default 1)."""
        for cost in self._cost:
            cost[:] = 0.0
        out: dict[str, tuple[Block, Block]] = {}
        for index, family in enumerate(list(self.families)):
            if family.name not in names:
                continue
            lower, upper = self._row_lower[index], self._row_upper[index]
            rows = np.arange(family.size, dtype=np.int64) + family.start
            factor = (weights or {}).get(family.name, 1.0)
            costs = [
                np.where(np.isfinite(b), factor / np.maximum(np.abs(b), 1.0), 0.0)
                for b in (lower, upper)
            ]
            under = self.add_variables(
                f"under:{family.name}",
                family.labels,
                cost=costs[0],
                upper=np.where(np.isfinite(lower), INF, 0.0),
            )
            over = self.add_variables(
                f"over:{family.name}",
                family.labels,
                cost=costs[1],
                upper=np.where(np.isfinite(upper), INF, 0.0),
            )
            self._rows += [rows, rows]
            self._cols += [under.columns, over.columns]
            self._vals += [np.ones(family.size), -np.ones(family.size)]
            out[family.name] = (under, over)
        return out

    # --- arrays ------------------------------------------------------------------------

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, IntArray, IntArray, FloatArray]:
        """``cost, col_lower, col_upper`` and the matrix in CSC form ``start, index, value``."""
        cost = np.concatenate(self._cost) if self._cost else np.zeros(0)
        lower = np.concatenate(self._col_lower) if self._col_lower else np.zeros(0)
        upper = np.concatenate(self._col_upper) if self._col_upper else np.zeros(0)
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        order = np.lexsort((rows, cols))
        rows, cols, vals = rows[order], cols[order], vals[order]
        # merge duplicate (row, col) entries
        if len(rows):
            new = np.ones(len(rows), dtype=bool)
            new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            groups = np.cumsum(new) - 1
            vals = np.bincount(groups, weights=vals).astype(np.float64)
            rows, cols = rows[new], cols[new]
        start = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=self.n_cols), out=start[1:])
        return cost, lower, upper, start, rows, vals

    def row_bounds(self) -> tuple[FloatArray, FloatArray]:
        lower = np.concatenate(self._row_lower) if self._row_lower else np.zeros(0)
        upper = np.concatenate(self._row_upper) if self._row_upper else np.zeros(0)
        return lower, upper

    def integer_columns(self) -> IntArray:
        parts = [b.columns for b in self.blocks if b.integer]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    # --- solving -------------------------------------------------------------------------

    def solve(
        self,
        *,
        time_limit_s: float | None = None,
        mip_gap: float = 1e-4,
        seed: int = 0,
        duals: bool = False,
    ) -> Solution:
        """Solve with HiGHS; with ``duals``, also the LP with the integers fixed at their
        values, whose row duals are then the solution's (zero otherwise)."""
        cost, col_lower, col_upper, start, index, value = self.arrays()
        row_lower, row_upper = self.row_bounds()
        arrays = _Arrays(cost, col_lower, col_upper, row_lower, row_upper, start, index, value)
        integer = self.integer_columns()
        x, status, objective, gap, _ = _run(
            arrays, integer, time_limit_s=time_limit_s, mip_gap=mip_gap, seed=seed
        )
        row_dual = np.zeros(self.n_rows)
        if duals and (status is Status.OPTIMAL or (status is Status.TIME_LIMIT and x is not None)):
            assert x is not None
            # shadow prices: the LP with the integer variables fixed at their values
            fixed_lower, fixed_upper = col_lower.copy(), col_upper.copy()
            rounded = np.round(x[integer])
            fixed_lower[integer] = rounded
            fixed_upper[integer] = rounded
            fixed = replace(arrays, col_lower=fixed_lower, col_upper=fixed_upper)
            _, lp_status, _, _, row_dual = _run(
                fixed, np.zeros(0, dtype=np.int64), time_limit_s=None, mip_gap=0.0, seed=0
            )
            if lp_status is not Status.OPTIMAL:
                row_dual = np.zeros(self.n_rows)
        return Solution(
            model=self,
            status=status,
            objective=objective,
            x=x if x is not None else np.zeros(self.n_cols),
            row_dual=row_dual,
            mip_gap=gap,
        )


@dataclass(frozen=True, slots=True)
class Solution:
    model: LinearModel
    status: Status
    objective: float
    x: FloatArray
    row_dual: FloatArray
    mip_gap: float

    def values(self, block: Block) -> FloatArray:
        return self.x[block.start : block.start + block.size]

    def duals(self, family: Family) -> FloatArray:
        """d objective / d right-hand side of each row of ``family``."""
        return self.row_dual[family.start : family.start + family.size]

    def activity(self, family: Family) -> FloatArray:
        """``A x`` for the rows of ``family``."""
        model = self.model
        rows = np.concatenate(model._rows)  # noqa: SLF001 - the same model
        cols = np.concatenate(model._cols)  # noqa: SLF001
        vals = np.concatenate(model._vals)  # noqa: SLF001
        mine = (rows >= family.start) & (rows < family.start + family.size)
        out = np.zeros(family.size)
        np.add.at(out, rows[mine] - family.start, vals[mine] * self.x[cols[mine]])
        return out


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


def _highs(time_limit_s: float | None, mip_gap: float, seed: int) -> highspy.Highs:
    highs_ready()
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", seed)
    h.setOptionValue("mip_rel_gap", mip_gap)
    h.setOptionValue("threads", 1)  # deterministic
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    return h


@dataclass(frozen=True, slots=True)
class _Arrays:
    """One model as HiGHS takes it: costs, bounds and the CSC matrix."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    start: IntArray
    index: IntArray
    value: FloatArray


def _lp(a: _Arrays) -> highspy.HighsLp:
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


_STATUS = {
    "Optimal": Status.OPTIMAL,
    "Infeasible": Status.INFEASIBLE,
    "Unbounded": Status.UNBOUNDED,
    "Primal infeasible or unbounded": Status.INFEASIBLE,
    "Time limit reached": Status.TIME_LIMIT,
}


def _status(h: highspy.Highs) -> Status:
    text = h.modelStatusToString(h.getModelStatus())
    if text not in _STATUS:
        raise SolverError(f"HiGHS stopped with status {text!r}")
    return _STATUS[text]


def _run(
    arrays: _Arrays,
    integer: IntArray,
    *,
    time_limit_s: float | None,
    mip_gap: float,
    seed: int,
) -> tuple[FloatArray | None, Status, float, float, FloatArray]:
    """Solve once: the point (if any), status, objective, MIP gap and row duals."""
    lp = _lp(arrays)
    if len(integer):
        kinds = [highspy.HighsVarType.kContinuous] * len(arrays.cost)
        for j in integer.tolist():
            kinds[j] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds
    h = _highs(time_limit_s, mip_gap, seed)
    h.passModel(lp)
    h.run()
    status = _status(h)
    info = h.getInfo()
    solution = h.getSolution()
    has_solution = info.primal_solution_status == 2
    x = np.array(solution.col_value, dtype=np.float64) if has_solution else None
    gap = float(info.mip_gap) if len(integer) else 0.0
    duals = np.array(solution.row_dual, dtype=np.float64)
    return x, status, float(info.objective_function_value), gap, duals
