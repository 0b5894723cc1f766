"""An estimate says what its price rests on: the offer's date, source and age."""

from __future__ import annotations

import datetime as dt

import arbiter

WORKLOAD = [
    {
        "name": "chat",
        "kind": "serve",
        "model": "llama-3.1-8b",
        "requests_per_s": 5,
        "input_tokens": 1000,
        "output_tokens": 200,
        "slo": {"ttft_s": 2.0, "tpot_s": 0.05},
    }
]


def test_each_priced_estimate_carries_its_price_date_source_and_age(monkeypatch, tmp_path):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-12-06")
    report = arbiter.estimate(WORKLOAD)
    catalog = {o.offer_id: o for o in arbiter.load_catalog().offers}
    priced = [e for w in report.workloads for e in w.estimates if e.offer is not None]
    assert priced
    for e in priced:
        offer = catalog[e.offer.offer_id]
        assert e.offer.as_of == offer.as_of.text
        assert e.offer.price_source == offer.source
        assert e.offer.price_age_days == (dt.date(2026, 12, 6) - offer.as_of.end).days
