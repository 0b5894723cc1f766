"""The plan report, rendered from a plan the engine made on the example fleet: every
figure is the plan's own attribute, formatted as every table formats money; hostile
text is escaped; an attribute the plan lacks fails the report."""

from __future__ import annotations

import pytest

pytest.importorskip("plotly")

from html_pages import (
    Stripped,
    assert_self_contained,
    figures,
    metric,
    rows,
    section_of,
    section_titled,
    traces,
)
from jinja2 import UndefinedError

from arbiter.domain.fleet import GROUPS
from arbiter.report import plan_html
from arbiter.results import money
from arbiter.results.plan import Assignment, Plan

TITLE = "arbiter plan: fleet.yaml"
DASH = "\u2013"


@pytest.fixture(scope="module")
def page(example_plan: Plan) -> str:
    return plan_html(example_plan, title=TITLE)


def _pct(share: float | None, missing: str = DASH) -> str:
    return missing if share is None else f"{100 * share:.1f}%"


def _regime(a: Assignment) -> str:
    if a.spot is None:
        return a.price_regime
    s = a.spot
    text = f"{a.price_regime} ({s.interruptions_per_hour:.3g}/h, {s.basis}, as of {s.as_of}"
    if s.spot_share is not None:  # a job with a deadline: its outlook
        text += (
            f"; {100 * s.spot_share:.0f}% of the work on spot, {s.on_demand_hours:.0f} chip-h "
            f"on demand, late {100 * (s.miss_probability or 0.0):.0f}%"
        )
    return text + ")"


def _band(a: Assignment) -> str:
    cases = f"{a.band_cases} case" + ("" if a.band_cases == 1 else "s")
    return f"\u00b1{100 * a.error_band_share:.0f}% ({cases}, {a.chip_cases} on this chip)"


def test_self_contained_with_no_network_references(page, plotly_head):
    assert_self_contained(page, plotly_head)
    assert list(figures(page)) == ["chart-shares", "chart-baselines", "chart-sweep"]


def test_headline_figures_are_the_plans(example_plan, page):
    assert f"<title>{TITLE}</title>" in page
    assert metric(page, "Status") == example_plan.status
    assert metric(page, "Objective") == example_plan.objective
    assert metric(page, "Total") == money.usd(example_plan.total_usd, 2)
    assert metric(page, "Compute") == money.usd(example_plan.compute_usd, 2)
    assert metric(page, "Enablement") == money.usd(example_plan.enablement_usd, 2)
    assert metric(page, "Assignments") == str(len(example_plan.assignments))
    assert f"catalog_hash: {example_plan.provenance.catalog_hash}" in page


def test_a_row_per_assignment_with_its_figures(example_plan, page):
    assert any(a.spot is not None for a in example_plan.assignments)  # the batch job
    expected = [
        [
            a.workload,
            a.kind,
            a.accelerator,
            f"{a.provider} / {a.region}",
            _regime(a),
            f"{a.instance_count:,}",
            f"{a.accelerator_count:,}",
            f"{a.hours:,.1f}",
            money.usd(a.usd, 2),
            DASH if a.usd_per_million_tokens is None else f"{a.usd_per_million_tokens:,.3f}",
            _band(a),
        ]
        for a in example_plan.assignments
    ]
    assert rows(section_titled(page, "Assignments")) == expected


def test_shares_against_caps(example_plan, page):
    hhi = rows(section_titled(page, "Spend shares against caps"))
    assert hhi == [
        [g, f"{example_plan.hhi[g]:.3f}", _pct(example_plan.caps[g], "none")] for g in GROUPS
    ]
    bars = traces(page, "chart-shares")
    for group in GROUPS:
        shares = example_plan.shares[group]
        assert sorted(bars[group]["y"], reverse=True) == bars[group]["y"]
        assert sorted(bars[group]["y"]) == sorted(shares.values())
        assert {x.removeprefix(f"{group}: ") for x in bars[group]["x"]} == set(shares)
    capped = [g for g in GROUPS if example_plan.caps[g] is not None]
    assert capped  # the fleet caps vendor and provider
    expected_caps = [example_plan.caps[g] for g in capped for _ in example_plan.shares[g]]
    assert bars["cap"]["y"] == expected_caps


def test_baselines_table_and_chart(example_plan, page):
    labels = {
        "locked_in": "Locked in",
        "cheapest_per_hour": "Cheapest per hour",
        "greedy_per_job": "Greedy per job",
    }
    baselines = example_plan.baselines or {}
    assert baselines
    expected = [
        [
            labels[key],
            money.usd(b.total_usd, 2) if b.feasible else (b.note or "infeasible"),
        ]
        for key, b in baselines.items()
    ]
    assert rows(section_titled(page, "Plan against baselines")) == expected
    (bar,) = figures(page)["chart-baselines"]["data"]
    assert bar["x"] == ["This plan", *(labels[k] for k in baselines)]
    assert bar["y"][0] == example_plan.total_usd
    assert bar["text"][0] == money.usd(example_plan.total_usd)


def test_platforms_binding_and_alternatives(example_plan, page):
    assert rows(section_titled(page, "Platforms enabled")) == [
        [
            p.platform,
            money.usd(p.enable_usd, 2),
            f"{p.lead_weeks:,.1f}",
            "yes" if p.already_enabled else "no",
        ]
        for p in example_plan.platforms_enabled
    ]
    assert example_plan.binding
    assert rows(section_titled(page, "Binding constraints")) == [
        [b.constraint, money.usd(b.shadow_price_usd, 2, missing=DASH), b.text]
        for b in example_plan.binding
    ]
    alternatives = section_titled(page, "Alternatives")
    assert example_plan.alternatives
    expected = []
    for workload, options in example_plan.alternatives.items():
        assert f"<h3>{workload}</h3>" in alternatives
        expected += [
            [
                o.accelerator,
                f"{o.provider} / {o.region}",
                o.price_regime,
                money.usd(o.usd, 2),
                money.usd(o.enable_usd, 2),
                money.usd(o.extra_usd, 2),
                ", ".join(o.capacity_full),
            ]
            for o in options
        ]
    assert rows(alternatives) == expected


def test_audit_lists_every_price_and_thin_estimate(example_plan, page):
    audit = example_plan.audit
    assert audit is not None
    section = section_of(page, "audit")
    assert metric(section, "Stale prices") == str(audit.stale_prices)
    assert metric(section, "Thin estimates") == str(len(audit.thin_estimates))
    cells = rows(section)
    prices = [
        [
            f"{p.provider} {p.region} {p.instance_type} {p.price_regime}",
            money.usd(p.usd_per_hour, 2),
        ]
        for p in audit.prices
    ]
    assert [r[:2] for r in cells if r[:2] in prices] == prices
    thin = [f"{t.workload} on {t.accelerator}" for t in audit.thin_estimates]
    assert [r[0] for r in cells if r[0] in thin] == thin


def test_the_sweep_draws_the_feasible_caps_and_names_the_others(example_plan, page):
    sweep = example_plan.sweep
    assert sweep is not None
    feasible = sorted((p.cap, p.total_usd) for p in sweep if p.feasible)
    infeasible = [_pct(p.cap) for p in sweep if not p.feasible]
    assert feasible and infeasible  # 100% holds, 60% does not
    (line,) = figures(page)["chart-sweep"]["data"]
    assert list(zip(line["x"], line["y"], strict=True)) == feasible
    assert f"Infeasible at cap: {', '.join(infeasible)}." in section_of(page, "sweep")


def test_a_plan_without_sweep_or_audit(example_plan):
    page = plan_html(example_plan.model_copy(update={"sweep": None, "audit": None}), title=TITLE)
    assert 'id="sweep"' not in page
    assert "chart-sweep" not in page
    assert "Price of diversification" not in page
    assert "No audit in this plan document." in section_of(page, "audit")


def test_escapes_a_hostile_workload_name(example_plan):
    evil = "<script>alert(1)</script>"
    doc = example_plan.to_dict()
    name = doc["assignments"][0]["workload"]
    for a in doc["assignments"]:
        if a["workload"] == name:
            a["workload"] = evil
    doc["alternatives"][evil] = doc["alternatives"].pop(name)
    doc["binding"][0]["text"] = "<b>bold</b> & more"
    page = plan_html(Plan.model_validate(doc), title="<i>title</i>")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
    # the only closing script tags are the two the page itself writes
    assert page.lower().count("</script>") == 2
    assert rows(section_titled(page, "Assignments"))[0][0] == evil


@pytest.mark.parametrize(
    "field", ["status", "enablement_usd", "platforms_enabled", "binding", "alternatives", "audit"]
)
def test_a_field_the_plan_lacks_fails_the_report(example_plan, field):
    with pytest.raises(UndefinedError, match=field):
        plan_html(Stripped(example_plan, {field}), title=TITLE)


def test_a_field_an_assignment_lacks_fails_the_report(example_plan):
    assignments = [Stripped(a, {"hours"}) for a in example_plan.assignments]
    with pytest.raises(UndefinedError, match="hours"):
        plan_html(Stripped(example_plan, assignments=assignments), title=TITLE)
