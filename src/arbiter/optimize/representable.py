"""Amounts a model may not hand the solver: each is bad input named by its row or variable
(:func:`check_representable`), before HiGHS refuses or misreads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from arbiter.domain.errors import InputError
from arbiter.optimize.highs import HIGHS_INF, HIGHS_LARGE_COEFFICIENT
from arbiter.optimize.solver import Arrays

if TYPE_CHECKING:
    from arbiter.optimize.linear import LinearModel


def check_representable(model: LinearModel, a: Arrays) -> None:
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
