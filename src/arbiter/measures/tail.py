"""The tail of a distribution of costs, one definition for risk, procurement and deals.

CVaR at ``level`` (Rockafellar and Uryasev 2000) is the mean cost over the worst
``1 - level`` of probability: outcomes sorted from the costliest, each taken with its
probability until the tail's mass is reached, the last one in part. With ``n`` equally
likely samples and ``(1 - level) n`` not a whole number, the last sample counts
fractionally: 30 samples at 95% are the costliest one and half the next, not the two
costliest. This is the quantity the procurement and deal MILPs minimise (``eta + sum_s
p_s w_s / (1 - level)``), so what they optimise and what every report prints agree.
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


def weighted_quantile(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """The smallest value whose cumulative probability reaches ``q`` (the inverse CDF of
    a discrete distribution: scenarios with probabilities)."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    return float(v[order][min(int(np.searchsorted(cum, q * cum[-1] - 1e-12)), len(v) - 1)])
