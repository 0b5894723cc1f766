"""Builds and solves the formulation of :mod:`arbiter.procure.model` with the shared
array builder (:class:`arbiter.optimize.linear.LinearModel`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import PlatformState
from arbiter.optimize.linear import Block, FloatArray, IntArray, LinearModel, Status
from arbiter.procure.model import Data, products

GROUPS = ("vendor", "provider")
USD_PER_ROW_UNIT = 1e6
"""Money in the rows (costs, shares, budgets, an extension's spend rows) is in $M, or in
a smaller power of ten for a small problem (:func:`money_unit`)."""


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


def _span(data: Data, whole_term: bool) -> int:
    longest = max((q.term_periods for q in products(data)), default=0)
    return data.problem.periods + (longest if whole_term else 0)


def active_matrix(data: Data, *, whole_term: bool = False) -> FloatArray:
    """K x T x T': 1 where a block of product k started in t is active in t' (T' = T, or
    with ``whole_term`` as far as the longest term runs past the horizon)."""
    T = data.problem.periods
    out = np.zeros((data.n_products, T, _span(data, whole_term)))
    for k, prod in enumerate(products(data)):
        for start in range(T):
            end = start + prod.term_periods
            out[k, start, start : end if whole_term else min(T, end)] = 1.0
    return out


def hour_unit(demand: FloatArray) -> float:
    """A power of ten of chip-hours that brings the largest demand row near 1,000."""
    top = float(demand.max(initial=0.0))
    return float(10.0 ** max(0, math.floor(math.log10(top)) - 3)) if top > 0 else 1.0


def money_unit(data: Data, hours: float) -> float:
    """USD per unit of money in the rows: $M, or a smaller power of ten that keeps the
    cost of ``hours`` chip-hours (one unit of a column) of the dearest resource at 1 or
    more. HiGHS's tolerances are absolute: in $M, a unit of a small problem's chip-hours
    cost about 1e-6, and two ways of doing the work 1% apart in cost looked equal."""
    top = float(data.price.max(initial=0.0)) * hours
    if top <= 0:
        return USD_PER_ROW_UNIT
    return float(min(USD_PER_ROW_UNIT, 10.0 ** math.floor(math.log10(top))))


def _discounts(data: Data) -> FloatArray:
    """Discount factors as far as the longest term runs past the horizon."""
    return np.array([data.problem.discount(t) for t in range(_span(data, whole_term=True))])


def solve(
    data: Data,
    *,
    risk_weight: float | None = None,
    fixed_blocks: FloatArray | None = None,
    scenarios: list[int] | None = None,
    mip_gap: float = 1e-4,
    time_limit_s: float | None = 120.0,
    extension: Extension | None = None,
    relax_blocks: bool = False,
    fixed_enabled: tuple[str, ...] | None = None,
    block_bounds: tuple[FloatArray, FloatArray] | None = None,
) -> ProcurementSolution:
    """Solve for all scenarios (or those listed, their probabilities renormalised), with
    the problem's risk weight unless given, and the first stage fixed if asked.
    ``relax_blocks`` buys commitments in fractional blocks (an LP in the blocks: fast,
    and close when blocks are small against the chips bought); ``extension`` adds its
    variables, rows and cost terms; ``fixed_enabled`` fixes which pending platforms are
    ported (with ``fixed_blocks``, the whole first stage); ``block_bounds`` (lower,
    upper; K x T) narrows the blocks of each product and start, say to the two whole
    numbers around a fractional plan's."""
    p = data.problem
    lam = p.risk_weight if risk_weight is None else risk_weight
    sids = list(range(len(p.scenarios))) if scenarios is None else scenarios
    prob = np.array([p.scenarios[s].probability for s in sids])
    prob = prob / prob.sum()
    S, T, H = len(sids), p.periods, p.period_hours
    K, R = data.n_products, len(data.resources)
    O = R - K
    J = len(p.classes)
    d = np.array([p.discount(t) for t in range(T)])
    # each class's work in units of its best chip-hour, so every row is near 1 (tokens run
    # to 1e12 and a token's price to 1e-7 USD: unscaled, HiGHS misreads such rows)
    unit = np.maximum(data.rate.max(axis=1), 1e-12)  # J: work units per best chip-hour
    rate = data.rate / unit[:, None]
    rate_s = data.scenario_rate(sids) / unit[:, None, None]  # J x R x S
    demand = data.demand[:, sids, :] / unit[:, None, None]
    # chip-hours in units of Q so that the largest demand row is near 1,000, and money in
    # $M (or less for a small problem, money_unit): a lab spending billions a year stays as
    # well scaled as one spending thousands
    Q = hour_unit(demand)
    demand = demand / Q
    usd = money_unit(data, Q)
    unmet_usd = data.unmet_usd * unit[:, None] * Q / usd  # money per unit of u
    m = LinearModel()

    # --- first stage: blocks per product and start period ---------------------------
    act = active_matrix(data)  # K x T(start) x T
    prods = products(data)
    sizes = np.array([q.min_chips for q in prods], dtype=np.float64)
    ub = np.zeros((K, T))
    for k, res in enumerate(data.resources[:K]):
        prod = res.product
        assert prod is not None
        cap = np.inf if prod.max_chips is None else prod.max_chips // prod.min_chips
        for t in range(T):
            ok = data.available[k, t] and (p.salvage != "none" or t + prod.term_periods <= T)
            ub[k, t] = cap if ok else 0.0
    lower = np.zeros((K, T))
    if fixed_blocks is not None:
        lower, ub = fixed_blocks.copy(), fixed_blocks.copy()
    elif block_bounds is not None:
        ub = np.minimum(block_bounds[1], ub)
        lower = np.minimum(np.maximum(block_bounds[0], 0.0), ub)
    n = m.add_variables(
        "commit",
        [f"{data.resources[k].name}@{t}" for k in range(K) for t in range(T)],
        lower=lower.ravel(),
        upper=ub.ravel(),
        integer=not relax_blocks,
    )
    ncol = n.columns.reshape(K, T)

    # pay for a block: upfront share at its start, the rest per active period, inside
    # the horizon (salvage "prorate": the part past the end is not this plan's cost)
    price_k = data.price[:K]  # K x T (price when bought)
    upfront = np.array([q.upfront_share for q in prods], dtype=np.float64)
    resale = np.array([q.resale_share for q in prods], dtype=np.float64)
    # the periods paid for: inside the horizon ("prorate"), or the whole term ("full")
    billed, d_billed = act, d
    if p.salvage == "full":
        billed, d_billed = active_matrix(data, whole_term=True), _discounts(data)
    active_periods = billed.sum(axis=2)  # K x T(start)
    whole = np.einsum("kat,t->ka", billed, d_billed)
    pay = (
        sizes[:, None]
        * H
        * price_k
        * (upfront[:, None] * active_periods * d[None, :] + (1 - upfront)[:, None] * whole)
    )
    credit = sizes[:, None] * H * price_k * resale[:, None] * np.einsum("kat,t->ka", act, d)
    commit_usd = (pay - credit) / usd  # K x T(start): money per block, net of resale

    # --- second stage variables ---------------------------------------------------------
    jk = np.argwhere(rate[:, :K] > 0)  # (j, k) pairs
    jo = np.argwhere(rate[:, K:] > 0)  # (j, o) pairs
    x = m.add_variables("committed", [f"x{i}" for i in range(len(jk) * S * T)])
    # on-demand only where the offer can be bought (available_from, platform lead time)
    y_upper = np.where(data.available[K + jo[:, 1]], np.inf, 0.0)  # pairs x T
    y = m.add_variables(
        "on_demand",
        [f"y{i}" for i in range(len(jo) * S * T)],
        upper=np.repeat(y_upper[:, None, :], S, axis=1).ravel(),
    )
    u = m.add_variables("unmet", [f"u{i}" for i in range(J * S * T)])
    # objective: sum_s p_s C_s + lam (eta + 1/(1-alpha) sum_s p_s w_s)
    C = m.add_variables("cost", [f"C{s}" for s in range(S)], cost=prob, lower=-np.inf)
    eta = m.add_variables("var", ["eta"], cost=lam, lower=-np.inf)
    w = m.add_variables("excess", [f"w{s}" for s in range(S)], cost=lam * prob / (1 - p.cvar_level))
    xcol = x.columns.reshape(len(jk), S, T)
    ycol = y.columns.reshape(len(jo), S, T)
    ucol = u.columns.reshape(J, S, T)
    pending = [st for st in p.platforms if not st.enabled]
    z_fixed = None
    if fixed_enabled is not None:
        z_fixed = np.array([float(st.platform.value in fixed_enabled) for st in pending])
    z = m.add_variables(
        "enable",
        [st.platform.value for st in pending],
        lower=0.0 if z_fixed is None else z_fixed,
        upper=1.0 if z_fixed is None else z_fixed,
        integer=True,
    )

    # the demand rows: work of each class, scenario and period covered or left undone
    js, ss, ts = np.meshgrid(np.arange(J), np.arange(S), np.arange(T), indexing="ij")
    row_of = (js * S + ss) * T + ts  # J x S x T
    rows = [row_of[jk[:, 0]].ravel(), row_of[jo[:, 0]].ravel(), row_of.ravel()]
    cols = [xcol.ravel(), ycol.ravel(), ucol.ravel()]
    vals = [
        np.repeat(rate_s[jk[:, 0], jk[:, 1]], T, axis=1).ravel(),
        np.repeat(rate_s[jo[:, 0], K + jo[:, 1]], T, axis=1).ravel(),
        np.ones(J * S * T),
    ]
    m.add_constraints(
        "demand",
        [f"{p.classes[j].name}/{s}/{t}" for j in range(J) for s in sids for t in range(T)],
        np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
        lower=demand.ravel(),
    )  # fmt: skip

    # commitment[k/s/t]: sum_j x - H m_k sum_{active starts} n <= 0
    if K:
        r_x = (jk[:, 1][:, None, None] * S + np.arange(S)[None, :, None]) * T + np.arange(T)[
            None, None, :
        ]
        kk, tt0, tt = np.nonzero(act)  # block of k started at t0 active in t
        r_n = ((kk[:, None] * S + np.arange(S)[None, :]) * T + tt[:, None]).ravel()
        c_n = np.repeat(ncol[kk, tt0], S)
        usable = np.ones((K, T)) if data.usable is None else data.usable
        v_n = np.repeat(-H * sizes[kk] * usable[kk, tt] / Q, S)
        m.add_constraints(
            "commitment",
            [f"{data.resources[k].name}/{s}/{t}" for k in range(K) for s in sids for t in range(T)],
            np.concatenate([r_x.ravel(), r_n]),
            np.concatenate([xcol.ravel(), c_n]),
            np.concatenate([np.ones(xcol.size), v_n]),
            upper=0.0,
        )

    handles = Handles(
        data=data, sids=sids, probability=prob, discount=d, blocks=ncol, on_demand=ycol,
        pairs=jo, active=act, sizes=sizes, enable=z, pending=pending, hour_unit=Q,
        usd_unit=usd,
    )  # fmt: skip
    terms = CostTerms(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if extension is not None:
        terms = extension(m, handles)

    # the cost rows: each scenario's discounted cost
    price = data.price
    r_c, c_c, v_c = [terms.scenarios], [terms.columns], [-terms.usd / usd]
    for s in range(S):
        r_c += [np.full(K * T, s), np.full(xcol[:, s].size, s), np.full(ycol[:, s].size, s),
                np.full(J * T, s), np.full(len(pending), s), np.array([s])]  # fmt: skip
        c_c += [ncol.ravel(), xcol[:, s].ravel(), ycol[:, s].ravel(), ucol[:, s].ravel(),
                z.columns, C.columns[s : s + 1]]  # fmt: skip
        # x: the resale credit comes back for committed hours that are used
        x_credit = (
            resale[jk[:, 1]][:, None] * price_k[jk[:, 1]] * d[None, :] * Q / usd
            if K
            else np.zeros((0, T))
        )
        v_c += [
            -commit_usd.ravel(),
            -x_credit.ravel(),
            -(price[K + jo[:, 1]] * d[None, :] * Q / usd).ravel(),
            -(unmet_usd * d[None, :]).ravel(),
            -np.array([st.enable_usd for st in pending]) / usd,
            np.array([1.0]),
        ]
    m.add_constraints(
        "cost", [str(p.scenarios[s].name) for s in sids],
        np.concatenate(r_c).astype(np.int64), np.concatenate(c_c), np.concatenate(v_c),
        lower=0.0, upper=0.0,
    )  # fmt: skip

    # the CVaR rows: excess of each scenario's cost over eta
    ks = np.arange(S)
    m.add_constraints(
        "cvar",
        [str(p.scenarios[s].name) for s in sids],
        np.concatenate([ks, ks, ks]),
        np.concatenate([w.columns, C.columns, np.repeat(eta.columns, S)]),
        np.concatenate([np.ones(S), -np.ones(S), np.ones(S)]),
        lower=0.0,
    )

    _period_spend(m, handles)
    _enablement(m, handles, ub, rate_s, demand)

    solution = m.solve(mip_gap=mip_gap, time_limit_s=time_limit_s)
    if solution.status is Status.INFEASIBLE:
        raise InfeasibleError(_explain(m, time_limit_s, usd, Q))
    if solution.status is not Status.OPTIMAL and not solution.x.any():
        raise SolverError(f"HiGHS found no procurement plan ({solution.status.value})")
    committed = np.zeros((J, K, S, T))
    on_demand = np.zeros((J, O, S, T))
    xv = solution.values(x).reshape(len(jk), S, T) * Q
    yv = solution.values(y).reshape(len(jo), S, T) * Q
    for i, (j, k) in enumerate(jk.tolist()):
        committed[j, k] = xv[i]
    for i, (j, o) in enumerate(jo.tolist()):
        on_demand[j, o] = yv[i]
    zv = solution.values(z)
    blocks = solution.values(n).reshape(K, T)
    return ProcurementSolution(
        status=solution.status,
        objective=solution.objective * usd,
        mip_gap=solution.mip_gap,
        blocks=blocks if relax_blocks else np.round(blocks),
        committed=committed,
        on_demand=on_demand,
        unmet=solution.values(u).reshape(J, S, T) * unit[:, None, None] * Q,
        cost=solution.values(C) * usd,
        enabled=tuple(st.platform.value for i, st in enumerate(pending) if zv[i] > 0.5),
        extras={b.name: solution.values(b) for b in terms.blocks},
        usd_unit=usd,
    )


def _period_spend(m: LinearModel, h: Handles) -> None:
    """spend[s/t] = committed chip-hours active x their price + on-demand spend; share
    caps and the budget per period on it."""
    data = h.data
    p = data.problem
    caps = {g: getattr(p.caps, g) for g in GROUPS if getattr(p.caps, g) is not None}
    if not caps and p.budget_per_period_usd is None:
        return
    S, T, K = len(h.sids), p.periods, data.n_products
    spend = m.add_variables("spend", [f"S{s}/{t}" for s in range(S) for t in range(T)])
    scol = spend.columns.reshape(S, T)
    rows, cols, vals = h.spend(np.ones(len(data.resources), dtype=bool))
    kk = np.nonzero(h.active)[0]
    res_of = np.concatenate([kk, K + np.repeat(h.pairs[:, 1], T)] * S)
    m.add_constraints(
        "spend", [f"{s}/{t}" for s in range(S) for t in range(T)],
        np.concatenate([rows, np.arange(S * T)]), np.concatenate([cols, scol.ravel()]),
        np.concatenate([vals, -np.ones(S * T)]), lower=0.0, upper=0.0,
    )  # fmt: skip
    for group, cap in caps.items():
        names = sorted({getattr(r, group) for r in data.resources})
        g_of = np.array([names.index(getattr(data.resources[r], group)) for r in res_of])
        base = g_of * S * T + rows
        m.add_constraints(
            f"{group}_share", [f"{g}/{s}/{t}" for g in names for s in range(S) for t in range(T)],
            np.concatenate([base, np.arange(len(names) * S * T)]),
            np.concatenate([cols, np.tile(scol.ravel(), len(names))]),
            np.concatenate([vals, np.full(len(names) * S * T, -cap)]), upper=0.0,
        )  # fmt: skip
    if p.budget_per_period_usd is not None:
        m.add_constraints(
            "budget", [f"{s}/{t}" for s in range(S) for t in range(T)],
            np.arange(S * T), scol.ravel(), np.ones(S * T),
            upper=p.budget_per_period_usd / h.usd_unit,
        )  # fmt: skip


def _enablement(
    m: LinearModel, h: Handles, ub: FloatArray, rate_s: FloatArray, demand: FloatArray
) -> None:
    """Commitments and on-demand use on a platform not yet enabled need it enabled, in
    tight rows rather than one big M: blocks ``n_kt <= ub_kt z_p`` (with no cap, the
    blocks that would do all the work), and work on the platform's offers at most the
    class's demand, ``sum_o e_jo y_jost <= W_jst z_p``."""
    data = h.data
    if not h.pending:
        return
    K, T, H = data.n_products, data.problem.periods, data.problem.period_hours
    S = len(h.sids)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    labels: list[str] = []
    for i, st in enumerate(h.pending):
        zcol = h.enable.columns[i]
        for k in range(K):
            if data.resources[k].platform != st.platform.value:
                continue
            bound = ub[k].copy()
            if not np.isfinite(bound).all():
                best = np.where(rate_s[:, k, :] > 0, rate_s[:, k, :], np.inf).min()
                need = demand.sum(axis=2).max(axis=1).sum() * h.hour_unit / best
                bound[~np.isfinite(bound)] = math.ceil(need / (H * h.sizes[k])) + 1
            for t in np.flatnonzero(bound > 0).tolist():
                r = len(labels)
                labels.append(f"{st.platform.value}/{data.resources[k].name}@{t}")
                rows.append(np.array([r, r]))
                cols.append(np.array([h.blocks[k, t], zcol]))
                vals.append(np.array([1.0, -bound[t]]))
        on = [
            q for q, (_, o) in enumerate(h.pairs.tolist())
            if data.resources[K + o].platform == st.platform.value
        ]  # fmt: skip
        classes = sorted({int(h.pairs[q, 0]) for q in on})
        for j in classes:
            mine = [q for q in on if h.pairs[q, 0] == j]
            for s in range(S):
                for t in range(T):
                    r = len(labels)
                    labels.append(f"{st.platform.value}/{data.problem.classes[j].name}/{s}/{t}")
                    e = rate_s[j, K + h.pairs[mine, 1], s]
                    rows.append(np.full(len(mine) + 1, r))
                    cols.append(np.append(h.on_demand[mine, s, t], zcol))
                    vals.append(np.append(e, -max(demand[j, s, t], 1e-9)))
    if labels:
        m.add_constraints(
            "enable", labels, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
            upper=0.0,
        )  # fmt: skip


ELASTIC = ("budget", "vendor_share", "provider_share", "commitment")


def _explain(
    m: LinearModel, time_limit_s: float | None, usd: float = USD_PER_ROW_UNIT, hours: float = 1.0
) -> str:
    """Which constraint families must give for a plan to exist, from the elastic model
    (unmet work is always allowed, so only budgets, caps and fixed commitments conflict);
    ``usd`` and ``hours`` are the rows' units of money and chip-hours."""
    slack = m.relax(ELASTIC)
    solution = m.solve(mip_gap=1e-6, time_limit_s=time_limit_s)
    parts = []
    if solution.status is Status.OPTIMAL:
        for name, (_, over) in slack.items():
            scale = usd / USD_PER_ROW_UNIT if name != "commitment" else hours
            excess = solution.values(over) * scale
            worst = int(np.argmax(excess)) if len(excess) else 0
            if len(excess) and excess[worst] > 1e-6 * scale:
                unit = "$M" if name != "commitment" else "chip-hours"
                parts.append(
                    f"{name}[{over.labels[worst]}] must give {excess[worst]:,.3g} {unit}"
                    f" ({int((excess > 1e-6 * scale).sum())} rows of {name} in all)"
                )
    reason = "; ".join(parts) if parts else "the budget, share caps and commitments conflict"
    return f"no procurement plan exists in every scenario: {reason}"
