"""Builds and solves the formulation of :mod:`arbiter.procure.model` with the shared
array builder (:class:`arbiter.optimize.linear.LinearModel`), one named step per family
of variables or rows (:func:`build_procurement_model`), variables and rows labelled in
words (``commit[aws/trn2-1yr, period 2]``, ``demand[chat, scenario base, period 3]``);
share caps, platform enablement and the infeasibility diagnosis are the shared ones
(:mod:`arbiter.optimize.share_caps`, :mod:`~arbiter.optimize.enablement`,
:mod:`~arbiter.optimize.diagnosis`)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import PlatformState
from arbiter.optimize.diagnosis import in_words, what_must_give
from arbiter.optimize.enablement import define_platform_switches
from arbiter.optimize.linear import (
    Block,
    FloatArray,
    IntArray,
    LinearModel,
    Solution,
    Status,
    Terms,
)
from arbiter.optimize.solver import Solver
from arbiter.procure.handles import CostTerms, Extension, Handles
from arbiter.procure.model import Data, products
from arbiter.procure.solution import (
    USD_PER_ROW_UNIT,
    ProcurementSolution,
    active_matrix,
    span,
    used_hours,
)
from arbiter.procure.spend_rows import define_period_spend, define_procurement_enablement

__all__ = [  # with the solution's names, re-exported
    "CostTerms",
    "Extension",
    "Handles",
    "ProcurementSolution",
    "solve",
    "used_hours",
]


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
    return np.array([data.problem.discount(t) for t in range(span(data, whole_term=True))])


@dataclass
class ProcurementDraft:
    """What the steps of :func:`build_procurement_model` share while they add to
    ``model``: the problem in the rows' units and the blocks defined so far."""

    data: Data
    model: LinearModel
    sids: list[int]
    probability: FloatArray  # S, renormalised
    discount: FloatArray  # T
    work_unit: FloatArray  # J: work units per unit of a row (each class's best chip-hour)
    rate: FloatArray  # J x R x S, in work_unit per chip-hour
    demand: FloatArray  # J x S x T, in work_unit x hour_unit
    hour_unit: float  # chip-hours per unit of a column
    usd_unit: float  # USD per unit of money in the rows
    pairs_k: IntArray  # (class, product) pairs that can use a commitment
    pairs_o: IntArray  # (class, offer) pairs that can use an on-demand offer
    sizes: FloatArray  # K: chips per block
    most_blocks: FloatArray  # K x T: upper bound of each commit column
    labels: dict[str, list[str]] = field(default_factory=dict)  # axis name -> words
    commit: Block | None = None
    committed: Block | None = None
    on_demand: Block | None = None
    unmet: Block | None = None
    cost: Block | None = None
    threshold: Block | None = None
    excess: Block | None = None
    enable: Block | None = None
    pending: list[PlatformState] = field(default_factory=list)

    def grid(self, *axes: str) -> list[str]:
        """Labels of a block or family over ``axes`` (C order), in words."""
        return [", ".join(parts) for parts in itertools.product(*(self.labels[a] for a in axes))]

    def blocks(self) -> tuple[Block, Block, Block, Block, Block, Block, Block, Block]:
        n, x, y, u = self.commit, self.committed, self.on_demand, self.unmet
        c, eta, w, z = self.cost, self.threshold, self.excess, self.enable
        if n is None or x is None or y is None or u is None:
            raise RuntimeError("the procurement model's variables are not all defined yet")
        if c is None or eta is None or w is None or z is None:
            raise RuntimeError("the procurement model's variables are not all defined yet")
        return n, x, y, u, c, eta, w, z


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
    export_model: Path | None = None,
    solver: Solver | None = None,
) -> ProcurementSolution:
    """Solve for all scenarios (or those listed, their probabilities renormalised), with
    the problem's risk weight unless given, and the first stage fixed if asked.
    ``relax_blocks`` buys commitments in fractional blocks (an LP in the blocks: fast,
    and close when blocks are small against the chips bought); ``extension`` adds its
    variables, rows and cost terms; ``fixed_enabled`` fixes which pending platforms are
    ported (with ``fixed_blocks``, the whole first stage); ``block_bounds`` (lower,
    upper; K x T) narrows the blocks of each product and start, say to the two whole
    numbers around a fractional plan's. ``export_model`` writes the model (``.mps`` or
    ``.lp``) before it is solved, by ``solver`` (HiGHS unless given)."""
    d, extras = build_procurement_model(
        data,
        risk_weight=risk_weight,
        fixed_blocks=fixed_blocks,
        scenarios=scenarios,
        extension=extension,
        relax_blocks=relax_blocks,
        fixed_enabled=fixed_enabled,
        block_bounds=block_bounds,
    )
    if export_model is not None:
        d.model.export(export_model, solver=solver)
    solution = d.model.solve(mip_gap=mip_gap, time_limit_s=time_limit_s, solver=solver)
    if solution.status is Status.INFEASIBLE:
        raise InfeasibleError(explain_infeasible(d, time_limit_s))
    if solution.status is not Status.OPTIMAL and not solution.x.any():
        raise SolverError(f"HiGHS found no procurement plan ({solution.status.value})")
    return read_solution(d, solution, extras, relax_blocks=relax_blocks)


def build_procurement_model(
    data: Data,
    *,
    risk_weight: float | None = None,
    fixed_blocks: FloatArray | None = None,
    scenarios: list[int] | None = None,
    extension: Extension | None = None,
    relax_blocks: bool = False,
    fixed_enabled: tuple[str, ...] | None = None,
    block_bounds: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[ProcurementDraft, tuple[Block, ...]]:
    """The formulation of :mod:`arbiter.procure.model`, step by step (the arguments as
    for :func:`solve`); with the blocks ``extension`` added."""
    p = data.problem
    d = define_scale(data, list(range(len(p.scenarios))) if scenarios is None else scenarios)
    define_commitments(d, fixed_blocks, block_bounds, integer=not relax_blocks)
    define_second_stage(d, p.risk_weight if risk_weight is None else risk_weight, fixed_enabled)
    define_demand(d)
    define_commitment_use(d)
    handles = handles_of(d)
    terms = CostTerms(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if extension is not None:
        terms = extension(d.model, handles)
    define_scenario_cost(d, terms)
    define_cvar(d)
    define_period_spend(d.model, handles)
    define_procurement_enablement(d.model, handles, d.most_blocks, d.rate, d.demand)
    return d, terms.blocks


def define_scale(data: Data, sids: list[int]) -> ProcurementDraft:
    """The problem in the rows' units. Each class's work is counted in units of its best
    chip-hour, so every row is near 1 (tokens run to 1e12 and a token's price to 1e-7
    USD: unscaled, HiGHS misreads such rows); chip-hours in units of ``hour_unit`` so
    that the largest demand row is near 1,000, and money in $M (or less for a small
    problem, :func:`money_unit`): a lab spending billions a year stays as well scaled as
    one spending thousands."""
    p = data.problem
    K = data.n_products
    prob = np.array([p.scenarios[s].probability for s in sids])
    unit = np.maximum(data.rate.max(axis=1), 1e-12)  # J: work units per best chip-hour
    rate = data.rate / unit[:, None]
    demand = data.demand[:, sids, :] / unit[:, None, None]
    Q = hour_unit(demand)
    d = ProcurementDraft(
        data=data, model=LinearModel(), sids=sids, probability=prob / prob.sum(),
        discount=np.array([p.discount(t) for t in range(p.periods)]), work_unit=unit,
        rate=data.scenario_rate(sids) / unit[:, None, None], demand=demand / Q,
        hour_unit=Q, usd_unit=money_unit(data, Q),
        pairs_k=np.argwhere(rate[:, :K] > 0), pairs_o=np.argwhere(rate[:, K:] > 0),
        sizes=np.array([q.min_chips for q in products(data)], dtype=np.float64),
        most_blocks=np.zeros((K, p.periods)),
    )  # fmt: skip
    d.labels = {
        "class": [c.name for c in p.classes],
        "resource": [r.name for r in data.resources],
        "product": [r.name for r in data.resources[:K]],
        "scenario": [f"scenario {p.scenarios[s].name}" for s in sids],
        "period": [f"period {t}" for t in range(p.periods)],
        "pair_k": [f"{p.classes[j].name} on {data.resources[k].name}" for j, k in d.pairs_k],
        "pair_o": [f"{p.classes[j].name} on {data.resources[K + o].name}" for j, o in d.pairs_o],
    }
    return d


def define_commitments(
    d: ProcurementDraft,
    fixed_blocks: FloatArray | None,
    block_bounds: tuple[FloatArray, FloatArray] | None,
    *,
    integer: bool,
) -> None:
    """``commit[product, period]``: blocks of each product started in each period, at
    most ``floor(max_chips / min_chips)`` (none where the chip is not yet available or,
    with salvage ``none``, the term would run past the end); fixed, or narrowed to
    ``block_bounds``, when asked."""
    data = d.data
    p = data.problem
    K, T = data.n_products, p.periods
    ub = np.zeros((K, T))
    for k, prod in enumerate(products(data)):
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
    d.most_blocks = ub
    d.commit = d.model.add_variables(
        "commit", d.grid("product", "period"), lower=lower.ravel(), upper=ub.ravel(),
        integer=integer,
    )  # fmt: skip


def define_second_stage(
    d: ProcurementDraft, risk_weight: float, fixed_enabled: tuple[str, ...] | None
) -> None:
    """``committed[class on product, scenario, period]`` and ``on_demand[class on offer,
    scenario, period]`` chip-hours (on demand only where the offer can be bought:
    ``available_from``, platform lead time), ``unmet[class, scenario, period]`` work,
    ``cost[scenario]``, the CVaR threshold ``var`` and ``excess[scenario]``, and the
    ``enable[platform]`` switches. The objective: ``sum_s p_s C_s + lambda (eta + 1 /
    (1 - alpha) sum_s p_s w_s)``."""
    data, m = d.data, d.model
    p = data.problem
    K, S = data.n_products, len(d.sids)
    d.committed = m.add_variables("committed", d.grid("pair_k", "scenario", "period"))
    y_upper = np.where(data.available[K + d.pairs_o[:, 1]], np.inf, 0.0)  # pairs x T
    d.on_demand = m.add_variables(
        "on_demand",
        d.grid("pair_o", "scenario", "period"),
        upper=np.repeat(y_upper[:, None, :], S, axis=1).ravel(),
    )
    d.unmet = m.add_variables("unmet", d.grid("class", "scenario", "period"))
    prob = d.probability
    d.cost = m.add_variables("cost", d.labels["scenario"], cost=prob, lower=-np.inf)
    d.threshold = m.add_variables("var", ["CVaR threshold"], cost=risk_weight, lower=-np.inf)
    d.excess = m.add_variables(
        "excess", d.labels["scenario"], cost=risk_weight * prob / (1 - p.cvar_level)
    )
    d.pending = [st for st in p.platforms if not st.enabled]
    d.enable = define_platform_switches(m, d.pending, fixed=fixed_enabled)


def define_demand(d: ProcurementDraft) -> None:
    """``demand[class, scenario, period]``: work of each class covered or left undone,
    ``sum_k e_jk x_jkst + sum_o e_jo y_jost + u_jst >= W_jst``."""
    _, x, y, u = d.blocks()[:4]
    K, J, S, T = d.data.n_products, len(d.labels["class"]), len(d.sids), len(d.labels["period"])
    jk, jo = d.pairs_k, d.pairs_o
    js, ss, ts = np.meshgrid(np.arange(J), np.arange(S), np.arange(T), indexing="ij")
    row_of = (js * S + ss) * T + ts  # J x S x T
    terms = Terms.join(
        Terms(row_of[jk[:, 0]].ravel(), x.columns,
              np.repeat(d.rate[jk[:, 0], jk[:, 1]], T, axis=1).ravel()),
        Terms(row_of[jo[:, 0]].ravel(), y.columns,
              np.repeat(d.rate[jo[:, 0], K + jo[:, 1]], T, axis=1).ravel()),
        Terms(row_of.ravel(), u.columns, np.ones(J * S * T)),
    )  # fmt: skip
    d.model.add_rows("demand", d.grid("class", "scenario", "period"), terms, lower=d.demand.ravel())


def define_commitment_use(d: ProcurementDraft) -> None:
    """``commitment[product, scenario, period]``: committed chip-hours handed out at
    most those of the active blocks (times the usable share ``a_kt``),
    ``sum_j x_jkst - H m_k a_kt sum_{active starts} n_kt' <= 0``."""
    data = d.data
    K, S, T, H = data.n_products, len(d.sids), data.problem.periods, data.problem.period_hours
    if not K:
        return
    n, x = d.blocks()[:2]  # the commitments and what is handed out of them
    ncol = n.columns.reshape(K, T)
    k_of = d.pairs_k[:, 1]
    r_x = (k_of[:, None, None] * S + np.arange(S)[None, :, None]) * T + np.arange(T)[None, None, :]
    kk, tt0, tt = np.nonzero(active_matrix(data))  # block of k started at t0 active in t
    r_n = ((kk[:, None] * S + np.arange(S)[None, :]) * T + tt[:, None]).ravel()
    usable = np.ones((K, T)) if data.usable is None else data.usable
    v_n = np.repeat(-H * d.sizes[kk] * usable[kk, tt] / d.hour_unit, S)
    terms = Terms.join(
        Terms(r_x.ravel(), x.columns, np.ones(x.size)),
        Terms(r_n, np.repeat(ncol[kk, tt0], S), v_n),
    )
    d.model.add_rows("commitment", d.grid("product", "scenario", "period"), terms, upper=0.0)


def handles_of(d: ProcurementDraft) -> Handles:
    """What an extension builds on."""
    n, _, y, _, _, _, _, z = d.blocks()
    K, S, T = d.data.n_products, len(d.sids), d.data.problem.periods
    return Handles(
        data=d.data, sids=d.sids, probability=d.probability, discount=d.discount,
        blocks=n.columns.reshape(K, T), on_demand=y.columns.reshape(len(d.pairs_o), S, T),
        pairs=d.pairs_o, active=active_matrix(d.data), sizes=d.sizes, enable=z,
        pending=d.pending, hour_unit=d.hour_unit, usd_unit=d.usd_unit,
    )  # fmt: skip


def commitment_usd(d: ProcurementDraft) -> FloatArray:
    """K x T(start): what a block costs, discounted, net of resale, in the rows' money:
    the upfront share at its start, the rest per active period, inside the horizon
    (salvage "prorate": the part past the end is not this plan's cost) or over the whole
    term (salvage "full")."""
    data = d.data
    p, K = data.problem, data.n_products
    prods = products(data)
    price_k = data.price[:K]  # K x T (price when bought)
    upfront = np.array([q.upfront_share for q in prods], dtype=np.float64)
    resale = np.array([q.resale_share for q in prods], dtype=np.float64)
    act = active_matrix(data)
    billed, d_billed = act, d.discount
    if p.salvage == "full":
        billed, d_billed = active_matrix(data, whole_term=True), _discounts(data)
    active_periods = billed.sum(axis=2)  # K x T(start)
    whole = np.einsum("kat,t->ka", billed, d_billed)
    hours = d.sizes[:, None] * p.period_hours * price_k
    pay = hours * (upfront[:, None] * active_periods * d.discount[None, :]
                   + (1 - upfront)[:, None] * whole)  # fmt: skip
    credit = hours * resale[:, None] * np.einsum("kat,t->ka", act, d.discount)
    return np.asarray((pay - credit) / d.usd_unit, dtype=np.float64)


def define_scenario_cost(d: ProcurementDraft, terms: CostTerms) -> None:
    """``cost[scenario]``: ``C_s`` is the scenario's discounted cost (blocks net of
    resale, the resale credit of committed hours used back, on-demand hours, unmet work,
    enablement) plus the extension's ``terms``."""
    data = d.data
    n, x, y, u, c, _, _, z = d.blocks()
    K, S, T = data.n_products, len(d.sids), data.problem.periods
    J = len(d.labels["class"])
    xcol, ycol = x.columns.reshape(-1, S, T), y.columns.reshape(-1, S, T)
    ucol = u.columns.reshape(J, S, T)
    disc, Q, usd = d.discount, d.hour_unit, d.usd_unit
    commit = commitment_usd(d).ravel()
    jk, jo = d.pairs_k, d.pairs_o
    resale = np.array([q.resale_share for q in products(data)], dtype=np.float64)
    # x: the resale credit comes back for committed hours that are used
    x_credit = (resale[jk[:, 1]][:, None] * data.price[:K][jk[:, 1]] * disc[None, :] * Q / usd
                if K else np.zeros((0, T)))  # fmt: skip
    od = (data.price[K + jo[:, 1]] * disc[None, :] * Q / usd).ravel()
    unmet_usd = data.unmet_usd * d.work_unit[:, None] * Q / usd  # money per unit of u
    undone = (unmet_usd * disc[None, :]).ravel()
    enable_usd = np.array([st.enable_usd for st in d.pending]) / usd
    parts = [Terms(terms.scenarios, terms.columns, -terms.usd / usd)]
    for s in range(S):
        parts += [
            Terms(np.full(K * T, s), n.columns, -commit),
            Terms(np.full(xcol[:, s].size, s), xcol[:, s].ravel(), -x_credit.ravel()),
            Terms(np.full(ycol[:, s].size, s), ycol[:, s].ravel(), -od),
            Terms(np.full(J * T, s), ucol[:, s].ravel(), -undone),
            Terms(np.full(len(d.pending), s), z.columns, -enable_usd),
            Terms(np.array([s]), c.columns[s : s + 1], np.array([1.0])),
        ]
    d.model.add_rows("cost", d.labels["scenario"], Terms.join(*parts), lower=0.0, upper=0.0)


def define_cvar(d: ProcurementDraft) -> None:
    """``cvar[scenario]``: ``w_s >= C_s - eta`` (Rockafellar-Uryasev)."""
    _, _, _, _, c, eta, w, _ = d.blocks()
    S = len(d.sids)
    ks = np.arange(S)
    terms = Terms(
        np.concatenate([ks, ks, ks]),
        np.concatenate([w.columns, c.columns, np.repeat(eta.columns, S)]),
        np.concatenate([np.ones(S), -np.ones(S), np.ones(S)]),
    )
    d.model.add_rows("cvar", d.labels["scenario"], terms, lower=0.0)


def read_solution(
    d: ProcurementDraft, solution: Solution, extras: tuple[Block, ...], *, relax_blocks: bool
) -> ProcurementSolution:
    """The schedule of ``solution``, back in chip-hours, work units and USD."""
    n, x, y, u, c, _, _, z = d.blocks()
    data = d.data
    K, R, S, T = data.n_products, len(data.resources), len(d.sids), data.problem.periods
    J, Q, usd = len(d.labels["class"]), d.hour_unit, d.usd_unit
    committed = np.zeros((J, K, S, T))
    on_demand = np.zeros((J, R - K, S, T))
    xv = solution.values(x).reshape(len(d.pairs_k), S, T) * Q
    yv = solution.values(y).reshape(len(d.pairs_o), S, T) * Q
    for i, (j, k) in enumerate(d.pairs_k.tolist()):
        committed[j, k] = xv[i]
    for i, (j, o) in enumerate(d.pairs_o.tolist()):
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
        unmet=solution.values(u).reshape(J, S, T) * d.work_unit[:, None, None] * Q,
        cost=solution.values(c) * usd,
        enabled=tuple(st.platform.value for i, st in enumerate(d.pending) if zv[i] > 0.5),
        extras={b.name: solution.values(b) for b in extras},
        usd_unit=usd,
    )


ELASTIC = ("budget", "vendor_share", "provider_share", "commitment")


def explain_infeasible(d: ProcurementDraft, time_limit_s: float | None) -> str:
    """Which constraint families must give for a plan to exist, from the elastic model
    (:func:`arbiter.optimize.diagnosis.what_must_give`; unmet work is always allowed, so
    only budgets, caps and fixed commitments conflict): per family, the row that must
    give most and how many give, in $M or chip-hours."""
    diagnosis = what_must_give(d.model, ELASTIC, time_limit_s=time_limit_s)
    parts = []
    for family in ELASTIC:
        rows = [v for v in diagnosis.violations if v.family == family]
        scale = d.usd_unit / USD_PER_ROW_UNIT if family != "commitment" else d.hour_unit
        giving = [v for v in rows if v.over * scale > 1e-6 * scale]
        if not giving:
            continue
        worst = max(giving, key=lambda v: v.over)
        unit = "$M" if family != "commitment" else "chip-hours"
        parts.append(
            f"{worst.name} must give {worst.over * scale:,.3g} {unit}"
            f" ({len(giving)} rows of {family} in all)"
        )
    return in_words(
        diagnosis,
        parts,
        failure="no procurement plan exists in every scenario",
        whole="whole commitment blocks",
        time_limit_s=time_limit_s,
    )
