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

Limits: a solve may stop at a time limit (``time_limit_s``) or a node limit
(``node_limit``); with a plan found by then its status is ``feasible`` and its
``mip_gap`` is the proven gap against the best bound (``bound``); with none, it is
``time_limit``. A starting point (``start``) seeds the search. The status is read from
HiGHS's model-status enum, never from its text. Amounts HiGHS cannot represent (costs and
bounds at or above its infinity of 1e20 that are not meant as infinite, coefficients
above 1e15) are an :class:`InputError` naming the row or variable, not a solver failure.
HiGHS itself is run by :mod:`arbiter.optimize.highs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import InputError, SolverError
from arbiter.optimize.highs import (
    AT_LOWER,
    AT_UPPER,
    AT_ZERO,
    BASIC,
    INF,
    Arrays,
    Basis,
    FloatArray,
    IntArray,
    Run,
    Simplex,
    Status,
    Stop,
    highs_ready,
    run_highs,
    unproven,
)

__all__ = [
    "INF",
    "Basis",
    "Block",
    "Family",
    "FloatArray",
    "IntArray",
    "LinearModel",
    "Simplex",
    "Solution",
    "Status",
    "Stop",
    "highs_ready",
]
HIGHS_INF = 1e20  # HiGHS reads bounds and costs at or above this as infinite
HIGHS_LARGE_COEFFICIENT = 1e15  # and refuses a model with a coefficient above this


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
    # HiGHS's MIP presolve; off for models where it is known to cut off the optimum (see
    # :func:`arbiter.optimize.fleet_model.build_fleet_model` with ``unmet_usd``)
    presolve: bool = True
    # the CSC matrix of the last ``arrays()``, with the (coordinate lists, columns) it was
    # made from: rows and columns are only ever added, so their counts say when it is stale
    _matrix: tuple[tuple[int, int], IntArray, IntArray, FloatArray] | None = field(
        default=None, repr=False, compare=False
    )

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

    def copy(self) -> LinearModel:
        """A model with the same variables and rows, to which more may be added without
        touching this one."""
        return LinearModel(
            blocks=list(self.blocks),
            families=list(self.families),
            _cost=list(self._cost),
            _col_lower=list(self._col_lower),
            _col_upper=list(self._col_upper),
            _rows=list(self._rows),
            _cols=list(self._cols),
            _vals=list(self._vals),
            _row_lower=list(self._row_lower),
            _row_upper=list(self._row_upper),
            n_cols=self.n_cols,
            n_rows=self.n_rows,
            presolve=self.presolve,
        )

    def relax(
        self, names: Sequence[str], weights: dict[str, float] | None = None
    ) -> dict[str, tuple[Block, Block]]:
        """Turn the model into its elastic version, for explaining infeasibility: the
        objective becomes the violation, and each row of the families ``names`` gets slack
        ``under >= 0`` (for its lower bound) and ``over >= 0`` (its upper bound), each
        costing one per unit of violation relative to the bound's size (times
        ``weights[name]``, default 1)."""
        # new arrays: a copy of a model shares its cost arrays, which must not change
        self._cost = [np.zeros_like(cost) for cost in self._cost]
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
        key = (len(self._rows), self.n_cols)
        if self._matrix is not None and self._matrix[0] == key:
            _, start, index, value = self._matrix
            return cost, lower, upper, start, index, value
        start, index, value = self._csc()
        self._matrix = (key, start, index, value)
        return cost, lower, upper, start, index, value

    def _csc(self) -> tuple[IntArray, IntArray, FloatArray]:
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
        return start, rows, vals

    def cap_columns(self, columns: IntArray, upper: FloatArray) -> None:
        """Lower the upper bounds of ``columns`` to ``upper`` (where that is lower)."""
        for block, bounds in zip(self.blocks, self._col_upper, strict=True):
            mine = (columns >= block.start) & (columns < block.start + block.size)
            if mine.any():
                at = columns[mine] - block.start
                bounds[at] = np.minimum(bounds[at], np.asarray(upper)[mine])

    def col_bounds(self) -> tuple[FloatArray, FloatArray]:
        """Copies of every column's lower and upper bound."""
        lower = np.concatenate(self._col_lower) if self._col_lower else np.zeros(0)
        upper = np.concatenate(self._col_upper) if self._col_upper else np.zeros(0)
        return lower, upper

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
        node_limit: int | None = None,
        start: FloatArray | None = None,
        relax: bool = False,
        bounds: tuple[FloatArray, FloatArray] | None = None,
        columns: IntArray | None = None,
        rows: IntArray | None = None,
        basis: Basis | None = None,
        simplex: Simplex = "primal",
    ) -> Solution:
        """Solve with HiGHS; with ``duals``, also the LP with the integers fixed at their
        values, whose row duals are then the solution's (zero otherwise). ``start`` (one
        value per column) seeds the search with a plan, used when it is feasible;
        ``relax`` solves the LP relaxation (integrality dropped); ``bounds`` (lower,
        upper; one per column) replace the columns' own, say to fix some of them;
        ``columns`` (sorted indices) are the only ones that may be non-zero: the others
        are held at zero and left out of what HiGHS is given, which is much faster than
        bounds when most are held (their lower bounds must allow zero); ``rows`` (with
        ``columns``), the only rows kept: the others are dropped (a relaxation). An LP
        (``relax``) starts from ``basis`` (one status per column and row of this model,
        say a previous solution's over other ``columns``: a column not in it enters at
        its bound, a row not in it with its slack basic) by the ``simplex`` that suits
        what changed (``run_highs``), and returns its final basis."""
        cost, col_lower, col_upper, begin, index, value = self.arrays()
        if bounds is not None:
            col_lower, col_upper = bounds
        row_lower, row_upper = self.row_bounds()
        arrays = Arrays(cost, col_lower, col_upper, row_lower, row_upper, begin, index, value)
        _check(self, arrays)
        integer = np.zeros(0, dtype=np.int64) if relax else self.integer_columns()
        if columns is not None:
            return self._solve_columns(
                arrays,
                columns,
                integer,
                time_limit_s=time_limit_s,
                mip_gap=mip_gap,
                seed=seed,
                node_limit=node_limit,
                start=start,
                rows=rows,
                basis=basis,
                simplex=simplex,
            )

        def once(seeded: FloatArray | None) -> Run:
            return run_highs(
                arrays,
                integer,
                time_limit_s=time_limit_s,
                mip_gap=mip_gap,
                seed=seed,
                node_limit=node_limit,
                start=seeded,
                presolve=self.presolve,
                basis=basis,
                simplex=simplex,
            )

        run = once(start)
        if start is not None and unproven(run, mip_gap):
            # HiGHS (1.16) can hand a start back as "optimal" with a bound that does not
            # prove it (seen when presolve empties a small model): solve again unseeded
            run = once(None)
        x, status = run.x, run.status
        row_dual = np.zeros(self.n_rows) if relax or len(integer) else run.row_dual
        if duals and len(integer) and x is not None and status in (Status.OPTIMAL, Status.FEASIBLE):
            # shadow prices: the LP with the integer variables fixed at their values
            fixed_lower, fixed_upper = col_lower.copy(), col_upper.copy()
            rounded = np.round(x[integer])
            fixed_lower[integer] = rounded
            fixed_upper[integer] = rounded
            fixed = replace(arrays, col_lower=fixed_lower, col_upper=fixed_upper)
            lp = run_highs(
                fixed, np.zeros(0, dtype=np.int64), time_limit_s=None, mip_gap=0.0, seed=0
            )
            row_dual = lp.row_dual if lp.status is Status.OPTIMAL else np.zeros(self.n_rows)
        return Solution(
            model=self,
            status=status,
            objective=run.objective,
            x=x if x is not None else np.zeros(self.n_cols),
            row_dual=row_dual,
            mip_gap=run.gap,
            bound=run.bound,
            stop=run.stop,
            seconds=run.seconds,
            basis=run.basis,
            iterations=run.iterations,
        )

    def _solve_columns(
        self,
        arrays: Arrays,
        columns: IntArray,
        integer: IntArray,
        *,
        time_limit_s: float | None,
        mip_gap: float,
        seed: int,
        node_limit: int | None = None,
        start: FloatArray | None = None,
        rows: IntArray | None = None,
        basis: Basis | None = None,
        simplex: Simplex = "primal",
    ) -> Solution:
        """:meth:`solve` over ``columns`` only, the others at zero (a ``start`` non-zero
        elsewhere is dropped). The bound of a mixed-integer solve is the restricted
        model's, not the whole one's."""
        if np.any(arrays.col_lower[np.setdiff1d(np.arange(self.n_cols), columns)] > 0):
            raise SolverError("a column held at zero has a positive lower bound")
        length = np.diff(arrays.start)[columns]
        begin = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(length, out=begin[1:])
        at = np.arange(int(begin[-1]), dtype=np.int64)
        at += np.repeat(arrays.start[columns] - begin[:-1], length)
        # rows left empty go too, unless their bounds exclude zero (then infeasible)
        index = arrays.index[at]
        row_kept = np.ones(self.n_rows, dtype=bool)
        if rows is not None:
            row_kept[:] = False
            row_kept[rows] = True
        rows = np.zeros(self.n_rows, dtype=bool)
        rows[index] = True
        rows |= (arrays.row_lower > 0) | (arrays.row_upper < 0)
        rows &= row_kept
        if not row_kept.all():  # entries in dropped rows go, their columns stay
            of_column = np.repeat(np.arange(len(columns), dtype=np.int64), length)
            stays = row_kept[index]
            at, index = at[stays], index[stays]
            begin = np.zeros(len(columns) + 1, dtype=np.int64)
            np.cumsum(np.bincount(of_column[stays], minlength=len(columns)), out=begin[1:])
        row_at = np.cumsum(rows) - 1
        sub = Arrays(
            arrays.cost[columns],
            arrays.col_lower[columns],
            arrays.col_upper[columns],
            arrays.row_lower[rows],
            arrays.row_upper[rows],
            begin,
            row_at[index],
            arrays.value[at],
        )
        kept = np.flatnonzero(np.isin(columns, integer))
        if start is not None and np.any(np.delete(start, columns) != 0):
            start = None
        run = run_highs(
            sub,
            kept,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            seed=seed,
            node_limit=node_limit,
            start=None if start is None else start[columns],
            presolve=self.presolve,
            basis=None
            if basis is None
            else Basis(basis.col_status[columns], basis.row_status[rows]),
            simplex=simplex,
        )
        x = np.zeros(self.n_cols)
        if run.x is not None:
            x[columns] = run.x
        whole: Basis | None = None
        if run.basis is not None:  # in this model's columns and rows
            whole = Basis(_nonbasic(arrays), np.full(self.n_rows, BASIC, dtype=np.int8))
            whole.col_status[columns] = run.basis.col_status
            whole.row_status[rows] = run.basis.row_status
        row_dual = np.zeros(self.n_rows)
        if not len(kept):
            row_dual[rows] = run.row_dual
        return Solution(
            model=self,
            status=run.status,
            objective=run.objective,
            x=x,
            row_dual=row_dual,
            mip_gap=run.gap,
            bound=run.bound,
            stop=run.stop,
            seconds=run.seconds,
            basis=whole,
            iterations=run.iterations,
        )


def _nonbasic(arrays: Arrays) -> npt.NDArray[np.int8]:
    """Each column at a bound: its lower one if finite, else its upper one, else zero."""
    out = np.full(len(arrays.cost), AT_ZERO, dtype=np.int8)
    out[arrays.col_upper < HIGHS_INF] = AT_UPPER
    out[arrays.col_lower > -HIGHS_INF] = AT_LOWER
    return out


@dataclass(frozen=True, slots=True)
class Solution:
    model: LinearModel
    status: Status
    objective: float
    x: FloatArray
    row_dual: FloatArray
    mip_gap: float
    bound: float = -INF  # the best proven bound on the objective (minimising)
    stop: Stop | None = None  # the limit that ended a solve not proven within its gap
    seconds: float = 0.0  # HiGHS's own run time
    basis: Basis | None = None  # an LP's final basis, in the model's columns and rows
    iterations: int = 0  # an LP's simplex iterations

    @property
    def found(self) -> bool:
        """A plan exists in ``x``: proven within the gap, or the best found at a limit."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

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


def _check(model: LinearModel, a: Arrays) -> None:
    """Amounts HiGHS would refuse or misread, named by row or variable: bounds that say
    "at least 1e20" (or at most -1e20), costs at or above 1e20, coefficients above 1e15,
    and anything not a number."""

    def column(j: int) -> str:
        for b in model.blocks:
            if b.start <= j < b.start + b.size:
                return f"{b.name}[{b.labels[j - b.start]}]"
        return f"column {j}"

    def row(i: int) -> str:
        for f in model.families:
            if f.start <= i < f.start + f.size:
                return f"{f.name}[{f.labels[i - f.start]}]"
        return f"row {i}"

    def fail(where: str, what: str, v: float) -> None:
        raise InputError(
            f"{where}: {what} {v:g} is beyond what the solver can represent",
            valid=f"finite amounts below {HIGHS_INF:g} (coefficients below "
            f"{HIGHS_LARGE_COEFFICIENT:g}); check the file's amounts and units",
        )

    big = HIGHS_INF
    checks = (
        (np.abs(a.cost) >= big, a.cost, column, "a cost of"),
        (a.col_lower >= big, a.col_lower, column, "a lower bound of"),
        (a.col_upper <= -big, a.col_upper, column, "an upper bound of"),
        (a.row_lower >= big, a.row_lower, row, "a required amount of"),
        (a.row_upper <= -big, a.row_upper, row, "a limit of"),
    )
    for too_big, values, name, what in checks:
        bad = too_big | np.isnan(values)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            fail(name(k), what, float(values[k]))
    bad = ~np.isfinite(a.value) | (np.abs(a.value) > HIGHS_LARGE_COEFFICIENT)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        j = int(np.searchsorted(a.start, k, side="right") - 1)
        fail(f"{row(int(a.index[k]))}, {column(j)}", "a coefficient of", float(a.value[k]))
