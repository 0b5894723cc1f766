"""The store (SQLAlchemy): catalog versions, saved plans and calibration profiles, in
SQLite or PostgreSQL."""

from arbiter.catalog.embedded import DEFAULT_VERSION
from arbiter.store.calibration_store import CalibrationInfo, CalibrationStore
from arbiter.store.catalog_store import MIN_PREFIX, CatalogStore, VersionInfo
from arbiter.store.plan_store import PlanInfo, PlanStore, plan_id
from arbiter.store.urls import ENV_VAR, StoreUrlError, default_db_url

__all__ = [
    "DEFAULT_VERSION",
    "ENV_VAR",
    "MIN_PREFIX",
    "CalibrationInfo",
    "CalibrationStore",
    "CatalogStore",
    "PlanInfo",
    "PlanStore",
    "StoreUrlError",
    "VersionInfo",
    "default_db_url",
    "plan_id",
]
