from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import html_pages as pages
import pytest

pytest.importorskip("plotly")


from arbiter.report import plan_html

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "plans" / "sample_plan.json"


@pytest.fixture
def plan() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_self_contained_with_no_network_references(plan, plotly_head):
    pages.assert_self_contained(plan_html(plan, title="Fleet plan"), plotly_head)


def test_headline_and_tables(plan):
    page = plan_html(plan, title="Fleet plan")
    for text in [
        "chat-serve",
        "llama-pretrain",
        "$171,250.00",
        "$146,250.00",
        "$25,000.00",
        "optimal",
        "vendor_share[NVIDIA]",
        "Raising the NVIDIA cap by one point would save $1,830.50.",
        "MI300X",
        "us-chicago-1",
        "infeasible",
        "Greedy per job",
        "TPU-v6e",
        "sha256:3f1c0a",
    ]:
        assert text in page, text
    # chart containers for shares and baselines, plus the sweep
    assert 'id="chart-shares"' in page
    assert 'id="chart-baselines"' in page
    assert 'id="sweep"' in page
    assert 'id="chart-sweep"' in page
    assert "Infeasible at cap: 50.0%." in page


def test_escapes_hostile_text(plan):
    evil = "<script>alert(1)</script>"
    plan["assignments"][0]["workload"] = evil
    plan["alternatives"][evil] = plan["alternatives"].pop("chat-serve")
    plan["binding"][0]["text"] = "<b>bold</b> & more"
    page = plan_html(plan, title="<i>title</i>")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt;</title>" in page
    # the only closing script tags are the two the page itself writes
    assert page.lower().count("</script>") == 2


def test_plan_without_sweep_has_no_sweep_section(plan):
    del plan["sweep"]
    page = plan_html(plan, title="Fleet plan")
    assert 'id="sweep"' not in page
    assert "chart-sweep" not in page
    assert "Price of diversification" not in page
    assert "chat-serve" in page


def test_sparse_plan_renders(plan):
    sparse = {"status": "optimal", "objective": "cost", "total_usd": 0.0, "assignments": []}
    page = plan_html(sparse, title="Empty")
    assert "None." in page
    assert "chart-shares" in page


def test_a_spot_assignment_shows_its_rate_and_basis(plan):
    plan["assignments"][0]["price_regime"] = "spot"
    plan["assignments"][0]["spot"] = {
        "interruptions_per_hour": 0.00125519,
        "basis": "feed",
        "source": "AWS Spot Instance Advisor, band >20% <b>",
        "as_of": "2025-06-28",
        "restart_hours": 0.25,
        "throughput_factor": 0.9997,
    }
    page = plan_html(plan, title="Fleet plan")
    assert "(0.00126/h, feed, as of 2025-06-28)" in page
    assert "band &gt;20% &lt;b&gt;" in page  # the source, escaped, in the title
    del plan["assignments"][0]["spot"]
    assert "as of 2025-06-28" not in plan_html(plan, title="Fleet plan")
