"""One self-contained HTML page for a fleet plan.

The page embeds plotly.js inline (no CDN, works offline) and draws: spend shares against the
caps, the plan against its baselines and, when the plan carries one, the price of
diversification (cost against cap). Tables list the assignments, enabled platforms, binding
constraints and alternatives. Every piece of text from the plan is HTML-escaped; chart data
is embedded as JSON with ``<``, ``>`` and ``&`` written as unicode escapes, so no value can
close the ``<script>`` it sits in.

Plotly is an optional dependency (``pip install 'arbiter[report]'``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from arbiter.domain.errors import ArbiterError

__all__ = ["plan_html"]

_DIMENSIONS = ("vendor", "provider", "region")
_BASELINE_LABELS = {
    "locked_in": "Locked in",
    "cheapest_per_hour": "Cheapest per hour",
    "greedy_per_job": "Greedy per job",
}
_COLORS = {"vendor": "#4c78a8", "provider": "#f58518", "region": "#54a24b"}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.headline { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.metric { background: #f5f7fa; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.metric .label { font-size: .8rem; color: #666; }
.metric .value { font-size: 1.3rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .3rem .5rem; text-align: left; }
th { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; font-size: .85rem; }
.chart { width: 100%; height: 380px; }
footer { margin-top: 2rem; color: #777; font-size: .8rem; }
"""


def plan_html(plan: Mapping[str, Any], *, title: str) -> str:
    """Render ``plan`` (the ``arbiter plan`` JSON document) as one offline HTML page."""
    try:
        import plotly.graph_objects as go  # noqa: PLC0415 - optional dependency
        from plotly.offline import get_plotlyjs  # noqa: PLC0415 - optional dependency
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ArbiterError("The HTML report needs plotly: pip install 'arbiter[report]'") from error

    charts: list[tuple[str, Any]] = [
        ("chart-shares", _shares_figure(go, plan)),
        ("chart-baselines", _baselines_figure(go, plan)),
    ]
    sweep = _list(plan.get("sweep"))
    has_sweep = len(sweep) > 0
    if has_sweep:
        charts.append(("chart-sweep", _sweep_figure(go, sweep)))

    sections = [
        _headline(plan),
        _section("Spend shares against caps", _chart_div("chart-shares") + _hhi_table(plan)),
        _section("Plan against baselines", _chart_div("chart-baselines") + _baselines_table(plan)),
        _section("Assignments", _assignments_table(plan)),
        _section("Platforms enabled", _platforms_table(plan)),
        _section("Binding constraints", _binding_table(plan)),
        _section("Alternatives", _alternatives_tables(plan)),
    ]
    if has_sweep:
        sections.append(
            _section(
                "Price of diversification",
                _chart_div("chart-sweep") + _sweep_note(sweep),
                section_id="sweep",
            )
        )
    scripts = "\n".join(
        f"Plotly.newPlot({_js(div)}, fig{i}.data, fig{i}.layout, "
        f"{{responsive: true, displaylogo: false}});"
        for i, (div, _fig) in enumerate(charts)
    )
    data = "\n".join(
        f"var fig{i} = {_safe_json(fig.to_json())};" for i, (_div, fig) in enumerate(charts)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        + "\n".join(sections)
        + _footer(plan)
        + f'\n<script type="text/javascript">\n{data}\n{scripts}\n</script>\n'
        "</body>\n</html>\n"
    )


# --- helpers --------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _usd(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "&ndash;"
    return f"${value:,.2f}"


def _num(value: Any, digits: int = 0) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "&ndash;"
    return f"{value:,.{digits}f}"


def _pct(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "none"
    return f"{value * 100:.1f}%"


def _text(value: Any) -> str:
    return escape("" if value is None else str(value))


def _js(text: str) -> str:
    return _safe_json(json.dumps(text))


def _safe_json(text: str) -> str:
    # JSON only has <, > and & inside strings, where the unicode escape is equivalent
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _section(heading: str, body: str, *, section_id: str | None = None) -> str:
    ident = f' id="{escape(section_id)}"' if section_id else ""
    return f"<section{ident}>\n<h2>{escape(heading)}</h2>\n{body}\n</section>"


def _chart_div(div_id: str) -> str:
    return f'<div class="chart" id="{escape(div_id)}"></div>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table from already-escaped cells; ``numeric`` holds right-aligned column indexes."""

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    if not body:
        return '<p class="muted">None.</p>'
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


# --- sections -------------------------------------------------------------------------


def _headline(plan: Mapping[str, Any]) -> str:
    metrics = [
        ("Status", _text(plan.get("status"))),
        ("Objective", _text(plan.get("objective"))),
        ("Total", _usd(plan.get("total_usd"))),
        ("Compute", _usd(plan.get("compute_usd"))),
        ("Enablement", _usd(plan.get("enablement_usd"))),
        ("Assignments", str(len(_list(plan.get("assignments"))))),
    ]
    cells = "".join(
        f'<div class="metric"><div class="label">{escape(label)}</div>'
        f'<div class="value">{value}</div></div>'
        for label, value in metrics
    )
    return f'<div class="headline">{cells}</div>'


def _assignments_table(plan: Mapping[str, Any]) -> str:
    headers = [
        "Workload",
        "Kind",
        "Accelerator",
        "Provider / region",
        "Regime",
        "Instances",
        "Chips",
        "Hours",
        "USD",
        "$/M tokens",
    ]
    rows = []
    for raw in _list(plan.get("assignments")):
        a = _mapping(raw)
        rows.append(
            [
                _text(a.get("workload")),
                _text(a.get("kind")),
                _text(a.get("accelerator")),
                f"{_text(a.get('provider'))} / {_text(a.get('region'))}",
                _text(a.get("price_regime")),
                _num(a.get("instance_count")),
                _num(a.get("accelerator_count")),
                _num(a.get("hours"), 1),
                _usd(a.get("usd")),
                _num(a.get("usd_per_million_tokens"), 3),
            ]
        )
    return _table(headers, rows, numeric={5, 6, 7, 8, 9})


def _platforms_table(plan: Mapping[str, Any]) -> str:
    rows = [
        [
            _text(p.get("platform")),
            _usd(p.get("enable_usd")),
            _num(p.get("lead_weeks"), 1),
            "yes" if p.get("already_enabled") else "no",
        ]
        for p in map(_mapping, _list(plan.get("platforms_enabled")))
    ]
    return _table(
        ["Platform", "Enablement USD", "Lead time (weeks)", "Already enabled"], rows, {1, 2}
    )


def _hhi_table(plan: Mapping[str, Any]) -> str:
    hhi, caps = _mapping(plan.get("hhi")), _mapping(plan.get("caps"))
    rows = [
        [escape(dim), _num(hhi.get(dim), 3), _pct(caps.get(dim))]
        for dim in _DIMENSIONS
        if dim in hhi or dim in caps
    ]
    return _table(["Dimension", "HHI (0..1)", "Cap on any one share"], rows, {1, 2})


def _binding_table(plan: Mapping[str, Any]) -> str:
    rows = [
        [_text(b.get("constraint")), _usd(b.get("shadow_price_usd")), _text(b.get("text"))]
        for b in map(_mapping, _list(plan.get("binding")))
    ]
    return _table(["Constraint", "Shadow price", "Meaning"], rows, {1})


def _alternatives_tables(plan: Mapping[str, Any]) -> str:
    alternatives = _mapping(plan.get("alternatives"))
    if not alternatives:
        return '<p class="muted">None.</p>'
    parts = []
    for workload, options in alternatives.items():
        rows = [
            [
                _text(o.get("accelerator")),
                f"{_text(o.get('provider'))} / {_text(o.get('region'))}",
                _text(o.get("price_regime")),
                _usd(o.get("usd")),
                _usd(o.get("enable_usd")),
                _usd(o.get("extra_usd")),
                _text(", ".join(str(x) for x in _list(o.get("capacity_full")))),
            ]
            for o in map(_mapping, _list(options))
        ]
        head = ["Accelerator", "Provider / region", "Regime", "USD", "Enable USD", "Extra USD"]
        parts.append(
            f"<h3>{_text(workload)}</h3>\n"
            + _table([*head, "Capacity already full"], rows, {3, 4, 5})
        )
    return "\n".join(parts)


def _baselines_table(plan: Mapping[str, Any]) -> str:
    rows = []
    for key, raw in _mapping(plan.get("baselines")).items():
        b = _mapping(raw)
        rows.append(
            [
                escape(_BASELINE_LABELS.get(key, key)),
                _usd(b.get("total_usd")) if b.get("feasible") else "infeasible",
            ]
        )
    return _table(["Baseline", "Total USD"], rows, {1})


def _sweep_note(sweep: list[Any]) -> str:
    rows = [s for s in map(_mapping, sweep) if not s.get("feasible", False)]
    timed_out = [_pct(s.get("cap")) for s in rows if s.get("status") == "time_limit"]
    infeasible = [_pct(s.get("cap")) for s in rows if s.get("status") != "time_limit"]
    notes = []
    if infeasible:
        notes.append(f"Infeasible at cap: {', '.join(infeasible)}.")
    if timed_out:
        notes.append(f"No plan found within the time limit at cap: {', '.join(timed_out)}.")
    return "".join(f'<p class="muted">{escape(n)}</p>' for n in notes)


def _footer(plan: Mapping[str, Any]) -> str:
    prov = _mapping(plan.get("provenance"))
    if not prov:
        return ""
    items = ", ".join(f"{_text(k)}: {_text(v)}" for k, v in sorted(prov.items()))
    return f"\n<footer>Provenance &mdash; {items}</footer>"


# --- charts ---------------------------------------------------------------------------


def _layout(go: Any, **extra: Any) -> Any:
    return go.Layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
        **extra,
    )


def _shares_figure(go: Any, plan: Mapping[str, Any]) -> Any:
    shares, caps = _mapping(plan.get("shares")), _mapping(plan.get("caps"))
    fig = go.Figure(
        layout=_layout(
            go,
            yaxis={"title": "share of compute spend", "range": [0, 1.05], "tickformat": ".0%"},
            barmode="group",
        )
    )
    cap_x: list[str] = []
    cap_y: list[float] = []
    for dim in _DIMENSIONS:
        values = _mapping(shares.get(dim))
        names = sorted(values, key=lambda n: (-float(values[n] or 0.0), str(n)))
        labels = [f"{dim}: {n}" for n in names]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[float(values[n] or 0.0) for n in names],
                name=dim,
                marker_color=_COLORS[dim],
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
        cap = caps.get(dim)
        if isinstance(cap, int | float) and not isinstance(cap, bool):
            cap_x.extend(labels)
            cap_y.extend([float(cap)] * len(labels))
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


def _baselines_figure(go: Any, plan: Mapping[str, Any]) -> Any:
    labels = ["This plan"]
    values = [float(plan.get("total_usd") or 0.0)]
    texts = [_plain_usd(plan.get("total_usd"))]
    colors = ["#4c78a8"]
    for key, raw in _mapping(plan.get("baselines")).items():
        b = _mapping(raw)
        labels.append(_BASELINE_LABELS.get(key, str(key)))
        feasible = bool(b.get("feasible")) and isinstance(b.get("total_usd"), int | float)
        values.append(float(b["total_usd"]) if feasible else 0.0)
        texts.append(_plain_usd(b.get("total_usd")) if feasible else "infeasible")
        colors.append("#9ecae9" if feasible else "#cccccc")
    fig = go.Figure(layout=_layout(go, yaxis={"title": "total USD"}, showlegend=False))
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


def _sweep_figure(go: Any, sweep: list[Any]) -> Any:
    points = sorted(
        (float(s["cap"]), float(s["total_usd"]))
        for s in map(_mapping, sweep)
        if s.get("feasible")
        and isinstance(s.get("cap"), int | float)
        and isinstance(s.get("total_usd"), int | float)
    )
    fig = go.Figure(
        layout=_layout(
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


def _plain_usd(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return f"${value:,.0f}"
