from __future__ import annotations

import copy
import json
import re
from typing import Any

import html_pages as pages
import pytest

pytest.importorskip("plotly")


from jinja2 import UndefinedError

from arbiter.report import risk_html as report
from arbiter.results import money
from arbiter.results.risk import RiskReport

# A reduced `arbiter risk --json --recourse` document of the example fleet (500 samples,
# seed 0): fewer shocks and single points of failure, figures rounded to the cent.
RECOURSE: dict[str, Any] = {
    "samples": 500,
    "seed": 0,
    "engine": "local",
    "workers": 1,
    "recourse": True,
    "scenarios": {
        "file": "scenarios.yaml",
        "penalty": 3.0,
        "perf_error": True,
        "shocks": [
            {"kind": "supply_cut", "name": "nvidia-supply-cut", "probability": 0.15},
            {"kind": "price_shift", "name": "hopper-price-spike", "probability": 0.2},
            {"kind": "spot_surge", "name": "spot-preemption-surge", "probability": 0.3},
        ],
    },
    "concentration": {
        "hhi": {
            "compute": {"platform": 0.5823, "provider": 0.3634, "region": 0.3622, "vendor": 0.5823},
            "spend": {"platform": 0.5716, "provider": 0.3495, "region": 0.349, "vendor": 0.5716},
        },
        "shares": {
            "compute": {
                "platform": {"cuda": 0.7028, "neuron": 0.2972},
                "provider": {"aws": 0.2992, "gcp": 0.2314, "lambda": 0.4695},
                "region": {
                    "aws/eu-south-2": 0.002,
                    "aws/us-east-2": 0.2972,
                    "gcp/europe-north1": 0.2313,
                    "gcp/us-west1": 0.0,
                    "lambda/europe-central-1": 0.4695,
                },
                "vendor": {"AWS": 0.2972, "NVIDIA": 0.7028},
            },
            "spend": {
                "platform": {"cuda": 0.6892, "neuron": 0.3108},
                "provider": {"aws": 0.3115, "gcp": 0.2564, "lambda": 0.4321},
                "region": {
                    "aws/eu-south-2": 0.0007,
                    "aws/us-east-2": 0.3108,
                    "gcp/europe-north1": 0.2564,
                    "gcp/us-west1": 0.0001,
                    "lambda/europe-central-1": 0.4321,
                },
                "vendor": {"AWS": 0.3108, "NVIDIA": 0.6892},
            },
        },
        "single_points_of_failure": [
            {
                "group": "vendor",
                "name": "NVIDIA",
                "unserved_share": 0.6931,
                "workloads_hit": [
                    "chat-70b",
                    "lora-70b-support",
                    "lora-8b-codegen",
                    "nightly-batch-8b",
                    "pretrain-70b",
                ],
                "workloads_stopped": [
                    "lora-70b-support",
                    "lora-8b-codegen",
                    "nightly-batch-8b",
                    "pretrain-70b",
                ],
            },
            {
                "group": "provider",
                "name": "lambda",
                "unserved_share": 0.4321,
                "workloads_hit": ["lora-8b-codegen", "pretrain-70b"],
                "workloads_stopped": ["lora-8b-codegen", "pretrain-70b"],
            },
            {
                "group": "region",
                "name": "lambda/europe-central-1",
                "unserved_share": 0.4321,
                "workloads_hit": ["lora-8b-codegen", "pretrain-70b"],
                "workloads_stopped": ["lora-8b-codegen", "pretrain-70b"],
            },
            {
                "group": "region",
                "name": "gcp/europe-north1",
                "unserved_share": 0.2603,
                "workloads_hit": ["chat-70b"],
                "workloads_stopped": [],
            },
        ],
        "top": {
            "platform": {"name": "cuda", "share": 0.6892},
            "provider": {"name": "lambda", "share": 0.4321},
            "region": {"name": "lambda/europe-central-1", "share": 0.4321},
            "vendor": {"name": "NVIDIA", "share": 0.6892},
        },
    },
    "plans": {
        "locked_in": {
            "plan_usd": 38287239.03,
            "mean_usd": 41162908.31,
            "p50_usd": 38287239.03,
            "p95_usd": 52593092.55,
            "cvar95_usd": 66843716.38,
            "unmet_demand_probability": 0.254,
            "expected_unmet_share": 0.0228,
            "missed_deadline_probability": 0.148,
            "hhi": {"platform": 1.0, "provider": 1.0, "region": 1.0, "vendor": 1.0},
            "top": {
                "platform": {"name": "cuda", "share": 1.0},
                "provider": {"name": "aws", "share": 1.0},
                "region": {"name": "aws/us-east-1", "share": 1.0},
                "vendor": {"name": "NVIDIA", "share": 1.0},
            },
            "without_recourse": {
                "mean_usd": 44295458.54,
                "p50_usd": 38287239.03,
                "p95_usd": 67466833.26,
                "cvar95_usd": 77920877.22,
                "unmet_demand_probability": 0.36,
                "expected_unmet_share": 0.0577,
                "missed_deadline_probability": 0.202,
            },
        },
        "plan": {
            "plan_usd": 21817544.9,
            "mean_usd": 23247739.86,
            "p50_usd": 21817544.9,
            "p95_usd": 28910264.36,
            "cvar95_usd": 32457454.07,
            "unmet_demand_probability": 0.262,
            "expected_unmet_share": 0.0039,
            "missed_deadline_probability": 0.146,
            "hhi": {"platform": 0.5716, "provider": 0.3495, "region": 0.349, "vendor": 0.5716},
            "top": {
                "platform": {"name": "cuda", "share": 0.6892},
                "provider": {"name": "lambda", "share": 0.4321},
                "region": {"name": "lambda/europe-central-1", "share": 0.4321},
                "vendor": {"name": "NVIDIA", "share": 0.6892},
            },
            "without_recourse": {
                "mean_usd": 24741075.34,
                "p50_usd": 21817544.9,
                "p95_usd": 37859363.13,
                "cvar95_usd": 42652119.65,
                "unmet_demand_probability": 0.32,
                "expected_unmet_share": 0.0514,
                "missed_deadline_probability": 0.146,
            },
        },
    },
    "histogram": {
        "edges_usd": [
            21817544.9,
            25367486.35,
            28917427.8,
            32467369.26,
            36017310.71,
            39567252.17,
            43117193.62,
            46667135.07,
            50217076.53,
            53767017.98,
            57316959.44,
            60866900.89,
            64416842.34,
            67966783.8,
            71516725.25,
            75066666.71,
            78616608.16,
            82166549.61,
            85716491.07,
            89266432.52,
            92816373.98,
        ],
        "counts": {
            "locked_in": [0, 0, 0, 0, 341, 70, 42, 18, 5, 4, 5, 4, 4, 0, 0, 4, 0, 0, 1, 2],
            "plan": [410, 65, 16, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        },
    },
    "optionality": {
        "value_usd": 17915168.45,
        "plan_difference_usd": 16469694.13,
        "from_shocks_usd": 1445474.32,
        "p5_usd": 15819808.38,
        "p50_usd": 16469694.13,
        "p95_usd": 27421550.05,
        "cvar95_reduction_usd": 34386262.32,
        "probability_it_pays": 1.0,
    },
    "optionality_value_usd": 17915168.45,
    "provenance": {
        "arbiter_version": "0.1.0",
        "catalog_hash": "b8890e68ee75",
        "input_hash": "b8273a66cad6",
    },
}


def _without_replanning(doc: dict[str, Any]) -> dict[str, Any]:
    """The same run without --recourse: the plans' statistics are those without re-planning
    (as the document of that run has them), with its own histogram and optionality."""
    plain = copy.deepcopy(doc)
    plain["recourse"] = False
    for stats in plain["plans"].values():
        stats.update(stats.pop("without_recourse"))
    plain["histogram"]["counts"] = {
        "locked_in": [0, 0, 0, 0, 320, 40, 20, 15, 17, 19, 17, 18, 11, 4, 3, 7, 3, 1, 2, 3],
        "plan": [386, 18, 36, 27, 11, 11, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    }
    plain["optionality"] = {
        "value_usd": 19554383.2,
        "plan_difference_usd": 16469694.13,
        "from_shocks_usd": 3084689.07,
        "p5_usd": 16465890.1,
        "p50_usd": 16469694.13,
        "p95_usd": 30971728.61,
        "cvar95_reduction_usd": 35268757.57,
        "probability_it_pays": 1.0,
    }
    plain["optionality_value_usd"] = 19554383.2
    return plain


@pytest.fixture
def recourse() -> dict[str, Any]:
    return copy.deepcopy(RECOURSE)


@pytest.fixture
def plain() -> dict[str, Any]:
    return _without_replanning(RECOURSE)


def _render(doc: dict[str, Any], *, title: str) -> str:
    """The page of the report ``doc`` is the document of."""
    return report.risk_html(RiskReport.model_validate(doc), title=title)


def _figures(page: str) -> list[dict[str, Any]]:
    """The chart figures the page embeds, parsed as JSON."""
    return [json.loads(m) for m in re.findall(r"^var fig\d+ = (.*);$", page, re.MULTILINE)]


def _cost_traces(page: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in _figures(page)[0]["data"]}


def test_self_contained_with_no_network_references(recourse, plotly_head):
    pages.assert_self_contained(_render(recourse, title="arbiter risk: fleet.yaml"), plotly_head)


def test_charts_are_drawn(recourse):
    page = _render(recourse, title="arbiter risk: fleet.yaml")
    assert 'Plotly.newPlot("chart-cost"' in page
    assert 'Plotly.newPlot("chart-shares"' in page


def test_headline_and_optionality_sentence(plain):
    page = _render(plain, title="arbiter risk: fleet.yaml")
    for text in [
        '<div class="label">Samples</div><div class="value">500</div>',
        '<div class="label">Seed</div><div class="value">0</div>',
        "local (1 worker)",
        '<div class="label">Re-planning</div><div class="value">no</div>',
        "3&times;",
        (
            "The diversified plan saves <b>$19,554,383</b> in expectation against the "
            "locked-in plan: $16,469,694 between the plans themselves, $3,084,689 from the shocks."
        ),
        "from $16,465,890 (P5) to $30,971,729 (P95)",
        "CVaR95 is lower by $35,268,758",
        "cheaper plan in 100.0% of samples",
    ]:
        assert text in page, text


def test_cost_table_without_replanning(plain):
    page = _render(plain, title="arbiter risk: fleet.yaml")
    cost = page[page.index('<section id="cost">') : page.index('<section id="distribution">')]
    assert "Re-planning" not in cost
    for text in [
        "plan",
        "locked_in",
        "$21,817,545",  # plan cost and P50
        "$24,741,075",  # mean
        "$37,859,363",  # P95
        "$42,652,120",  # CVaR95
        "32.0%",  # P(unmet)
        "5.1%",  # mean unmet share
        "14.6%",  # P(missed deadline)
        "$67,466,833",  # locked-in P95
        "$77,920,877",  # locked-in CVaR95
    ]:
        assert text in cost, text
    assert cost.count("<tr><td>") == 2


def test_cost_table_with_replanning_has_rows_without_it(recourse):
    page = _render(recourse, title="arbiter risk: fleet.yaml")
    assert '<div class="label">Re-planning</div><div class="value">yes</div>' in page
    cost = page[page.index('<section id="cost">') : page.index('<section id="distribution">')]
    rows = re.findall(r"<tr><td>.*?</tr>", cost)
    assert len(rows) == 4
    plan_rows = [r for r in rows if "(diversified)" in r]
    with_it, without = plan_rows
    assert "<td>yes</td>" in with_it
    assert "$28,910,264" in with_it  # P95 after re-planning
    assert "$32,457,454" in with_it  # CVaR95 after re-planning
    assert "<td>no</td>" in without
    assert "$37,859,363" in without  # P95 with the plan held fixed
    assert "$42,652,120" in without
    assert "The diversified plan saves <b>$17,915,168</b>" in page


def test_histogram_with_p95_and_cvar_markers(recourse):
    page = _render(recourse, title="arbiter risk: fleet.yaml")
    traces = _cost_traces(page)
    bars = {n: t for n, t in traces.items() if t["type"] == "bar"}
    assert set(bars) == {"plan", "locked_in"}
    assert bars["locked_in"]["y"] == RECOURSE["histogram"]["counts"]["locked_in"]
    assert bars["plan"]["y"] == RECOURSE["histogram"]["counts"]["plan"]
    edges = RECOURSE["histogram"]["edges_usd"]
    assert bars["plan"]["x"][0] == pytest.approx((edges[0] + edges[1]) / 2)
    assert len(bars["plan"]["x"]) == len(edges) - 1
    p95 = traces["plan P95 $28,910,264"]
    cvar = traces["plan CVaR95 $32,457,454"]
    assert p95["x"] == [28910264.36, 28910264.36]
    assert cvar["x"] == [32457454.07, 32457454.07]
    assert p95["line"]["dash"] == "dash"
    assert cvar["line"]["dash"] == "dot"
    assert "locked_in P95 $52,593,093" in traces
    assert "locked_in CVaR95 $66,843,716" in traces
    layout = _figures(page)[0]["layout"]
    assert layout["barmode"] == "overlay"
    assert layout["yaxis"]["type"] == "log"


def test_concentration_and_scenarios(recourse):
    page = _render(recourse, title="arbiter risk: fleet.yaml")
    conc = page[page.index('<section id="concentration">') : page.index('<section id="scenarios">')]
    for text in [
        (
            '<td>vendor</td><td class="num">0.572</td><td class="num">0.582</td>'
            '<td>NVIDIA</td><td class="num">68.9%</td>'
        ),
        "<td>platform</td>",
        "lambda/europe-central-1",
        "HHI 1.000 &middot; aws 100.0%",
        "lora-70b-support, lora-8b-codegen, nightly-batch-8b, pretrain-70b",
        '<td class="num">69.3%</td>',
    ]:
        assert text in conc, text
    shares = {t["name"]: t for t in _figures(page)[1]["data"]}
    assert set(shares) == {"vendor", "provider", "region", "platform"}
    assert shares["provider"]["x"] == ["provider: lambda", "provider: aws", "provider: gcp"]
    scenarios = page[page.index('<section id="scenarios">') :]
    for text in [
        '<td>nvidia-supply-cut</td><td>supply_cut</td><td class="num">15.0%</td>',
        "spot-preemption-surge",
        "scenarios.yaml",
    ]:
        assert text in scenarios, text
    assert "How to read this" in page
    assert "1 sample in 20" in page
    assert "catalog_hash: b8890e68ee75" in page


def test_escapes_hostile_text(recourse):
    evil = "<script>alert(1)</script>"
    recourse["plans"][evil] = recourse["plans"].pop("plan")
    recourse["histogram"]["counts"][evil] = recourse["histogram"]["counts"].pop("plan")
    recourse["scenarios"]["shocks"][0]["name"] = evil
    recourse["scenarios"]["file"] = "<b>bold</b> & more.yaml"
    recourse["concentration"]["single_points_of_failure"][0]["name"] = evil
    recourse["concentration"]["shares"]["spend"]["vendor"][evil] = 0.1
    page = _render(recourse, title="<i>title</i>")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more.yaml" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
    # the only closing script tags are the two the page itself writes
    assert page.lower().count("</script>") == 2
    # and the chart data still parses, with the name intact
    traces = _cost_traces(page)
    assert evil in traces
    assert f"{evil} P95 $28,910,264" in traces


def test_no_locked_in_reference(plain):
    del plain["plans"]["locked_in"]
    del plain["histogram"]["counts"]["locked_in"]
    plain["optionality"] = None
    plain["optionality_value_usd"] = None
    page = _render(plain, title="arbiter risk: fleet.yaml")
    assert "No locked-in reference" in page
    assert "saves" not in page
    assert '<div class="label">Optionality value</div><div class="value">n/a</div>' in page
    assert set(_cost_traces(page)) == {"plan", "plan P95 $37,859,363", "plan CVaR95 $42,652,120"}


def test_negative_optionality_reads_as_extra_cost(plain):
    plain["optionality"].update(
        value_usd=-1500.0, plan_difference_usd=-2000.0, from_shocks_usd=500.0
    )
    plain["optionality"]["cvar95_reduction_usd"] = -250.0
    page = _render(plain, title="arbiter risk: fleet.yaml")
    assert "costs <b>$1,500</b> more in expectation than the locked-in plan" in page
    assert "-$2,000 between the plans themselves, $500 from the shocks" in page
    assert "CVaR95 is higher by $250" in page


def test_recourse_flag_without_rows_without_it(recourse):
    for stats in recourse["plans"].values():
        del stats["without_recourse"]
    page = _render(recourse, title="arbiter risk: fleet.yaml")
    cost = page[page.index('<section id="cost">') : page.index('<section id="distribution">')]
    assert len(re.findall(r"<tr><td>", cost)) == 2


def test_a_report_without_plans_says_none(plain):
    plain["plans"] = {}
    plain["histogram"]["counts"] = {}
    plain["optionality"] = None
    plain["optionality_value_usd"] = None
    page = _render(plain, title="Empty")
    cost = pages.section_of(page, "cost")
    assert "None." in cost
    assert "No locked-in reference" in page
    assert len(_figures(page)) == 2


# --- a risk run of the engine on the examples ------------------------------------------


@pytest.fixture(scope="module")
def example_page(example_risk: RiskReport) -> str:
    return report.risk_html(example_risk, title="arbiter risk: fleet.yaml")


def test_the_example_run_headline_is_the_reports(example_risk, example_page):
    assert pages.metric(example_page, "Samples") == f"{example_risk.sample_count:,}"
    assert pages.metric(example_page, "Seed") == str(example_risk.seed)
    assert pages.metric(example_page, "Re-planning") == "yes"
    value = example_risk.optionality_value_usd
    expected = "n/a" if value is None else money.usd(value)
    assert pages.metric(example_page, "Optionality value") == expected


def test_the_example_run_cost_rows_are_each_plans_statistics(example_risk, example_page):
    expected = []
    for name, s in example_risk.plans.items():
        runs = [("yes", s)] + ([("no", s.without_recourse)] if s.without_recourse else [])
        for replanned, stats in runs:
            figures = [s.plan_usd, stats.mean_usd, stats.p50_usd, stats.p95_usd]
            shares = [stats.unmet_demand_probability, stats.expected_unmet_share]
            missed = stats.missed_deadline_probability
            expected.append(
                [pages.rows(f"<tr><td>{name}</td></tr>")[0][0], replanned]
                + [money.usd(x) for x in [*figures, stats.cvar95_usd]]
                + [f"{100 * x:.1f}%" for x in shares]
                + ["\u2013" if missed is None else f"{100 * missed:.1f}%"]
            )
    cells = pages.rows(pages.section_of(example_page, "cost"))
    assert [[r[0].split(" (")[0], *r[1:]] for r in cells] == expected
    bars = {n: t for n, t in _cost_traces(example_page).items() if t["type"] == "bar"}
    assert {n: tuple(t["y"]) for n, t in bars.items()} == dict(example_risk.histogram.counts)
    assert sum(bars["plan"]["y"]) == example_risk.sample_count


def test_the_example_run_escapes_a_hostile_workload_name(example_risk):
    evil = "<script>alert(1)</script>"
    doc = example_risk.to_dict()
    failures = doc["concentration"]["single_points_of_failure"]
    assert any(p["workloads_stopped"] for p in failures)
    for p in failures:
        p["workloads_stopped"] = [evil if w else w for w in p["workloads_stopped"]]
    page = _render(doc, title="arbiter risk: fleet.yaml")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages.section_of(page, "concentration")
    assert page.lower().count("</script>") == 2


@pytest.mark.parametrize("field", ["seed", "recourse", "scenarios", "optionality"])
def test_a_field_the_report_lacks_fails_it(example_risk, field):
    with pytest.raises(UndefinedError, match=field):
        report.risk_html(pages.Stripped(example_risk, {field}), title="arbiter risk")


def test_a_field_a_single_point_lacks_fails_the_report(example_risk):
    conc = example_risk.concentration
    points = [pages.Stripped(p, {"unserved_share"}) for p in conc.single_points_of_failure]
    assert points
    stripped = pages.Stripped(conc, single_points_of_failure=points)
    with pytest.raises(UndefinedError, match="unserved_share"):
        report.risk_html(pages.Stripped(example_risk, concentration=stripped), title="arbiter risk")
