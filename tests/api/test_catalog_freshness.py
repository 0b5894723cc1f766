"""A catalog summary's freshness per provider, worked by hand on a few dated offers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from fleet_helpers import offer

from arbiter.api.cataloging import _freshness
from arbiter.catalog.embedded import default_catalog
from arbiter.domain.as_of import AsOf

ROOT = Path(__file__).resolve().parents[2]


def dated(provider: str, as_of: str):
    return dataclasses.replace(offer(provider, 1.0), as_of=AsOf.parse(as_of))


def test_ages_count_from_the_last_day_each_price_may_have_been_seen():
    offers = [
        dated("p", "2026-11-01"),  # a day: 35 days old on 2026-12-06
        dated("p", "2026-06"),  # a month: from 2026-06-30, 159 days
        dated("p", "2025-10/2026-09"),  # an interval: from 2026-09-30, 67 days
        dated("q", "2026-12-06"),  # today: 0 days
    ]
    rows = _freshness(offers, dt.date(2026, 12, 6), max_age_days=60)
    assert [r.provider for r in rows] == ["p", "q"]  # most offers first
    p, q = rows
    assert (p.offers, p.dated_to_the_day, p.dated_to_the_month, p.dated_by_interval) == (
        3,
        1,
        1,
        1,
    )
    assert (p.newest_age_days, p.oldest_age_days, p.stale) == (35, 159, 2)
    assert (q.offers, q.newest_age_days, q.oldest_age_days, q.stale) == (1, 0, 0, 0)
    # a longer limit: nothing stale
    assert _freshness(offers, dt.date(2026, 12, 6), max_age_days=180)[0].stale == 0


def test_the_readme_figures_of_the_shipped_catalog():
    rows = {
        r.provider: r
        for r in _freshness(default_catalog().offers, dt.date(2026, 12, 6), max_age_days=180)
    }
    runpod, azure = rows["runpod"], rows["azure"]
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = (
        f"on 2026-12-06 {runpod.stale} of RunPod's {runpod.offers} prices are stale (the newest "
        f"{runpod.newest_age_days} days old, the oldest {runpod.oldest_age_days}), and "
        f"{azure.stale} of Azure's {azure.offers}"
    )
    assert said in readme
