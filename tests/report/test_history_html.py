"""The price-history page: the chart draws every observation at its date (a snapshot's
interval as a bar), one line per offer; the tables carry the figures of the result."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("plotly")

import html_pages as pages

from arbiter.api.price_history import price_history
from arbiter.report.history_html import history_html


@pytest.fixture(scope="module")
def history():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARBITER_TODAY", "2026-11-29")
        mp.setenv("ARBITER_DB_URL", "sqlite:///:memory:")
        return price_history("H100-SXM", providers=["runpod", "nebius", "aws"])


def test_the_page_is_self_contained_and_titled(history, plotly_head):
    page = history_html(history, title="history")
    pages.assert_self_contained(page, plotly_head)
    assert "<h1>history</h1>" in page


def test_each_offer_is_one_trace_at_its_dates(history):
    page = history_html(history, title="history")
    data = pages.figures(page)["chart-history"]["data"]
    assert len(data) == len({o.offer_id for o in history.observations})
    runpod = next(
        o for o in history.moves if o.provider == "runpod" and o.price_regime == "on_demand"
    )
    [trace] = [t for t in data if "NVIDIA H100 80GB HBM3" in t["text"][0] and len(t["x"]) == 2]
    assert trace["x"] == [runpod.first_as_of, runpod.last_as_of]  # days: the point is the day
    assert trace["y"] == [
        runpod.first_usd_per_accelerator_hour,
        runpod.last_usd_per_accelerator_hour,
    ]
    assert trace["mode"] == "lines+markers"
    # a snapshot's interval: the point at its middle, a bar over the whole interval
    snap = next(o for o in history.observations if o.as_of == "2025-10/2026-09")
    start, end = dt.date.fromisoformat(snap.observed_from), dt.date.fromisoformat(snap.observed_to)
    middle = (start + (end - start) / 2).isoformat()
    holder = next(
        t for t in data if middle in t["x"] and any(snap.instance_type in s for s in t["text"])
    )
    i = holder["x"].index(middle)
    assert holder["error_x"]["array"][i] == pytest.approx((end - start).days * 86_400_000 / 2)


def test_the_tables_carry_the_result(history):
    page = history_html(history, title="history")
    moves = pages.section_of(page, "moves")
    for m in history.moves:
        assert m.instance_type in moves
    observations = pages.section_of(page, "observations")
    assert observations.count("<tr>") >= len(history.observations)
    providers = pages.section_of(page, "providers")
    assert {r.provider for r in history.by_provider} == {"runpod", "nebius", "aws"}
    for r in history.by_provider:
        assert r.provider in providers
