"""Dominance among options as arrays: which candidates no other beats on cost and work,
and what a serving option costs and serves in whole purchases. Used by thinning, before
options become objects (``options.py``), and by pruning after (``pruning.py``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def serve_shape(
    usd: FloatArray, tokens: FloatArray, chips: FloatArray, per: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Serving options in whole purchases: what one block (an instance, or the instances
    one replica spans) costs at most, and the tokens/s it serves at least."""
    spans = np.ceil(chips / per)
    fits = chips <= per
    block_usd = np.where(fits, usd, usd * spans)
    block_tokens = np.where(fits, tokens * np.floor(per / chips), tokens)
    return block_usd, block_tokens


def undominated(
    dom_cost: FloatArray, sub_cost: FloatArray, dom_work: FloatArray, sub_work: FloatArray
) -> BoolArray:
    """Which of n candidates no other candidate beats: A beats B when A's cost (at most
    ``dom_cost``) is no more than B's (at least ``sub_cost``) and A's work (at least
    ``dom_work``) is no less than B's (at most ``sub_work``); of equals, the first stays.
    Only the Pareto front of (``dom_cost``, ``dom_work``) can beat anything, so each
    candidate is checked against the one front member with the most work it can afford
    (or, when that is itself, the one before)."""
    n = len(dom_cost)
    if n < 2:
        return np.ones(n, dtype=bool)
    order = np.lexsort((np.arange(n), -dom_work, dom_cost))
    w = dom_work[order]
    before = np.concatenate(([-np.inf], np.maximum.accumulate(w)[:-1]))
    front = order[w > before]  # cost and work both strictly rising
    front_cost, front_work = dom_cost[front], dom_work[front]
    pos = np.searchsorted(front_cost, sub_cost, side="right") - 1
    safe = np.maximum(pos, 0)
    itself = (pos >= 0) & (front[safe] == np.arange(n))
    pos = np.where(itself, pos - 1, pos)
    best = np.where(pos >= 0, front_work[np.maximum(pos, 0)], -np.inf)
    return ~(best >= sub_work)


def within(
    groups: IntArray | None,
    dom_cost: FloatArray,
    sub_cost: FloatArray,
    dom_work: FloatArray,
    sub_work: FloatArray,
) -> BoolArray:
    """:func:`undominated` within each group of ``groups`` (``None``: one group)."""
    if groups is None:
        return undominated(dom_cost, sub_cost, dom_work, sub_work)
    out = np.ones(len(dom_cost), dtype=bool)
    for g in np.unique(groups).tolist():
        at = np.flatnonzero(groups == g)
        out[at] = undominated(dom_cost[at], sub_cost[at], dom_work[at], sub_work[at])
    return out
