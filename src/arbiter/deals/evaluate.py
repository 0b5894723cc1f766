"""The lab's procurement plan with a deal and without it, on the same world.

:func:`evaluate` solves both sides (formulation in :mod:`arbiter.deals.model`) and returns
an :class:`Evaluation`: each side's net discounted cost per scenario (cost, minus the
deal's inflows on the deal side) and the deal's worth.

- ``npv_usd`` = E[net cost without] - E[net cost with]: what taking the deal is worth in
  expectation, in today's dollars;
- ``value_usd`` = the same difference of the risk-adjusted objective, E + lambda CVaR, that
  both plans minimise (the two agree when the procurement file's lambda is 0).

:class:`Settings` holds the knobs the analyses turn (demand level, port efficiency,
discount, prices); the defaults are the files' own values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from arbiter.deals.model import (
    DealTerms,
    covered_mask,
    discounted,
    expand,
    fixed_inflow_usd,
    usage_tranches,
    world_problem,
)
from arbiter.domain.catalog import Catalog
from arbiter.domain.deal import Deal
from arbiter.domain.errors import InfeasibleError
from arbiter.measures import cvar
from arbiter.optimize.linear import FloatArray
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import Efficiency
from arbiter.procure.milp import ProcurementSolution, solve
from arbiter.procure.model import Data, build_data

ROUNDING_SLACK = 1e-6
"""Blocks within this of a whole number are not rounded up."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What an analysis changes from the files: demand times ``demand_scale``; the port's
    efficiency fixed at ``efficiency`` (``None``: its distribution's points); the deal's
    ``discount`` (``None``: the file's); covered and other prices times ``covered_price``
    and ``other_price``.

    Commitments are first bought in fractional blocks (an LP in the blocks: at a lab's
    scale a block is a sliver of what it buys, and the integer MILP takes minutes); with
    ``whole_blocks`` each side's blocks are then rounded, each down or up as the rest of
    its plan re-solved finds cheaper (:func:`whole_blocks`), so the plan can be bought as
    it stands (the cost of rounding is reported).
    """

    demand_scale: float = 1.0
    efficiency: float | None = None
    discount: float | None = None
    covered_price: float = 1.0
    other_price: float = 1.0
    whole_blocks: bool = True
    mip_gap: float = 1e-4
    time_limit_s: float | None = 300.0


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the comparison: its data (expanded scenarios, the deal's prices on the
    deal side), its solution, the constant inflows and the net cost per scenario."""

    data: Data
    solution: ProcurementSolution
    fixed_inflow_usd: float
    net_usd: FloatArray  # S: discounted cost minus every inflow of the deal
    rounding_usd: float = 0.0  # objective of whole blocks minus fractional ones

    @property
    def probability(self) -> FloatArray:
        return np.array([s.probability for s in self.data.problem.scenarios])

    @property
    def expected_usd(self) -> float:
        return float(self.probability @ self.net_usd)

    @property
    def cvar_usd(self) -> float:
        return cvar(self.net_usd, self.data.problem.cvar_level, self.probability)

    @property
    def objective_usd(self) -> float:
        return self.expected_usd + self.data.problem.risk_weight * self.cvar_usd


@dataclass(frozen=True, slots=True)
class Evaluation:
    deal: Deal
    settings: Settings
    without: Side
    with_deal: Side

    @property
    def npv_usd(self) -> float:
        return self.without.expected_usd - self.with_deal.expected_usd

    @property
    def value_usd(self) -> float:
        return self.without.objective_usd - self.with_deal.objective_usd

    @property
    def scenario_value_usd(self) -> FloatArray:
        """The deal's worth in each planning scenario (same order on both sides)."""
        return self.without.net_usd - self.with_deal.net_usd


def world_data(
    deal: Deal,
    catalog: Catalog,
    eff: Efficiency,
    calibration: CalibrationProfile | None = None,
) -> Data:
    """The lab's procurement data on the deal's world, before scenarios are expanded
    (rates corrected by ``calibration`` on the chips it covers)."""
    return build_data(world_problem(deal), catalog, eff, calibration)


def prepared(base: Data, deal: Deal, settings: Settings) -> Data:
    """``base`` with the settings' demand, prices and efficiency points and the deal's
    discount rate (no discount on prices yet)."""
    data = base
    if data.problem.discount_rate != deal.discount_rate:
        data = replace(data, problem=replace(data.problem, discount_rate=deal.discount_rate))
    if settings.demand_scale != 1.0:
        data = replace(data, demand=data.demand * settings.demand_scale)
    if settings.covered_price != 1.0 or settings.other_price != 1.0:
        mask = covered_mask(data, deal)
        scale = np.where(mask, settings.covered_price, settings.other_price)
        data = replace(data, price=data.price * scale[:, None])
    points = None if settings.efficiency is None else [(settings.efficiency, 1.0)]
    return expand(data, deal, points)


def whole_blocks(
    data: Data,
    fractional: ProcurementSolution,
    extension: DealTerms | None,
    settings: Settings,
) -> ProcurementSolution:
    """The plan in whole blocks nearest a plan in fractional ones: the best of each
    block count rounded down or up (a MILP over those choices alone, the rest of the
    plan re-solved), all of them rounded up, and all rounded down (the fractions left to
    on-demand). Rounding thus never costs more than leaving the fractions to on-demand,
    nor than buying them whole."""
    kwargs: dict[str, Any] = {"mip_gap": settings.mip_gap, "time_limit_s": settings.time_limit_s}
    up = np.ceil(fractional.blocks - ROUNDING_SLACK).clip(min=0.0)
    down = np.floor(fractional.blocks + ROUNDING_SLACK).clip(min=0.0)
    ways: list[dict[str, Any]] = [{"fixed_blocks": up}]
    if not np.array_equal(up, down):
        ways = [{"block_bounds": (down, up)}, *ways, {"fixed_blocks": down}]
    found: list[ProcurementSolution] = []
    for way in ways:
        try:
            found.append(solve(data, extension=extension, **way, **kwargs))
        except InfeasibleError:
            continue  # a budget the rounded-up blocks break; another way may hold
    if not found:
        raise InfeasibleError(
            "no plan in whole commitment blocks exists near the fractional plan: the "
            "budget, share caps and commitments conflict once blocks are rounded"
        )
    return min(found, key=lambda sol: sol.objective)


def solve_side(data: Data, deal: Deal | None, settings: Settings) -> Side:
    """One side on ``data`` (the deal's prices already applied on the deal side). A
    usage tranche counts only where the plan's covered spend reaches its threshold."""
    extension = None if deal is None else DealTerms(deal)
    kwargs = {"mip_gap": settings.mip_gap, "time_limit_s": settings.time_limit_s}
    sol = solve(data, extension=extension, relax_blocks=True, **kwargs)  # type: ignore[arg-type]
    relaxed = sol.objective
    if settings.whole_blocks:
        sol = whole_blocks(data, sol, extension, settings)
    inflow, unearned = 0.0, np.zeros(len(sol.cost))
    if deal is not None:
        inflow = fixed_inflow_usd(deal)
        counted, earned = usage_tranches(deal, data, sol)
        unearned = counted - earned
    return Side(
        data=data,
        solution=sol,
        fixed_inflow_usd=inflow,
        net_usd=sol.cost - inflow + unearned,
        rounding_usd=sol.objective - relaxed,
    )


def evaluate(deal: Deal, base: Data, settings: Settings = Settings()) -> Evaluation:
    """Both sides of ``deal`` on ``base`` (from :func:`world_data`)."""
    data = prepared(base, deal, settings)
    without = solve_side(data, None, settings)
    with_deal = solve_side(discounted(data, deal, settings.discount), deal, settings)
    return Evaluation(deal=deal, settings=settings, without=without, with_deal=with_deal)
