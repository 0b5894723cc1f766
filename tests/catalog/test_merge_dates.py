"""Importing keeps the newest price: an imported observation older than the one held is
not taken; one of the same date or newer replaces it (arbiter.catalog.importing)."""

from dataclasses import replace

from arbiter.catalog.embedded import default_catalog
from arbiter.catalog.importing import merge_offers
from arbiter.domain.as_of import AsOf


def test_an_older_import_is_not_taken_and_a_newer_one_replaces():
    base = default_catalog()
    held = next(o for o in base.offers if o.as_of.text == "2026-09-16")
    older = replace(held, usd_per_hour=held.usd_per_hour / 2, as_of=AsOf.parse("2025-01-01"))
    merged, replaced, added, old = merge_offers(base, [older])
    assert (replaced, added, old) == (0, 0, 1)
    assert held in merged.offers and older not in merged.offers
    same_day = replace(held, usd_per_hour=held.usd_per_hour / 2)
    merged, replaced, added, old = merge_offers(base, [same_day])
    assert (replaced, added, old) == (1, 0, 0)
    assert same_day in merged.offers and held not in merged.offers
