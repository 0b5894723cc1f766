"""Store fixtures: every store test runs on SQLite and, given a server, on PostgreSQL.

PostgreSQL runs when ``ARBITER_TEST_PG_URL`` is set (``eval "$(bash .ci/postgres.sh)"``
starts a local server and sets it). Each test gets its own schema, dropped afterwards.
With ``CI=true`` and no server the PostgreSQL cases fail instead of skipping, so CI
cannot pass without having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from arbiter.store import CatalogStore

PG_ENV = "ARBITER_TEST_PG_URL"


def _pg_base_url() -> sa.URL:
    raw = os.environ.get(PG_ENV, "")
    if not raw:
        if os.environ.get("CI") == "true":
            pytest.fail(f'CI=true but {PG_ENV} is unset: run `eval "$(bash .ci/postgres.sh)"`')
        pytest.skip(f'no PostgreSQL server: set {PG_ENV} (e.g. `eval "$(bash .ci/postgres.sh)"`)')
    return sa.make_url(raw).set(drivername="postgresql+psycopg")


def _pg_schema_url() -> Iterator[str]:
    """A URL whose connections see only a fresh schema, dropped after the test."""
    base = _pg_base_url()
    schema = f"arbiter_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'arbiter.db'}"
    else:
        yield from _pg_schema_url()


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], CatalogStore]]:
    """Open stores on ``store_url``; all are closed before the schema is dropped."""
    opened: list[CatalogStore] = []

    def open_() -> CatalogStore:
        store = CatalogStore(store_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], CatalogStore]) -> CatalogStore:
    return open_store()


@pytest.fixture
def raw_engine(store_url: str) -> Iterator[sa.Engine]:
    """A plain engine on the same database, to look at rows behind the store's back.

    Connecting creates a SQLite file: use it only after the store has written.
    """
    engine = sa.create_engine(store_url)
    yield engine
    engine.dispose()
