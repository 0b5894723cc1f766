"""Builds and solves the formulation of :mod:`arbiter.procure.model` with the shared
array builder (:class:`arbiter.optimize.linear.LinearModel`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import PlatformState
from arbiter.optimize.linear import Block, FloatArray, IntArray, LinearModel, Status
from arbiter.procure.model import Data, products

GROUPS = ("vendor", "provider")


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
) -> ProcurementSolution:
    """Solve for all scenarios (or those listed, their probabilities renormalised), with
    the problem's risk weight unless given, and the first stage fixed if asked."""
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
    demand = data.demand[:, sids, :] / unit[:, None, None]
    unmet_usd = data.unmet_usd * unit[:, None]
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
    n = m.add_variables(
        "commit",
        [f"{data.resources[k].name}@{t}" for k in range(K) for t in range(T)],
        lower=lower.ravel(),
        upper=ub.ravel(),
        integer=True,
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
    commit_usd = pay - credit  # K x T(start): first-stage cost of one block, net of resale

    # --- second stage variables ---------------------------------------------------------
    jk = np.argwhere(rate[:, :K] > 0)  # (j, k) pairs
    jo = np.argwhere(rate[:, K:] > 0)  # (j, o) pairs
    x = m.add_variables("committed", [f"x{i}" for i in range(len(jk) * S * T)])
    y = m.add_variables("on_demand", [f"y{i}" for i in range(len(jo) * S * T)])
    u = m.add_variables("unmet", [f"u{i}" for i in range(J * S * T)])
    # objective: sum_s p_s C_s + lam (eta + 1/(1-alpha) sum_s p_s w_s)
    C = m.add_variables("cost", [f"C{s}" for s in range(S)], cost=prob, lower=-np.inf)
    eta = m.add_variables("var", ["eta"], cost=lam, lower=-np.inf)
    w = m.add_variables("excess", [f"w{s}" for s in range(S)], cost=lam * prob / (1 - p.cvar_level))
    xcol = x.columns.reshape(len(jk), S, T)
    ycol = y.columns.reshape(len(jo), S, T)
    ucol = u.columns.reshape(J, S, T)
    pending = [st for st in p.platforms if not st.enabled]
    z = m.add_variables("enable", [st.platform.value for st in pending], upper=1.0, integer=True)

    # the demand rows: work of each class, scenario and period covered or left undone
    js, ss, ts = np.meshgrid(np.arange(J), np.arange(S), np.arange(T), indexing="ij")
    row_of = (js * S + ss) * T + ts  # J x S x T
    rows = [row_of[jk[:, 0]].ravel(), row_of[jo[:, 0]].ravel(), row_of.ravel()]
    cols = [xcol.ravel(), ycol.ravel(), ucol.ravel()]
    vals = [
        np.repeat(rate[jk[:, 0], jk[:, 1]], S * T),
        np.repeat(rate[jo[:, 0], K + jo[:, 1]], S * T),
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
        v_n = np.repeat(-H * sizes[kk], S)
        m.add_constraints(
            "commitment",
            [f"{data.resources[k].name}/{s}/{t}" for k in range(K) for s in sids for t in range(T)],
            np.concatenate([r_x.ravel(), r_n]),
            np.concatenate([xcol.ravel(), c_n]),
            np.concatenate([np.ones(xcol.size), v_n]),
            upper=0.0,
        )

    # the cost rows: each scenario's discounted cost
    price = data.price
    r_c, c_c, v_c = [], [], []
    for s in range(S):
        r_c += [np.full(K * T, s), np.full(xcol[:, s].size, s), np.full(ycol[:, s].size, s),
                np.full(J * T, s), np.full(len(pending), s), np.array([s])]  # fmt: skip
        c_c += [ncol.ravel(), xcol[:, s].ravel(), ycol[:, s].ravel(), ucol[:, s].ravel(),
                z.columns, C.columns[s : s + 1]]  # fmt: skip
        # x: the resale credit comes back for committed hours that are used
        x_credit = (
            resale[jk[:, 1]][:, None] * price_k[jk[:, 1]] * d[None, :] if K else np.zeros((0, T))
        )
        v_c += [
            -commit_usd.ravel(),
            -x_credit.ravel(),
            -(price[K + jo[:, 1]] * d[None, :]).ravel(),
            -(unmet_usd * d[None, :]).ravel(),
            -np.array([st.enable_usd for st in pending]),
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

    _period_spend(m, data, sids, ncol, ycol, jo, act, sizes)
    _enablement(m, data, pending, z, ncol, ycol, jo, demand)

    solution = m.solve(mip_gap=mip_gap, time_limit_s=time_limit_s)
    if solution.status is Status.INFEASIBLE:
        raise InfeasibleError(_explain(m, time_limit_s))
    if solution.status is not Status.OPTIMAL and not solution.x.any():
        raise SolverError(f"HiGHS found no procurement plan ({solution.status.value})")
    committed = np.zeros((J, K, S, T))
    on_demand = np.zeros((J, O, S, T))
    xv = solution.values(x).reshape(len(jk), S, T)
    yv = solution.values(y).reshape(len(jo), S, T)
    for i, (j, k) in enumerate(jk.tolist()):
        committed[j, k] = xv[i]
    for i, (j, o) in enumerate(jo.tolist()):
        on_demand[j, o] = yv[i]
    zv = solution.values(z)
    return ProcurementSolution(
        status=solution.status,
        objective=solution.objective,
        mip_gap=solution.mip_gap,
        blocks=np.round(solution.values(n).reshape(K, T)),
        committed=committed,
        on_demand=on_demand,
        unmet=solution.values(u).reshape(J, S, T) * unit[:, None, None],
        cost=solution.values(C),
        enabled=tuple(st.platform.value for i, st in enumerate(pending) if zv[i] > 0.5),
    )


def _period_spend(
    m: LinearModel,
    data: Data,
    sids: list[int],
    ncol: IntArray,
    ycol: IntArray,
    jo: IntArray,
    act: FloatArray,
    sizes: FloatArray,
) -> None:
    """spend[s/t] = committed chip-hours active x their price + on-demand spend; share
    caps and the budget per period on it."""
    p = data.problem
    caps = {g: getattr(p.caps, g) for g in GROUPS if getattr(p.caps, g) is not None}
    if not caps and p.budget_per_period_usd is None:
        return
    S, T, H, K = len(sids), p.periods, p.period_hours, data.n_products
    spend = m.add_variables("spend", [f"S{s}/{t}" for s in range(S) for t in range(T)])
    scol = spend.columns.reshape(S, T)
    kk, tt0, tt = np.nonzero(act)
    n_val = H * sizes[kk] * data.price[kk, tt0] / 1e6  # rows in $M per period
    terms_rows, terms_cols, terms_vals, member_of = [], [], [], []
    for s in range(S):
        terms_rows += [s * T + tt, s * T + np.repeat(np.arange(T)[None, :], len(jo), 0).ravel()]
        terms_cols += [ncol[kk, tt0], ycol[:, s].ravel()]
        terms_vals += [n_val, (data.price[K + jo[:, 1]] / 1e6).ravel()]
        member_of += [kk, K + np.repeat(jo[:, 1], T)]
    rows = np.concatenate(terms_rows)
    cols = np.concatenate(terms_cols)
    vals = np.concatenate(terms_vals)
    res_of = np.concatenate(member_of)
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
            upper=p.budget_per_period_usd / 1e6,
        )  # fmt: skip


def _enablement(
    m: LinearModel,
    data: Data,
    pending: list[PlatformState],
    z: Block,
    ncol: IntArray,
    ycol: IntArray,
    jo: IntArray,
    demand: FloatArray,
) -> None:
    """Commitments and on-demand use on a platform not yet enabled need it enabled."""
    if not pending:
        return
    K = data.n_products
    big = float(demand.max(initial=1.0)) * 10.0 + 1e6
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    labels: list[str] = []
    S = ycol.shape[1] if ycol.size else 0
    for i, st in enumerate(pending):
        ks = [k for k in range(K) if data.resources[k].platform == st.platform.value]
        if ks:
            r = len(labels)
            labels.append(f"{st.platform.value}/commit")
            c = ncol[ks].ravel()
            rows += [np.full(len(c), r), np.array([r])]
            cols += [c, z.columns[i : i + 1]]
            vals += [np.ones(len(c)), np.array([-big])]
        on = [
            q
            for q, (_, o) in enumerate(jo.tolist())
            if data.resources[K + o].platform == st.platform.value
        ]
        for s in range(S):
            if not on:
                break
            r = len(labels)
            labels.append(f"{st.platform.value}/on_demand/{s}")
            c = ycol[on, s].ravel()
            rows += [np.full(len(c), r), np.array([r])]
            cols += [c, z.columns[i : i + 1]]
            vals += [np.ones(len(c)), np.array([-big * 1e3])]
    if labels:
        m.add_constraints(
            "enable", labels, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
            upper=0.0,
        )  # fmt: skip


ELASTIC = ("budget", "vendor_share", "provider_share", "commitment")


def _explain(m: LinearModel, time_limit_s: float | None) -> str:
    """Which constraint families must give for a plan to exist, from the elastic model
    (unmet work is always allowed, so only budgets, caps and fixed commitments conflict)."""
    slack = m.relax(ELASTIC)
    solution = m.solve(mip_gap=1e-6, time_limit_s=time_limit_s)
    parts = []
    if solution.status is Status.OPTIMAL:
        for name, (_, over) in slack.items():
            excess = solution.values(over)
            worst = int(np.argmax(excess)) if len(excess) else 0
            if len(excess) and excess[worst] > 1e-6:
                unit = "$M" if name != "commitment" else "chip-hours"
                parts.append(
                    f"{name}[{over.labels[worst]}] must give {excess[worst]:,.3g} {unit}"
                    f" ({int((excess > 1e-6).sum())} rows of {name} in all)"
                )
    reason = "; ".join(parts) if parts else "the budget, share caps and commitments conflict"
    return f"no procurement plan exists in every scenario: {reason}"
