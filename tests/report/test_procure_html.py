from __future__ import annotations

import copy
from typing import Any

import pytest

pytest.importorskip("plotly")

import html_pages as pages
from jinja2 import UndefinedError

from arbiter.report import procure_html as report
from arbiter.results import money
from arbiter.results.procure import ProcurementPlan

# A reduced `arbiter procure examples/procure.yaml --frontier --json` document: the first
# four quarters, two of the commitments, three points of the frontier, figures rounded.
DOC: dict[str, Any] = {
    "status": "optimal",
    "mip_gap": 9.15e-05,
    "objective_usd": 12230951.88,
    "expected_cost_usd": 9001591.94,
    "p95_usd": 10764533.11,
    "cvar_usd": 10764533.11,
    "cvar_level": 0.95,
    "risk_weight": 0.3,
    "scenario_costs_usd": {"high": 10764533.11, "low": 7532561.71, "mid": 8854636.48},
    "schedule": [
        {
            "product": "gcp-v6e-3y",
            "provider": "gcp",
            "accelerator": "TPU-v6e",
            "region": "us-east5",
            "start_period": 1,
            "chips": 128,
            "term_periods": 12,
            "periods_in_horizon": 3,
            "usd_per_chip_hour": 1.1834,
            "commitment_usd": 2322143.37,
            "upfront_usd": 0.0,
        },
        {
            "product": "aws-h100-3y",
            "provider": "aws",
            "accelerator": "H100-SXM",
            "region": "us-east-1",
            "start_period": 3,
            "chips": 32,
            "term_periods": 12,
            "periods_in_horizon": 1,
            "usd_per_chip_hour": 1.6901,
            "commitment_usd": 236880.49,
            "upfront_usd": 118440.25,
        },
    ],
    "platforms_enabled": ["xla"],
    "utilisation": {
        "gcp-v6e-3y": {"high": 1.0, "low": 1.0, "mid": 1.0},
        "aws-h100-3y": {"high": 1.0, "low": 0.9763, "mid": 1.0},
    },
    "expected_stranded_usd": 2816.96,
    "expected_unmet_share": {"chat": 0.0, "pretrain": 0.0125, "synth-data": 0.0},
    "periods": [
        {
            "period": 0,
            "expected_spend_usd": 512633.95,
            "on_demand_share": 1.0,
            "committed_chips": {},
            "vendor_shares": {"Google": 0.2, "NVIDIA": 0.8},
            "vendor_hhi": 0.68,
            "provider_shares": {"gcp": 0.2, "lambda": 0.8},
            "provider_hhi": 0.68,
        },
        {
            "period": 1,
            "expected_spend_usd": 850881.93,
            "on_demand_share": 0.6101,
            "committed_chips": {"gcp-v6e-3y": 128.0},
            "vendor_shares": {"Google": 0.3899, "NVIDIA": 0.6101},
            "vendor_hhi": 0.5243,
            "provider_shares": {"gcp": 0.3899, "lambda": 0.6101},
            "provider_hhi": 0.5243,
        },
        {
            "period": 2,
            "expected_spend_usd": 602081.16,
            "on_demand_share": 0.449,
            "committed_chips": {"gcp-v6e-3y": 128.0},
            "vendor_shares": {"Google": 0.551, "NVIDIA": 0.449},
            "vendor_hhi": 0.5052,
            "provider_shares": {"gcp": 0.551, "lambda": 0.449},
            "provider_hhi": 0.5052,
        },
        {
            "period": 3,
            "expected_spend_usd": 1003213.97,
            "on_demand_share": 0.3053,
            "committed_chips": {"aws-h100-3y": 32.0, "gcp-v6e-3y": 128.0},
            "vendor_shares": {"Google": 0.5766, "NVIDIA": 0.4234},
            "vendor_hhi": 0.5117,
            "provider_shares": {"aws": 0.1272, "gcp": 0.5766, "lambda": 0.2962},
            "provider_hhi": 0.4364,
        },
    ],
    "estimates": [],
    "value_of_uncertainty": {
        "vss_usd": 52651.56,
        "evpi_usd": 100272.95,
        "rp_usd": 9000028.79,
        "eev_usd": 9052680.35,
        "ws_usd": 8899755.84,
        "vss_tolerance_usd": 900.0,
        "evpi_tolerance_usd": 900.0,
        "warnings": [],
    },
    "frontier": [
        {"risk_weight": 0.0, "expected_cost_usd": 9000028.79, "cvar_usd": 10774460.38},
        {"risk_weight": 0.25, "expected_cost_usd": 9001591.94, "cvar_usd": 10764533.11},
        {"risk_weight": 5.0, "expected_cost_usd": 9203162.5006, "cvar_usd": 10640276.2},
    ],
    "provenance": {
        "catalog_hash": "b8890e68ee75",
        "file": "procure.yaml",
        "arbiter_version": "0.1.0",
    },
}

TITLE = "arbiter procure: procure.yaml"


def _render(doc: dict[str, Any], *, title: str) -> str:
    """The page of the procurement plan ``doc`` is the document of."""
    return report.procure_html(ProcurementPlan.model_validate(doc), title=title)


@pytest.fixture
def doc() -> dict[str, Any]:
    return copy.deepcopy(DOC)


def test_self_contained_with_no_network_references(doc, plotly_head):
    page = _render(doc, title=TITLE)
    pages.assert_self_contained(page, plotly_head)
    assert set(pages.figures(page)) == {
        "chart-commitments",
        "chart-utilisation",
        "chart-spend",
        "chart-frontier",
    }


def test_headline_figures(doc):
    page = _render(doc, title=TITLE)
    for label, value in [
        ("Expected cost", "$9,001,592"),
        ("P95", "$10,764,533"),
        ("CVaR95", "$10,764,533"),
        ("Risk weight", "0.3"),
        ("VSS", "$52,652"),
        ("EVPI", "$100,273"),
        ("Expected stranded spend", "$2,817"),
    ]:
        cell = f'<div class="label">{label}</div><div class="value">{value}</div>'
        assert cell in page, cell
    assert "optimal, MIP gap 0.01%" in page
    assert "Objective $12,230,952" in page
    assert "Platforms enabled: xla." in page
    assert "catalog_hash: b8890e68ee75" in page


def test_schedule_table(doc):
    schedule = pages.section_of(_render(doc, title=TITLE), "schedule")
    for text in [
        (
            "<tr><td>gcp-v6e-3y</td><td>gcp</td><td>TPU-v6e</td><td>us-east5</td>"
            '<td class="num">1</td><td class="num">128</td><td class="num">12</td>'
            '<td class="num">3</td><td class="num">$1.183</td><td class="num">$2,322,143</td>'
            '<td class="num">$0</td></tr>'
        ),
        "aws-h100-3y",
        "H100-SXM",
        "$1.690",
        "$236,880",
        "$118,440",
        "2 commitments, 160 chips, $2,559,024 within the horizon, $118,440 of it up front.",
    ]:
        assert text in schedule, text


def test_commitments_chart_stacks_products_with_on_demand_share(doc):
    page = _render(doc, title=TITLE)
    fig = pages.figures(page)["chart-commitments"]
    assert fig["layout"]["barmode"] == "stack"
    assert fig["layout"]["yaxis2"]["overlaying"] == "y"
    traces = pages.traces(page, "chart-commitments")
    assert set(traces) == {"gcp-v6e-3y", "aws-h100-3y", "on-demand share"}
    assert traces["gcp-v6e-3y"]["type"] == "bar"
    assert traces["gcp-v6e-3y"]["x"] == ["0", "1", "2", "3"]
    assert traces["gcp-v6e-3y"]["y"] == [0.0, 128.0, 128.0, 128.0]
    assert traces["aws-h100-3y"]["y"] == [0.0, 0.0, 0.0, 32.0]
    line = traces["on-demand share"]
    assert line["yaxis"] == "y2"
    assert line["y"] == [1.0, 0.6101, 0.449, 0.3053]


def test_utilisation_table_and_grouped_bars(doc):
    page = _render(doc, title=TITLE)
    util = pages.section_of(page, "utilisation")
    assert "<th>Commitment</th>" in util
    assert (
        '<tr><td>aws-h100-3y</td><td class="num">100.0%</td><td class="num">97.6%</td>'
        '<td class="num">100.0%</td></tr>'
    ) in util
    assert "$2,817 of stranded spend" in util
    assert pages.figures(page)["chart-utilisation"]["layout"]["barmode"] == "group"
    traces = pages.traces(page, "chart-utilisation")
    assert set(traces) == {"high", "low", "mid"}
    assert traces["low"]["x"] == ["gcp-v6e-3y", "aws-h100-3y"]
    assert traces["low"]["y"] == [1.0, 0.9763]


def test_spend_per_period_by_vendor_with_hhi(doc):
    page = _render(doc, title=TITLE)
    spend = pages.section_of(page, "spend")
    for text in [
        (
            '<td class="num">0</td><td class="num">$512,634</td><td class="num">100.0%</td>'
            '<td>NVIDIA 80.0%, Google 20.0%</td><td class="num">0.680</td>'
        ),
        "gcp 57.7%, lambda 29.6%, aws 12.7%",
        '<td class="num">0.436</td>',
        "$1,003,214",
    ]:
        assert text in spend, text
    fig = pages.figures(page)["chart-spend"]
    assert fig["layout"]["barmode"] == "stack"
    traces = pages.traces(page, "chart-spend")
    assert set(traces) == {"NVIDIA", "Google", "vendor HHI", "provider HHI"}
    assert traces["NVIDIA"]["y"][0] == pytest.approx(512633.95 * 0.8)
    assert traces["Google"]["y"][3] == pytest.approx(1003213.97 * 0.5766)
    assert traces["vendor HHI"]["yaxis"] == "y2"
    assert traces["vendor HHI"]["y"] == [0.68, 0.5243, 0.5052, 0.5117]


def test_value_frontier_scenarios_and_unmet(doc):
    page = _render(doc, title=TITLE)
    value = pages.section_of(page, "value")
    assert "$9,000,029" in value
    assert "$52,652" in value
    assert "$100,273" in value
    frontier = pages.section_of(page, "frontier")
    assert (
        '<tr><td class="num">0.25</td><td class="num">$9,001,592</td>'
        '<td class="num">$10,764,533</td></tr>'
    ) in frontier
    assert '<td class="num">5</td><td class="num">$9,203,163</td>' in frontier
    traces = pages.traces(page, "chart-frontier")
    line = traces["frontier"]
    assert line["x"] == [10774460.38, 10764533.11, 10640276.2]
    assert line["y"] == [9000028.79, 9001591.94, 9203162.5006]
    assert line["text"] == ["λ=0", "λ=0.25", "λ=5"]
    assert "this plan (λ=0.3): $9,001,592" in traces
    scenarios = pages.section_of(page, "scenarios")
    assert '<td>high</td><td class="num">$10,764,533</td><td class="num">+$1,762,941</td>' in (
        scenarios
    )
    assert '<td>low</td><td class="num">$7,532,562</td><td class="num">-$1,469,030</td>' in (
        scenarios
    )
    unmet = pages.section_of(page, "unmet")
    assert '<td>pretrain</td><td class="num">1.2%</td>' in unmet
    assert "synth-data" in unmet
    how = pages.section_of(page, "how-to-read")
    for text in ["before demand is known", "break-even", "stranded", "VSS", "EVPI", "frontier"]:
        assert text in how, text


def test_without_frontier_and_with_vss_null(doc):
    del doc["frontier"]
    plan = ProcurementPlan.model_validate(doc)
    # no VSS: the plan made for the average demand cannot serve every scenario
    value = plan.value_of_uncertainty.model_copy(update={"vss_usd": None})
    page = report.procure_html(plan.model_copy(update={"value_of_uncertainty": value}), title=TITLE)
    assert '<section id="frontier">' not in page
    assert "chart-frontier" not in page
    assert set(pages.figures(page)) == {"chart-commitments", "chart-utilisation", "chart-spend"}
    assert '<div class="label">VSS</div><div class="value">n/a</div>' in page
    assert "cannot serve every scenario" in pages.section_of(page, "value")
    assert '<div class="label">EVPI</div><div class="value">$100,273</div>' in page


def test_escapes_hostile_text(doc):
    evil = "<script>alert(1)</script>"
    doc["schedule"][0]["product"] = evil
    doc["utilisation"][evil] = doc["utilisation"].pop("gcp-v6e-3y")
    for period in doc["periods"][1:]:
        period["committed_chips"][evil] = period["committed_chips"].pop("gcp-v6e-3y")
    doc["scenario_costs_usd"][evil] = doc["scenario_costs_usd"].pop("low")
    for shares in doc["utilisation"].values():
        shares[evil] = shares.pop("low")
    doc["expected_unmet_share"][evil] = doc["expected_unmet_share"].pop("chat")
    doc["periods"][0]["vendor_shares"][evil] = doc["periods"][0]["vendor_shares"].pop("Google")
    doc["platforms_enabled"] = [evil]
    doc["status"] = "<b>bold</b> & more"
    doc["provenance"]["file"] = evil
    page = _render(doc, title="<i>title</i>")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
    # the only closing script tags are the two the page itself writes
    assert page.lower().count("</script>") == 2
    # and the chart data still parses, with the names intact
    assert evil in pages.traces(page, "chart-commitments")
    assert evil in pages.traces(page, "chart-utilisation")
    assert evil in pages.traces(page, "chart-spend")
    assert pages.traces(page, "chart-utilisation")["high"]["x"][0] == evil


def test_a_plan_without_commitments(doc):
    doc["schedule"] = []
    doc["utilisation"] = {}
    for period in doc["periods"]:
        period["committed_chips"] = {}
    page = _render(doc, title=TITLE)
    assert "No commitments" in pages.section_of(page, "schedule")
    assert "None." in pages.section_of(page, "utilisation")
    assert set(pages.traces(page, "chart-commitments")) == {"on-demand share"}


# --- a procurement plan of the engine on the example ----------------------------------


@pytest.fixture(scope="module")
def example_page(example_procurement: ProcurementPlan) -> str:
    return report.procure_html(example_procurement, title=TITLE)


def test_the_example_headline_is_the_plans(example_procurement, example_page):
    plan = example_procurement
    value = plan.value_of_uncertainty
    for label, figure in [
        ("Expected cost", plan.expected_cost_usd),
        ("P95", plan.p95_usd),
        (f"CVaR{round(plan.cvar_level * 100)}", plan.cvar_usd),
        ("VSS", value.vss_usd),
        ("EVPI", value.evpi_usd),
        ("Expected stranded spend", plan.expected_stranded_usd),
    ]:
        assert pages.metric(example_page, label) == money.usd(figure, missing="n/a"), label
    assert pages.metric(example_page, "Risk weight") == f"{plan.risk_weight:g}"
    assert f"catalog_hash: {plan.provenance.catalog_hash}" in example_page


def test_the_example_schedule_and_scenarios_are_the_plans(example_procurement, example_page):
    plan = example_procurement
    assert plan.schedule
    schedule = pages.rows(pages.section_of(example_page, "schedule"))
    assert schedule == [
        [
            *(c.product, c.provider, c.accelerator, c.region),
            *(str(c.start_period), f"{c.chips:,}", str(c.term_periods)),
            *(str(c.periods_in_horizon), money.usd(c.usd_per_chip_hour, 3)),
            *(money.usd(c.commitment_usd), money.usd(c.upfront_usd)),
        ]
        for c in plan.schedule
    ]
    chips = sum(c.chips for c in plan.schedule)
    assert f"{chips:,} chips" in pages.section_of(example_page, "schedule")
    scenarios = pages.rows(pages.section_of(example_page, "scenarios"))
    assert [r[:2] for r in scenarios] == [
        [name, money.usd(cost)] for name, cost in plan.scenario_costs_usd.items()
    ]
    # run without --frontier: no frontier section or chart
    assert '<section id="frontier">' not in example_page
    assert "chart-frontier" not in pages.figures(example_page)


@pytest.mark.parametrize("field", ["expected_stranded_usd", "status", "value_of_uncertainty"])
def test_a_field_the_plan_lacks_fails_the_report(example_procurement, field):
    with pytest.raises(UndefinedError, match=field):
        report.procure_html(pages.Stripped(example_procurement, {field}), title=TITLE)
