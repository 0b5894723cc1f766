"""A catalog refresh on each database (SQLite, and PostgreSQL given a server): the sources
that worked become one new version, written in one transaction; when every source fails
the store is left as it was."""

from __future__ import annotations

import httpx

from arbiter.api.refreshing import refresh_catalog
from arbiter.api.settings import Settings
from arbiter.catalog.embedded import DEFAULT_VERSION, default_catalog
from recorded_feeds import ENV, recorded_client, recordings, status


def _config(store_url: str) -> Settings:
    return Settings.from_env({**ENV, "ARBITER_DB_URL": store_url, "ARBITER_TODAY": "2026-12-07"})


def test_a_partial_refresh_is_one_new_version(store, store_url):
    failing = {"api.runpod.io": status(502)}
    result = refresh_catalog(client=recorded_client(failing), config=_config(store_url))
    assert result.status == "partial"
    assert store.current() == result.version
    (info,) = [v for v in store.versions() if v.version == result.version]
    assert info.parent == DEFAULT_VERSION and info.label == result.label
    loaded = store.load(result.version or "")
    assert loaded.content_hash == result.version and len(loaded.offers) == result.n_offers
    assert store.load(DEFAULT_VERSION) == default_catalog()


def test_when_every_source_fails_the_store_is_untouched(store, store_url):
    failing = {httpx.URL(u).host: status(500) for u in recordings()}
    result = refresh_catalog(client=recorded_client(failing), config=_config(store_url))
    assert result.status == "failed" and result.version is None
    assert [v.version for v in store.versions()] == [DEFAULT_VERSION]
    assert store.current() == DEFAULT_VERSION
