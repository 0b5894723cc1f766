"""Pieces of a model's arrays that :meth:`arbiter.optimize.linear.LinearModel.solve` solves on
their own: the arrays over a subset of the columns (:func:`restrict`), a basis with every
column at a bound (:func:`nonbasic`), and the shadow prices of a mixed-integer point, from
the LP with its integers fixed (:func:`fixed_duals`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from arbiter.optimize.highs import HIGHS_INF
from arbiter.optimize.solver import (
    AT_LOWER,
    AT_UPPER,
    AT_ZERO,
    Arrays,
    FloatArray,
    IntArray,
    Limits,
    Problem,
    Solver,
    Status,
)


def fixed_duals(arrays: Arrays, integer: IntArray, x: FloatArray, solver: Solver) -> FloatArray:
    """Shadow prices of a mixed-integer point: the row duals of the LP with the integer
    variables fixed at their (rounded) values (zero if that LP is not solved)."""
    fixed_lower, fixed_upper = arrays.col_lower.copy(), arrays.col_upper.copy()
    rounded = np.round(x[integer])
    fixed_lower[integer] = rounded
    fixed_upper[integer] = rounded
    fixed = replace(arrays, col_lower=fixed_lower, col_upper=fixed_upper)
    lp = solver.run(Problem(fixed, np.zeros(0, dtype=np.int64)), Limits(mip_gap=0.0))
    return lp.row_dual if lp.status is Status.OPTIMAL else np.zeros(len(arrays.row_lower))


def restrict(
    arrays: Arrays, columns: IntArray, rows: IntArray | None
) -> tuple[Arrays, npt.NDArray[np.bool_]]:
    """The arrays over ``columns`` only, and the rows kept (a mask): those ``rows`` (all
    if ``None``) that have an entry in the columns, or whose bounds exclude zero (then
    infeasible); entries in rows not kept go, their columns stay."""
    n_rows = len(arrays.row_lower)
    length = np.diff(arrays.start)[columns]
    begin = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum(length, out=begin[1:])
    at = np.arange(int(begin[-1]), dtype=np.int64)
    at += np.repeat(arrays.start[columns] - begin[:-1], length)
    index = arrays.index[at]
    row_kept = np.ones(n_rows, dtype=bool)
    if rows is not None:
        row_kept[:] = False
        row_kept[rows] = True
    kept = np.zeros(n_rows, dtype=bool)
    kept[index] = True
    kept |= (arrays.row_lower > 0) | (arrays.row_upper < 0)
    kept &= row_kept
    if not row_kept.all():  # entries in dropped rows go, their columns stay
        of_column = np.repeat(np.arange(len(columns), dtype=np.int64), length)
        stays = row_kept[index]
        at, index = at[stays], index[stays]
        begin = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum(np.bincount(of_column[stays], minlength=len(columns)), out=begin[1:])
    row_at = np.cumsum(kept) - 1
    sub = Arrays(
        arrays.cost[columns],
        arrays.col_lower[columns],
        arrays.col_upper[columns],
        arrays.row_lower[kept],
        arrays.row_upper[kept],
        begin,
        row_at[index],
        arrays.value[at],
    )
    return sub, kept


def nonbasic(arrays: Arrays) -> npt.NDArray[np.int8]:
    """Each column at a bound: its lower one if finite, else its upper one, else zero."""
    out = np.full(len(arrays.cost), AT_ZERO, dtype=np.int8)
    out[arrays.col_upper < HIGHS_INF] = AT_UPPER
    out[arrays.col_lower > -HIGHS_INF] = AT_LOWER
    return out
