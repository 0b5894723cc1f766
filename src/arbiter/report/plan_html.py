"""One self-contained HTML page for a fleet plan (``arbiter plan --html``).

The page (``templates/plan.html.j2``) shows the headline figures and draws: spend shares
against the caps, the plan against its baselines and, when the plan carries a sweep, the
price of diversification (cost against cap). Tables list the assignments, enabled
platforms, binding constraints, alternatives and the audit.
"""

from __future__ import annotations

from typing import Any

from arbiter.domain.fleet import GROUPS
from arbiter.report.charts import layout, plotly
from arbiter.report.page import View, render_view
from arbiter.results.money import usd
from arbiter.results.plan import Plan, SweepPoint

__all__ = ["plan_html", "plan_view"]

BASELINE_LABELS = {
    "locked_in": "Locked in",
    "cheapest_per_hour": "Cheapest per hour",
    "greedy_per_job": "Greedy per job",
}
_COLORS = {"vendor": "#4c78a8", "provider": "#f58518", "region": "#54a24b"}


def plan_html(plan: Plan, *, title: str) -> str:
    """Render ``plan`` as one offline HTML page."""
    return render_view(plan_view(plan), title=title)


def plan_view(plan: Plan) -> View:
    """The page of ``plan``: its template, charts and what the template reads."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-shares", _shares_figure(go, plan)),
        ("chart-baselines", _baselines_figure(go, plan)),
    ]
    if plan.sweep:
        charts.append(("chart-sweep", _sweep_figure(go, plan.sweep)))
    context = {"plan": plan, "groups": GROUPS, "baseline_labels": BASELINE_LABELS}
    return View("plan.html.j2", charts, context)


def _shares_figure(go: Any, plan: Plan) -> Any:
    fig = go.Figure(
        layout=layout(
            go,
            yaxis={"title": "share of compute spend", "range": [0, 1.05], "tickformat": ".0%"},
            barmode="group",
        )
    )
    cap_x: list[str] = []
    cap_y: list[float] = []
    for group in GROUPS:
        values = plan.shares[group]
        names = sorted(values, key=lambda n: (-values[n], n))
        labels = [f"{group}: {n}" for n in names]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[values[n] for n in names],
                name=group,
                marker_color=_COLORS[group],
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
        cap = plan.caps[group]
        if cap is not None:
            cap_x.extend(labels)
            cap_y.extend([cap] * len(labels))
    if cap_x:
        fig.add_trace(
            go.Scatter(
                x=cap_x,
                y=cap_y,
                mode="markers",
                name="cap",
                marker={
                    "symbol": "line-ew-open",
                    "size": 28,
                    "color": "#d62728",
                    "line": {"width": 3},
                },
                hovertemplate="cap %{y:.0%}<extra></extra>",
            )
        )
    return fig


def _baselines_figure(go: Any, plan: Plan) -> Any:
    labels = ["This plan"]
    values = [plan.total_usd]
    texts = [usd(plan.total_usd)]
    colors = ["#4c78a8"]
    for key, b in (plan.baselines or {}).items():
        labels.append(BASELINE_LABELS[key])
        if b.feasible and b.total_usd is not None:
            values.append(b.total_usd)
            texts.append(usd(b.total_usd))
            colors.append("#9ecae9")
        else:
            values.append(0.0)
            texts.append(b.note or "infeasible")
            colors.append("#cccccc")
    fig = go.Figure(layout=layout(go, yaxis={"title": "total USD"}, showlegend=False))
    fig.add_trace(
        go.Bar(
            x=labels,
            y=values,
            text=texts,
            textposition="outside",
            marker_color=colors,
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    return fig


def _sweep_figure(go: Any, sweep: tuple[SweepPoint, ...]) -> Any:
    points = sorted((s.cap, s.total_usd) for s in sweep if s.feasible and s.total_usd is not None)
    fig = go.Figure(
        layout=layout(
            go,
            xaxis={"title": "cap on any one share", "tickformat": ".0%"},
            yaxis={"title": "total USD"},
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            mode="lines+markers",
            hovertemplate="cap %{x:.0%}: $%{y:,.0f}<extra></extra>",
        )
    )
    return fig
