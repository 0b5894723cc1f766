"""One self-contained HTML page for a risk run (``arbiter risk --html``).

The page reads the JSON document ``arbiter risk --json`` prints and shows, from the top:
the run and the optionality value of the diversified plan against the locked-in one; each
plan's cost statistics (with re-planning, beside those without it); a histogram of total
cost per plan with each plan's P95 and CVaR95 marked; the concentration of the plan (HHI,
largest shares, shares of spend, single points of failure); the scenarios; and how to read
the figures. Like the plan report it embeds plotly.js inline (works offline), escapes every
piece of text from the document and embeds chart data as script-safe JSON (see
:mod:`arbiter.report.html`).

Plotly is an optional dependency (``pip install 'arbiter[report]'``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

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

__all__ = ["risk_html"]

_GROUPS = ("vendor", "provider", "region", "platform")
_GROUP_COLORS = {
    "vendor": "#4c78a8",
    "provider": "#f58518",
    "region": "#54a24b",
    "platform": "#b279a2",
}
_PLAN_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")
# the names ``arbiter risk`` gives its plans
_PLAN_ROLES = {"plan": "diversified", "locked_in": "locked-in reference"}
_STATS = (
    ("Mean", "mean_usd"),
    ("P50", "p50_usd"),
    ("P95", "p95_usd"),
    ("CVaR95", "cvar95_usd"),
)
_CSS = """
.callout { background: #f1f7ef; border-left: 4px solid #54a24b; padding: .6rem 1rem;
           margin: 1rem 0; }
.callout.none { background: #f5f7fa; border-left-color: #999; }
"""


def risk_html(doc: Mapping[str, Any], *, title: str) -> str:
    """Render ``doc`` (the ``arbiter risk`` JSON document) as one offline HTML page."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-cost", _cost_figure(go, doc)),
        ("chart-shares", _shares_figure(go, doc)),
    ]
    conc = as_mapping(doc.get("concentration"))
    sections = [
        _headline(doc),
        _optionality(doc),
        section("Cost under the scenarios", _stats_table(doc), section_id="cost"),
        section(
            "Distribution of total cost",
            chart_div("chart-cost") + _cost_note(doc),
            section_id="distribution",
        ),
        section(
            "Concentration",
            "<h3>HHI and largest shares of the diversified plan</h3>\n"
            + _hhi_table(conc)
            + "<h3>Shares of spend of the diversified plan</h3>\n"
            + chart_div("chart-shares")
            + "<h3>Each plan&rsquo;s concentration of spend</h3>\n"
            + _plans_concentration_table(doc)
            + "<h3>Single points of failure of the diversified plan</h3>\n"
            + '<p class="muted">The share of the plan&rsquo;s work left unserved if one '
            "member disappeared, the plan held fixed.</p>\n" + _failures_table(conc),
            section_id="concentration",
        ),
        section("Scenarios", _scenarios(doc), section_id="scenarios"),
        section("How to read this", _how_to_read(doc), section_id="how-to-read"),
    ]
    return page(
        title=title,
        sections=sections,
        charts=charts,
        footer_html=footer(doc),
        extra_css=_CSS,
    )


# --- formatting -----------------------------------------------------------------------


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dollars(value: Any) -> str:
    """Whole dollars (HTML); Monte Carlo estimates have no meaningful cents."""
    return usd(value, 0)


def _signed(value: Any) -> str:
    """Whole dollars with the sign in front of the dollar sign: ``-$1,234``."""
    if _finite(value) and value < 0:
        return "-" + usd(-value, 0)
    return usd(value, 0)


def _plans(doc: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(str(name), as_mapping(s)) for name, s in as_mapping(doc.get("plans")).items()]


def _plan_label(name: str) -> str:
    role = _PLAN_ROLES.get(name)
    suffix = f' <span class="muted">({escape(role)})</span>' if role else ""
    return text(name) + suffix


def _penalty(doc: Mapping[str, Any]) -> str:
    value = as_mapping(doc.get("scenarios")).get("penalty")
    return f"{value:g}&times;" if _finite(value) else "&ndash;"


def _groups(by_group: Mapping[str, Any]) -> list[str]:
    """The usual groups first, then any others the document has."""
    return [g for g in _GROUPS if g in by_group] + [str(g) for g in by_group if g not in _GROUPS]


# --- sections -------------------------------------------------------------------------


def _headline(doc: Mapping[str, Any]) -> str:
    workers = doc.get("workers")
    engine = text(doc.get("engine"))
    if _finite(workers):
        engine += f" ({num(workers)} worker{'' if workers == 1 else 's'})"
    value = as_mapping(doc.get("optionality")).get("value_usd", doc.get("optionality_value_usd"))
    items = [
        ("Samples", num(doc.get("samples"))),
        ("Seed", text(doc.get("seed"))),
        ("Engine", engine),
        ("Re-planning", "yes" if doc.get("recourse") else "no"),
        ("Penalty on unmet work", _penalty(doc)),
        ("Optionality value", _signed(value) if _finite(value) else "n/a"),
    ]
    return metrics(items)


def _optionality(doc: Mapping[str, Any]) -> str:
    o = as_mapping(doc.get("optionality"))
    value = o.get("value_usd", doc.get("optionality_value_usd"))
    if not _finite(value):
        return (
            '<p class="callout none" id="optionality">No locked-in reference: no single '
            "provider could take the whole fleet, so there is nothing to measure the "
            "diversified plan against and no optionality value.</p>"
        )
    if value >= 0:
        lead = f"The diversified plan saves <b>{_dollars(value)}</b> in expectation against"
    else:
        lead = f"The diversified plan costs <b>{_dollars(-value)}</b> more in expectation than"
    parts = [f"{lead} the locked-in plan"]
    if _finite(o.get("plan_difference_usd")) and _finite(o.get("from_shocks_usd")):
        parts.append(
            f": {_signed(o['plan_difference_usd'])} between the plans themselves, "
            f"{_signed(o['from_shocks_usd'])} from the shocks"
        )
    parts.append(".")
    if _finite(o.get("p5_usd")) and _finite(o.get("p95_usd")):
        parts.append(
            f" Per sample the saving runs from {_signed(o['p5_usd'])} (P5) to "
            f"{_signed(o['p95_usd'])} (P95), median {_signed(o.get('p50_usd'))}."
        )
    cvar: Any = o.get("cvar95_reduction_usd")
    if _finite(cvar):
        direction = "lower" if cvar >= 0 else "higher"
        parts.append(f" Its CVaR95 is {direction} by {_dollars(abs(cvar))}.")
    if _finite(o.get("probability_it_pays")):
        parts.append(f" It is the cheaper plan in {pct(o['probability_it_pays'])} of samples.")
    return f'<p class="callout" id="optionality">{"".join(parts)}</p>'


def _stats_row(label: list[str], plan_usd: Any, s: Mapping[str, Any]) -> list[str]:
    return [
        *label,
        _dollars(plan_usd),
        *(_dollars(s.get(key)) for _, key in _STATS),
        pct(s.get("unmet_demand_probability")),
        pct(s.get("expected_unmet_share")),
        pct(s.get("missed_deadline_probability")),
    ]


def _stats_table(doc: Mapping[str, Any]) -> str:
    recourse = bool(doc.get("recourse"))
    head = ["Plan", "Re-planning"] if recourse else ["Plan"]
    rows = []
    for name, s in _plans(doc):
        label = [_plan_label(name), "yes"] if recourse else [_plan_label(name)]
        rows.append(_stats_row(label, s.get("plan_usd"), s))
        without = s.get("without_recourse")
        if recourse and isinstance(without, Mapping):
            rows.append(_stats_row([_plan_label(name), "no"], s.get("plan_usd"), without))
    headers = [
        *head,
        "Plan cost",
        *(label for label, _ in _STATS),
        "P(unmet demand)",
        "Mean unmet share",
        "P(missed deadline)",
    ]
    first = len(head)
    return table(headers, rows, set(range(first, len(headers))))


def _cost_note(doc: Mapping[str, Any]) -> str:
    replanned = "after re-planning under each sample" if doc.get("recourse") else "as planned"
    return (
        f'<p class="muted">Total cost of each plan over the samples, {replanned}, unmet work '
        "priced in. Dashed lines mark each plan&rsquo;s P95, dotted lines its CVaR95. The "
        "count axis is logarithmic so the tail stays visible; the buttons switch it.</p>"
    )


def _hhi_table(conc: Mapping[str, Any]) -> str:
    hhi = as_mapping(conc.get("hhi"))
    spend, compute = as_mapping(hhi.get("spend")), as_mapping(hhi.get("compute"))
    top = as_mapping(conc.get("top"))
    rows = []
    for group in _groups({**compute, **spend, **top}):
        t = as_mapping(top.get(group))
        rows.append(
            [
                text(group),
                num(spend.get(group), 3),
                num(compute.get(group), 3),
                text(t.get("name")),
                pct(t.get("share")),
            ]
        )
    return table(
        ["Group", "HHI of spend", "HHI of compute", "Largest (spend)", "Its share of spend"],
        rows,
        {1, 2, 4},
    )


def _plans_concentration_table(doc: Mapping[str, Any]) -> str:
    plans = _plans(doc)
    groups = _groups({g: None for _, s in plans for g in as_mapping(s.get("hhi"))})
    rows = []
    for name, s in plans:
        hhi, top = as_mapping(s.get("hhi")), as_mapping(s.get("top"))
        cells = []
        for group in groups:
            t = as_mapping(top.get(group))
            largest = f" &middot; {text(t.get('name'))} {pct(t.get('share'))}" if t else ""
            cells.append(f"HHI {num(hhi.get(group), 3)}{largest}")
        rows.append([_plan_label(name), *cells])
    return table(["Plan", *groups], rows, set())


def _failures_table(conc: Mapping[str, Any]) -> str:
    rows = []
    for p in map(as_mapping, as_list(conc.get("single_points_of_failure"))):
        stopped = [str(w) for w in as_list(p.get("workloads_stopped"))]
        hit = [str(w) for w in as_list(p.get("workloads_hit")) if str(w) not in stopped]
        rows.append(
            [
                text(p.get("group")),
                text(p.get("name")),
                pct(p.get("unserved_share")),
                text(", ".join(stopped)) or "&ndash;",
                text(", ".join(hit)) or "&ndash;",
            ]
        )
    return table(
        ["Group", "Name", "Unserved share", "Workloads stopped", "Also hit (partly served)"],
        rows,
        {2},
    )


def _scenarios(doc: Mapping[str, Any]) -> str:
    scenarios = as_mapping(doc.get("scenarios"))
    rows = [
        [text(s.get("name")), text(s.get("kind")), pct(s.get("probability"))]
        for s in map(as_mapping, as_list(scenarios.get("shocks")))
    ]
    intro = (
        f'<p class="muted">From {text(scenarios.get("file")) or "&ndash;"}; unmet work is '
        f"priced at {_penalty(doc)} what the plan pays for it. Each shock occurs in a sample "
        "with its probability.</p>\n"
    )
    return intro + table(["Shock", "Kind", "Probability"], rows, {2})


def _how_to_read(doc: Mapping[str, Any]) -> str:
    samples = num(doc.get("samples"))
    return (
        f"<p>Every plan is costed on the same {samples} sampled futures. "
        "<b>P95</b> is the cost exceeded in 1 sample in 20; <b>CVaR95</b> is the average cost "
        "of that worst 5%, so it says how bad the bad cases are, not just where they start. "
        "Work a plan cannot serve under a shock is <b>unmet</b>: it is priced at the penalty "
        f"times what the plan pays for it (here {_penalty(doc)}), and P(unmet demand) is the "
        "share of samples with any unmet work. With re-planning, each "
        "plan is re-solved under every sample; the rows without it hold the plan fixed.</p>\n"
        "<p>The <b>optionality value</b> is the expected saving of the diversified plan over "
        "the locked-in plan on the same samples, enablement of extra platforms included: the "
        "difference between the plans themselves plus what the shocks add to it.</p>"
    )


# --- charts ---------------------------------------------------------------------------


def _cost_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    hist = as_mapping(doc.get("histogram"))
    edges = [float(e) for e in as_list(hist.get("edges_usd")) if _finite(e)]
    counts = as_mapping(hist.get("counts"))
    plans = dict(_plans(doc))
    names = [str(n) for n in counts] + [n for n in plans if n not in counts]
    tallest = 0
    traces: list[Any] = []
    for i, name in enumerate(names):
        color = _PLAN_COLORS[i % len(_PLAN_COLORS)]
        values = [int(c) if _finite(c) else 0 for c in as_list(counts.get(name))]
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
        stats = plans.get(name, {})
        for label, key, dash in (("P95", "p95_usd", "dash"), ("CVaR95", "cvar95_usd", "dot")):
            value = stats.get(key)
            if not _finite(value):
                continue
            traces.append(
                go.Scatter(
                    x=[value, value],
                    y=[0, 1],
                    yaxis="y2",
                    mode="lines",
                    name=f"{name} {label} {plain_usd(value)}",
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
            updatemenus=[
                {
                    "type": "buttons",
                    "direction": "right",
                    "x": 1,
                    "xanchor": "right",
                    "y": 1.12,
                    "showactive": True,
                    "buttons": [
                        {
                            "label": "log",
                            "method": "relayout",
                            "args": [
                                {
                                    "yaxis.type": "log",
                                    "yaxis.range": log_range,
                                    "yaxis.title.text": "samples (log scale)",
                                }
                            ],
                        },
                        {
                            "label": "linear",
                            "method": "relayout",
                            "args": [
                                {
                                    "yaxis.type": "linear",
                                    "yaxis.autorange": True,
                                    "yaxis.title.text": "samples",
                                }
                            ],
                        },
                    ],
                }
            ],
        ),
    )


def _shares_figure(go: Any, doc: Mapping[str, Any]) -> Any:
    conc = as_mapping(doc.get("concentration"))
    spend = as_mapping(as_mapping(conc.get("shares")).get("spend"))
    fig = go.Figure(
        layout=layout(
            go,
            yaxis={"title": "share of spend", "range": [0, 1.05], "tickformat": ".0%"},
            barmode="group",
        )
    )
    for group in _groups(spend):
        values = {str(n): float(v) for n, v in as_mapping(spend.get(group)).items() if _finite(v)}
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
