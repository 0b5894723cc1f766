"""One self-contained HTML page for a spot simulation (``arbiter spot simulate --html``).

The page (``templates/spot.html.j2``) shows the job and the headline (the cheapest policy
with no miss, its saving against on-demand); each policy's cost statistics, misses, share
on spot, switches and ratio to the hindsight optimum; a chart of the mean cost against the
deadline slack per policy when the result carries a slack sweep, else the distribution of
cost per policy over the windows; the cost per trace; and the traces replayed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from arbiter.report.charts import layout, plotly
from arbiter.report.page import render
from arbiter.results.spot import SpotSimulation

__all__ = ["spot_html"]

POLICY_COLORS = {
    "od": "#9d755d",
    "greedy": "#f58518",
    "up": "#4c78a8",
    "arbiter": "#54a24b",
    "optimal": "#b279a2",
}


def spot_html(result: SpotSimulation, *, title: str) -> str:
    """Render ``result`` as one offline HTML page."""
    go = plotly()
    figure = _slack_figure(go, result) if result.slack else _cost_figure(go, result)
    clean = {n: s for n, s in result.policies.items() if s.misses == 0}
    best = min(clean, key=lambda n: clean[n].mean_cost_usd) if clean else None
    return render(
        "spot.html.j2",
        title=title,
        charts=[("chart-cost", figure)],
        result=result,
        best=best,
        has_slack=bool(result.slack),
    )


def _slack_figure(go: Any, result: SpotSimulation) -> Any:
    fig = go.Figure(
        layout=layout(
            go,
            xaxis={"title": "deadline / compute hours (D/C)"},
            yaxis={"title": "mean cost per job (USD)", "tickformat": "$,.0f"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    for policy in result.policies:
        points = sorted(
            (p for p in result.slack or () if p.policy == policy),
            key=lambda p: p.deadline_over_compute,
        )
        fig.add_trace(
            go.Scatter(
                x=[p.deadline_over_compute for p in points],
                y=[p.mean_cost_usd for p in points],
                mode="lines+markers",
                name=policy,
                line={"color": POLICY_COLORS.get(policy, "#888888")},
                hovertemplate="%{fullData.name}: D/C %{x:.2f}, $%{y:,.0f}<extra></extra>",
            )
        )
    return fig


def _cost_figure(go: Any, result: SpotSimulation) -> Any:
    fig = go.Figure(
        layout=layout(
            go,
            yaxis={"title": "cost per window (USD)", "tickformat": "$,.0f"},
            showlegend=False,
        )
    )
    windows = result.windows
    for policy, stats in result.policies.items():
        color = POLICY_COLORS.get(policy, "#888888")
        if policy in windows.policies:
            fig.add_trace(
                go.Box(
                    y=np.asarray(windows[policy].cost_usd).tolist(),
                    name=policy,
                    marker_color=color,
                    boxpoints=False,
                )
            )
        else:  # read from JSON: the statistics only
            fig.add_trace(
                go.Box(
                    name=policy,
                    q1=[stats.p10_cost_usd],
                    median=[stats.p50_cost_usd],
                    q3=[stats.p90_cost_usd],
                    lowerfence=[stats.p10_cost_usd],
                    upperfence=[stats.p90_cost_usd],
                    mean=[stats.mean_cost_usd],
                    marker_color=color,
                )
            )
    return fig
