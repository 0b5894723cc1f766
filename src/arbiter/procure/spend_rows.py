"""The procurement model's spend rows and platform enablement rows, over :class:`Handles`:
``spend[scenario, period]`` with the share caps and the budget on it, and tight rows that tie
commitments and on-demand use on a pending platform to its switch."""

from __future__ import annotations

import math

import numpy as np

from arbiter.optimize.enablement import define_enablement
from arbiter.optimize.linear import FloatArray, LinearModel, Terms
from arbiter.optimize.share_caps import define_share_caps
from arbiter.procure.handles import Handles

GROUPS = ("vendor", "provider")
"""The groups a procurement's share caps may bound."""


def define_period_spend(m: LinearModel, h: Handles) -> None:
    """``spend[scenario, period]``: ``S_st`` = committed chip-hours active x their price
    + on-demand spend; the share caps (:func:`arbiter.optimize.share_caps.
    define_share_caps`: a group's spend at most ``cap S_st``) and the budget per period
    on it."""
    data = h.data
    p = data.problem
    caps = {g: getattr(p.caps, g) for g in GROUPS if getattr(p.caps, g) is not None}
    if not caps and p.budget_per_period_usd is None:
        return
    S, T, K = len(h.sids), p.periods, data.n_products
    labels = [f"scenario {p.scenarios[s].name}, period {t}" for s in h.sids for t in range(T)]
    spend = m.add_variables("spend", labels)
    scol = spend.columns.reshape(S, T)
    rows, cols, vals = h.spend(np.ones(len(data.resources), dtype=bool))
    kk = np.nonzero(h.active)[0]
    res_of = np.concatenate([kk, K + np.repeat(h.pairs[:, 1], T)] * S)
    total = Terms(np.arange(S * T), scol.ravel(), -np.ones(S * T))
    m.add_rows("spend", labels, Terms.join(Terms(rows, cols, vals), total), lower=0.0, upper=0.0)
    for group, cap in caps.items():
        names = sorted({getattr(r, group) for r in data.resources})
        g_of = np.array([names.index(getattr(data.resources[r], group)) for r in res_of])
        spend_g = Terms(g_of * S * T + rows, cols, vals)
        measure = Terms(
            np.arange(len(names) * S * T), np.tile(scol.ravel(), len(names)),
            np.ones(len(names) * S * T),
        )  # fmt: skip
        shares = [f"{group}={g}, {label}" for g in names for label in labels]
        define_share_caps(m, group, float(cap), shares, spend_g, total=measure)
    if p.budget_per_period_usd is not None:
        m.add_rows(
            "budget", labels, Terms(np.arange(S * T), scol.ravel(), np.ones(S * T)),
            upper=p.budget_per_period_usd / h.usd_unit,
        )  # fmt: skip


def define_procurement_enablement(
    m: LinearModel, h: Handles, ub: FloatArray, rate_s: FloatArray, demand: FloatArray
) -> None:
    """Commitments and on-demand use on a platform not yet enabled need it enabled, in
    tight rows (:func:`arbiter.optimize.enablement.define_enablement`) rather than one
    big M: blocks ``n_kt <= ub_kt z_p`` (with no cap, the blocks that would do all the
    work), and work on the platform's offers at most the class's demand,
    ``sum_o e_jo y_jost <= W_jst z_p``."""
    if not h.pending:
        return
    parts: list[Terms] = []
    labels: list[str] = []
    platform: list[int] = []
    bound: list[float] = []
    for i, st in enumerate(h.pending):
        for rows in (_block_rows(h, i, ub, rate_s, demand), _work_rows(h, i, rate_s, demand)):
            terms, words, most = rows
            parts.append(Terms(terms.rows + len(labels), terms.cols, terms.vals))
            labels += [f"{st.platform.value}/{w}" for w in words]
            bound += most
            platform += [i] * len(words)
    if labels:
        usage = Terms.join(*parts)
        define_enablement(
            m, h.enable, labels, usage, np.array(platform, dtype=np.int64), np.array(bound)
        )


def _block_rows(
    h: Handles, i: int, ub: FloatArray, rate_s: FloatArray, demand: FloatArray
) -> tuple[Terms, list[str], list[float]]:
    """``n_kt <= ub_kt z_p`` for the products on pending platform ``i``: the terms, the
    rows' words and bounds."""
    data = h.data
    K, H = data.n_products, data.problem.period_hours
    name = h.pending[i].platform.value
    cols: list[int] = []
    words: list[str] = []
    most: list[float] = []
    for k in range(K):
        if data.resources[k].platform != name:
            continue
        bound = ub[k].copy()
        if not np.isfinite(bound).all():
            best = np.where(rate_s[:, k, :] > 0, rate_s[:, k, :], np.inf).min()
            need = demand.sum(axis=2).max(axis=1).sum() * h.hour_unit / best
            bound[~np.isfinite(bound)] = math.ceil(need / (H * h.sizes[k])) + 1
        for t in np.flatnonzero(bound > 0).tolist():
            cols.append(int(h.blocks[k, t]))
            words.append(f"{data.resources[k].name}, period {t}")
            most.append(float(bound[t]))
    rows = np.arange(len(cols), dtype=np.int64)
    return Terms(rows, np.array(cols, dtype=np.int64), np.ones(len(cols))), words, most


def _work_rows(
    h: Handles, i: int, rate_s: FloatArray, demand: FloatArray
) -> tuple[Terms, list[str], list[float]]:
    """``sum_o e_jo y_jost <= W_jst z_p`` per class with offers on pending platform ``i``,
    scenario and period: the terms, the rows' words and bounds."""
    data = h.data
    p, K = data.problem, data.n_products
    S, T = len(h.sids), p.periods
    name = h.pending[i].platform.value
    on = [q for q, (_, o) in enumerate(h.pairs.tolist()) if data.resources[K + o].platform == name]
    parts: list[Terms] = []
    words: list[str] = []
    most: list[float] = []
    for j in sorted({int(h.pairs[q, 0]) for q in on}):
        mine = [q for q in on if h.pairs[q, 0] == j]
        for s in range(S):
            for t in range(T):
                e = rate_s[j, K + h.pairs[mine, 1], s]
                parts.append(Terms(np.full(len(mine), len(words)), h.on_demand[mine, s, t], e))
                words.append(
                    f"{p.classes[j].name}, scenario {p.scenarios[h.sids[s]].name}, period {t}"
                )
                most.append(max(float(demand[j, s, t]), 1e-9))
    if not parts:
        return Terms(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)), [], []
    return Terms.join(*parts), words, most
