from __future__ import annotations

import copy
import re
from typing import Any

import pytest

pytest.importorskip("plotly")

import html_pages as pages
from jinja2 import UndefinedError

from arbiter.report import deal_html as report
from arbiter.results import money
from arbiter.results.deal import DealValuation

# A reduced `arbiter deal examples/deals/trainium-10b.yaml --json` document: two years of
# the deal and one after, two tranches, three planning scenarios, three tornado bars, ten
# sampled futures, one commitment per plan; figures rounded.
DOC: dict[str, Any] = {
    "deal": {
        "name": "trainium-10b",
        "counterparty": "aws",
        "covers": ["Trainium2", "Trainium3"],
        "discount": 0.25,
        "tranches": [
            {
                "usd": 4e9,
                "period": 0,
                "kind": "equity",
                "probability": 1.0,
                "condition": "",
                "value_if_paid_usd": 2.8e9,
            },
            {
                "usd": 6e9,
                "period": 4,
                "kind": "equity",
                "probability": 0.7,
                "condition": "usage >= 50% of commitment",
                "value_if_paid_usd": 4.2e9,
            },
        ],
        "credits_usd": 5e8,
        "obligation": {
            "min_spend_usd_per_year": [2e9, 3e9],
            "total_spend_usd": None,
            "ramp": None,
            "committed_usd": 5e9,
            "shortfall_penalty": 1.0,
            "min_share": 0.3,
        },
        "porting": {
            "platform": "neuron",
            "enable_usd": 2e6,
            "lead_weeks": 16.0,
            "efficiency_mean": 0.8667,
            "efficiency_points": [
                {"efficiency": 0.7775, "probability": 0.3},
                {"efficiency": 0.9452, "probability": 0.7},
            ],
        },
        "discount_rate": 0.1,
        "horizon_years": 2,
        "equity_haircut": 0.3,
        "periods": 12,
        "period": "quarter",
    },
    "npv_usd": 1616754274.51,
    "risk_adjusted_value_usd": 1932181515.93,
    "risk_weight": 0.2,
    "cvar_level": 0.95,
    "breakdown": {
        "compute_savings_usd": -4332704292.84,
        "tranches_usd": 5472727272.73,
        "credits_usd": 476731294.62,
        "shortfall_usd": 0.0,
        "shortfall_by_year_usd": [0.0, 1.5e8],
    },
    "scenarios": [
        {"name": "slow", "probability": 0.25, "value_usd": 634536705.76},
        {"name": "plan", "probability": 0.5, "value_usd": 1638293787.01},
        {"name": "fast", "probability": 0.25, "value_usd": -21258342.41},
    ],
    "sides": {
        "with_deal": {
            "status": "optimal",
            "mip_gap": 0.0,
            "expected_net_cost_usd": 28395757618.4,
            "cvar_net_cost_usd": 37769108035.56,
            "objective_usd": 35949579225.52,
            "rounding_usd": 995683.56,
            "fixed_inflow_usd": 2.8e9,
            "platforms_enabled": ["xla", "neuron"],
            "schedule": [
                {
                    "product": "aws-trn2-3y",
                    "provider": "aws",
                    "accelerator": "Trainium2",
                    "region": "us-east-2",
                    "start_period": 1,
                    "chips": 200000,
                    "term_periods": 12,
                    "periods_in_horizon": 11,
                    "usd_per_chip_hour": 0.9375,
                    "commitment_usd": 4930000000.0,
                    "upfront_usd": 0.0,
                }
            ],
            "expected_unmet_share": {"chat": 0.0, "pretrain": 0.0},
            "estimates": [],
            "scenario_net_cost_usd": {
                "slow": 20845780408.04,
                "plan": 28548283262.39,
                "fast": 39367502585.06,
            },
        },
        "without": {
            "status": "optimal",
            "mip_gap": 0.0,
            "expected_net_cost_usd": 30012511892.91,
            "cvar_net_cost_usd": 39346244242.65,
            "objective_usd": 37881760741.44,
            "rounding_usd": 2980931.35,
            "fixed_inflow_usd": 0.0,
            "platforms_enabled": ["xla"],
            "schedule": [
                {
                    "product": "aws-h100-3y",
                    "provider": "aws",
                    "accelerator": "H100-SXM",
                    "region": "us-east-1",
                    "start_period": 8,
                    "chips": 23008,
                    "term_periods": 12,
                    "periods_in_horizon": 4,
                    "usd_per_chip_hour": 0.8436,
                    "commitment_usd": 170033828.13,
                    "upfront_usd": 51010148.44,
                }
            ],
            "expected_unmet_share": {"chat": 0.0, "pretrain": 0.0},
            "estimates": [],
            "scenario_net_cost_usd": {
                "slow": 21480317113.8,
                "plan": 29611743107.6,
                "fast": 39346244242.65,
            },
        },
    },
    "effective_price": {
        "covered_with_deal_usd_per_pflop_hour": 7.0016,
        "alternative_without_deal_usd_per_pflop_hour": 4.059,
        "plan_with_deal_usd_per_pflop_hour": 4.588,
        "plan_without_deal_usd_per_pflop_hour": 4.059,
        "covered_pflop_hours": 2416132502.98,
        "covered_spend_usd": 16916735592.0,
    },
    "lock_in": {
        "with_deal": [
            {
                "year": 0,
                "in_deal": True,
                "spend_usd": 5773956503.89,
                "covered_spend_share": 0.644,
                "covered_compute_share": 0.5566,
                "counterparty_spend_share": 0.644,
                "vendor_shares": {"AWS": 0.644, "NVIDIA": 0.356},
                "vendor_hhi": 0.5415,
                "single_points_of_failure": [],
            },
            {
                "year": 1,
                "in_deal": True,
                "spend_usd": 7901461771.82,
                "covered_spend_share": 0.39,
                "covered_compute_share": 0.3294,
                "counterparty_spend_share": 0.39,
                "vendor_shares": {"AWS": 0.39, "NVIDIA": 0.61},
                "vendor_hhi": 0.5242,
                "single_points_of_failure": [
                    {
                        "group": "vendor",
                        "name": "NVIDIA",
                        "classes_stopped": ["synth-data"],
                        "spend_share": 0.61,
                    }
                ],
            },
            {
                "year": 2,
                "in_deal": False,
                "spend_usd": 11036868929.61,
                "covered_spend_share": 0.0,
                "covered_compute_share": 0.0,
                "counterparty_spend_share": 0.2481,
                "vendor_shares": {"NVIDIA": 1.0},
                "vendor_hhi": 1.0,
                "single_points_of_failure": [
                    {
                        "group": "vendor",
                        "name": "NVIDIA",
                        "classes_stopped": ["chat", "synth-data"],
                        "spend_share": 1.0,
                    }
                ],
            },
        ],
        "without": [
            {
                "year": 0,
                "in_deal": True,
                "spend_usd": 4371882022.4,
                "covered_spend_share": 0.0,
                "covered_compute_share": 0.0,
                "counterparty_spend_share": 0.0,
                "vendor_shares": {"Google": 0.027, "NVIDIA": 0.973},
                "vendor_hhi": 0.9474,
                "single_points_of_failure": [
                    {
                        "group": "provider",
                        "name": "lambda",
                        "classes_stopped": ["synth-data"],
                        "spend_share": 0.973,
                    }
                ],
            },
            {
                "year": 1,
                "in_deal": True,
                "spend_usd": 5989018170.29,
                "covered_spend_share": 0.0,
                "covered_compute_share": 0.0,
                "counterparty_spend_share": 0.0,
                "vendor_shares": {"NVIDIA": 1.0},
                "vendor_hhi": 1.0,
                "single_points_of_failure": [],
            },
            {
                "year": 2,
                "in_deal": False,
                "spend_usd": 11002110888.26,
                "covered_spend_share": 0.0,
                "covered_compute_share": 0.0,
                "counterparty_spend_share": 0.2525,
                "vendor_shares": {"NVIDIA": 1.0},
                "vendor_hhi": 1.0,
                "single_points_of_failure": [],
            },
        ],
    },
    "sensitivity": {
        "settings": "fractional blocks, 0.1% MIP gap, port efficiency at its mean",
        "base_npv_usd": 1746697738.62,
        "base_efficiency": 0.8667,
        "break_evens": [
            {
                "input": "demand_scale",
                "base": 1.0,
                "break_even": 0.3978,
                "bracket": [0.25, 0.5],
                "pays_above": True,
                "grid": [0.25, 0.5, 1.0, 2.0],
                "npv_usd": [-1461763277.28, 1011293046.94, 1746697738.62, 2798142957.28],
            },
            {
                "input": "efficiency",
                "base": 0.8667,
                "break_even": 0.6456,
                "bracket": [0.6, 0.75],
                "pays_above": True,
                "grid": [0.6, 0.75, 0.8667, 1.0],
                "npv_usd": [-394392747.75, 902265557.24, 1747046175.33, 3246700132.29],
            },
            {
                "input": "discount",
                "base": 0.25,
                "break_even": None,
                "bracket": None,
                "pays_above": None,
                "grid": [0.0, 0.25, 0.5],
                "npv_usd": [505217452.87, 1746697738.62, 6067771715.56],
            },
        ],
        "tornado": [
            {
                "input": "other prices",
                "low": "x0.8",
                "high": "x1.2",
                "npv_low_usd": 165723963.54,
                "npv_high_usd": 3872721599.4,
                "swing_usd": 3706997635.86,
            },
            {
                "input": "equity haircut",
                "low": "0%",
                "high": "65%",
                "npv_low_usd": 3996484120.6,
                "npv_high_usd": -346697738.62,
                "swing_usd": 4343181859.22,
            },
            {
                "input": "discount rate",
                "low": "5%",
                "high": "15%",
                "npv_low_usd": 1547063903.47,
                "npv_high_usd": 1911618691.78,
                "swing_usd": 364554788.32,
            },
        ],
    },
    "distribution": {
        "samples": 10,
        "seed": 0,
        "shocks_file": "scenarios.yaml",
        "mean_usd": 2064950826.02,
        "p5_usd": -1456953347.7,
        "p50_usd": 2715779522.5,
        "p95_usd": 5465203159.86,
        "probability_destroys_value": 0.3,
        "values_usd": [
            -607147213.25,
            -21258342.41,
            3261480137.59,
            -1612203126.57,
            1608079319.25,
            3010504381.6,
            3622980779.51,
            2889247721.58,
            2175056522.9,
            5737682819.12,
        ],
    },
    "provenance": {
        "arbiter_version": "0.1.0",
        "catalog_hash": "b8890e68ee75",
        "file": "trainium-10b.yaml",
        "procurement_file": "lab.yaml",
    },
}

TITLE = "arbiter deal: trainium-10b.yaml"
BREAK_EVENS = ["chart-break-even-0", "chart-break-even-1", "chart-break-even-2"]


def _render(doc: dict[str, Any], *, title: str) -> str:
    """The page of the valuation ``doc`` is the document of."""
    return report.deal_html(DealValuation.model_validate(doc), title=title)


@pytest.fixture
def doc() -> dict[str, Any]:
    return copy.deepcopy(DOC)


def _metric(label: str, value: str) -> str:
    return f'<div class="label">{label}</div><div class="value">{value}</div>'


def test_self_contained_with_no_network_references(doc, plotly_head):
    page = _render(doc, title=TITLE)
    pages.assert_self_contained(page, plotly_head)
    assert list(pages.figures(page)) == [
        "chart-lock-in",
        *BREAK_EVENS,
        "chart-tornado",
        "chart-distribution",
    ]
    for div in pages.figures(page):
        assert f'<div class="chart" id="{div}"></div>' in page, div


def test_sections_in_order(doc):
    page = _render(doc, title=TITLE)
    order = ["verdict", "breakdown", "terms", "price", "lock-in", "break-evens", "tornado"]
    order += ["distribution", "scenarios", "schedules"]
    positions = [page.index(f'id="{ident}"') for ident in order]
    assert positions == sorted(positions)
    assert page.index('id="schedules"') < page.index("<footer>")


def test_headline_verdict_and_breakdown(doc):
    page = _render(doc, title=TITLE)
    for label, value in [
        ("Deal", "trainium-10b"),
        ("Counterparty", "aws"),
        ("Covered chips", "Trainium2, Trainium3"),
        ("NPV", "$1.62B"),
        ("Risk-adjusted value", "$1.93B"),
        ("P(destroys value)", "30.0%"),
    ]:
        assert _metric(label, value) in page, label
    assert (
        '<p class="callout" id="verdict">Taking the deal <b>pays</b>: it is worth '
        "<b>$1.62B</b> in expectation"
    ) in page
    assert "plus 0.2 &times; CVaR95, what both plans minimise) is $1.93B." in page
    assert "destroys value</b>" not in page
    assert (
        '<p id="breakdown">NPV $1.62B = compute savings -$4.33B + tranches $5.47B + '
        "credits $476.7M &minus; shortfall $0</p>"
    ) in page


def test_negative_npv_destroys_value(doc):
    doc["npv_usd"] = -420_049_999.0
    doc["risk_adjusted_value_usd"] = -12_345.0
    page = _render(doc, title=TITLE)
    assert _metric("NPV", "-$420.0M") in page
    assert _metric("Risk-adjusted value", "-$12,345") in page
    assert (
        '<p class="callout destroys" id="verdict">Taking the deal <b>destroys value</b>: '
        "it costs the lab <b>$420.0M</b> in expectation"
    ) in page
    assert "Taking the deal <b>pays</b>" not in page
    assert '<p id="breakdown">NPV -$420.0M = ' in page


def test_terms_obligation_porting_and_tranches(doc):
    terms = pages.section_of(_render(doc, title=TITLE), "terms")
    for cell in [
        "<td>Discount off list on covered chips</td><td>25.0%</td>",
        "<td>Usage credits</td><td>$500.0M</td>",
        "<td>$2.00B, $3.00B a year ($5.00B in all)</td>",
        "<td>Expected shortfall (undiscounted)</td><td>$0, $150.0M</td>",
        "<td>Minimum covered share of compute spend</td><td>30.0%</td>",
        (
            "to neuron: $2.0M to enable, 16.0 weeks of lead time; it achieves 86.7% of the "
            "estimated performance on average (0.78 with probability 30.0%, 0.95 with "
            "probability 70.0%)"
        ),
        "<td>Discount rate (a year)</td><td>10.0%</td>",
        "<td>30.0%</td>",
        "<td>Deal horizon</td><td>2 years</td>",
        "<td>12 periods of a quarter</td>",
        (
            '<tr><td>equity</td><td class="num">0</td><td class="num">100.0%</td><td>none</td>'
            '<td class="num">$4.00B</td><td class="num">$2.80B</td></tr>'
        ),
        (
            '<tr><td>equity</td><td class="num">4</td><td class="num">70.0%</td>'
            '<td>usage &gt;= 50% of commitment</td><td class="num">$6.00B</td>'
            '<td class="num">$4.20B</td></tr>'
        ),
    ]:
        assert cell in terms, cell


def test_total_obligation_without_porting_or_tranches(doc):
    doc["deal"]["obligation"].update(
        min_spend_usd_per_year=None, total_spend_usd=8e9, ramp=[0.25, 0.5], committed_usd=8e9
    )
    doc["deal"]["porting"] = None
    doc["deal"]["tranches"] = []
    doc["breakdown"]["shortfall_by_year_usd"] = [0.0]
    terms = pages.section_of(_render(doc, title=TITLE), "terms")
    assert "<td>$8.00B in all, at least 25.0%, 50.0% of it a year</td>" in terms
    assert "<td>Expected shortfall (undiscounted)</td><td>$0</td>" in terms
    assert "<td>Porting</td><td>none: the covered chips run the work at its estimated" in terms
    assert "neuron" not in terms
    assert "None: the deal brings no capital." in terms
    assert "<th>Kind</th>" not in terms


def test_effective_price(doc):
    price = pages.section_of(_render(doc, title=TITLE), "price")
    for cell in [
        '<tr><td>Covered chips, with the deal</td><td class="num">$7.00</td></tr>',
        '<td>The chips bought instead, without the deal</td><td class="num">$4.06</td>',
        '<td>Whole plan, with the deal</td><td class="num">$4.59</td>',
        '<td>Whole plan, without the deal</td><td class="num">$4.06</td>',
        "The covered chips cost <b>72.5% more</b> per delivered PFLOP-hour",
        "take $16.92B for 2,416,132,503 PFLOP-hours",
    ]:
        assert cell in price, cell


def test_effective_price_missing(doc):
    doc["effective_price"]["covered_with_deal_usd_per_pflop_hour"] = None
    price = pages.section_of(_render(doc, title=TITLE), "price")
    assert '<td>Covered chips, with the deal</td><td class="num">&ndash;</td>' in price
    assert "The covered chips cost" not in price
    doc["effective_price"]["covered_with_deal_usd_per_pflop_hour"] = 3.0
    price = pages.section_of(_render(doc, title=TITLE), "price")
    assert "The covered chips cost <b>26.1% less</b>" in price


def test_lock_in_table_and_chart(doc):
    page = _render(doc, title=TITLE)
    lock = pages.section_of(page, "lock-in")
    rows = re.findall(r"<tr><td>.*?</tr>", lock)
    assert len(rows) == 6
    assert [re.findall(r"<td>(.*?)</td>", r)[:2] for r in rows[:2]] == [
        ["0", "with the deal"],
        ["0", "without"],
    ]
    assert rows[0] == (
        '<tr><td>0</td><td>with the deal</td><td class="num">$5.77B</td>'
        '<td class="num">64.4%</td><td class="num">55.7%</td><td class="num">64.4%</td>'
        '<td class="num">0.541</td><td>none</td></tr>'
    )
    assert "<td>provider lambda (synth-data)</td>" in rows[1]
    assert rows[4].startswith("<tr><td>2 (after the deal)</td><td>with the deal</td>")
    assert "<td>vendor NVIDIA (chat/synth-data)</td>" in rows[4]
    assert '<td class="num">24.8%</td>' in rows[4]
    traces = pages.traces(page, "chart-lock-in")
    assert set(traces) == {"with the deal", "without"}
    assert traces["with the deal"]["x"] == ["0", "1", "2"]
    assert traces["with the deal"]["y"] == [0.644, 0.39, 0.0]
    assert traces["without"]["y"] == [0.0, 0.0, 0.0]
    assert pages.figures(page)["chart-lock-in"]["layout"]["yaxis"]["tickformat"] == ".0%"


def test_break_evens_table_and_charts(doc):
    page = _render(doc, title=TITLE)
    section = pages.section_of(page, "break-evens")
    for cell in [
        (
            '<tr><td>demand scale (times the forecast)</td><td class="num">1.00x</td>'
            '<td class="num">0.40x</td><td class="num">0.25x &ndash; 0.50x</td>'
            "<td>above it</td></tr>"
        ),
        '<td class="num">0.65 (a 35.4% performance shortfall)</td>',
        '<td class="num">0.60 &ndash; 0.75</td>',
        (
            '<tr><td>discount off list on covered chips</td><td class="num">25.0%</td>'
            '<td class="num">none</td><td class="num">&ndash;</td>'
            "<td>everywhere on the grid</td></tr>"
        ),
        "fractional blocks, 0.1% MIP gap",
        "the base NPV here is $1.75B",
    ]:
        assert cell in section, cell
    for div in BREAK_EVENS:
        assert f'id="{div}"' in section
    figures = pages.figures(page)
    efficiency = figures["chart-break-even-1"]
    (line,) = efficiency["data"]
    assert line["x"] == [0.6, 0.75, 0.8667, 1.0]
    assert line["y"] == DOC["sensitivity"]["break_evens"][1]["npv_usd"]
    assert "efficiency" in efficiency["layout"]["xaxis"]["title"]["text"]
    zero, base = efficiency["layout"]["shapes"]
    assert (zero["xref"], zero["y0"], zero["y1"]) == ("paper", 0, 0)
    assert (base["yref"], base["x0"], base["x1"]) == ("paper", 0.8667, 0.8667)
    assert figures["chart-break-even-2"]["layout"]["xaxis"]["tickformat"] == ".0%"


def test_break_even_that_never_pays(doc):
    never = doc["sensitivity"]["break_evens"][2]
    never["npv_usd"] = [-3.0, -2.0, -1.0]
    section = pages.section_of(_render(doc, title=TITLE), "break-evens")
    assert "<td>nowhere on the grid</td>" in section
    assert "everywhere on the grid" not in section


def test_tornado_chart_and_table(doc):
    page = _render(doc, title=TITLE)
    figure = pages.figures(page)["chart-tornado"]
    traces = {t["name"]: t for t in figure["data"]}
    assert set(traces) == {"low value", "high value"}
    base = DOC["sensitivity"]["base_npv_usd"]
    low, high = traces["low value"], traces["high value"]
    assert low["orientation"] == high["orientation"] == "h"
    assert low["y"] == ["other prices", "equity haircut", "discount rate"]
    assert low["base"] == [base] * 3
    assert low["x"][0] == pytest.approx(165723963.54 - base)
    assert high["x"][1] == pytest.approx(-346697738.62 - base)
    assert [b + x for b, x in zip(high["base"], high["x"], strict=True)] == pytest.approx(
        [3872721599.4, -346697738.62, 1911618691.78]
    )
    assert low["text"] == ["x0.8", "0%", "5%"]
    assert high["customdata"] == [3872721599.4, -346697738.62, 1911618691.78]
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert sorted(s["x0"] for s in figure["layout"]["shapes"]) == [0.0, base]
    table = pages.section_of(page, "tornado")
    assert (
        '<tr><td>equity haircut</td><td>0%</td><td class="num">$4.00B</td><td>65%</td>'
        '<td class="num">-$346.7M</td><td class="num">$4.34B</td></tr>'
    ) in table
    assert table.index("other prices") < table.index("equity haircut") < table.index("5%")
    assert "from the base NPV ($1.75B, solid line)" in table


def test_distribution_histogram_with_markers(doc):
    page = _render(doc, title=TITLE)
    figure = pages.figures(page)["chart-distribution"]
    traces = {t["name"]: t for t in figure["data"]}
    assert set(traces) == {"sampled futures", "P5 -$1.46B", "P50 $2.72B", "P95 $5.47B"}
    assert traces["sampled futures"]["type"] == "histogram"
    assert traces["sampled futures"]["x"] == DOC["distribution"]["values_usd"]
    assert traces["P5 -$1.46B"]["x"] == [-1456953347.7, -1456953347.7]
    assert traces["P50 $2.72B"]["line"]["dash"] == "dash"
    assert traces["P95 $5.47B"]["yaxis"] == "y2"
    (zero,) = figure["layout"]["shapes"]
    assert (zero["x0"], zero["x1"], zero["yref"]) == (0.0, 0.0, "paper")
    text = pages.section_of(page, "distribution")
    for part in [
        "Over 10 sampled futures (shocks: scenarios.yaml; seed 0)",
        "worth $2.06B on average: P5 -$1.46B, P50 $2.72B, P95 $5.47B",
        "<b>destroys value in 30.0%</b> of them",
    ]:
        assert part in text, part


def test_without_sensitivity_or_distribution(doc):
    del doc["sensitivity"]
    del doc["distribution"]
    page = _render(doc, title=TITLE)
    assert list(pages.figures(page)) == ["chart-lock-in"]
    for ident in ["break-evens", "tornado"]:
        assert "Not computed: the run had <code>--no-sensitivity</code>" in pages.section_of(
            page, ident
        )
    assert "<code>--samples 0</code>" in pages.section_of(page, "distribution")
    assert "chart-tornado" not in page
    assert "chart-distribution" not in page
    assert "P(destroys value)" not in page
    assert _metric("NPV", "$1.62B") in page


def test_scenarios_and_schedules(doc):
    page = _render(doc, title=TITLE)
    scenarios = pages.section_of(page, "scenarios")
    assert (
        '<tr><td>plan</td><td class="num">50.0%</td><td class="num">$1.64B</td>'
        '<td class="num">$28.55B</td><td class="num">$29.61B</td></tr>'
    ) in scenarios
    assert '<td>fast</td><td class="num">25.0%</td><td class="num">-$21.3M</td>' in scenarios
    schedules = pages.section_of(page, "schedules")
    with_deal, without = schedules.split("<h3>Without</h3>")
    assert "<h3>With the deal</h3>" in with_deal
    assert "Expected net cost $28.40B, CVaR95 $37.77B; platforms xla, neuron" in with_deal
    assert (
        "<tr><td>aws-trn2-3y</td><td>aws</td><td>Trainium2</td><td>us-east-2</td>"
        '<td class="num">1</td><td class="num">200,000</td><td class="num">12</td>'
        '<td class="num">11</td><td class="num">$0.938</td><td class="num">$4.93B</td>'
        '<td class="num">$0</td></tr>'
    ) in with_deal
    assert "aws-h100-3y" not in with_deal
    assert "Expected net cost $30.01B, CVaR95 $39.35B; platforms xla;" in without
    assert '<td class="num">$170.0M</td><td class="num">$51.0M</td>' in without
    assert "file: trainium-10b.yaml" in page
    assert "procurement_file: lab.yaml" in page


def test_escapes_hostile_text(doc):
    evil = "<script>alert(1)</script>"
    doc["deal"]["name"] = evil
    doc["deal"]["counterparty"] = "<b>bold</b> & more"
    doc["deal"]["covers"] = [evil]
    doc["deal"]["tranches"][1]["condition"] = evil
    doc["deal"]["porting"]["platform"] = evil
    doc["lock_in"]["with_deal"][1]["single_points_of_failure"][0]["name"] = evil
    doc["sensitivity"]["tornado"][0]["input"] = evil
    doc["sensitivity"]["tornado"][0]["low"] = evil
    doc["sensitivity"]["settings"] = evil
    doc["distribution"]["shocks_file"] = evil
    doc["scenarios"][0]["name"] = evil
    doc["sides"]["with_deal"]["schedule"][0]["product"] = evil
    doc["sides"]["without"]["platforms_enabled"] = [evil]
    doc["provenance"]["file"] = evil
    page = _render(doc, title="<i>title</i>")
    assert evil not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 12
    assert _metric("Deal", "&lt;script&gt;alert(1)&lt;/script&gt;") in page
    assert _metric("Counterparty", "&lt;b&gt;bold&lt;/b&gt; &amp; more") in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
    # the only closing script tags are the two the page itself writes
    assert page.lower().count("</script>") == 2
    # and the chart data still parses, with the names intact
    tornado = pages.traces(page, "chart-tornado")["low value"]
    assert tornado["y"][0] == evil
    assert tornado["text"][0] == evil


# --- a valuation of the engine on the example deal ------------------------------------


@pytest.fixture(scope="module")
def example_page(example_deal: DealValuation) -> str:
    return report.deal_html(example_deal, title=TITLE)


def test_the_example_headline_is_the_valuations(example_deal, example_page):
    v = example_deal
    assert pages.metric(example_page, "Deal") == v.deal.name
    assert pages.metric(example_page, "NPV") == money.usd_short(v.npv_usd)
    assert pages.metric(example_page, "Risk-adjusted value") == money.usd_short(
        v.risk_adjusted_value_usd
    )
    assert v.distribution is not None
    share = v.distribution.probability_destroys_value
    assert pages.metric(example_page, "P(destroys value)") == f"{100 * share:.1f}%"
    verdict = "pays" if v.npv_usd >= 0 else "destroys value"
    assert f"Taking the deal <b>{verdict}</b>" in example_page
    b = v.breakdown
    parts = [b.compute_savings_usd, b.tranches_usd, b.credits_usd, b.shortfall_usd]
    assert (
        f"NPV {money.usd_short(v.npv_usd)} = compute savings {money.usd_short(parts[0])} + "
        f"tranches {money.usd_short(parts[1])} + credits {money.usd_short(parts[2])} "
        f"&minus; shortfall {money.usd_short(parts[3])}"
    ) in example_page


def test_the_example_lock_in_scenarios_and_distribution(example_deal, example_page):
    v = example_deal
    lock = pages.rows(pages.section_of(example_page, "lock-in"))
    assert len(lock) == len(v.lock_in.with_deal) + len(v.lock_in.without)
    with_deal = [r for r in lock if r[1] == "with the deal"]
    assert [r[2] for r in with_deal] == [money.usd_short(y.spend_usd) for y in v.lock_in.with_deal]
    scenarios = pages.rows(pages.section_of(example_page, "scenarios"))
    assert [r[:3] for r in scenarios] == [
        [s.name, f"{100 * s.probability:.1f}%", money.usd_short(s.value_usd)] for s in v.scenarios
    ]
    assert v.distribution is not None
    histogram = pages.traces(example_page, "chart-distribution")["sampled futures"]
    assert histogram["x"] == list(v.distribution.values_usd)
    # run without the sensitivity: both of its sections say so
    for ident in ["break-evens", "tornado"]:
        assert "<code>--no-sensitivity</code>" in pages.section_of(example_page, ident)


@pytest.mark.parametrize("field", ["npv_usd", "breakdown", "effective_price", "scenarios"])
def test_a_field_the_valuation_lacks_fails_the_report(example_deal, field):
    with pytest.raises(UndefinedError, match=field):
        report.deal_html(pages.Stripped(example_deal, {field}), title=TITLE)
