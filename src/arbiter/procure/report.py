"""A procurement solution as a document: the commitment schedule, cost statistics over
scenarios, utilisation and stranded spend, on-demand share, concentration per period, the
value of planning under uncertainty (VSS, EVPI) and the cost-risk frontier.

VSS and EVPI are measured on expected cost (risk weight 0): VSS = EEV - RP, where EEV is
the expected cost of the plan made for the average scenario with its whole first stage
(commitment blocks and platforms enabled) fixed and the rest re-planned in every
scenario, and RP the stochastic plan's; EVPI = RP minus the expected cost with perfect
foresight (each scenario planned alone). Both are >= 0 up to the MIP gaps; they are
reported as computed, never clamped, and a value below zero beyond the solvers'
tolerance is named in the result's ``warnings``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np

from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import ArbiterError
from arbiter.measures import cvar, quantile
from arbiter.optimize.audit import thin_band
from arbiter.optimize.plan import hhi
from arbiter.perf.bands import band_for, chip_cases
from arbiter.procure.milp import ProcurementSolution, solve, used_hours
from arbiter.procure.model import Data, FloatArray, products

FRONTIER_WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
VALUE_TOLERANCE = 1e-6
"""Relative tolerance of an LP objective (HiGHS's feasibility tolerances, scaled rows)."""


def document(data: Data, sol: ProcurementSolution, today: dt.date | None = None) -> dict[str, Any]:
    """The schedule and its statistics; ``prices`` lists what each resource the schedule
    spends on is priced at, with the date and source of that price and its age on
    ``today`` (when given)."""
    p = data.problem
    K, T, H = data.n_products, p.periods, p.period_hours
    prob = np.array([s.probability for s in p.scenarios])
    d = np.array([p.discount(t) for t in range(T)])
    schedule = _schedule(data, sol)
    # chips committed and active per product and period
    act = np.zeros((K, T))
    sizes = np.array([q.min_chips for q in products(data)], dtype=np.float64)
    for k, res in enumerate(data.resources[:K]):
        assert res.product is not None
        for t0 in range(T):
            act[k, t0 : t0 + res.product.term_periods] += sol.blocks[k, t0] * sizes[k]
    used_c, used_o = used_hours(data, sol)  # J x K and J x O x S x T chip-hours that did work
    used = used_c.sum(axis=0)  # K x S x T
    avail = act[:, None, :] * H
    utilisation = {}
    for k in range(K):
        if avail[k].sum() > 0:
            utilisation[data.resources[k].name] = {
                sc.name: float(used[k, s].sum() / avail[k, 0].sum())
                for s, sc in enumerate(p.scenarios)
            }
    resale = np.array([q.resale_share for q in products(data)], dtype=np.float64)
    commit_price = np.zeros((K, T))  # price of the hours active in t (bought in t0)
    for k, res in enumerate(data.resources[:K]):
        assert res.product is not None
        for t0 in range(T):
            if sol.blocks[k, t0] > 0:
                commit_price[k, t0 : t0 + res.product.term_periods] = data.price[k, t0]
    unused = np.maximum(avail - used, 0.0)  # K x S x T
    stranded = (unused * (commit_price * (1 - resale[:, None]) * d[None, :])[:, None, :]).sum(
        axis=(0, 2)
    )
    od_spend = sol.on_demand.sum(axis=0) * data.price[K:, None, :]  # O x S x T
    commit_spend = (act * commit_price * H)[:, None, :].repeat(
        len(p.scenarios), axis=1
    )  # K x S x T
    spend = np.concatenate([commit_spend, od_spend])  # R x S x T
    exp_spend = np.einsum("rst,s->rt", spend, prob)  # R x T
    periods = _periods(data, exp_spend, act)
    demand_units = data.demand.sum(axis=2)  # J x S
    unmet_share = {
        c.name: float((sol.unmet[j].sum(axis=1) / np.maximum(demand_units[j], 1e-12)) @ prob)
        for j, c in enumerate(p.classes)
    }
    return {
        "status": sol.status.value,
        "mip_gap": sol.mip_gap,
        "objective_usd": sol.objective,
        "expected_cost_usd": float(sol.cost @ prob),
        "p95_usd": quantile(sol.cost, 0.95, prob),
        "cvar_usd": cvar(sol.cost, p.cvar_level, prob),
        "cvar_level": p.cvar_level,
        "risk_weight": p.risk_weight,
        "scenario_costs_usd": {sc.name: float(sol.cost[s]) for s, sc in enumerate(p.scenarios)},
        "schedule": schedule,
        "platforms_enabled": list(sol.enabled),
        "utilisation": utilisation,
        "expected_stranded_usd": float(stranded @ prob),
        "expected_unmet_share": unmet_share,
        "periods": periods,
        "estimates": estimate_bands(data, np.concatenate([used_c, used_o], axis=1)),
        "prices": _prices(data, exp_spend, today),
    }


def _prices(data: Data, exp_spend: FloatArray, today: dt.date | None) -> list[dict[str, Any]]:
    """Each resource with expected spend: its price per chip-hour (in the first period it
    is offered), where the price comes from, when it was observed and how old it is."""
    K = data.n_products
    out = []
    for r, res in enumerate(data.resources):
        spend = float(exp_spend[r].sum())
        if spend <= 0:
            continue
        offer = res.offer
        as_of: AsOf | None
        if offer is not None:
            as_of, source = offer.as_of, offer.source
            where = (offer.region, offer.instance_type, offer.price_regime.value)
        else:
            assert res.product is not None
            as_of, source = res.product.as_of, res.product.source
            where = (res.product.region, "", "commitment")
        first = int(np.argmax(data.available[r])) if data.available[r].any() else 0
        out.append(
            {
                "resource": res.name,
                "committed": r < K,
                "provider": res.provider,
                "region": where[0],
                "instance_type": where[1],
                "price_regime": where[2],
                "usd_per_chip_hour": float(data.price[r, first]),
                "expected_spend_usd": spend,
                "as_of": None if as_of is None else as_of.text,
                "age_days": None if as_of is None or today is None else as_of.age_days(today),
                "source": source,
            }
        )
    return out


def _schedule(data: Data, sol: ProcurementSolution) -> list[dict[str, Any]]:
    """The commitments to make: one row per product and start period with blocks."""
    p = data.problem
    T, H = p.periods, p.period_hours
    out = []
    for k, t in zip(*np.nonzero(sol.blocks > 0.5), strict=True):
        prod = data.resources[k].product
        assert prod is not None
        chips = int(sol.blocks[k, t]) * prod.min_chips
        active = prod.term_periods if p.salvage == "full" else min(T, t + prod.term_periods) - t
        usd = data.price[k, t]
        out.append(
            {
                "product": prod.name,
                "provider": prod.provider,
                "accelerator": prod.accelerator,
                "region": prod.region,
                "start_period": int(t),
                "chips": chips,
                "term_periods": prod.term_periods,
                "periods_in_horizon": int(active),
                "usd_per_chip_hour": float(usd),
                "commitment_usd": float(chips * H * usd * active),
                "upfront_usd": float(prod.upfront_share * chips * H * usd * active),
            }
        )
    return out


def _periods(data: Data, exp_spend: FloatArray, act: FloatArray) -> list[dict[str, Any]]:
    """Per period: expected spend, its on-demand share, chips committed, and the vendor
    and provider shares of spend with their HHI."""
    K, T = data.n_products, data.problem.periods
    total_t = exp_spend.sum(axis=0)
    periods = []
    for t in range(T):
        entry: dict[str, Any] = {
            "period": t,
            "expected_spend_usd": float(total_t[t]),
            "on_demand_share": float(exp_spend[K:, t].sum() / total_t[t]) if total_t[t] else 0.0,
            "committed_chips": {
                data.resources[k].name: float(act[k, t]) for k in range(K) if act[k, t] > 0
            },
        }
        for group in ("vendor", "provider"):
            by: dict[str, float] = {}
            for r, res in enumerate(data.resources):
                by[getattr(res, group)] = by.get(getattr(res, group), 0.0) + float(exp_spend[r, t])
            shares = (
                {g: v / total_t[t] for g, v in sorted(by.items()) if v > 0} if total_t[t] else {}
            )
            entry[f"{group}_shares"] = shares
            entry[f"{group}_hhi"] = hhi(shares)
        periods.append(entry)
    return periods


def estimate_bands(data: Data, used: FloatArray) -> list[dict[str, Any]]:
    """The performance model's band behind each chip a class of work runs on (``used``:
    J x R x S x T chip-hours that did work, in any scenario): ``error_band_share`` (+/-
    share, 80%), ``band_cases``, the published cases it was measured on, and ``chip_cases``,
    those on the chip itself; ``thin`` as
    the plan audit flags it (:func:`arbiter.optimize.audit.thin_band`)."""
    p = data.problem
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for j, r in zip(*np.nonzero(used.sum(axis=(2, 3)) > 1e-9), strict=True):
        c, res = p.classes[int(j)], data.resources[int(r)]
        if (c.name, res.accelerator) in out:
            continue
        band = band_for(res.platform, c.workload.kind.value)
        on_chip = chip_cases(res.accelerator, c.workload.kind.value)
        out[(c.name, res.accelerator)] = {
            "class": c.name,
            "accelerator": res.accelerator,
            "platform": res.platform,
            "error_band_share": band.share,
            "band_cases": band.cases,
            "chip_cases": on_chip,
            "thin": thin_band(band.share, band.cases, on_chip),
        }
    return [out[k] for k in sorted(out)]


def expected_value_problem(data: Data) -> Data:
    """The expected-value problem: one scenario, with probability 1, whose demand (and
    efficiency factors, if any) are the probability-weighted means of the scenarios'."""
    p = data.problem
    prob = np.array([s.probability for s in p.scenarios])
    factor = data.rate_factor
    return dataclasses.replace(
        data,
        demand=np.einsum("jst,s->jt", data.demand, prob)[:, None, :],
        rate_factor=None if factor is None else (prob @ factor)[None, :],
        problem=dataclasses.replace(
            p,
            scenarios=(dataclasses.replace(p.scenarios[0], name="expected", probability=1.0),),
        ),
    )


def expected_value_plan(data: Data) -> ProcurementSolution:
    """The risk-neutral plan made for the expected demand (EV)."""
    return solve(expected_value_problem(data), risk_weight=0.0)


def _tolerance(*solutions: tuple[ProcurementSolution, float]) -> float:
    """What the (solution, weight) objectives may be above their optimum: each one's MIP
    gap, and the LP's relative tolerance."""
    return (
        sum(w * (sol.mip_gap + VALUE_TOLERANCE) * abs(sol.objective) for sol, w in solutions)
        + VALUE_TOLERANCE
    )


def value_of_uncertainty(data: Data) -> dict[str, Any]:
    """VSS and EVPI on expected cost (see the module docstring), with what they are made
    of: ``rp_usd`` (the stochastic plan), ``eev_usd`` (the expected-value plan's whole
    first stage, blocks and platforms enabled, fixed and evaluated on every scenario;
    ``None`` with VSS when it cannot serve some scenario) and ``ws_usd`` (wait and see:
    each scenario planned alone). Neither is clamped: one below ``-tolerance`` (the MIP
    gaps and the LP tolerance of the solves it comes from) cannot be, and is named in
    ``warnings``."""
    p = data.problem
    prob = np.array([s.probability for s in p.scenarios])
    rp = solve(data, risk_weight=0.0)
    vss: float | None = None
    eev_usd: float | None = None
    vss_tol = 0.0
    try:
        ev = expected_value_plan(data)
        eev = solve(data, risk_weight=0.0, fixed_blocks=ev.blocks, fixed_enabled=ev.enabled)
    except ArbiterError:
        pass  # the average plan cannot serve some scenario: VSS is unbounded
    else:
        eev_usd = eev.objective
        vss = float(eev.objective - rp.objective)
        vss_tol = _tolerance((rp, 1.0), (eev, 1.0))
    alone = [solve(data, risk_weight=0.0, scenarios=[s]) for s in range(len(prob))]
    ws = float(sum(prob[s] * sol.objective for s, sol in enumerate(alone)))
    evpi = float(rp.objective - ws)
    evpi_tol = _tolerance((rp, 1.0), *((sol, float(prob[s])) for s, sol in enumerate(alone)))
    warnings = []
    if vss is not None and vss < -vss_tol:
        warnings.append(
            f"VSS is {vss:,.2f} USD, below zero by more than the solver tolerance "
            f"({vss_tol:,.2f} USD): the expected-value plan evaluated on every scenario "
            "cannot cost less than the stochastic plan; the figures are wrong"
        )
    if evpi < -evpi_tol:
        warnings.append(
            f"EVPI is {evpi:,.2f} USD, below zero by more than the solver tolerance "
            f"({evpi_tol:,.2f} USD): planning each scenario alone cannot cost more than "
            "planning for all of them; the figures are wrong"
        )
    return {
        "vss_usd": vss,
        "evpi_usd": evpi,
        "rp_usd": rp.objective,
        "eev_usd": eev_usd,
        "ws_usd": ws,
        "vss_tolerance_usd": vss_tol,
        "evpi_tolerance_usd": evpi_tol,
        "warnings": warnings,
    }


def frontier(data: Data, weights: tuple[float, ...] = FRONTIER_WEIGHTS) -> list[dict[str, float]]:
    """Expected cost and CVaR of the plan solved at each risk weight."""
    prob = np.array([s.probability for s in data.problem.scenarios])
    out = []
    for lam in weights:
        sol = solve(data, risk_weight=lam)
        out.append(
            {
                "risk_weight": lam,
                "expected_cost_usd": float(sol.cost @ prob),
                "cvar_usd": cvar(sol.cost, data.problem.cvar_level, prob),
            }
        )
    return out
