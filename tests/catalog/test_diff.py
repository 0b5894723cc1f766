from dataclasses import replace

import pytest

from arbiter.catalog.diff import diff_catalogs
from arbiter.catalog.embedded import default_catalog
from arbiter.domain.catalog import Catalog


def test_added_removed_and_repriced():
    base = default_catalog()
    offers = list(base.offers)
    dropped, repriced = offers[0], offers[1]
    new_offer = replace(offers[2], region="mars-north-1")
    changed = replace(repriced, usd_per_hour=repriced.usd_per_hour * 1.25)
    newer = Catalog.of(base.accelerators.values(), [changed, new_offer, *offers[2:]])
    diff = diff_catalogs(base, newer)
    assert [o.key for o in diff.removed] == [dropped.key]
    assert [o.key for o in diff.added] == [new_offer.key]
    (change,) = diff.changed
    assert change.change_share == pytest.approx(0.25)
    assert change.after.offer_id == repriced.offer_id
    assert diff.unchanged == len(offers) - 2


def test_a_catalog_has_no_diff_with_itself():
    assert diff_catalogs(default_catalog(), default_catalog()).is_empty
