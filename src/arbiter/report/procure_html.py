"""One self-contained HTML page for a procurement plan (``arbiter procure --html``).

The page reads the JSON document ``arbiter procure --json`` prints and shows, from the top:
the headline figures (expected cost, P95, CVaR, risk weight, VSS, EVPI, expected stranded
spend); the commitment schedule; the chips committed per product and period against the
on-demand share; the utilisation of each commitment under each scenario; the expected spend
per period by vendor with its concentration (HHI); the value of planning under uncertainty;
the cost-risk frontier when the run computed one; the cost of each scenario; the unmet share
of each class of work; and how to read the figures. Like the other reports it embeds
plotly.js inline (works offline), escapes every piece of text from the document and embeds
chart data as script-safe JSON (see :mod:`arbiter.report.html`).

Plotly is an optional dependency (``pip install 'arbiter[report]'``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from arbiter.report.html import (
    as_list,
    as_mapping,
    chart_div,
    footer,
    layout,
    metrics,
    num,
    page,
    pct,
    plain_usd,
    plotly,
    section,
    table,
    text,
    usd,
)

__all__ = ["procure_html"]

_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")
_LINE_COLOR = "#222222"
_SHARE_AXIS = {
    "overlaying": "y",
    "side": "right",
    "range": [0, 1.05],
    "tickformat": ".0%",
    "showgrid": False,
}


def procure_html(doc: Mapping[str, Any], *, title: str) -> str:
    """Render ``doc`` (the ``arbiter procure`` JSON document) as one offline HTML page."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-commitments", _commitments_figure(go, doc)),
        ("chart-utilisation", _utilisation_figure(go, doc)),
        ("chart-spend", _spend_figure(go, doc)),
    ]
    frontier = [as_mapping(f) for f in as_list(doc.get("frontier"))]
    has_frontier = doc.get("frontier") is not None
    if has_frontier:
        charts.append(("chart-frontier", _frontier_figure(go, doc, frontier)))

    sections = [
        _headline(doc),
        _solver_note(doc),
        section("Commitment schedule", _schedule(doc), section_id="schedule"),
        section(
            "Committed chips per period",
            chart_div("chart-commitments") + _commitments_note(),
            section_id="commitments",
        ),
        section(
            "Utilisation of the commitments",
            _utilisation_table(doc) + chart_div("chart-utilisation") + _utilisation_note(doc),
            section_id="utilisation",
        ),
        section(
            "Expected spend per period",
            chart_div("chart-spend") + _periods_table(doc),
            section_id="spend",
        ),
        section("Value of planning for uncertainty", _value(doc), section_id="value"),
    ]
    if has_frontier:
        sections.append(
            section(
                "Cost-risk frontier",
                chart_div("chart-frontier") + _frontier_table(doc, frontier),
                section_id="frontier",
            )
        )
    sections += [
        section("Cost per scenario", _scenarios_table(doc), section_id="scenarios"),
        section("Unmet work per class", _unmet_table(doc), section_id="unmet"),
        section("How to read this", _how_to_read(doc), section_id="how-to-read"),
    ]
    return page(
        title=title,
        sections=sections,
        charts=charts,
        footer_html=footer(doc),
    )


# --- formatting -----------------------------------------------------------------------


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dollars(value: Any) -> str:
    """Whole dollars (HTML): expectations over scenarios have no meaningful cents."""
    return usd(value, 0)


def _signed(value: Any) -> str:
    """Whole dollars with the sign in front of the dollar sign: ``-$1,234``, ``+$5``."""
    if not _finite(value):
        return "&ndash;"
    return ("-" if value < 0 else "+") + usd(abs(value), 0)


def _weight(value: Any) -> str:
    """A risk weight as plain text (``0.25``), ``n/a`` when not a number."""
    return f"{value:g}" if _finite(value) else "n/a"


def _cvar_label(doc: Mapping[str, Any]) -> str:
    """``CVaR95`` for a level of 0.95 (plain text)."""
    level = doc.get("cvar_level")
    return f"CVaR{level * 100:g}" if _finite(level) else "CVaR"


def _unique(names: Iterable[Any]) -> list[str]:
    """The names as strings, first occurrence first."""
    return list(dict.fromkeys(str(n) for n in names))


def _periods(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_mapping(p) for p in as_list(doc.get("periods"))]


def _period_labels(periods: list[Mapping[str, Any]]) -> list[str]:
    return [str(p.get("period", i)) for i, p in enumerate(periods)]


def _products(doc: Mapping[str, Any]) -> list[str]:
    """Products in the order the schedule names them, then any others the document has."""
    return _unique(
        [as_mapping(c).get("product") for c in as_list(doc.get("schedule"))]
        + [k for p in _periods(doc) for k in as_mapping(p.get("committed_chips"))]
        + list(as_mapping(doc.get("utilisation")))
    )


def _scenarios(doc: Mapping[str, Any]) -> list[str]:
    return _unique(
        list(as_mapping(doc.get("scenario_costs_usd")))
        + [s for u in as_mapping(doc.get("utilisation")).values() for s in as_mapping(u)]
    )


def _by_spend(periods: list[Mapping[str, Any]], key: str) -> list[str]:
    """The members of ``key`` (``vendor_shares``...) over all periods, most spend first."""
    totals: dict[str, float] = {}
    for p in periods:
        spend = p.get("expected_spend_usd")
        for name, share in as_mapping(p.get(key)).items():
            amount = float(spend) * float(share) if _finite(spend) and _finite(share) else 0.0
            totals[str(name)] = totals.get(str(name), 0.0) + amount
    return sorted(totals, key=lambda n: (-totals[n], n))


# --- sections -------------------------------------------------------------------------


def _headline(doc: Mapping[str, Any]) -> str:
    value = as_mapping(doc.get("value_of_uncertainty"))
    vss = value.get("vss_usd")
    items = [
        ("Expected cost", _dollars(doc.get("expected_cost_usd"))),
        ("P95", _dollars(doc.get("p95_usd"))),
        (_cvar_label(doc), _dollars(doc.get("cvar_usd"))),
        ("Risk weight", text(_weight(doc.get("risk_weight")))),
        ("VSS", _dollars(vss) if _finite(vss) else "n/a"),
        ("EVPI", _dollars(value.get("evpi_usd"))),
        ("Expected stranded spend", _dollars(doc.get("expected_stranded_usd"))),
    ]
    return metrics(items)


def _solver_note(doc: Mapping[str, Any]) -> str:
    gap = doc.get("mip_gap")
    gap_text = f", MIP gap {gap:.2%}" if _finite(gap) else ""
    platforms = [str(p) for p in as_list(doc.get("platforms_enabled"))]
    enabled = text(", ".join(platforms)) if platforms else "none"
    return (
        f'<p class="muted">Solver status: {text(doc.get("status")) or "&ndash;"}{gap_text}. '
        f"Objective {_dollars(doc.get('objective_usd'))} (expected cost plus the risk weight "
        f"times {text(_cvar_label(doc))}). Platforms enabled: {enabled}.</p>"
    )


def _schedule(doc: Mapping[str, Any]) -> str:
    rows = []
    chips = committed = upfront = 0.0
    schedule = [as_mapping(c) for c in as_list(doc.get("schedule"))]
    for c in schedule:
        rows.append(
            [
                text(c.get("product")),
                text(c.get("provider")),
                text(c.get("accelerator")),
                text(c.get("region")),
                num(c.get("start_period")),
                num(c.get("chips")),
                num(c.get("term_periods")),
                num(c.get("periods_in_horizon")),
                usd(c.get("usd_per_chip_hour"), 3),
                _dollars(c.get("commitment_usd")),
                _dollars(c.get("upfront_usd")),
            ]
        )
        chips += float(c["chips"]) if _finite(c.get("chips")) else 0.0
        committed += float(c["commitment_usd"]) if _finite(c.get("commitment_usd")) else 0.0
        upfront += float(c["upfront_usd"]) if _finite(c.get("upfront_usd")) else 0.0
    headers = [
        "Product",
        "Provider",
        "Accelerator",
        "Region",
        "Start period",
        "Chips",
        "Term (periods)",
        "Periods in horizon",
        "USD / chip-hour",
        "Commitment USD",
        "Up front USD",
    ]
    body = table(headers, rows, set(range(4, len(headers))))
    if not schedule:
        return body + '<p class="muted">No commitments: everything is bought on demand.</p>'
    return body + (
        f'<p class="muted">{num(len(schedule))} commitment'
        f"{'' if len(schedule) == 1 else 's'}, {num(chips)} chips, {_dollars(committed)} "
        f"within the horizon, {_dollars(upfront)} of it up front. A commitment is paid whether "
        "or not its chips are used.</p>"
    )


def _commitments_note() -> str:
    return (
        '<p class="muted">Bars: chips under commitment in each period, stacked by product. '
        "Line (right axis): the share of the period&rsquo;s expected spend bought on "
        "demand.</p>"
    )


def _utilisation_table(doc: Mapping[str, Any]) -> str:
    utilisation = as_mapping(doc.get("utilisation"))
    scenarios = _scenarios(doc)
    rows = [
        [text(product), *(pct(as_mapping(utilisation.get(product)).get(s)) for s in scenarios)]
        for product in _products(doc)
        if product in utilisation
    ]
    return table(["Commitment", *scenarios], rows, set(range(1, len(scenarios) + 1)))


def _utilisation_note(doc: Mapping[str, Any]) -> str:
    return (
        '<p class="muted">The share of the committed chip-hours the plan uses under each '
        "scenario. Unused committed hours are paid for all the same: expected over the "
        f"scenarios they come to {_dollars(doc.get('expected_stranded_usd'))} of stranded "
        "spend (net of any resale).</p>"
    )


def _periods_table(doc: Mapping[str, Any]) -> str:
    rows = [
        [
            text(p.get("period")),
            _dollars(p.get("expected_spend_usd")),
            pct(p.get("on_demand_share")),
            _shares(p.get("vendor_shares")),
            num(p.get("vendor_hhi"), 3),
            _shares(p.get("provider_shares")),
            num(p.get("provider_hhi"), 3),
        ]
        for p in _periods(doc)
    ]
    headers = [
        "Period",
        "Expected spend",
        "On demand",
        "Vendor shares",
        "Vendor HHI",
        "Provider shares",
        "Provider HHI",
    ]
    return table(headers, rows, {0, 1, 2, 4, 6})


def _shares(value: Any) -> str:
    shares = {str(n): s for n, s in as_mapping(value).items()}
    ordered = sorted(shares, key=lambda n: (-(float(shares[n]) if _finite(shares[n]) else 0), n))
    return ", ".join(f"{text(n)} {pct(shares[n])}" for n in ordered) or "&ndash;"


def _value(doc: Mapping[str, Any]) -> str:
    value = as_mapping(doc.get("value_of_uncertainty"))
    vss = value.get("vss_usd")
    if _finite(vss):
        vss_cell = _dollars(vss)
    else:
        vss_cell = "n/a &mdash; the plan made for the average demand cannot serve every scenario"
    rows = [
        [
            "Expected cost of the stochastic plan (risk weight 0)",
            _dollars(value.get("rp_usd")),
        ],
        ["VSS: saving over planning for the average demand", vss_cell],
        ["EVPI: what perfect foresight would save beyond that", _dollars(value.get("evpi_usd"))],
    ]
    return table(["Measure", "USD"], rows, {1}) + (
        '<p class="muted">Measured on expected cost, without the risk term.</p>'
    )


def _frontier_table(doc: Mapping[str, Any], frontier: list[Mapping[str, Any]]) -> str:
    rows = [
        [
            text(_weight(f.get("risk_weight"))),
            _dollars(f.get("expected_cost_usd")),
            _dollars(f.get("cvar_usd")),
        ]
        for f in frontier
    ]
    return table(["Risk weight", "Expected cost", _cvar_label(doc)], rows, {0, 1, 2}) + (
        f'<p class="muted">Each point is the plan solved at that risk weight; this plan has '
        f"risk weight {text(_weight(doc.get('risk_weight')))}. Moving along the frontier buys "
        f"a lower {text(_cvar_label(doc))} with a higher expected cost.</p>"
    )


def _scenarios_table(doc: Mapping[str, Any]) -> str:
    costs = as_mapping(doc.get("scenario_costs_usd"))
    expected = doc.get("expected_cost_usd")
    rows = [
        [
            text(name),
            _dollars(cost),
            _signed(cost - expected) if _finite(cost) and _finite(expected) else "&ndash;",
        ]
        for name, cost in costs.items()
    ]
    return table(["Scenario", "Total cost", "Against expected cost"], rows, {1, 2})


def _unmet_table(doc: Mapping[str, Any]) -> str:
    rows = [
        [text(name), pct(share)]
        for name, share in as_mapping(doc.get("expected_unmet_share")).items()
    ]
    return table(["Class", "Expected unmet share"], rows, {1}) + (
        '<p class="muted">The share of each class&rsquo;s work left unserved, expected over '
        "the scenarios; unserved work is priced at the penalty in the objective.</p>"
    )


def _how_to_read(doc: Mapping[str, Any]) -> str:
    cvar = text(_cvar_label(doc))
    level = doc.get("cvar_level")
    tail = f"worst {(1 - level) * 100:g}%" if _finite(level) else "worst tail"
    return (
        "<p>Commitments are made <b>before demand is known</b>: the schedule is one plan for "
        "all scenarios; each scenario then uses the committed chips and buys the rest on "
        "demand. A commitment is cheaper per chip-hour than on demand, but it is paid "
        "whether used or not, so a commitment used <b>below its break-even utilisation</b> "
        "(its price over the on-demand price) costs more than buying on demand would have; "
        "the unused hours are the <b>stranded spend</b>.</p>\n"
        "<p><b>P95</b> is the cost at or below which 95% of the scenario probability falls; "
        f"<b>{cvar}</b> is the expected cost over the {tail} of it. The plan minimises "
        f"expected cost plus the risk weight times {cvar}.</p>\n"
        "<p><b>VSS</b> (value of the stochastic solution) is what planning for the uncertainty "
        "saves over planning for the average demand; <b>EVPI</b> (expected value of perfect "
        "information) is what knowing the future before committing would save beyond that: "
        "a small EVPI means better forecasts would change little. The <b>frontier</b> trades "
        "expected cost for tail cost: a higher risk weight accepts a higher expected cost "
        "for cheaper bad scenarios.</p>"
    )


# --- charts ---------------------------------------------------------------------------


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _commitments_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    periods = _periods(doc)
    x = _period_labels(periods)
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
    for i, product in enumerate(_products(doc)):
        chips = [as_mapping(p.get("committed_chips")).get(product) for p in periods]
        fig.add_trace(
            go.Bar(
                x=x,
                y=[float(c) if _finite(c) else 0.0 for c in chips],
                name=product,
                marker_color=_color(i),
                hovertemplate="period %{x}: %{y:,.0f} chips of %{fullData.name}<extra></extra>",
            )
        )
    shares = [p.get("on_demand_share") for p in periods]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[float(s) if _finite(s) else None for s in shares],
            yaxis="y2",
            mode="lines+markers",
            name="on-demand share",
            line={"color": _LINE_COLOR, "width": 2},
            hovertemplate="period %{x}: %{y:.1%} on demand<extra></extra>",
        )
    )
    return fig


def _utilisation_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    utilisation = as_mapping(doc.get("utilisation"))
    products = [p for p in _products(doc) if p in utilisation]
    fig = go.Figure(
        layout=layout(
            go,
            barmode="group",
            yaxis={"title": "utilisation", "range": [0, 1.05], "tickformat": ".0%"},
            legend={"orientation": "h", "y": -0.25},
        )
    )
    for i, scenario in enumerate(_scenarios(doc)):
        values = [as_mapping(utilisation.get(p)).get(scenario) for p in products]
        fig.add_trace(
            go.Bar(
                x=products,
                y=[float(v) if _finite(v) else None for v in values],
                name=scenario,
                marker_color=_color(i),
                hovertemplate="%{x} under %{fullData.name}: %{y:.1%}<extra></extra>",
            )
        )
    return fig


def _spend_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    periods = _periods(doc)
    x = _period_labels(periods)
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
    for i, vendor in enumerate(_by_spend(periods, "vendor_shares")):
        y = []
        for p in periods:
            spend, share = p.get("expected_spend_usd"), as_mapping(p.get("vendor_shares"))
            s = share.get(vendor)
            y.append(float(spend) * float(s) if _finite(spend) and _finite(s) else 0.0)
        fig.add_trace(
            go.Bar(
                x=x,
                y=y,
                name=vendor,
                marker_color=_color(i),
                hovertemplate="period %{x}: $%{y:,.0f} with %{fullData.name}<extra></extra>",
            )
        )
    for key, name, dash in (
        ("vendor_hhi", "vendor HHI", "solid"),
        ("provider_hhi", "provider HHI", "dot"),
    ):
        values = [p.get(key) for p in periods]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[float(v) if _finite(v) else None for v in values],
                yaxis="y2",
                mode="lines+markers",
                name=name,
                line={"color": _LINE_COLOR, "width": 2, "dash": dash},
                hovertemplate="period %{x}: %{fullData.name} %{y:.3f}<extra></extra>",
            )
        )
    return fig


def _frontier_figure(go: Any, doc: Mapping[str, Any], frontier: list[Mapping[str, Any]]) -> Any:
    points = sorted(
        (float(f["risk_weight"]), float(f["cvar_usd"]), float(f["expected_cost_usd"]))
        for f in frontier
        if _finite(f.get("risk_weight"))
        and _finite(f.get("cvar_usd"))
        and _finite(f.get("expected_cost_usd"))
    )
    cvar = _cvar_label(doc)
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
    if _finite(doc.get("cvar_usd")) and _finite(doc.get("expected_cost_usd")):
        fig.add_trace(
            go.Scatter(
                x=[float(doc["cvar_usd"])],
                y=[float(doc["expected_cost_usd"])],
                mode="markers",
                name=f"this plan (λ={_weight(doc.get('risk_weight'))}): "
                f"{plain_usd(doc['expected_cost_usd'])}",
                marker={"color": _COLORS[1], "size": 14, "symbol": "star"},
                hovertemplate="%{fullData.name}<extra></extra>",
            )
        )
    return fig
