"""The store (SQLAlchemy): catalog versions, saved plans, calibration profiles, and the
service's API tokens and jobs, in SQLite or PostgreSQL."""

from arbiter.catalog.embedded import DEFAULT_VERSION
from arbiter.store.calibration_store import CalibrationInfo, CalibrationStore
from arbiter.store.catalog_store import MIN_PREFIX, CatalogStore, VersionInfo
from arbiter.store.job_store import JOB_KINDS, STATUSES, JobInfo, JobStore
from arbiter.store.plan_store import PlanInfo, PlanStore, plan_id
from arbiter.store.token_store import ROLES, TokenInfo, TokenStore
from arbiter.store.urls import ENV_VAR, StoreUrlError, default_db_url

__all__ = [
    "DEFAULT_VERSION",
    "ENV_VAR",
    "JOB_KINDS",
    "MIN_PREFIX",
    "ROLES",
    "STATUSES",
    "CalibrationInfo",
    "CalibrationStore",
    "CatalogStore",
    "JobInfo",
    "JobStore",
    "PlanInfo",
    "PlanStore",
    "StoreUrlError",
    "TokenInfo",
    "TokenStore",
    "VersionInfo",
    "default_db_url",
    "plan_id",
]
