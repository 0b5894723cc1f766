"""One self-contained HTML page for a strategic deal (``arbiter deal --html``).

The page (``templates/deal.html.j2``) shows, from the top: the deal, its NPV with a
verdict (pays or destroys value), its risk-adjusted value and ``npv = compute savings +
tranches + credits - shortfall``; the terms; the effective price per delivered PFLOP-hour,
covered chips with the deal against the alternative without it; the lock-in per year of
both plans, charting the covered share of spend; the break-evens (demand, port
efficiency, discount) with their NPV curves; the tornado; the distribution of the deal's
worth over sampled futures; the worth per planning scenario; both plans' commitment
schedules. Sections whose data the run skipped (sensitivity, sampled futures) say so.
"""

from __future__ import annotations

import math
from itertools import zip_longest
from typing import Any

from arbiter.report.charts import layout, plotly
from arbiter.report.page import View, render_view
from arbiter.results.base import Rows
from arbiter.results.deal import (
    BreakEven,
    DealValuation,
    LockInYear,
    Sensitivity,
    ValueDistribution,
)
from arbiter.results.money import usd_short

__all__ = ["deal_html", "deal_view"]

_WITH, _WITHOUT = "#4c78a8", "#f58518"
_DESTROYS, _LINE = "#e45756", "#222222"
BREAK_EVEN_LABELS = {
    "demand_scale": "demand scale (times the forecast)",
    "efficiency": "port efficiency (1 - performance shortfall)",
    "discount": "discount off list on covered chips",
}


def deal_html(valuation: DealValuation, *, title: str) -> str:
    """Render ``valuation`` as one offline HTML page."""
    return render_view(deal_view(valuation), title=title)


def deal_view(valuation: DealValuation) -> View:
    """The page of ``valuation``: its template, charts and what the template reads."""
    go = plotly()
    sens, dist = valuation.sensitivity, valuation.distribution
    charts: list[tuple[str, Any]] = [("chart-lock-in", _lock_in_figure(go, valuation))]
    if sens is not None:
        for i, be in enumerate(sens.break_evens):
            charts.append((f"chart-break-even-{i}", _break_even_figure(go, be)))
        charts.append(("chart-tornado", _tornado_figure(go, sens)))
    if dist is not None:
        charts.append(("chart-distribution", _distribution_figure(go, dist)))
    context = {
        "valuation": valuation,
        "lock_in_years": _lock_in_years(valuation),
        "break_even_labels": BREAK_EVEN_LABELS,
        "input_value": input_value,
    }
    return View("deal.html.j2", charts, context)


def input_value(name: str, value: float) -> str:
    """A value of a break-even input as plain text."""
    if name == "discount":
        return f"{value:.1%}"
    return f"{value:.2f}x" if name == "demand_scale" else f"{value:.2f}"


def _sides(valuation: DealValuation) -> tuple[tuple[str, Rows[LockInYear], str], ...]:
    """Each plan's years of lock-in: (plan, years, colour)."""
    lock_in = valuation.lock_in
    return (("with the deal", lock_in.with_deal, _WITH), ("without", lock_in.without, _WITHOUT))


def _lock_in_years(valuation: DealValuation) -> list[tuple[str, LockInYear]]:
    """Both plans' years, side by side: (plan, year) pairs."""
    sides = [[(label, year) for year in years] for label, years, _ in _sides(valuation)]
    return [y for pair in zip_longest(*sides) for y in pair if y is not None]


# --- charts ---------------------------------------------------------------------------


def _vline(x: float, dash: str, color: str = _LINE) -> dict[str, Any]:
    line = {"color": color, "dash": dash, "width": 1.5}
    return {"type": "line", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}


def _figure(go: Any, **extra: Any) -> Any:
    return go.Figure(layout=layout(go, legend={"orientation": "h", "y": -0.25}, **extra))


def _lock_in_figure(go: Any, valuation: DealValuation) -> Any:
    axis = {"title": "covered share of spend", "range": [0, 1.05], "tickformat": ".0%"}
    fig = _figure(go, xaxis={"title": "year", "type": "category"}, yaxis=axis)
    for label, years, color in _sides(valuation):
        fig.add_trace(
            go.Scatter(
                x=[str(y.year) for y in years],
                y=[y.covered_spend_share for y in years],
                name=label,
                line={"color": color, "width": 2},
                hovertemplate="year %{x}: %{y:.1%} covered, %{fullData.name}<extra></extra>",
            )
        )
    return fig


def _break_even_figure(go: Any, be: BreakEven) -> Any:
    zero = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0}
    shapes = [{**zero, "line": {"color": _DESTROYS, "dash": "dash", "width": 1.5}}]
    shapes.append(_vline(be.base, "dot", "#888888"))
    fig = _figure(
        go,
        xaxis={
            "title": BREAK_EVEN_LABELS.get(be.input, be.input),
            "tickformat": ".0%" if be.input == "discount" else ".2f",
        },
        yaxis={"title": "NPV (USD)", "tickformat": "$.3s"},
        shapes=shapes,
        showlegend=False,
    )
    fig.add_trace(
        go.Scatter(
            x=list(be.grid),
            y=list(be.npv_usd),
            name="NPV",
            line={"color": _WITH, "width": 2},
            hovertemplate="%{x}: NPV $%{y:,.0f}<extra></extra>",
        )
    )
    return fig


def _tornado_figure(go: Any, sens: Sensitivity) -> Any:
    bars = sens.tornado
    base = sens.base_npv_usd
    fig = _figure(
        go,
        barmode="overlay",
        xaxis={"title": "NPV (USD)", "tickformat": "$.3s"},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        shapes=[_vline(base, "solid"), _vline(0.0, "dash", _DESTROYS)],
    )
    for end, color in (("low", _WITH), ("high", _WITHOUT)):
        npv = [b.npv_low_usd if end == "low" else b.npv_high_usd for b in bars]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[b.input for b in bars],
                x=[v - base for v in npv],
                base=[base] * len(bars),
                text=[b.low if end == "low" else b.high for b in bars],
                customdata=npv,
                name=f"{end} value",
                marker_color=color,
                hovertemplate="%{y} at %{text}: NPV $%{customdata:,.0f}<extra></extra>",
            )
        )
    return fig


def _distribution_figure(go: Any, dist: ValueDistribution) -> Any:
    values = list(dist.values_usd)
    fig = _figure(
        go,
        bargap=0.02,
        xaxis={"title": "worth of the deal (USD)", "tickformat": "$.3s"},
        yaxis={"title": "sampled futures"},
        yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        shapes=[_vline(0.0, "dash", _DESTROYS)],
    )
    fig.add_trace(
        go.Histogram(
            x=values,
            nbinsx=max(10, min(40, round(math.sqrt(len(values)) * 2))),
            name="sampled futures",
            marker_color=_WITH,
            hovertemplate="%{y} futures at %{x}<extra></extra>",
        )
    )
    for label, value in (("P5", dist.p5_usd), ("P50", dist.p50_usd), ("P95", dist.p95_usd)):
        line = {"color": _LINE, "dash": "dash" if label == "P50" else "dot", "width": 2}
        trace = {"x": [value] * 2, "y": [0, 1], "yaxis": "y2", "mode": "lines", "line": line}
        fig.add_trace(go.Scatter(name=f"{label} {usd_short(value)}", **trace))
    return fig
