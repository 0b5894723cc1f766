"""One self-contained HTML page for a chip's price history (``arbiter catalog history
--html``).

The page (``templates/history.html.j2``) shows the chip and the dates the observations
span; a chart of every observation's price per chip-hour against the day it was seen, one
colour per provider, one marker per regime, a line joining the observations of one offer,
and a bar across a snapshot's interval where the day is not known; the prices per provider
and regime; the offers whose price moved; and every observation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from arbiter._version import __version__
from arbiter.report.charts import layout, plotly
from arbiter.report.page import render
from arbiter.results.catalog import PriceHistory, PriceObservation
from arbiter.results.provenance import Provenance

__all__ = ["history_html"]

PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#eeca3b",
)
SYMBOLS = {
    "on_demand": "circle",
    "spot": "triangle-down",
    "reserved_1y": "square",
    "reserved_3y": "square-open",
    "committed": "diamond",
    "capacity_block": "x",
}


def history_html(result: PriceHistory, *, title: str) -> str:
    """Render ``result`` as one offline HTML page."""
    go = plotly()
    return render(
        "history.html.j2",
        title=title,
        charts=[("chart-history", _figure(go, result))],
        result=result,
        provenance=Provenance(catalog_hash=result.content_hash, arbiter_version=__version__),
    )


def _span(o: PriceObservation) -> tuple[dt.date, dt.date]:
    """The first and last day the observation may have been made."""
    return dt.date.fromisoformat(o.observed_from), dt.date.fromisoformat(o.observed_to)


def _midpoint(o: PriceObservation) -> str:
    start, end = _span(o)
    return (start + (end - start) / 2).isoformat()


def _figure(go: Any, result: PriceHistory) -> Any:
    fig = go.Figure(
        layout=layout(
            go,
            xaxis={"title": "observed", "type": "date"},
            yaxis={"title": "USD per chip-hour", "tickformat": "$,.2f", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    providers = sorted({o.provider for o in result.observations})
    colors = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(providers)}
    by_offer: dict[str, list[PriceObservation]] = {}
    for o in result.observations:
        by_offer.setdefault(o.offer_id, []).append(o)
    shown: set[tuple[str, str]] = set()
    for seen in by_offer.values():
        first = seen[0]
        legend = (first.provider, first.price_regime)
        fig.add_trace(
            go.Scatter(
                x=[_midpoint(o) for o in seen],
                y=[o.usd_per_accelerator_hour for o in seen],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [_half_days(o) for o in seen],
                    "arrayminus": [_half_days(o) for o in seen],
                    "thickness": 1,
                    "width": 0,
                },
                mode="lines+markers" if len(seen) > 1 else "markers",
                name=f"{first.provider} {first.price_regime}",
                legendgroup=f"{first.provider} {first.price_regime}",
                showlegend=legend not in shown,
                line={"color": colors[first.provider], "width": 1},
                marker={
                    "color": colors[first.provider],
                    "symbol": SYMBOLS.get(first.price_regime, "circle"),
                    "size": 7,
                },
                text=[f"{o.region} {o.instance_type} ({o.as_of})" for o in seen],
                hovertemplate="%{text}: $%{y:,.3f}/chip-h<extra>%{fullData.name}</extra>",
            )
        )
        shown.add(legend)
    return fig


def _half_days(o: PriceObservation) -> float:
    """Half the observation's interval in milliseconds (plotly's unit on a date axis)."""
    start, end = _span(o)
    return (end - start).days * 86_400_000 / 2
