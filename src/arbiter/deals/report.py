"""A deal evaluation as a document (the ``--json`` output and what the HTML report and the
terminal table read).

The NPV splits into what the deal changes (expected present values)::

    npv = compute_savings + tranches + credits - shortfall

``compute_savings`` is the no-deal side's cost of compute (commitments, on-demand, ports
and work left undone at its penalty) minus the deal side's; ``tranches`` the capital
received (after the equity haircut, times each probability); ``credits`` the usage
credits spent; ``shortfall`` what is paid for missing the minimum spend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from arbiter.deals.analysis import Sensitivity
from arbiter.deals.evaluate import Evaluation, Side
from arbiter.deals.exposure import effective_prices, lock_in, usage
from arbiter.deals.model import deal_flows, efficiency_points
from arbiter.deals.samples import ValueDistribution
from arbiter.domain.deal import Deal
from arbiter.procure.report import document as procurement_document


def deal_summary(deal: Deal) -> dict[str, Any]:
    ob = deal.obligation
    port = deal.porting
    return {
        "name": deal.name,
        "counterparty": deal.counterparty,
        "covers": list(deal.covers),
        "discount": deal.discount,
        "tranches": [
            {
                "usd": t.usd,
                "period": t.period,
                "kind": t.kind,
                "probability": t.probability,
                "condition": t.condition,
                "value_if_paid_usd": deal.tranche_value(t),
            }
            for t in deal.tranches
        ],
        "credits_usd": deal.credits_usd,
        "obligation": {
            "min_spend_usd_per_year": None
            if ob.min_spend_usd_per_year is None
            else list(ob.min_spend_usd_per_year),
            "total_spend_usd": ob.total_spend_usd,
            "ramp": None if ob.ramp is None else list(ob.ramp),
            "committed_usd": ob.committed_usd,
            "shortfall_penalty": ob.shortfall_penalty,
            "min_share": ob.min_share,
        },
        "porting": None
        if port is None
        else {
            "platform": port.platform.value,
            "enable_usd": port.enable_usd,
            "lead_weeks": port.lead_weeks,
            "efficiency_mean": port.efficiency.mean,
            "efficiency_points": [
                {"efficiency": e, "probability": w} for e, w in efficiency_points(port.efficiency)
            ],
        },
        "discount_rate": deal.discount_rate,
        "horizon_years": deal.horizon_years,
        "equity_haircut": deal.equity_haircut,
        "periods": deal.procurement.periods,
        "period": deal.procurement.period,
    }


def _side(side: Side, today: dt.date | None) -> dict[str, Any]:
    sol = side.solution
    plan = procurement_document(side.data, sol, today)
    return {
        "status": sol.status.value,
        "mip_gap": sol.mip_gap,
        "expected_net_cost_usd": side.expected_usd,
        "cvar_net_cost_usd": side.cvar_usd,
        "objective_usd": side.objective_usd,
        "rounding_usd": side.rounding_usd,
        "fixed_inflow_usd": side.fixed_inflow_usd,
        "platforms_enabled": list(sol.enabled),
        "schedule": plan["schedule"],
        "expected_unmet_share": plan["expected_unmet_share"],
        "estimates": plan["estimates"],
        "prices": plan["prices"],
        "scenario_net_cost_usd": {
            s.name: float(v) for s, v in zip(side.data.problem.scenarios, side.net_usd, strict=True)
        },
    }


def document(
    ev: Evaluation,
    sensitivity: Sensitivity | None = None,
    distribution: ValueDistribution | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    deal = ev.deal
    with_deal, without = ev.with_deal, ev.without
    prob = with_deal.probability
    flows = deal_flows(deal, with_deal.data, with_deal.solution)
    expected = {k: float(v @ prob) for k, v in flows.items() if v.ndim == 1}
    tranches = with_deal.fixed_inflow_usd + expected["usage_tranches_usd"]
    # the deal side's cost of compute: its net cost with every inflow of the deal and
    # the shortfall taken back out
    compute_with = (
        with_deal.net_usd
        + with_deal.fixed_inflow_usd
        - flows["shortfall_usd"]
        + flows["credits_usd"]
        + flows["usage_tranches_usd"]
    )
    savings = float(without.solution.cost @ prob - compute_with @ prob)
    short_by_year = flows["shortfall_by_year_usd"].T @ prob
    u_with = usage(with_deal.data, with_deal.solution, deal)
    u_without = usage(without.data, without.solution, deal)
    doc: dict[str, Any] = {
        "deal": deal_summary(deal),
        "npv_usd": ev.npv_usd,
        "risk_adjusted_value_usd": ev.value_usd,
        "risk_weight": with_deal.data.problem.risk_weight,
        "cvar_level": with_deal.data.problem.cvar_level,
        "breakdown": {
            "compute_savings_usd": savings,
            "tranches_usd": tranches,
            "credits_usd": expected["credits_usd"],
            "shortfall_usd": expected["shortfall_usd"],
            "shortfall_by_year_usd": [float(x) for x in short_by_year],
        },
        "scenarios": [
            {"name": s.name, "probability": s.probability, "value_usd": float(v)}
            for s, v in zip(with_deal.data.problem.scenarios, ev.scenario_value_usd, strict=True)
        ],
        "sides": {"with_deal": _side(with_deal, today), "without": _side(without, today)},
        "effective_price": effective_prices(u_with, u_without),
        "lock_in": {"with_deal": lock_in(u_with, deal), "without": lock_in(u_without, deal)},
    }
    if sensitivity is not None:
        doc["sensitivity"] = sensitivity.as_dict()
    if distribution is not None:
        doc["distribution"] = distribution.as_dict()
    return doc
