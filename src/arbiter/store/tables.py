"""The store's SQL tables, derived from the catalog schema, and row <-> domain conversion.

Besides the catalog versions, the ``plans`` table holds saved fleet plans, the
``calibrations`` table named calibration profiles (``arbiter perf calibrate``), and the
service's ``api_tokens`` (``arbiter tokens``) and ``jobs`` (its background work).

The accelerator and offer columns come from :mod:`arbiter.catalog.schema` (names and
dtypes) and from the domain classes (which fields may be ``None``), so a column added
there appears here without a second list to keep in step.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from arbiter.catalog.schema import ACCELERATOR_COLUMNS, OFFER_COLUMNS, Column
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.offer import Offer

# Bumped when the layout changes incompatibly; stored in store_state under SCHEMA_KEY.
SCHEMA_VERSION = "1"
SCHEMA_KEY = "schema"
CURRENT_KEY = "current"

# Double, not Float: a plain FLOAT is single precision in some databases, and the
# content hash needs every bit of every number back.
_SQL_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "str": sa.Text,
    "float": sa.Double,
    "int": sa.Integer,
    "bool": sa.Boolean,
}
_PY_TYPES: dict[str, type] = {"float": float, "int": int, "bool": bool}

metadata = sa.MetaData()


def _nullable(cls: type, attr: str) -> bool:
    hint = typing.get_type_hints(cls)[attr]
    return typing.get_origin(hint) in {typing.Union, types.UnionType} and type(
        None
    ) in typing.get_args(hint)


def _data_columns(columns: tuple[Column, ...], cls: type) -> list[sa.Column[Any]]:
    return [
        sa.Column(c.name, _SQL_TYPES[c.dtype], nullable=_nullable(cls, c.attr)) for c in columns
    ]


def _version_fk() -> sa.Column[str]:
    return sa.Column(
        "version_hash",
        sa.String(64),
        sa.ForeignKey("catalog_versions.version_hash"),
        nullable=False,
    )


catalog_versions = sa.Table(
    "catalog_versions",
    metadata,
    sa.Column("version_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=True),
    # A version name, not a foreign key: the parent may be the embedded "default".
    sa.Column("parent_hash", sa.String(64), nullable=True),
    sa.Column("n_offers", sa.Integer, nullable=False),
    sa.Column("n_accelerators", sa.Integer, nullable=False),
)

accelerators = sa.Table(
    "accelerators",
    metadata,
    _version_fk(),
    *_data_columns(ACCELERATOR_COLUMNS, Accelerator),
    # The canonical name is unique within a catalog.
    sa.PrimaryKeyConstraint("version_hash", "name"),
)

offers = sa.Table(
    "offers",
    metadata,
    _version_fk(),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("offer_id", sa.String(12), nullable=False),
    *_data_columns(OFFER_COLUMNS, Offer),
    # The position in the catalog's canonical (sorted) order is the key, not offer_id:
    # a 12-hex-digit digest could, however rarely, collide.
    sa.PrimaryKeyConstraint("version_hash", "position"),
    sa.Index("ix_offers_version_offer_id", "version_hash", "offer_id"),
)

store_state = sa.Table(
    "store_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the UTC wall time is
    stored and UTC is attached again on the way out. Naive datetimes are refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored as UTC: {value.isoformat()}")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: Any,
        dialect: sa.Dialect,  # noqa: ARG002 - the TypeDecorator signature
    ) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


# Saved fleet plans: the whole plan as JSON text, plus the columns a listing shows.
# Independent of the catalog tables (catalog_hash is a name, not a foreign key: the
# plan may come from the embedded catalog or from a version stored elsewhere).
plans = sa.Table(
    "plans",
    metadata,
    # The first 12 hex digits of the SHA-256 of the plan's canonical JSON.
    sa.Column("plan_id", sa.String(12), primary_key=True),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("catalog_hash", sa.Text, nullable=True),
    sa.Column("input_hash", sa.Text, nullable=True),
    sa.Column("total_usd", sa.Double, nullable=True),
    sa.Column("status", sa.Text, nullable=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("ix_plans_created", "created"),
)


# Named calibration profiles (arbiter.perf.calibration): the whole profile as JSON text,
# plus its provenance as columns for the listing. A new table, not a new layout: an
# existing database gains it on the first `arbiter perf calibrate` (SCHEMA_VERSION stays).
calibrations = sa.Table(
    "calibrations",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("created", UtcDateTime(), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("arbiter_version", sa.Text, nullable=False),
    sa.Column("n_cases", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)


# The service's API tokens (arbiter.store.token_store): the secret itself is never stored,
# only its SHA-256. New tables, not a new layout (SCHEMA_VERSION stays).
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_id", sa.String(12), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

# The service's background jobs (arbiter.store.job_store): the request and, once the job
# succeeded, its result document, both as JSON text in the job's own row, so the status
# and the result are written by one statement.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("token_id", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("progress_done", sa.Integer, nullable=False),
    sa.Column("progress_total", sa.Integer, nullable=False),
    sa.Column("progress_label", sa.Text, nullable=False),
    sa.Column("time_limit_s", sa.Double, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("result_ref", sa.Text, nullable=True),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=True),
    sa.Index("ix_jobs_created", "created_at"),
    sa.Index("ix_jobs_token_status", "token_id", "status"),
)


def _sql_value(value: object) -> object:
    # Enums go in by value: psycopg would otherwise dump a Python enum by member name.
    if isinstance(value, AsOf):
        return value.text
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _domain_value(column: Column, value: object) -> object:
    if value is None:
        return None
    if column.dtype == "str":
        # Text columns go through the schema's own parser (AsOf, Platform, PriceRegime ...).
        return column.parse(str(value))
    # The driver already returns numbers and booleans; coerce so a REAL 700.0 stays a
    # float and a SQLite 0/1 becomes a bool, keeping the content hash exact.
    return _PY_TYPES[column.dtype](value)


def accelerator_row(version: str, acc: Accelerator) -> dict[str, object]:
    row = {c.name: _sql_value(getattr(acc, c.attr)) for c in ACCELERATOR_COLUMNS}
    return {"version_hash": version, **row}


def offer_row(version: str, position: int, offer: Offer) -> dict[str, object]:
    row = {c.name: _sql_value(getattr(offer, c.attr)) for c in OFFER_COLUMNS}
    return {"version_hash": version, "position": position, "offer_id": offer.offer_id, **row}


def accelerator_from_row(row: Mapping[Any, Any]) -> Accelerator:
    fields = {c.attr: _domain_value(c, row[c.name]) for c in ACCELERATOR_COLUMNS}
    return Accelerator(**fields)  # type: ignore[arg-type]


def offer_from_row(row: Mapping[Any, Any]) -> Offer:
    fields = {c.attr: _domain_value(c, row[c.name]) for c in OFFER_COLUMNS}
    return Offer(**fields)  # type: ignore[arg-type]
