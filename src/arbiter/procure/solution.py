"""A procurement solution as arrays, and what its hours did: the committed and on-demand
chip-hours that worked (:func:`used_hours`) and which periods each block is active in
(:func:`active_matrix`). Built by :mod:`arbiter.procure.milp`; read by the report and the
deal engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from arbiter.optimize.linear import FloatArray, Status
from arbiter.procure.model import Data, products

USD_PER_ROW_UNIT = 1e6
"""Money in the rows (costs, shares, budgets, an extension's spend rows) is in $M, or in
a smaller power of ten for a small problem (:func:`arbiter.procure.milp.money_unit`)."""


@dataclass(frozen=True, slots=True)
class ProcurementSolution:
    status: Status
    objective: float
    mip_gap: float
    blocks: FloatArray  # K x T: blocks of each product started in each period
    committed: FloatArray  # J x K x S x T chip-hours
    on_demand: FloatArray  # J x O x S x T chip-hours
    unmet: FloatArray  # J x S x T work units
    cost: FloatArray  # S: discounted cost of each scenario
    enabled: tuple[str, ...]
    extras: dict[str, FloatArray] = field(default_factory=dict)  # an extension's variables
    usd_unit: float = USD_PER_ROW_UNIT  # USD per unit of the rows' money (and of extras')


IDLE_TOLERANCE = 1e-9
"""Work beyond demand smaller than this share of it is solver noise, not idle hours."""


def used_hours(
    data: Data, sol: ProcurementSolution, sids: Sequence[int] | None = None
) -> tuple[FloatArray, FloatArray]:
    """The chip-hours of ``sol`` that did work: committed (J x K x S x T) and on-demand
    (J x O x S x T), solved over the scenarios ``sids`` (default: all).

    A demand row only asks that work be covered (``>=``), and committed hours are paid
    for whether used or not, so a solution may hand a class more committed (or, to reach
    a deal's spend, on-demand) hours than its work needs. Those hours are idle: what a
    class's hours deliver beyond its demand is taken out, from its on-demand hours first
    (bought beyond need) and then from its committed ones, in proportion within each.
    The hours bought (and paid for) stay those of the solution."""
    p = data.problem
    K = data.n_products
    sids = list(range(len(p.scenarios))) if sids is None else list(sids)
    rate = data.scenario_rate(sids)  # J x R x S
    demand = data.demand[:, sids, :]  # J x S x T
    work_c = np.einsum("jks,jkst->jst", rate[:, :K], sol.committed)
    work_o = np.einsum("jos,jost->jst", rate[:, K:], sol.on_demand)
    excess = work_c + work_o - demand
    excess = np.where(excess > IDLE_TOLERANCE * np.maximum(demand, 1.0), excess, 0.0)
    cut_o = np.minimum(excess, work_o)
    keep_o = 1.0 - np.divide(cut_o, work_o, out=np.zeros_like(cut_o), where=work_o > 0)
    cut_c = np.minimum(excess - cut_o, work_c)
    keep_c = 1.0 - np.divide(cut_c, work_c, out=np.zeros_like(cut_c), where=work_c > 0)
    return sol.committed * keep_c[:, None], sol.on_demand * keep_o[:, None]


def span(data: Data, whole_term: bool) -> int:
    longest = max((q.term_periods for q in products(data)), default=0)
    return data.problem.periods + (longest if whole_term else 0)


def active_matrix(data: Data, *, whole_term: bool = False) -> FloatArray:
    """K x T x T': 1 where a block of product k started in t is active in t' (T' = T, or
    with ``whole_term`` as far as the longest term runs past the horizon)."""
    T = data.problem.periods
    out = np.zeros((data.n_products, T, span(data, whole_term)))
    for k, prod in enumerate(products(data)):
        for start in range(T):
            end = start + prod.term_periods
            out[k, start, start : end if whole_term else min(T, end)] = 1.0
    return out
