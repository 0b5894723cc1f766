"""A small linear (mixed-integer) model: named blocks of variables and named families of
constraints, held as arrays and handed to a solver in one call.

Every optimisation model in arbiter is written against this: variables come in blocks (one
array per kind of decision, labelled in domain words: ``commit[aws/trn2 1yr, period 2]``),
constraints in families built from coordinate arrays (row, column, coefficient) at once,
never one Python object per variable or row. The model is

    minimise    c' x
    subject to  row_lower <= A x <= row_upper
                col_lower <= x <= col_upper,   x_j integer for j in the integer blocks

After a mixed-integer solve the shadow prices are those of the LP with the integer
variables fixed at their optimum (the usual reading of "what one more unit of this
constraint is worth, keeping the discrete choices").

Limits: a solve may stop at a time limit (``time_limit_s``) or a deterministic work limit
(``node_limit``, ``iteration_limit``); with a plan found by then its status is
``feasible`` and its ``mip_gap`` is the proven gap against the best bound (``bound``);
with none, it is ``time_limit``. A starting point (``start``) seeds the search. Amounts a
solver cannot represent (costs and bounds at or above HiGHS's infinity of 1e20 that are
not meant as infinite, coefficients above 1e15) are an :class:`InputError` naming the row
or variable, not a solver failure. The solver is reached through
:class:`arbiter.optimize.solver.Solver` (HiGHS by default, :mod:`arbiter.optimize.highs`);
:meth:`LinearModel.relax` makes the elastic model that explains infeasibility (a new
model: this one is left as it is), :meth:`LinearModel.export` writes the model as MPS or
LP for another solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arbiter.domain.errors import InputError, SolverError
from arbiter.optimize.highs import HighsSolver, highs_ready
from arbiter.optimize.representable import check_representable
from arbiter.optimize.solver import (
    BASIC,
    INF,
    Arrays,
    Basis,
    FloatArray,
    IntArray,
    Limits,
    Problem,
    Run,
    Simplex,
    Solver,
    Status,
    Stop,
    Warm,
    unproven,
)
from arbiter.optimize.subproblems import fixed_duals, nonbasic, restrict

__all__ = [
    "INF",
    "Basis",
    "Block",
    "Elastic",
    "Family",
    "FloatArray",
    "IntArray",
    "Limits",
    "LinearModel",
    "Simplex",
    "Solution",
    "Status",
    "Stop",
    "Terms",
    "export_path",
    "highs_ready",
]
EXPORT_FORMATS = (".mps", ".lp")
HIGHS = HighsSolver()


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


@dataclass(frozen=True, slots=True)
class Terms:
    """Coefficients of a family's rows: ``vals[k]`` at (local row ``rows[k]``, column
    ``cols[k]``); duplicates add up."""

    rows: IntArray
    cols: IntArray
    vals: FloatArray

    @staticmethod
    def join(*parts: Terms) -> Terms:
        return Terms(
            np.concatenate([p.rows for p in parts]).astype(np.int64),
            np.concatenate([p.cols for p in parts]).astype(np.int64),
            np.concatenate([p.vals for p in parts]).astype(np.float64),
        )

    def times(self, factor: float) -> Terms:
        return Terms(self.rows, self.cols, factor * self.vals)


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

    def add_rows(
        self,
        name: str,
        labels: Sequence[str],
        terms: Terms,
        *,
        lower: FloatArray | float = -INF,
        upper: FloatArray | float = INF,
    ) -> Family:
        """:meth:`add_constraints` with the coefficients as :class:`Terms`."""
        return self.add_constraints(
            name, labels, terms.rows, terms.cols, terms.vals, lower=lower, upper=upper
        )

    def add_entries(self, rows: IntArray, cols: IntArray, vals: FloatArray) -> None:
        """Coefficients ``vals`` at (row ``rows``, column ``cols``) of rows and columns
        already in the model; duplicates add up."""
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self._cols.append(np.asarray(cols, dtype=np.int64))
        self._vals.append(np.asarray(vals, dtype=np.float64))

    def copy(self, *, objective: bool = True) -> LinearModel:
        """A model with the same variables and rows (and objective, unless
        ``objective=False``: then zero), to which more may be added without touching
        this one."""
        return LinearModel(
            blocks=list(self.blocks),
            families=list(self.families),
            _cost=list(self._cost) if objective else [np.zeros_like(c) for c in self._cost],
            _col_lower=list(self._col_lower),
            # copied: ``cap_columns`` lowers bounds in place
            _col_upper=[upper.copy() for upper in self._col_upper],
            _rows=list(self._rows),
            _cols=list(self._cols),
            _vals=list(self._vals),
            _row_lower=list(self._row_lower),
            _row_upper=list(self._row_upper),
            n_cols=self.n_cols,
            n_rows=self.n_rows,
            presolve=self.presolve,
        )

    def relax(self, names: Sequence[str], weights: dict[str, float] | None = None) -> Elastic:
        """The elastic version of this model, for explaining infeasibility, as a new
        model (this one is left as it is): the objective becomes the violation, and each
        row of the families ``names`` gets slack ``under >= 0`` (for its lower bound) and
        ``over >= 0`` (its upper bound), each costing one per unit of violation relative
        to the bound's size (times ``weights[name]``, default 1)."""
        elastic = self.copy(objective=False)
        slack: dict[str, tuple[Block, Block]] = {}
        for index, family in enumerate(self.families):
            if family.name not in names:
                continue
            lower, upper = self._row_lower[index], self._row_upper[index]
            rows = np.arange(family.size, dtype=np.int64) + family.start
            factor = (weights or {}).get(family.name, 1.0)
            costs = [
                np.where(np.isfinite(b), factor / np.maximum(np.abs(b), 1.0), 0.0)
                for b in (lower, upper)
            ]
            under = elastic.add_variables(
                f"under:{family.name}",
                family.labels,
                cost=costs[0],
                upper=np.where(np.isfinite(lower), INF, 0.0),
            )
            over = elastic.add_variables(
                f"over:{family.name}",
                family.labels,
                cost=costs[1],
                upper=np.where(np.isfinite(upper), INF, 0.0),
            )
            elastic.add_entries(
                np.concatenate([rows, rows]),
                np.concatenate([under.columns, over.columns]),
                np.concatenate([np.ones(family.size), -np.ones(family.size)]),
            )
            slack[family.name] = (under, over)
        return Elastic(elastic, slack)

    def export(self, path: Path | str, *, solver: Solver | None = None) -> Path:
        """Write the model to ``path``, as MPS (``.mps``) or LP (``.lp``) by its suffix,
        variables and rows named as here (``commit(aws/trn2,_period_2)``: the formats'
        characters), for reading into another solver."""
        path = export_path(path)
        arrays = self._arrays()
        check_representable(self, arrays)
        names = (self.column_names(), self.row_names())
        problem = Problem(arrays, self.integer_columns(), self.presolve, *names)
        (solver or HIGHS).write(problem, path)
        return path

    def column_names(self) -> tuple[str, ...]:
        """``block[label]`` for every column, in order."""
        return tuple(f"{b.name}[{label}]" for b in self.blocks for label in b.labels)

    def row_names(self) -> tuple[str, ...]:
        """``family[label]`` for every row, in order."""
        return tuple(name for f in self.families for name in f.row_names())

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

    def _arrays(self, bounds: tuple[FloatArray, FloatArray] | None = None) -> Arrays:
        cost, col_lower, col_upper, begin, index, value = self.arrays()
        if bounds is not None:
            col_lower, col_upper = bounds
        row_lower, row_upper = self.row_bounds()
        return Arrays(cost, col_lower, col_upper, row_lower, row_upper, begin, index, value)

    def solve(
        self,
        *,
        time_limit_s: float | None = None,
        mip_gap: float = 1e-4,
        seed: int = 0,
        duals: bool = False,
        node_limit: int | None = None,
        iteration_limit: int | None = None,
        start: FloatArray | None = None,
        relax: bool = False,
        bounds: tuple[FloatArray, FloatArray] | None = None,
        columns: IntArray | None = None,
        rows: IntArray | None = None,
        basis: Basis | None = None,
        simplex: Simplex = "primal",
        solver: Solver | None = None,
    ) -> Solution:
        """Solve with ``solver`` (HiGHS unless given) within the limits
        (:class:`~arbiter.optimize.solver.Limits`); with ``duals``, also the LP with the
        integers fixed at their values, whose row duals are then the solution's (zero
        otherwise). ``start`` (one value per column) seeds the search with a plan, used
        when it is feasible; ``relax`` solves the LP relaxation (integrality dropped);
        ``bounds`` (lower, upper; one per column) replace the columns' own, say to fix
        some of them; ``columns`` (sorted indices) are the only ones that may be
        non-zero: the others are held at zero and left out of what the solver is given,
        which is much faster than bounds when most are held (their lower bounds must
        allow zero); ``rows`` (with ``columns``), the only rows kept: the others are
        dropped (a relaxation). An LP (``relax``) starts from ``basis`` (one status per
        column and row of this model, say a previous solution's over other ``columns``:
        a column not in it enters at its bound, a row not in it with its slack basic) by
        the ``simplex`` that suits what changed, and returns its final basis."""
        arrays = self._arrays(bounds)
        check_representable(self, arrays)
        integer = np.zeros(0, dtype=np.int64) if relax else self.integer_columns()
        limits = Limits(time_limit_s, mip_gap, node_limit, iteration_limit, seed)
        warm = Warm(start, basis, simplex)
        solver = solver or HIGHS
        if columns is not None:
            return self._solve_columns(arrays, integer, columns, rows, limits, warm, solver)
        problem = Problem(arrays, integer, self.presolve)
        run = solver.run(problem, limits, warm)
        if start is not None and unproven(run, mip_gap):
            # HiGHS (1.16) can hand a start back as "optimal" with a bound that does not
            # prove it (seen when presolve empties a small model): solve again unseeded
            run = solver.run(problem, limits, Warm(None, basis, simplex))
        row_dual = np.zeros(self.n_rows) if relax or len(integer) else run.row_dual
        if duals and len(integer) and run.x is not None and run.status in FOUND:
            row_dual = fixed_duals(arrays, integer, run.x, solver)
        x = run.x if run.x is not None else np.zeros(self.n_cols)
        return self._solution(run, x, row_dual, run.basis)

    def _solution(
        self, run: Run, x: FloatArray, row_dual: FloatArray, basis: Basis | None
    ) -> Solution:
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
            basis=basis,
            iterations=run.iterations,
        )

    def _solve_columns(
        self,
        arrays: Arrays,
        integer: IntArray,
        columns: IntArray,
        rows: IntArray | None,
        limits: Limits,
        warm: Warm,
        solver: Solver,
    ) -> Solution:
        """:meth:`solve` over ``columns`` only, the others at zero (a ``start`` non-zero
        elsewhere is dropped). The bound of a mixed-integer solve is the restricted
        model's, not the whole one's."""
        if np.any(arrays.col_lower[np.setdiff1d(np.arange(self.n_cols), columns)] > 0):
            raise SolverError("a column held at zero has a positive lower bound")
        sub, kept_rows = restrict(arrays, columns, rows)
        kept = np.flatnonzero(np.isin(columns, integer))
        start, basis = warm.start, warm.basis
        if start is not None and np.any(np.delete(start, columns) != 0):
            start = None
        run = solver.run(
            Problem(sub, kept, self.presolve),
            limits,
            Warm(
                None if start is None else start[columns],
                None
                if basis is None
                else Basis(basis.col_status[columns], basis.row_status[kept_rows]),
                warm.simplex,
            ),
        )
        x = np.zeros(self.n_cols)
        if run.x is not None:
            x[columns] = run.x
        whole: Basis | None = None
        if run.basis is not None:  # in this model's columns and rows
            whole = Basis(nonbasic(arrays), np.full(self.n_rows, BASIC, dtype=np.int8))
            whole.col_status[columns] = run.basis.col_status
            whole.row_status[kept_rows] = run.basis.row_status
        row_dual = np.zeros(self.n_rows)
        if not len(kept):
            row_dual[kept_rows] = run.row_dual
        return self._solution(run, x, row_dual, whole)


FOUND = (Status.OPTIMAL, Status.FEASIBLE)


def export_path(path: Path | str) -> Path:
    """``path`` as a file a model can be written to (its suffix ``.mps`` or ``.lp``, its
    folder existing), or an :class:`InputError` saying what is valid."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_FORMATS:
        suffix = repr(path.suffix) if path.suffix else "no suffix"
        raise InputError(
            f"cannot write a model to {path}: the format is named by the file's suffix, "
            f"and {suffix} names none",
            field="--export-model",
            valid=" or ".join(EXPORT_FORMATS),
        )
    if not path.parent.is_dir():
        raise InputError(
            f"cannot write a model to {path}: its folder {path.parent} does not exist",
            field="--export-model",
            valid="a path in an existing folder",
        )
    return path


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


@dataclass(frozen=True, slots=True)
class Elastic:
    """The elastic version of a model (:meth:`LinearModel.relax`): the new model and, per
    relaxed family, its slack blocks (under its lower bound, over its upper one)."""

    model: LinearModel
    slack: dict[str, tuple[Block, Block]]
