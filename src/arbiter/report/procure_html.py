"""One self-contained HTML page for a procurement plan (``arbiter procure --html``).

The page (``templates/procure.html.j2``) shows, from the top: the headline figures
(expected cost, P95, CVaR, risk weight, VSS, EVPI, expected stranded spend); the commitment
schedule; the chips committed per product and period against the on-demand share; the
utilisation of each commitment under each scenario; the expected spend per period by
vendor with its concentration (HHI); the value of planning under uncertainty; the
cost-risk frontier when the run computed one; the cost of each scenario; the unmet share
of each class of work; and how to read the figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from arbiter.report.charts import layout, plotly
from arbiter.report.formats import by_share
from arbiter.report.page import View, render_view
from arbiter.results.money import usd
from arbiter.results.procure import FrontierPoint, PeriodSummary, ProcurementPlan

__all__ = ["procure_html", "procure_view"]

_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")
_LINE_COLOR = "#222222"
_SHARE_AXIS = {
    "overlaying": "y",
    "side": "right",
    "range": [0, 1.05],
    "tickformat": ".0%",
    "showgrid": False,
}


def procure_html(plan: ProcurementPlan, *, title: str) -> str:
    """Render ``plan`` as one offline HTML page."""
    return render_view(procure_view(plan), title=title)


def procure_view(plan: ProcurementPlan) -> View:
    """The page of ``plan``: its template, charts and what the template reads."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-commitments", _commitments_figure(go, plan)),
        ("chart-utilisation", _utilisation_figure(go, plan)),
        ("chart-spend", _spend_figure(go, plan)),
    ]
    if plan.frontier is not None:
        charts.append(("chart-frontier", _frontier_figure(go, plan, plan.frontier)))
    context = {
        "plan": plan,
        "scenarios": _scenarios(plan),
        "utilised": [p for p in _products(plan) if p in plan.utilisation],
    }
    return View("procure.html.j2", charts, context)


def _unique(names: Iterable[str]) -> list[str]:
    """The names, first occurrence first."""
    return list(dict.fromkeys(names))


def _products(plan: ProcurementPlan) -> list[str]:
    """Products in the order the schedule names them, then any others the plan has."""
    return _unique(
        [c.product for c in plan.schedule]
        + [k for p in plan.periods for k in p.committed_chips]
        + list(plan.utilisation)
    )


def _scenarios(plan: ProcurementPlan) -> list[str]:
    return _unique(
        list(plan.scenario_costs_usd) + [s for u in plan.utilisation.values() for s in u]
    )


def _cvar_label(plan: ProcurementPlan) -> str:
    return f"CVaR{plan.cvar_level * 100:g}"


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _period_labels(periods: Iterable[PeriodSummary]) -> list[str]:
    return [str(p.period) for p in periods]


def _commitments_figure(go: Any, plan: ProcurementPlan) -> Any:
    x = _period_labels(plan.periods)
    fig = go.Figure(
        layout=layout(
            go,
            barmode="stack",
            xaxis={"title": "period", "type": "category"},
            yaxis={"title": "committed chips", "rangemode": "tozero"},
            yaxis2={**_SHARE_AXIS, "title": "on-demand share"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    for i, product in enumerate(_products(plan)):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[p.committed_chips.get(product, 0.0) for p in plan.periods],
                name=product,
                marker_color=_color(i),
                hovertemplate="period %{x}: %{y:,.0f} chips of %{fullData.name}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p.on_demand_share for p in plan.periods],
            yaxis="y2",
            mode="lines+markers",
            name="on-demand share",
            line={"color": _LINE_COLOR, "width": 2},
            hovertemplate="period %{x}: %{y:.1%} on demand<extra></extra>",
        )
    )
    return fig


def _utilisation_figure(go: Any, plan: ProcurementPlan) -> Any:
    products = [p for p in _products(plan) if p in plan.utilisation]
    fig = go.Figure(
        layout=layout(
            go,
            barmode="group",
            yaxis={"title": "utilisation", "range": [0, 1.05], "tickformat": ".0%"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    for i, scenario in enumerate(_scenarios(plan)):
        used = [plan.utilisation[p] for p in products]
        fig.add_trace(
            go.Bar(
                x=products,
                y=[u.get(scenario) for u in used],
                name=scenario,
                marker_color=_color(i),
                hovertemplate="%{x} under %{fullData.name}: %{y:.1%}<extra></extra>",
            )
        )
    return fig


def _by_spend(periods: Iterable[PeriodSummary]) -> list[str]:
    """The vendors over all periods, most expected spend first."""
    totals: defaultdict[str, float] = defaultdict(float)
    for p in periods:
        for name, share in p.vendor_shares.items():
            totals[name] += p.expected_spend_usd * share
    return [name for name, _ in by_share(totals)]


def _spend_figure(go: Any, plan: ProcurementPlan) -> Any:
    x = _period_labels(plan.periods)
    fig = go.Figure(
        layout=layout(
            go,
            barmode="stack",
            xaxis={"title": "period", "type": "category"},
            yaxis={"title": "expected spend (USD)", "tickformat": "$.3s"},
            yaxis2={**_SHARE_AXIS, "title": "HHI", "tickformat": ".2f"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    for i, vendor in enumerate(_by_spend(plan.periods)):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[
                    p.expected_spend_usd * p.vendor_shares[vendor]
                    if vendor in p.vendor_shares
                    else 0.0
                    for p in plan.periods
                ],
                name=vendor,
                marker_color=_color(i),
                hovertemplate="period %{x}: $%{y:,.0f} with %{fullData.name}<extra></extra>",
            )
        )
    for name, values, dash in (
        ("vendor HHI", [p.vendor_hhi for p in plan.periods], "solid"),
        ("provider HHI", [p.provider_hhi for p in plan.periods], "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                yaxis="y2",
                mode="lines+markers",
                name=name,
                line={"color": _LINE_COLOR, "width": 2, "dash": dash},
                hovertemplate="period %{x}: %{fullData.name} %{y:.3f}<extra></extra>",
            )
        )
    return fig


def _frontier_figure(go: Any, plan: ProcurementPlan, frontier: Iterable[FrontierPoint]) -> Any:
    points = sorted((f.risk_weight, f.cvar_usd, f.expected_cost_usd) for f in frontier)
    cvar = _cvar_label(plan)
    fig = go.Figure(
        layout=layout(
            go,
            xaxis={"title": f"{cvar} (USD)", "tickformat": "$.4s"},
            yaxis={"title": "expected cost (USD)", "tickformat": "$.4s"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[p[1] for p in points],
            y=[p[2] for p in points],
            text=[f"λ={p[0]:g}" for p in points],
            mode="lines+markers+text",
            textposition="top right",
            name="frontier",
            marker_color=_COLORS[0],
            hovertemplate=f"%{{text}}: expected $%{{y:,.0f}}, {cvar} $%{{x:,.0f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[plan.cvar_usd],
            y=[plan.expected_cost_usd],
            mode="markers",
            name=f"this plan (λ={plan.risk_weight:g}): {usd(plan.expected_cost_usd)}",
            marker={"color": _COLORS[1], "size": 14, "symbol": "star"},
            hovertemplate="%{fullData.name}<extra></extra>",
        )
    )
    return fig
