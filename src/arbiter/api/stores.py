"""Where the API finds what a user keeps: the catalog, saved plans, calibration profiles
and the service's API tokens (one database, ``ARBITER_DB_URL``, default a SQLite file) and
the capacity file."""

from __future__ import annotations

import os
from pathlib import Path

from arbiter.api.settings import Settings
from arbiter.perf.calibration import CalibrationProfile
from arbiter.store import CalibrationStore, CatalogStore, PlanStore, TokenStore, default_db_url
from arbiter.store.urls import default_sqlite_path

CAPACITY_ENV = "ARBITER_CAPACITY_FILE"


def settings() -> Settings:
    """The settings of this process's environment."""
    return Settings.from_env(os.environ)


def _url(config: Settings) -> str:
    return config.db_url or default_db_url(config.env)


def catalog_store(config: Settings) -> CatalogStore:
    return CatalogStore(_url(config))


def plan_store(config: Settings) -> PlanStore:
    """The saved plans, in the same database as the catalog."""
    return PlanStore(_url(config))


def calibration_store(config: Settings) -> CalibrationStore:
    """The calibration profiles, in the same database as the catalog."""
    return CalibrationStore(_url(config))


def token_store(config: Settings) -> TokenStore:
    """The service's API tokens (``arbiter tokens``), in the same database as the catalog."""
    return TokenStore(_url(config))


def default_capacity_file(config: Settings) -> Path | None:
    """The capacity file a user keeps: ``ARBITER_CAPACITY_FILE``, else ``capacity.yaml``
    beside the default database (``~/.local/share/arbiter/``) if it exists."""
    explicit = config.env.get(CAPACITY_ENV, "").strip()
    if explicit:
        return Path(explicit)
    stored = default_sqlite_path(config.env).parent / "capacity.yaml"
    return stored if stored.is_file() else None


def load_calibration(name: str, config: Settings | None = None) -> CalibrationProfile:
    """The stored calibration profile ``name`` (``arbiter perf calibrate``); an unknown
    name is an :class:`~arbiter.domain.errors.InputError` naming the stored ones."""
    with calibration_store(config or settings()) as store:
        return store.load(name.strip())
