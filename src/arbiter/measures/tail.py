"""The tail of a distribution of costs, one definition for risk, procurement and deals.

CVaR at ``level`` (Rockafellar and Uryasev 2000) is the mean cost over the worst
``1 - level`` of probability: outcomes sorted from the costliest, each taken with its
probability until the tail's mass is reached, the last one in part. With ``n`` equally
likely samples and ``(1 - level) n`` not a whole number, the last sample counts
fractionally: 30 samples at 95% are the costliest one and half the next, not the two
costliest. This is the quantity the procurement and deal MILPs minimise (``eta + sum_s
p_s w_s / (1 - level)``), so what they optimise and what every report prints agree.

A quantile (:func:`quantile`: P5, P50, P95 of risk runs, deals and procurement) is read
off straight lines between the sorted values, each value standing at the middle of its
probability mass, rescaled so the smallest stands at 0 and the largest at 1. With ``n``
equally likely values the ``i``-th smallest stands at ``(i - 1) / (n - 1)``: definition 7
of Hyndman and Fan (1996), the default of NumPy, pandas, R and spreadsheets, so a P95
printed here is what ``DataFrame.quantile(0.95)`` gives on the same samples. With
probabilities (listed scenarios) the same rule is weighted: three scenarios of
probability 0.25, 0.5 and 0.25 stand at 0, 0.5 and 1, and their P95 is the middle one's
cost plus 90% of the way to the costliest. Equal values form one run over their combined
mass, standing from half their mean weight after its start to half before its end, so a
tie does not depend on the order the values came in (with equal weights this is again
definition 7).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def cvar(values: npt.ArrayLike, level: float, weights: npt.ArrayLike | None = None) -> float:
    """Mean of the costliest ``1 - level`` probability mass of ``values`` (module
    docstring); equally likely values unless ``weights`` (probabilities) are given."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("CVaR of no values")
    w = np.full(v.size, 1.0 / v.size) if weights is None else np.asarray(weights, np.float64)
    order = np.argsort(v, kind="stable")[::-1]
    v, w = v[order], w[order]
    before = np.concatenate(([0.0], np.cumsum(w)[:-1]))
    take = np.clip((1.0 - level) - before, 0.0, w)
    mass = float(take.sum())
    return float(take @ v / mass) if mass > 0 else float(v[0])


def quantile(values: npt.ArrayLike, q: float, weights: npt.ArrayLike | None = None) -> float:
    """The ``q`` quantile of ``values`` (module docstring: linear between the values, each
    at the middle of its probability mass), equally likely values unless ``weights``
    (probabilities, or any non-negative numbers in proportion) are given; values of
    weight 0 do not count."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is not in [0, 1]")
    v = np.asarray(values, dtype=np.float64).ravel()
    if weights is None:
        if v.size == 0:
            raise ValueError("quantile of no values")
        return float(np.quantile(v, q))  # definition 7, as NumPy computes it
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != v.shape or not np.all(np.isfinite(w)) or np.any(w < 0.0):
        raise ValueError("weights must be one finite non-negative number per value")
    keep = w > 0.0
    if not keep.any():
        raise ValueError("quantile of no values (every weight is 0)")
    distinct, group, count = np.unique(v[keep], return_inverse=True, return_counts=True)
    mass = np.bincount(group, weights=w[keep])
    before = np.cumsum(mass) - mass
    half = mass / count / 2.0  # half the run's mean weight
    start, end = before + half, before + mass - half
    ties = count > 1
    position = np.concatenate((start, end[ties]))
    value = np.concatenate((distinct, distinct[ties]))
    order = np.argsort(position, kind="stable")
    position, value = position[order], value[order]
    if value.size == 1:
        return float(value[0])
    return float(np.interp(q, (position - position[0]) / (position[-1] - position[0]), value))
