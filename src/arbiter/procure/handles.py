"""What a procurement model extension builds on (:data:`Extension`): the model's columns and
data (:class:`Handles`), and the terms it adds to each scenario's cost (:class:`CostTerms`).
The deal engine (:mod:`arbiter.deals.model`) is one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.domain.fleet import PlatformState
from arbiter.optimize.linear import Block, FloatArray, IntArray, LinearModel
from arbiter.procure.model import Data
from arbiter.procure.solution import USD_PER_ROW_UNIT


@dataclass(frozen=True, slots=True)
class Handles:
    """The columns an :data:`Extension` builds on: ``blocks`` (K x T, product and start),
    ``on_demand`` (one row per (class, offer) pair of ``pairs``, x S x T), the platform
    switches ``enable`` of ``pending``, the discount factors ``discount`` (T), and which
    scenarios of the problem are solved (``sids``, with probabilities ``probability``)."""

    data: Data
    sids: list[int]
    probability: FloatArray
    discount: FloatArray
    blocks: IntArray
    on_demand: IntArray
    pairs: IntArray
    active: FloatArray
    sizes: FloatArray
    enable: Block
    pending: list[PlatformState]
    hour_unit: float = 1.0  # chip-hours per unit of an on-demand column
    usd_unit: float = USD_PER_ROW_UNIT  # USD per unit of money in the rows

    def spend(self, mask: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray, FloatArray]:
        """Terms of the undiscounted spend in each (scenario, period) on the resources of
        ``mask`` (R), in ``usd_unit``: row ``s * T + t``, column, coefficient. Committed chip-hours
        count while active, at the price of their start; on-demand at the period's."""
        data = self.data
        T, H, K = data.problem.periods, data.problem.period_hours, data.n_products
        kk, tt0, tt = np.nonzero(self.active)
        keep = mask[kk]
        kk, tt0, tt = kk[keep], tt0[keep], tt[keep]
        n_val = H * self.sizes[kk] * data.price[kk, tt0] / self.usd_unit
        on = mask[K + self.pairs[:, 1]]
        pairs = self.pairs[on]
        ycol = self.on_demand[on]
        rows, cols, vals = [], [], []
        for s in range(len(self.sids)):
            rows += [s * T + tt, s * T + np.repeat(np.arange(T)[None, :], len(pairs), 0).ravel()]
            cols += [self.blocks[kk, tt0], ycol[:, s].ravel()]
            vals += [
                n_val,
                (data.price[K + pairs[:, 1]] * self.hour_unit / self.usd_unit).ravel(),
            ]
        return (
            np.concatenate(rows).astype(np.int64),
            np.concatenate(cols).astype(np.int64),
            np.concatenate(vals),
        )


@dataclass(frozen=True, slots=True)
class CostTerms:
    """What an extension adds to each scenario's cost: ``usd[i]`` times the value of
    column ``columns[i]`` in the cost of (local) scenario ``scenarios[i]``; ``blocks`` are
    its variables, whose values the solution reports under their names."""

    scenarios: IntArray
    columns: IntArray
    usd: FloatArray
    blocks: tuple[Block, ...] = ()


Extension = Callable[[LinearModel, Handles], CostTerms]
"""Adds variables and rows to the procurement model, and terms to each scenario's cost."""
