"""One self-contained HTML page for a risk run (``arbiter risk --html``).

The page (``templates/risk.html.j2``) shows, from the top: the run and the optionality
value of the diversified plan against the locked-in one; each plan's cost statistics (with
re-planning, beside those without it); a histogram of total cost per plan with each plan's
P95 and CVaR95 marked; the concentration of the plan (HHI, largest shares, shares of
spend, single points of failure); the scenarios; and how to read the figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from arbiter.report.charts import layout, plotly
from arbiter.report.page import View, render_view
from arbiter.results.money import usd
from arbiter.results.risk import RiskReport

__all__ = ["risk_html", "risk_view"]

_GROUPS = ("vendor", "provider", "region", "platform")
_GROUP_COLORS = {
    "vendor": "#4c78a8",
    "provider": "#f58518",
    "region": "#54a24b",
    "platform": "#b279a2",
}
_PLAN_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")


def risk_html(report: RiskReport, *, title: str) -> str:
    """Render ``report`` as one offline HTML page."""
    return render_view(risk_view(report), title=title)


def risk_view(report: RiskReport) -> View:
    """The page of ``report``: its template, charts and what the template reads."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-cost", _cost_figure(go, report)),
        ("chart-shares", _shares_figure(go, report)),
    ]
    conc = report.concentration
    context = {
        "report": report,
        "groups": _groups(conc.hhi["spend"], conc.hhi["compute"], conc.top),
        "plan_groups": _groups(*(p.hhi for p in report.plans.values() if p.hhi is not None)),
    }
    return View("risk.html.j2", charts, context)


def _groups(*by_group: Iterable[str]) -> list[str]:
    """The usual groups first, then any others the report has."""
    names = list(dict.fromkeys(g for groups in by_group for g in groups))
    return [g for g in _GROUPS if g in names] + [g for g in names if g not in _GROUPS]


def _cost_figure(go: Any, report: RiskReport) -> Any:
    edges = report.histogram.edges_usd
    counts = report.histogram.counts
    names = list(counts) + [n for n in report.plans if n not in counts]
    tallest = 0
    traces: list[Any] = []
    for i, name in enumerate(names):
        color = _PLAN_COLORS[i % len(_PLAN_COLORS)]
        values = counts.get(name, ())
        bins = min(len(values), len(edges) - 1)
        if bins > 0:
            tallest = max(tallest, *values[:bins])
            traces.append(
                go.Bar(
                    x=[(edges[j] + edges[j + 1]) / 2 for j in range(bins)],
                    width=[edges[j + 1] - edges[j] for j in range(bins)],
                    y=values[:bins],
                    customdata=[[edges[j], edges[j + 1]] for j in range(bins)],
                    name=name,
                    legendgroup=name,
                    marker_color=color,
                    opacity=0.55,
                    hovertemplate="%{fullData.name}: %{y} samples from "
                    "$%{customdata[0]:,.0f} to $%{customdata[1]:,.0f}<extra></extra>",
                )
            )
        if name not in report.plans:
            continue
        stats = report.plans[name]
        for label, value, dash in (
            ("P95", stats.p95_usd, "dash"),
            ("CVaR95", stats.cvar95_usd, "dot"),
        ):
            traces.append(
                go.Scatter(
                    x=[value, value],
                    y=[0, 1],
                    yaxis="y2",
                    mode="lines",
                    name=f"{name} {label} {usd(value)}",
                    legendgroup=name,
                    line={"color": color, "dash": dash, "width": 2},
                    hovertemplate="%{fullData.name}<extra></extra>",
                )
            )
    log_range = [-0.2, math.log10(max(tallest, 1) * 1.5)]
    return go.Figure(
        data=traces,
        layout=layout(
            go,
            barmode="overlay",
            bargap=0,
            xaxis={"title": "total cost (USD)", "tickformat": "$.3s"},
            yaxis={"title": "samples (log scale)", "type": "log", "range": log_range},
            yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
            legend={"orientation": "h", "y": -0.25},
            updatemenus=[_axis_buttons(log_range)],
        ),
    )


def _axis_buttons(log_range: list[float]) -> dict[str, Any]:
    """Buttons that switch the count axis between log and linear."""
    log = {"yaxis.type": "log", "yaxis.range": log_range, "yaxis.title.text": "samples (log scale)"}
    linear = {"yaxis.type": "linear", "yaxis.autorange": True, "yaxis.title.text": "samples"}
    return {
        "type": "buttons",
        "direction": "right",
        "x": 1,
        "xanchor": "right",
        "y": 1.12,
        "showactive": True,
        "buttons": [
            {"label": "log", "method": "relayout", "args": [log]},
            {"label": "linear", "method": "relayout", "args": [linear]},
        ],
    }


def _shares_figure(go: Any, report: RiskReport) -> Any:
    spend = report.concentration.shares["spend"]
    fig = go.Figure(
        layout=layout(
            go,
            yaxis={"title": "share of spend", "range": [0, 1.05], "tickformat": ".0%"},
            barmode="group",
        )
    )
    for group in _groups(spend):
        values = spend[group]
        names = sorted(values, key=lambda n: (-values[n], n))
        fig.add_trace(
            go.Bar(
                x=[f"{group}: {n}" for n in names],
                y=[values[n] for n in names],
                name=group,
                marker_color=_GROUP_COLORS.get(group, "#888888"),
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
    return fig
