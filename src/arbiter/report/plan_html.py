"""One self-contained HTML page for a fleet plan.

The page embeds plotly.js inline (no CDN, works offline) and draws: spend shares against the
caps, the plan against its baselines and, when the plan carries one, the price of
diversification (cost against cap). Tables list the assignments, enabled platforms, binding
constraints and alternatives. Every piece of text from the plan is HTML-escaped; chart data
is embedded as JSON with ``<``, ``>`` and ``&`` written as unicode escapes, so no value can
close the ``<script>`` it sits in.

Plotly is an optional dependency (``pip install 'arbiter[report]'``). The generic pieces
(formatters, tables, the page and its plotly embedding) live in :mod:`arbiter.report.html`.
"""

from __future__ import annotations

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

__all__ = ["plan_html"]

_DIMENSIONS = ("vendor", "provider", "region")
_BASELINE_LABELS = {
    "locked_in": "Locked in",
    "cheapest_per_hour": "Cheapest per hour",
    "greedy_per_job": "Greedy per job",
}
_COLORS = {"vendor": "#4c78a8", "provider": "#f58518", "region": "#54a24b"}


def plan_html(plan: Mapping[str, Any], *, title: str) -> str:
    """Render ``plan`` (the ``arbiter plan`` JSON document) as one offline HTML page."""
    go = plotly()
    charts: list[tuple[str, Any]] = [
        ("chart-shares", _shares_figure(go, plan)),
        ("chart-baselines", _baselines_figure(go, plan)),
    ]
    sweep = as_list(plan.get("sweep"))
    has_sweep = len(sweep) > 0
    if has_sweep:
        charts.append(("chart-sweep", _sweep_figure(go, sweep)))

    sections = [
        _headline(plan),
        section("Spend shares against caps", chart_div("chart-shares") + _hhi_table(plan)),
        section("Plan against baselines", chart_div("chart-baselines") + _baselines_table(plan)),
        section("Assignments", _assignments_table(plan)),
        section("Platforms enabled", _platforms_table(plan)),
        section("Binding constraints", _binding_table(plan)),
        section("Alternatives", _alternatives_tables(plan)),
        section("Audit", _audit_section(plan), section_id="audit"),
    ]
    if has_sweep:
        sections.append(
            section(
                "Price of diversification",
                chart_div("chart-sweep") + _sweep_note(sweep),
                section_id="sweep",
            )
        )
    return page(title=title, sections=sections, charts=charts, footer_html=footer(plan))


# --- sections -------------------------------------------------------------------------


def _headline(plan: Mapping[str, Any]) -> str:
    items = [
        ("Status", text(plan.get("status"))),
        ("Objective", text(plan.get("objective"))),
        ("Total", usd(plan.get("total_usd"))),
        ("Compute", usd(plan.get("compute_usd"))),
        ("Enablement", usd(plan.get("enablement_usd"))),
        ("Assignments", str(len(as_list(plan.get("assignments"))))),
    ]
    return metrics(items)


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
        "Error band",
    ]
    rows = []
    for raw in as_list(plan.get("assignments")):
        a = as_mapping(raw)
        rows.append(
            [
                text(a.get("workload")),
                text(a.get("kind")),
                text(a.get("accelerator")),
                f"{text(a.get('provider'))} / {text(a.get('region'))}",
                text(a.get("price_regime")) + _spot_basis(a.get("spot")),
                num(a.get("instance_count")),
                num(a.get("accelerator_count")),
                num(a.get("hours"), 1),
                usd(a.get("usd")),
                num(a.get("usd_per_million_tokens"), 3),
                _band(a),
            ]
        )
    return table(headers, rows, numeric={5, 6, 7, 8, 9, 10})


def _band(a: Mapping[str, Any]) -> str:
    """The perf model's 80% band on the assignment's throughput, and its case count."""
    share, cases = a.get("error_band_share"), a.get("band_cases")
    if not isinstance(share, int | float) or not isinstance(cases, int):
        return "-"
    chip = a.get("chip_cases")
    on_chip = f", {chip} on this chip" if isinstance(chip, int) else ""
    return f"\u00b1{100 * share:.0f}% ({cases} case{'' if cases == 1 else 's'}{on_chip})"


def _spot_basis(raw: Any) -> str:
    """`` (0.00126/h, feed, as of 2025-06-28)`` after a spot regime: the spot model's rate
    and what it rests on (its source in the cell's title)."""
    if not isinstance(raw, Mapping):
        return ""
    rate = raw.get("interruptions_per_hour")
    shown = f"{rate:.3g}/h, " if isinstance(rate, (int, float)) else ""
    return (
        f' <span title="{text(raw.get("source"))}">({text(shown)}{text(raw.get("basis"))}, '
        f"as of {text(raw.get('as_of'))})</span>"
    )


def _platforms_table(plan: Mapping[str, Any]) -> str:
    rows = [
        [
            text(p.get("platform")),
            usd(p.get("enable_usd")),
            num(p.get("lead_weeks"), 1),
            "yes" if p.get("already_enabled") else "no",
        ]
        for p in map(as_mapping, as_list(plan.get("platforms_enabled")))
    ]
    return table(
        ["Platform", "Enablement USD", "Lead time (weeks)", "Already enabled"], rows, {1, 2}
    )


def _hhi_table(plan: Mapping[str, Any]) -> str:
    hhi, caps = as_mapping(plan.get("hhi")), as_mapping(plan.get("caps"))
    rows = [
        [escape(dim), num(hhi.get(dim), 3), _cap(caps.get(dim))]
        for dim in _DIMENSIONS
        if dim in hhi or dim in caps
    ]
    return table(["Dimension", "HHI (0..1)", "Cap on any one share"], rows, {1, 2})


def _binding_table(plan: Mapping[str, Any]) -> str:
    rows = [
        [text(b.get("constraint")), usd(b.get("shadow_price_usd")), text(b.get("text"))]
        for b in map(as_mapping, as_list(plan.get("binding")))
    ]
    return table(["Constraint", "Shadow price", "Meaning"], rows, {1})


def _alternatives_tables(plan: Mapping[str, Any]) -> str:
    alternatives = as_mapping(plan.get("alternatives"))
    if not alternatives:
        return '<p class="muted">None.</p>'
    parts = []
    for workload, options in alternatives.items():
        rows = [
            [
                text(o.get("accelerator")),
                f"{text(o.get('provider'))} / {text(o.get('region'))}",
                text(o.get("price_regime")),
                usd(o.get("usd")),
                usd(o.get("enable_usd")),
                usd(o.get("extra_usd")),
                text(", ".join(str(x) for x in as_list(o.get("capacity_full")))),
            ]
            for o in map(as_mapping, as_list(options))
        ]
        head = ["Accelerator", "Provider / region", "Regime", "USD", "Enable USD", "Extra USD"]
        parts.append(
            f"<h3>{text(workload)}</h3>\n"
            + table([*head, "Capacity already full"], rows, {3, 4, 5})
        )
    return "\n".join(parts)


def _baselines_table(plan: Mapping[str, Any]) -> str:
    rows = []
    for key, raw in as_mapping(plan.get("baselines")).items():
        b = as_mapping(raw)
        rows.append(
            [
                escape(_BASELINE_LABELS.get(key, key)),
                usd(b.get("total_usd"))
                if b.get("feasible")
                else escape(str(b["note"]))
                if b.get("note")
                else "infeasible",
            ]
        )
    return table(["Baseline", "Total USD"], rows, {1})


def _sweep_note(sweep: list[Any]) -> str:
    rows = [s for s in map(as_mapping, sweep) if not s.get("feasible", False)]
    timed_out = [_cap(s.get("cap")) for s in rows if s.get("status") == "time_limit"]
    infeasible = [_cap(s.get("cap")) for s in rows if s.get("status") != "time_limit"]
    notes = []
    if infeasible:
        notes.append(f"Infeasible at cap: {', '.join(infeasible)}.")
    if timed_out:
        notes.append(f"No plan found within the time limit at cap: {', '.join(timed_out)}.")
    return "".join(f'<p class="muted">{escape(n)}</p>' for n in notes)


def _cap(value: Any) -> str:
    return pct(value, missing="none")


# --- charts ---------------------------------------------------------------------------


def _shares_figure(go: Any, plan: Mapping[str, Any]) -> Any:
    shares, caps = as_mapping(plan.get("shares")), as_mapping(plan.get("caps"))
    fig = go.Figure(
        layout=layout(
            go,
            yaxis={"title": "share of compute spend", "range": [0, 1.05], "tickformat": ".0%"},
            barmode="group",
        )
    )
    cap_x: list[str] = []
    cap_y: list[float] = []
    for dim in _DIMENSIONS:
        values = as_mapping(shares.get(dim))
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
    texts = [plain_usd(plan.get("total_usd"))]
    colors = ["#4c78a8"]
    for key, raw in as_mapping(plan.get("baselines")).items():
        b = as_mapping(raw)
        labels.append(_BASELINE_LABELS.get(key, str(key)))
        feasible = bool(b.get("feasible")) and isinstance(b.get("total_usd"), int | float)
        values.append(float(b["total_usd"]) if feasible else 0.0)
        texts.append(
            plain_usd(b.get("total_usd"))
            if feasible
            else str(b["note"])
            if b.get("note")
            else "infeasible"
        )
        colors.append("#9ecae9" if feasible else "#cccccc")
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


def _sweep_figure(go: Any, sweep: list[Any]) -> Any:
    points = sorted(
        (float(s["cap"]), float(s["total_usd"]))
        for s in map(as_mapping, sweep)
        if s.get("feasible")
        and isinstance(s.get("cap"), int | float)
        and isinstance(s.get("total_usd"), int | float)
    )
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


def _audit_section(plan: Mapping[str, Any]) -> str:
    """The plan's audit (``optimize/audit.py``): surplus, capacity, quotas and contracts,
    price ages, thin estimates."""
    audit = as_mapping(plan.get("audit"))
    if not audit:
        return '<p class="muted">No audit in this plan document.</p>'
    services = [as_mapping(s) for s in as_list(audit.get("surplus"))]
    padded = "yes" if audit.get("padded") else "none"
    parts = [
        metrics(
            [
                ("Padding", padded),
                ("Idle instances", num(audit.get("idle_instances"))),
                ("Stale prices", num(audit.get("stale_prices"))),
                ("Thin estimates", num(len(as_list(audit.get("thin_estimates"))))),
            ]
        ),
        table(
            ["Service", "Demand tokens/s", "Bought tokens/s", "Surplus", "Within one replica"],
            [
                [
                    text(s.get("workload")),
                    num(s.get("demand_tokens_per_s")),
                    num(s.get("bought_tokens_per_s")),
                    num(s.get("surplus_tokens_per_s")),
                    "yes" if s.get("within_one_replica") else "no",
                ]
                for s in services
            ],
            {1, 2, 3},
        ),
        table(
            ["Capacity", "Chips used", "Obtainable", "Basis", "Needs", "Lead days"],
            [
                [
                    text(
                        f"{a.get('provider')} {a.get('region')} {a.get('accelerator')} "
                        f"{a.get('price_regime')}"
                    ),
                    num(a.get("chips_used")),
                    num(a.get("obtainable_chips")) if a.get("obtainable_chips") else "unlimited",
                    text(a.get("basis")),
                    text(a.get("needs")),
                    num(a.get("lead_days")),
                ]
                for a in map(as_mapping, as_list(audit.get("capacity_assumptions")))
            ],
            {1, 2, 5},
        ),
        table(
            ["Price", "USD/h", "As of", "Age (days)", "Source", "Stale"],
            [
                [
                    text(
                        f"{p.get('provider')} {p.get('region')} {p.get('instance_type')} "
                        f"{p.get('price_regime')}"
                    ),
                    usd(p.get("usd_per_hour")),
                    text(p.get("as_of")),
                    num(p.get("age_days")),
                    text(p.get("source")),
                    "yes" if p.get("stale") else "",
                ]
                for p in map(as_mapping, as_list(audit.get("prices")))
            ],
            {1, 3},
        ),
        table(
            ["Thin estimate", "Platform", "Band", "Published cases", "On the chip"],
            [
                [
                    text(f"{t.get('workload')} on {t.get('accelerator')}"),
                    text(t.get("platform")),
                    f"+/-{pct(t.get('error_band_share'))}",
                    num(t.get("band_cases")),
                    num(t.get("chip_cases")),
                ]
                for t in map(as_mapping, as_list(audit.get("thin_estimates")))
            ],
            {3, 4},
        ),
    ]
    return "".join(parts)
