"""One self-contained HTML page for a strategic deal (``arbiter deal --html``).

The page reads the JSON document ``arbiter deal --json`` prints (see
:mod:`arbiter.deals.report`) and shows, from the top: the deal, its NPV with a verdict (pays
or destroys value), its risk-adjusted value and ``npv = compute savings + tranches + credits
- shortfall``; the terms; the effective price per delivered PFLOP-hour, covered chips with
the deal against the alternative without it; the lock-in per year of both plans, charting
the covered share of spend; the break-evens (demand, port efficiency, discount) with their
NPV curves; the tornado; the distribution of the deal's worth over sampled futures; the
worth per planning scenario; both plans' commitment schedules. Sections whose data the run
skipped (sensitivity, sampled futures) say so. Like the other reports it embeds plotly.js
inline (works offline), escapes every piece of text from the document and embeds chart data
as script-safe JSON (see :mod:`arbiter.report.html`).

Plotly is an optional dependency (``pip install 'arbiter[report]'``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from itertools import zip_longest
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
    plotly,
    section,
    table,
    text,
    usd,
)
from arbiter.results.money import usd_short

__all__ = ["deal_html"]

_SIDES = (("with_deal", "with the deal", "#4c78a8"), ("without", "without", "#f58518"))
_DESTROYS, _LINE = "#e45756", "#222222"
_BREAK_EVENS = {
    "demand_scale": "demand scale (times the forecast)",
    "efficiency": "port efficiency (1 - performance shortfall)",
    "discount": "discount off list on covered chips",
}
_SKIPPED = '<p class="muted">Not computed: the run had <code>{}</code>.</p>'
_CSS = """
.callout { background: #f1f7ef; border-left: 4px solid #54a24b; padding: .6rem 1rem;
           margin: 1rem 0; }
.callout.destroys { background: #fbeeee; border-left-color: #e45756; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.grid .chart { height: 280px; }
"""


def deal_html(doc: Mapping[str, Any], *, title: str) -> str:
    """Render ``doc`` (the ``arbiter deal`` JSON document) as one offline HTML page."""
    go = plotly()
    sens, dist = doc.get("sensitivity"), doc.get("distribution")
    charts: list[tuple[str, Any]] = [("chart-lock-in", _lock_in_figure(go, doc))]
    if isinstance(sens, Mapping):
        for i, be in enumerate(map(as_mapping, as_list(sens.get("break_evens")))):
            charts.append((f"chart-break-even-{i}", _break_even_figure(go, be)))
        charts.append(("chart-tornado", _tornado_figure(go, sens)))
    if isinstance(dist, Mapping):
        charts.append(("chart-distribution", _distribution_figure(go, dist)))
    sections = [
        _headline(doc),
        section("Terms of the deal", _terms(doc), section_id="terms"),
        section("Effective price per delivered PFLOP-hour", _price(doc), section_id="price"),
        section("Lock-in per year", _lock_in(doc), section_id="lock-in"),
        section("Break-evens", _break_evens(sens), section_id="break-evens"),
        section("Sensitivity of the NPV", _tornado(sens), section_id="tornado"),
        section("Worth over sampled futures", _distribution(dist), section_id="distribution"),
        section("Worth per planning scenario", _scenarios(doc), section_id="scenarios"),
        section("Commitment schedules", _schedules(doc), section_id="schedules"),
    ]
    return page(
        title=title, sections=sections, charts=charts, footer_html=footer(doc), extra_css=_CSS
    )


# --- formatting -----------------------------------------------------------------------


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: Any) -> str:
    """Dollars as plain text: ``$1.62B``, ``-$4.33B``, ``$476.7M``, ``$12,345``; ``n/a``."""
    return usd_short(value)


def _money(value: Any) -> str:
    """:func:`_short` as HTML: ``&ndash;`` when not a number."""
    return usd_short(value, missing="&ndash;")


def _label(value: Any) -> str:
    """Text from the document, ``&ndash;`` when empty."""
    return text(value) or "&ndash;"


def _names(value: Any) -> str:
    return _label(", ".join(map(str, as_list(value))))


def _condition(value: Any) -> str:
    return text(value) or "none"


def _failures(value: Any) -> str:
    """Single points of failure: ``vendor NVIDIA (chat/synth-data)``, one a line."""
    return (
        "<br>".join(
            f"{text(s.get('group'))} {text(s.get('name'))} "
            f"({text('/'.join(map(str, as_list(s.get('classes_stopped')))))})"
            for s in map(as_mapping, as_list(value))
        )
        or "none"
    )


def _input_value(name: str, value: Any) -> str:
    """A value of a break-even input as plain text."""
    if not _finite(value):
        return "n/a"
    if name == "discount":
        return f"{value:.1%}"
    return f"{value:.2f}x" if name == "demand_scale" else f"{value:.2f}"


def _cvar_label(doc: Mapping[str, Any]) -> str:
    level = doc.get("cvar_level")
    return f"CVaR{level * 100:g}" if _finite(level) else "CVaR"


_Column = tuple[str, str, Callable[[Any], str]]
_TEXT_CELLS = {_label, _names, _condition, _failures}


def _columns(spec: tuple[_Column, ...], items: list[Mapping[str, Any]]) -> str:
    """A table with a column per (header, key, formatter); text columns align left."""
    rows = [[fmt(item.get(key)) for _, key, fmt in spec] for item in items]
    numeric = {i for i, (_, _, fmt) in enumerate(spec) if fmt not in _TEXT_CELLS}
    return table([h for h, _, _ in spec], rows, numeric)


_TRANCHES: tuple[_Column, ...] = (
    ("Kind", "kind", _label),
    ("Period", "period", num),
    ("Probability", "probability", pct),
    ("Condition", "condition", _condition),
    ("Face value", "usd", _money),
    ("Value if paid", "value_if_paid_usd", _money),
)
_LOCK_IN: tuple[_Column, ...] = (
    ("Year", "year", _label),
    ("Plan", "plan", _label),
    ("Spend", "spend_usd", _money),
    ("Covered spend", "covered_spend_share", pct),
    ("Covered compute", "covered_compute_share", pct),
    ("Counterparty", "counterparty_spend_share", pct),
    ("Vendor HHI", "vendor_hhi", lambda value: num(value, 3)),
    ("Single points of failure", "single_points_of_failure", _failures),
)
_TORNADO: tuple[_Column, ...] = (
    ("Input", "input", _label),
    ("Low", "low", _label),
    ("NPV low", "npv_low_usd", _money),
    ("High", "high", _label),
    ("NPV high", "npv_high_usd", _money),
    ("Swing", "swing_usd", _money),
)
_SCHEDULE: tuple[_Column, ...] = (
    ("Product", "product", _label),
    ("Provider", "provider", _label),
    ("Accelerator", "accelerator", _label),
    ("Region", "region", _label),
    ("Start period", "start_period", num),
    ("Chips", "chips", num),
    ("Term (periods)", "term_periods", num),
    ("Periods in horizon", "periods_in_horizon", num),
    ("USD / chip-hour", "usd_per_chip_hour", lambda value: usd(value, 3)),
    ("Commitment", "commitment_usd", _money),
    ("Up front", "upfront_usd", _money),
)


# --- sections -------------------------------------------------------------------------


def _headline(doc: Mapping[str, Any]) -> str:
    deal, b = as_mapping(doc.get("deal")), as_mapping(doc.get("breakdown"))
    npv, value, dist = (
        doc.get("npv_usd"),
        doc.get("risk_adjusted_value_usd"),
        doc.get("distribution"),
    )
    items = [
        ("Deal", _label(deal.get("name"))),
        ("Counterparty", _label(deal.get("counterparty"))),
        ("Covered chips", _names(deal.get("covers"))),
        ("NPV", _money(npv)),
        ("Risk-adjusted value", _money(value)),
    ]
    if isinstance(dist, Mapping):
        items.append(("P(destroys value)", pct(dist.get("probability_destroys_value"))))
    pays = _finite(npv) and npv >= 0
    verdict = "The document has no NPV."
    if _finite(npv):
        verdict = (
            f"Taking the deal <b>pays</b>: it is worth <b>{_money(npv)}</b>"
            if pays
            else f"Taking the deal <b>destroys value</b>: it costs the lab <b>{_money(-npv)}</b>"
        ) + " in expectation, in today&rsquo;s dollars."
    weight = doc.get("risk_weight")
    if _finite(weight):
        verdict += (
            f" Its risk-adjusted value (on expected cost plus {weight:g} &times; "
            f"{text(_cvar_label(doc))}, what both plans minimise) is {_money(value)}."
        )
    return (
        metrics(items)
        + f'\n<p class="callout{"" if pays else " destroys"}" id="verdict">{verdict}</p>\n'
        + f'<p id="breakdown">NPV {_money(npv)} = compute savings '
        f"{_money(b.get('compute_savings_usd'))} + tranches {_money(b.get('tranches_usd'))} "
        f"+ credits {_money(b.get('credits_usd'))} &minus; shortfall "
        f"{_money(b.get('shortfall_usd'))}</p>\n"
        '<p class="muted">Expected present values. Compute savings: the cost of compute without '
        "the deal minus with it; tranches: the capital received, after the equity haircut, "
        "times each probability; credits: the usage credits spent; shortfall: what is paid for "
        "missing the minimum spend.</p>"
    )


def _terms(doc: Mapping[str, Any]) -> str:
    d = as_mapping(doc.get("deal"))
    ob, port = as_mapping(d.get("obligation")), d.get("porting")
    total, ramp = ob.get("total_spend_usd"), as_list(ob.get("ramp"))
    minimum = ", ".join(_money(v) for v in as_list(ob.get("min_spend_usd_per_year")))
    if minimum:
        minimum += f" a year ({_money(ob.get('committed_usd'))} in all)"
    else:
        minimum = f"{_money(total)} in all" + (
            f", at least {', '.join(map(pct, ramp))} of it a year" if ramp else ""
        )
    short = ", ".join(
        _money(v) for v in as_list(as_mapping(doc.get("breakdown")).get("shortfall_by_year_usd"))
    )
    share = ob.get("min_share")
    porting = "none: the covered chips run the work at its estimated performance"
    if isinstance(port, Mapping):
        points = ", ".join(
            f"{num(p.get('efficiency'), 2)} with probability {pct(p.get('probability'))}"
            for p in map(as_mapping, as_list(port.get("efficiency_points")))
        )
        porting = (
            f"to {_label(port.get('platform'))}: {_money(port.get('enable_usd'))} to enable, "
            f"{num(port.get('lead_weeks'), 1)} weeks of lead time; it achieves "
            f"{pct(port.get('efficiency_mean'))} of the estimated performance on average"
            + (f" ({points})" if points else "")
        )
    rows = [
        ["Discount off list on covered chips", pct(d.get("discount"))],
        ["Usage credits", _money(d.get("credits_usd"))],
        ["Minimum spend on covered chips", minimum],
        ["Shortfall penalty (times the shortfall)", num(ob.get("shortfall_penalty"), 2)],
        ["Expected shortfall (undiscounted)", short or "&ndash;"],
        ["Minimum covered share of compute spend", pct(share) if share else "none"],
        ["Porting", porting],
        ["Discount rate (a year)", pct(d.get("discount_rate"))],
        ["Equity haircut (taken off the face value of equity)", pct(d.get("equity_haircut"))],
        ["Deal horizon", f"{num(d.get('horizon_years'))} years"],
        ["Procurement plan", f"{num(d.get('periods'))} periods of a {_label(d.get('period'))}"],
    ]
    tranches = [as_mapping(t) for t in as_list(d.get("tranches"))]
    capital = (
        _columns(_TRANCHES, tranches) if tranches else "<p>None: the deal brings no capital.</p>"
    )
    return table(["Term", "Value"], rows, set()) + f"\n<h3>Tranches</h3>\n{capital}"


def _price(doc: Mapping[str, Any]) -> str:
    p = as_mapping(doc.get("effective_price"))
    cov = p.get("covered_with_deal_usd_per_pflop_hour")
    alt = p.get("alternative_without_deal_usd_per_pflop_hour")
    rows = [
        ["Covered chips, with the deal", usd(cov)],
        ["The chips bought instead, without the deal", usd(alt)],
        ["Whole plan, with the deal", usd(p.get("plan_with_deal_usd_per_pflop_hour"))],
        ["Whole plan, without the deal", usd(p.get("plan_without_deal_usd_per_pflop_hour"))],
    ]
    lead = ""
    if _finite(cov) and _finite(alt) and alt > 0:
        word = "more" if cov >= alt else "less"
        lead = f"The covered chips cost <b>{pct(abs(cov / alt - 1))} {word}</b> per delivered "
        lead += "PFLOP-hour than the alternative. "
    return table(["Chips", "USD per PFLOP-hour"], rows, {1}) + (
        f'<p class="muted">{lead}Expected, undiscounted: the covered chips take '
        f"{_money(p.get('covered_spend_usd'))} for {num(p.get('covered_pflop_hours'))} "
        "PFLOP-hours. A PFLOP-hour is dense BF16-equivalent model work at the performance "
        "model&rsquo;s efficiency (the port&rsquo;s included), not a chip&rsquo;s peak; "
        "&ndash; means no compute was delivered there.</p>"
    )


def _lock_in(doc: Mapping[str, Any]) -> str:
    lock = as_mapping(doc.get("lock_in"))
    sides = [
        [{**as_mapping(y), "plan": label} for y in as_list(lock.get(key))]
        for key, label, _ in _SIDES
    ]
    rows = [y for pair in zip_longest(*sides) for y in pair if y is not None]
    for y in rows:
        y["year"] = f"{y.get('year')}{'' if y.get('in_deal', True) else ' (after the deal)'}"
    return (
        _columns(_LOCK_IN, rows)
        + chart_div("chart-lock-in")
        + '<p class="muted">Expected over the scenarios: each plan&rsquo;s spend, the covered '
        "chips&rsquo; share of its spend and of its delivered compute, the counterparty&rsquo;s "
        "share of spend and the vendor HHI by spend (1: one vendor). A single point of failure "
        "delivers (nearly) all of some class&rsquo;s work in the year: losing it stops the "
        "class.</p>"
    )


def _break_evens(sens: Any) -> str:
    if not isinstance(sens, Mapping):
        return _SKIPPED.format("--no-sensitivity")
    rows = []
    for be in map(as_mapping, as_list(sens.get("break_evens"))):
        name, value = str(be.get("input")), be.get("break_even")
        if _finite(value):
            cell = text(_input_value(name, value))
            if name == "efficiency":
                cell += f" (a {pct(1 - value)} performance shortfall)"
            within = " &ndash; ".join(
                text(_input_value(name, x)) for x in as_list(be.get("bracket"))
            )
            pays = "above it" if be.get("pays_above") else "below it"
        else:
            npv = as_list(be.get("npv_usd"))
            everywhere = bool(npv) and all(_finite(v) and v >= 0 for v in npv)
            cell, within = "none", "&ndash;"
            pays = "everywhere on the grid" if everywhere else "nowhere on the grid"
        base = text(_input_value(name, be.get("base")))
        rows.append([text(_BREAK_EVENS.get(name, name)), base, cell, within, pays])
    charts = "".join(chart_div(f"chart-break-even-{i}") for i in range(len(rows)))
    return (
        table(["Input", "Base", "Break-even", "Between", "The deal pays"], rows, {1, 2, 3})
        + f'<div class="grid">{charts}</div>\n'
        '<p class="muted">Each input over a grid, the others at their base values: the '
        "break-even is where the NPV changes sign (dashed line: zero; dotted: the base value). "
        f"Solved with {text(sens.get('settings'))}, so the base NPV here is "
        f"{_money(sens.get('base_npv_usd'))}.</p>"
    )


def _tornado(sens: Any) -> str:
    if not isinstance(sens, Mapping):
        return _SKIPPED.format("--no-sensitivity")
    bars = [as_mapping(b) for b in as_list(sens.get("tornado"))]
    return (
        chart_div("chart-tornado")
        + _columns(_TORNADO, bars)
        + '<p class="muted">Each input at a low and a high value, the others at base: the bars '
        f"run from the base NPV ({_money(sens.get('base_npv_usd'))}, solid line) to the NPV at "
        "each value, largest swing first. Dashed line: zero.</p>"
    )


def _distribution(dist: Any) -> str:
    if not isinstance(dist, Mapping):
        return _SKIPPED.format("--samples 0")
    return chart_div("chart-distribution") + (
        f"<p>Over {num(dist.get('samples'))} sampled futures (shocks: "
        f"{text(dist.get('shocks_file')) or 'none'}; seed {_label(dist.get('seed'))}) the deal "
        f"is worth {_money(dist.get('mean_usd'))} on average: P5 {_money(dist.get('p5_usd'))}, "
        f"P50 {_money(dist.get('p50_usd'))}, P95 {_money(dist.get('p95_usd'))}. It <b>destroys "
        f"value in {pct(dist.get('probability_destroys_value'))}</b> of them.</p>\n"
        '<p class="muted">Each plan keeps its commitments and ports and re-plans the rest in '
        "each future: a demand scenario, the port&rsquo;s efficiency, the tranches paid and the "
        "shocks are drawn.</p>"
    )


def _scenarios(doc: Mapping[str, Any]) -> str:
    sides = as_mapping(doc.get("sides"))
    cost = [as_mapping(as_mapping(sides.get(k)).get("scenario_net_cost_usd")) for k, _, _ in _SIDES]
    rows = [
        [
            _label(s.get("name")),
            pct(s.get("probability")),
            _money(s.get("value_usd")),
            *(_money(c.get(str(s.get("name")))) for c in cost),
        ]
        for s in map(as_mapping, as_list(doc.get("scenarios")))
    ]
    headers = ["Scenario", "Probability", "Worth of the deal", "Net cost with", "Net cost without"]
    return table(headers, rows, {1, 2, 3, 4}) + (
        '<p class="muted">Present values; a net cost is the cost of compute minus the '
        "deal&rsquo;s inflows.</p>"
    )


def _schedules(doc: Mapping[str, Any]) -> str:
    cvar, parts = text(_cvar_label(doc)), []
    for key, label, _ in _SIDES:
        s = as_mapping(as_mapping(doc.get("sides")).get(key))
        parts.append(
            f"<h3>{label.capitalize()}</h3>\n<p>Expected net cost "
            f"{_money(s.get('expected_net_cost_usd'))}, {cvar} "
            f"{_money(s.get('cvar_net_cost_usd'))}; platforms "
            f"{_names(s.get('platforms_enabled'))}; solver {_label(s.get('status'))}.</p>\n"
            + _columns(_SCHEDULE, [as_mapping(c) for c in as_list(s.get("schedule"))])
        )
    return "\n".join(parts)


# --- charts ---------------------------------------------------------------------------


def _vline(x: float, dash: str, color: str = _LINE) -> dict[str, Any]:
    line = {"color": color, "dash": dash, "width": 1.5}
    return {"type": "line", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}


def _figure(go: Any, **extra: Any) -> Any:
    return go.Figure(layout=layout(go, legend={"orientation": "h", "y": -0.25}, **extra))


def _lock_in_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    lock = as_mapping(doc.get("lock_in"))
    axis = {"title": "covered share of spend", "range": [0, 1.05], "tickformat": ".0%"}
    fig = _figure(go, xaxis={"title": "year", "type": "category"}, yaxis=axis)
    for key, label, color in _SIDES:
        years = [as_mapping(y) for y in as_list(lock.get(key))]
        shares = [y.get("covered_spend_share") for y in years]
        fig.add_trace(
            go.Scatter(
                x=[str(y.get("year")) for y in years],
                y=[float(s) if _finite(s) else None for s in shares],
                name=label,
                line={"color": color, "width": 2},
                hovertemplate="year %{x}: %{y:.1%} covered, %{fullData.name}<extra></extra>",
            )
        )
    return fig


def _break_even_figure(go: Any, be: Mapping[str, Any]) -> Any:
    name, base = str(be.get("input")), be.get("base")
    pairs = zip(as_list(be.get("grid")), as_list(be.get("npv_usd")), strict=False)
    points = [(float(x), float(y)) for x, y in pairs if _finite(x) and _finite(y)]
    zero = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0}
    shapes = [{**zero, "line": {"color": _DESTROYS, "dash": "dash", "width": 1.5}}]
    shapes += [_vline(float(base), "dot", "#888888")] if _finite(base) else []
    fig = _figure(
        go,
        xaxis={
            "title": _BREAK_EVENS.get(name, name),
            "tickformat": ".0%" if name == "discount" else ".2f",
        },
        yaxis={"title": "NPV (USD)", "tickformat": "$.3s"},
        shapes=shapes,
        showlegend=False,
    )
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            name="NPV",
            line={"color": _SIDES[0][2], "width": 2},
            hovertemplate="%{x}: NPV $%{y:,.0f}<extra></extra>",
        )
    )
    return fig


def _tornado_figure(go: Any, sens: Mapping[str, Any]) -> Any:
    bars = [as_mapping(b) for b in as_list(sens.get("tornado"))]
    base = float(sens["base_npv_usd"]) if _finite(sens.get("base_npv_usd")) else 0.0
    fig = _figure(
        go,
        barmode="overlay",
        xaxis={"title": "NPV (USD)", "tickformat": "$.3s"},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True},
        shapes=[_vline(base, "solid"), _vline(0.0, "dash", _DESTROYS)],
    )
    for end, (_, _, color) in zip(("low", "high"), _SIDES, strict=True):
        npv = [
            float(b[f"npv_{end}_usd"]) if _finite(b.get(f"npv_{end}_usd")) else None for b in bars
        ]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[str(b.get("input")) for b in bars],
                x=[None if v is None else v - base for v in npv],
                base=[base] * len(bars),
                text=[str(b.get(end, "")) for b in bars],
                customdata=npv,
                name=f"{end} value",
                marker_color=color,
                hovertemplate="%{y} at %{text}: NPV $%{customdata:,.0f}<extra></extra>",
            )
        )
    return fig


def _distribution_figure(go: Any, dist: Mapping[str, Any]) -> Any:
    values = [float(v) for v in as_list(dist.get("values_usd")) if _finite(v)]
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
            marker_color=_SIDES[0][2],
            hovertemplate="%{y} futures at %{x}<extra></extra>",
        )
    )
    for label in ("P5", "P50", "P95"):
        value = dist.get(f"{label.lower()}_usd")
        if _finite(value):
            line = {"color": _LINE, "dash": "dash" if label == "P50" else "dot", "width": 2}
            name = f"{label} {_short(value)}"
            trace = {"x": [value] * 2, "y": [0, 1], "yaxis": "y2", "mode": "lines", "line": line}
            fig.add_trace(go.Scatter(name=name, **trace))
    return fig
