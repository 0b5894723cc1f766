"""The versioned catalog store (SQLAlchemy): SQLite by default, PostgreSQL by URL."""

from arbiter.catalog.embedded import DEFAULT_VERSION
from arbiter.store.catalog_store import MIN_PREFIX, CatalogStore, VersionInfo
from arbiter.store.urls import ENV_VAR, StoreUrlError, default_db_url

__all__ = [
    "DEFAULT_VERSION",
    "ENV_VAR",
    "MIN_PREFIX",
    "CatalogStore",
    "StoreUrlError",
    "VersionInfo",
    "default_db_url",
]
