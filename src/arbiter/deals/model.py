"""A deal as changes to the lab's procurement model (:mod:`arbiter.procure.model`).

**One world for both sides.** The lab's plan with the deal and without it are solved on
the same problem, scenarios and alternatives, so that their difference is the deal's:

- *valuation*: every cash flow is discounted at the deal's ``discount_rate`` (it replaces
  the procurement file's, so one rate values the whole comparison);
- *port*: the deal's :class:`~arbiter.domain.deal.Porting` is the lab's cost of moving to
  the covered chips' platform (one-off ``enable_usd`` after ``lead_weeks``), with or
  without the deal: the lab could port on its own;
- *scenarios*: each demand scenario ``s`` of the procurement file times each point ``e``
  of the port's efficiency (its 10th, 50th and 90th percentiles weighted 0.3, 0.4, 0.3,
  the Swanson-Megill rule; one point when it is fixed), with probability ``p_s w_e``; in
  scenario ``(s, e)`` every chip on the port's platform delivers ``eff_e`` times the
  performance model's estimate (``f_sr`` of the procurement model).

**With the deal**, on top (``V_st``: the undiscounted spend on covered resources in
scenario s and period t, in the rows' money unit, $M at a lab's scale: committed
chip-hours while active at their start price, plus on-demand; covered = a covered chip at
the counterparty; ``d_t`` the discount factor; ``Y`` the years of the deal's horizon):

- price of covered commitments and offers: ``c (1 - delta)`` (the deal's discount);
- minimum spend per year ``m_y`` (``min_spend_usd_per_year``)::

      obligation[s/y]   sum_{t in y} V_st + short_sy >= m_y,   cost pi d_{y+1} short_sy

  (``d_{y+1}``: the discount factor when year y is over, when a shortfall is settled;
  so hours bought only to meet the minimum never beat paying the shortfall)

- or a total ``M`` with ramp shares ``rho_y`` (cumulative: spend may run ahead, and the
  shortfall is the largest gap to the cumulative minimum, at most ``M``)::

      obligation[s/y]   sum_{t <= end of y} V_st + short_s >= M sum_{y' <= y} rho_y'
      obligation[s/end] sum_t V_st + short_s >= M,          cost pi d_{Y} short_s

- exclusivity (``min_share`` ``mu``), per year over the periods a covered resource can be
  bought in, against all compute spend ``S_st``::

      exclusive[s/y]    sum_{t in y} V_st >= mu sum_{t in y} S_st

- usage credits ``G``: ``0 <= g_st <= V_st``, ``sum_t g_st <= G``, cost ``-d_t g_st``;
- a tranche ``i`` of value ``v_i`` (equity after the haircut, credit at face) in period
  ``t_i`` with probability ``q_i``: when its condition is a usage threshold (``"usage >=
  50% of commitment"``) it is earned per scenario by a binary ``b_si``::

      usage[s/i]        sum_{t <= t_i} V_st >= theta_i M b_si,    cost -q_i v_i d_{t_i} b_si

  otherwise (unconditional, a milestone) it is the constant inflow ``q_i v_i d_{t_i}``,
  added after the solve (a constant moves every scenario's cost alike, so neither the
  plan nor the CVaR ranking changes).

A deal with no capital, no discount and no obligation adds nothing to the model, so both
sides solve the identical problem and the deal is worth exactly zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Platform
from arbiter.domain.deal import Deal
from arbiter.domain.fleet import PlatformState
from arbiter.domain.procurement import DemandScenario, ProcurementProblem
from arbiter.domain.scenario import Distribution
from arbiter.optimize.linear import Block, FloatArray, LinearModel
from arbiter.procure.handles import CostTerms, Handles
from arbiter.procure.model import Data, products
from arbiter.procure.solution import ProcurementSolution, active_matrix
from arbiter.scenarios.distributions import ppf

BoolArray = npt.NDArray[np.bool_]
EFFICIENCY_POINTS = ((0.1, 0.3), (0.5, 0.4), (0.9, 0.3))
"""(quantile, weight) of the port's efficiency in the planning scenarios."""
REACH_TOLERANCE = 1e-6
"""A usage threshold is reached when covered spend falls short of it by less than this
share of it (the solver's tolerance on the usage row)."""


def efficiency_points(dist: Distribution) -> list[tuple[float, float]]:
    """(efficiency, probability) points standing for ``dist`` in the planning scenarios."""
    if dist.kind == "fixed":
        return [(dist.params[0], 1.0)]
    values = ppf(dist, np.array([q for q, _ in EFFICIENCY_POINTS]))
    return [(float(v), w) for v, (_, w) in zip(values, EFFICIENCY_POINTS, strict=True)]


def world_problem(deal: Deal) -> ProcurementProblem:
    """The lab's procurement problem valued at the deal's rate, with its port."""
    p = replace(deal.procurement, discount_rate=deal.discount_rate)
    port = deal.porting
    if port is None:
        return p
    state = PlatformState(
        platform=port.platform,
        enabled=port.enable_usd == 0 and port.lead_weeks == 0,
        enable_usd=port.enable_usd,
        lead_weeks=port.lead_weeks,
    )
    listed = p.platforms or tuple(PlatformState(platform=q, enabled=True) for q in Platform)
    others = tuple(s for s in listed if s.platform is not port.platform)
    return replace(p, platforms=(*others, state))


def expand(data: Data, deal: Deal, points: list[tuple[float, float]] | None = None) -> Data:
    """``data`` with each scenario split by the port's efficiency points (see the module
    docstring); ``points`` replaces the distribution's (a break-even or tornado value)."""
    p = data.problem
    if points is None:
        points = efficiency_points(deal.porting.efficiency) if deal.porting else [(1.0, 1.0)]
    scenarios, factor, demand = [], [], []
    on_port = np.array(
        [deal.porting is not None and r.platform == deal.porting.platform.value
         for r in data.resources]
    )  # fmt: skip
    for s, sc in enumerate(p.scenarios):
        base = np.ones(len(data.resources))
        if data.rate_factor is not None:
            base = data.rate_factor[s]
        for eff, weight in points:
            name = sc.name if len(points) == 1 else f"{sc.name}/eff {eff:.2f}"
            scenarios.append(
                DemandScenario(name=name, probability=sc.probability * weight, factors=sc.factors)
            )
            factor.append(np.where(on_port, base * eff, base))
            demand.append(data.demand[:, s, :])
    problem = replace(p, scenarios=tuple(scenarios))
    return replace(
        data, problem=problem, rate_factor=np.array(factor), demand=np.stack(demand, axis=1)
    )


def covered_mask(data: Data, deal: Deal) -> BoolArray:
    """R: the resources the deal covers (a covered chip at the counterparty)."""
    return np.array(
        [r.provider == deal.counterparty and deal.covered(r.accelerator) for r in data.resources]
    )


def discounted(data: Data, deal: Deal, discount: float | None = None) -> Data:
    """``data`` with the deal's discount (or ``discount``) off covered prices."""
    off = deal.discount if discount is None else discount
    if off == 0:
        return data
    price = data.price.copy()
    price[covered_mask(data, deal)] *= 1.0 - off
    return replace(data, price=price)


def usage_terms(deal: Deal) -> list[int]:
    """The tranches earned by usage (a threshold on covered spend), by index."""
    return [i for i, t in enumerate(deal.tranches) if t.usage_threshold is not None]


def tranche_worth_usd(deal: Deal, i: int, draws: FloatArray | None = None) -> float:
    """Present value of tranche ``i`` times its probability (or its 0/1 draw in
    ``draws``, one per tranche)."""
    t = deal.tranches[i]
    chance = t.probability if draws is None else float(draws[i])
    return chance * deal.tranche_value(t) * deal.discount_factor(t.period)


def fixed_inflow_usd(deal: Deal, draws: FloatArray | None = None) -> float:
    """Present value of the tranches not earned by usage (see :func:`tranche_worth_usd`)."""
    return sum(
        tranche_worth_usd(deal, i, draws)
        for i, t in enumerate(deal.tranches)
        if t.usage_threshold is None
    )


@dataclass(frozen=True, slots=True)
class DealTerms:
    """The deal's rows and cost terms, as a procurement-model extension (module
    docstring). ``draws`` (one 0/1 per tranche) replaces the tranches' probabilities in a
    sampled future."""

    deal: Deal
    draws: FloatArray | None = None

    def __call__(self, m: LinearModel, h: Handles) -> CostTerms:
        deal, data = self.deal, h.data
        p = data.problem
        S, T = len(h.sids), p.periods
        ppy = deal.periods_per_year
        years = min(deal.horizon_years, math.ceil(T / ppy))
        mask = covered_mask(data, deal)
        rows, cols, vals = h.spend(mask)  # covered spend V, row s * T + t
        s_of, t_of = rows // T, rows % T
        out_s: list[npt.NDArray[np.int64]] = []
        out_c: list[npt.NDArray[np.int64]] = []
        out_v: list[FloatArray] = []
        blocks = []
        ob = deal.obligation
        end_of = [min(T, (y + 1) * ppy) - 1 for y in range(years)]
        settle = settlement_discounts(deal, p, years)
        if ob.min_spend_usd_per_year is not None and any(ob.min_spend_usd_per_year[:years]):
            need = np.array(ob.min_spend_usd_per_year[:years]) / h.usd_unit
            short = m.add_variables(
                "shortfall", [f"{s}/{y}" for s in range(S) for y in range(years)]
            )
            keep = t_of < years * ppy
            r = s_of[keep] * years + t_of[keep] // ppy
            m.add_constraints(
                "obligation", [f"{s}/{y}" for s in range(S) for y in range(years)],
                np.concatenate([r, np.arange(S * years)]),
                np.concatenate([cols[keep], short.columns]),
                np.concatenate([vals[keep], np.ones(S * years)]),
                lower=np.tile(need, S),
            )  # fmt: skip
            blocks.append(short)
            out_s.append(np.repeat(np.arange(S), years))
            out_c.append(short.columns)
            out_v.append(np.tile(ob.shortfall_penalty * h.usd_unit * settle, S))
        elif ob.total_spend_usd:
            shares = np.array(ob.ramp[:years] if ob.ramp else [0.0] * years)
            cumulative = np.cumsum(shares) * ob.total_spend_usd / h.usd_unit
            cumulative[-1] = ob.total_spend_usd / h.usd_unit
            short = m.add_variables("shortfall", [f"{s}" for s in range(S)])
            # row (s, y) holds the spend of every period up to the end of year y
            r_list, c_list, v_list = [], [], []
            for y in range(years):
                keep = t_of <= end_of[y]
                r_list.append(s_of[keep] * years + y)
                c_list.append(cols[keep])
                v_list.append(vals[keep])
            m.add_constraints(
                "obligation", [f"{s}/{y}" for s in range(S) for y in range(years)],
                np.concatenate([*r_list, np.arange(S * years)]),
                np.concatenate([*c_list, np.repeat(short.columns, years)]),
                np.concatenate([*v_list, np.ones(S * years)]),
                lower=np.tile(cumulative, S),
            )  # fmt: skip
            blocks.append(short)
            out_s.append(np.arange(S))
            out_c.append(short.columns)
            out_v.append(np.full(S, ob.shortfall_penalty * h.usd_unit * settle[-1]))
        if ob.min_share > 0:
            self._exclusive(m, h, mask, (rows, cols, vals), years)
        if deal.credits_usd > 0:
            g = self._credits(m, h, rows, cols, vals)
            blocks.append(g)
            out_s.append(np.repeat(np.arange(S), T))
            out_c.append(g.columns)
            out_v.append(-np.tile(h.discount, S) * h.usd_unit)
        earned = usage_terms(deal)
        if earned:
            b = self._usage(m, h, earned, s_of, t_of, cols, vals)
            blocks.append(b)
            worth = [tranche_worth_usd(deal, i, self.draws) for i in earned]
            out_s.append(np.repeat(np.arange(S), len(earned)))
            out_c.append(b.columns)
            out_v.append(-np.tile(np.array(worth), S))
        if not out_s:
            return CostTerms(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        return CostTerms(
            scenarios=np.concatenate(out_s).astype(np.int64),
            columns=np.concatenate(out_c).astype(np.int64),
            usd=np.concatenate(out_v),
            blocks=tuple(blocks),
        )

    def _exclusive(
        self,
        m: LinearModel,
        h: Handles,
        mask: BoolArray,
        covered: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray],
        years: int,
    ) -> None:
        """exclusive[s/y]: covered spend (``covered``: its terms) >= mu x all spend, over
        the periods a covered resource can be bought in."""
        data, mu = h.data, self.deal.obligation.min_share
        T, S, ppy = data.problem.periods, len(h.sids), self.deal.periods_per_year
        buyable: BoolArray = np.zeros(T, dtype=bool)
        if mask.any():
            buyable = np.asarray(data.available[mask].any(axis=0), dtype=bool)
        rows_c, cols_c, vals_c = covered
        rows_a, cols_a, vals_a = h.spend(np.ones(len(mask), dtype=bool))
        parts_r, parts_c, parts_v = [], [], []
        for rows, cols, vals, sign in (
            (rows_c, cols_c, vals_c, 1.0),
            (rows_a, cols_a, vals_a, -mu),
        ):
            t = rows % T
            keep = buyable[t] & (t < years * ppy)
            parts_r.append((rows[keep] // T) * years + t[keep] // ppy)
            parts_c.append(cols[keep])
            parts_v.append(sign * vals[keep])
        m.add_constraints(
            "exclusive", [f"{s}/{y}" for s in range(S) for y in range(years)],
            np.concatenate(parts_r), np.concatenate(parts_c), np.concatenate(parts_v),
            lower=0.0,
        )  # fmt: skip

    def _credits(
        self,
        m: LinearModel,
        h: Handles,
        rows: npt.NDArray[np.int64],
        cols: npt.NDArray[np.int64],
        vals: FloatArray,
    ) -> Block:
        """g[s/t] <= V_st, sum_t g[s/t] <= credits."""
        T, S = h.data.problem.periods, len(h.sids)
        g = m.add_variables("credits", [f"{s}/{t}" for s in range(S) for t in range(T)])
        m.add_constraints(
            "credit_use", [f"{s}/{t}" for s in range(S) for t in range(T)],
            np.concatenate([np.arange(S * T), rows]), np.concatenate([g.columns, cols]),
            np.concatenate([np.ones(S * T), -vals]), upper=0.0,
        )  # fmt: skip
        m.add_constraints(
            "credit_total", [str(s) for s in range(S)],
            np.repeat(np.arange(S), T), g.columns, np.ones(S * T),
            upper=self.deal.credits_usd / h.usd_unit,
        )  # fmt: skip
        return g

    def _usage(
        self,
        m: LinearModel,
        h: Handles,
        earned: list[int],
        s_of: npt.NDArray[np.int64],
        t_of: npt.NDArray[np.int64],
        cols: npt.NDArray[np.int64],
        vals: FloatArray,
    ) -> Block:
        """usage[s/i]: covered spend up to the tranche's period >= theta M b."""
        deal, S = self.deal, len(h.sids)
        n = len(earned)
        b = m.add_variables(
            "earned", [f"{s}/{i}" for s in range(S) for i in earned], upper=1.0, integer=True
        )
        r_list, c_list, v_list = [], [], []
        need = []
        for q, i in enumerate(earned):
            t = deal.tranches[i]
            keep = t_of <= t.period
            r_list.append(s_of[keep] * n + q)
            c_list.append(cols[keep])
            v_list.append(vals[keep])
            assert t.usage_threshold is not None
            need.append(t.usage_threshold * deal.obligation.committed_usd / h.usd_unit)
        m.add_constraints(
            "usage", [f"{s}/{i}" for s in range(S) for i in earned],
            np.concatenate([*r_list, np.arange(S * n)]),
            np.concatenate([*c_list, b.columns]),
            np.concatenate([*v_list, -np.tile(np.array(need), S)]),
            lower=0.0,
        )  # fmt: skip
        return b


def settlement_discounts(deal: Deal, problem: ProcurementProblem, years: int) -> FloatArray:
    """Discount factors of a year's shortfall, settled when the year is over (the start
    of the next year's first period)."""
    return np.array([problem.discount((y + 1) * deal.periods_per_year) for y in range(years)])


def spend_usd(data: Data, sol: ProcurementSolution) -> FloatArray:
    """R x S x T: the undiscounted spend of ``sol`` per resource, scenario and period:
    committed chips while their term is active, at the price of the period they were
    bought in, and on-demand chip-hours at the period's price (paid whether the hours
    did work or not)."""
    K, H = data.n_products, data.problem.period_hours
    S = sol.on_demand.shape[2]
    sizes = np.array([q.min_chips for q in products(data)], dtype=np.float64)
    commit = np.einsum("kat,ka,k->kt", active_matrix(data), sol.blocks * data.price[:K], sizes * H)
    od = np.einsum("jost,ot->ost", sol.on_demand, data.price[K:])
    out: FloatArray = np.concatenate([np.repeat(commit[:, None, :], S, axis=1), od])
    return out


def tranches_reached(deal: Deal, data: Data, sol: ProcurementSolution) -> BoolArray:
    """S x usage tranches: whether the plan's covered spend up to each usage tranche's
    period reaches its threshold, recomputed from the plan's blocks and hours."""
    earned = usage_terms(deal)
    S = sol.on_demand.shape[2]
    if not earned:
        return np.zeros((S, 0), dtype=bool)
    covered = spend_usd(data, sol)[covered_mask(data, deal)].sum(axis=0)  # S x T
    so_far = np.cumsum(covered, axis=1)
    out = np.zeros((S, len(earned)), dtype=bool)
    for q, i in enumerate(earned):
        t = deal.tranches[i]
        assert t.usage_threshold is not None
        need = t.usage_threshold * deal.obligation.committed_usd
        out[:, q] = so_far[:, t.period] >= need * (1.0 - REACH_TOLERANCE)
    return out


def usage_tranches(
    deal: Deal, data: Data, sol: ProcurementSolution, draws: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Per scenario, the present value of the usage tranches (times their probability,
    or their 0/1 ``draws``) that ``sol``'s cost counts, and of those it earns: counted
    and with the threshold reached by the plan (:func:`tranches_reached`). A tranche the
    solver counts without the spend to show for it is not earned."""
    earned = usage_terms(deal)
    S = sol.on_demand.shape[2]
    b = sol.extras.get("earned")
    if not earned or b is None:
        return np.zeros(S), np.zeros(S)
    worth = np.array([tranche_worth_usd(deal, i, draws) for i in earned])
    counted = b.reshape(S, len(earned))
    paid = (counted > 0.5) & tranches_reached(deal, data, sol)
    return counted @ worth, paid.astype(np.float64) @ worth


def deal_flows(deal: Deal, data: Data, sol: ProcurementSolution) -> dict[str, FloatArray]:
    """Per scenario, the present value of what the deal's terms added to a deal-side
    solution: shortfall paid (a cost), credits used and usage tranches earned (inflows;
    only those whose threshold the plan reaches, :func:`usage_tranches`), and the
    undiscounted shortfall per year (S x years; one column for a total)."""
    p = data.problem
    S, T, ppy = len(p.scenarios), p.periods, deal.periods_per_year
    years = min(deal.horizon_years, math.ceil(T / ppy))
    d = np.array([p.discount(t) for t in range(T)])
    settle = settlement_discounts(deal, p, years)
    penalty = deal.obligation.shortfall_penalty
    zero = np.zeros(S)
    short = sol.extras.get("shortfall")
    shortfall, short_pv = np.zeros((S, 1)), zero
    if short is not None:
        if deal.obligation.min_spend_usd_per_year is not None:
            shortfall = short.reshape(S, years) * sol.usd_unit
            short_pv = shortfall @ settle * penalty
        else:
            shortfall = short.reshape(S, 1) * sol.usd_unit
            short_pv = shortfall[:, 0] * settle[-1] * penalty
    used = sol.extras.get("credits")
    credit_pv = zero if used is None else used.reshape(S, T) @ d * sol.usd_unit
    usage_pv = usage_tranches(deal, data, sol)[1]
    return {
        "shortfall_usd": short_pv,
        "credits_usd": credit_pv,
        "usage_tranches_usd": usage_pv,
        "shortfall_by_year_usd": shortfall,
    }
