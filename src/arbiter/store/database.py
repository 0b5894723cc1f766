"""What every store shares: the engine, one-transaction writes, the layout check, errors.

A :class:`Database` is the connection to one database URL (SQLite or PostgreSQL). The
stores on top of it (catalog versions, saved plans) each name the tables they need; a
write creates those that are missing (and only those) inside its own transaction, so an
existing database gains a new store's tables on that store's first write. Reading never
creates a database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from arbiter.domain.errors import InputError, StoreError
from arbiter.store import tables as t
from arbiter.store.urls import URL_FORMS, StoreUrl, StoreUrlError, parse_store_url

T = TypeVar("T")

_PG_CONNECT_TIMEOUT_S = 10
# How a SQLite transaction starts; writes take the write lock up front (see _sqlite_hooks).
_BEGIN_OPTION = "arbiter_sqlite_begin"


class Database:
    """The database at ``url``, as the store called ``what`` (e.g. "catalog store") uses it.

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str, *, what: str) -> None:
        self.what = what
        self.store_url = parse_store_url(url)
        self.engine = _create_engine(self.store_url, what)
        # Close pooled connections even if the caller never calls close().
        self._finalizer = weakref.finalize(self, self.engine.dispose)

    @property
    def shown(self) -> str:
        """The URL with any password masked, as messages show it."""
        return self.store_url.shown

    def close(self) -> None:
        self._finalizer()

    def read(
        self,
        action: str,
        fn: Callable[[Connection], T],
        fallback: Callable[[], T],
        *,
        table: sa.Table,
    ) -> T:
        """``fn`` on a connection, or ``fallback()`` while ``table`` does not exist yet."""
        path = self.store_url.sqlite_file
        if path is not None and not path.exists():
            return fallback()  # and leave the file uncreated
        with self.guard(action), self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(table.name):
                return fallback()
            self.check_schema(conn, create=False)
            return fn(conn)

    def write(self, action: str, fn: Callable[[Connection], T], *, tables: Iterable[sa.Table]) -> T:
        """``fn`` in one transaction, after creating the directory and ``tables`` if needed.

        The store's state table is always created too: it records the layout version.
        """
        self._make_directory()
        writer = self.engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with self.guard(action, wrote=True), writer.begin() as conn:
            t.metadata.create_all(conn, tables=[t.store_state, *tables])
            self.check_schema(conn, create=True)
            return fn(conn)

    def check_schema(self, conn: Connection, *, create: bool) -> None:
        stored = get_state(conn, t.SCHEMA_KEY)
        if stored is None and create:
            set_state(conn, key=t.SCHEMA_KEY, value=t.SCHEMA_VERSION)
        elif stored not in {None, t.SCHEMA_VERSION}:
            raise StoreError(
                f"the {self.what} has layout version {stored}, but this arbiter reads version "
                f"{t.SCHEMA_VERSION}: use the arbiter that wrote it, or another ARBITER_DB_URL."
            )

    @contextlib.contextmanager
    def guard(self, action: str, *, wrote: bool = False) -> Iterator[None]:
        """Turn database errors into one-paragraph StoreErrors naming the (masked) URL."""
        try:
            yield
        except SQLAlchemyError as exc:
            text = f"cannot {action} in the {self.what} at {self.shown!r}: {detail(exc)}."
            if isinstance(exc, OperationalError | InterfaceError):
                text += f" {self._connection_hint()} {URL_FORMS}"
            if wrote:
                text += " Nothing was written."
            raise StoreError(text) from exc

    def _make_directory(self) -> None:
        path = self.store_url.sqlite_file
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory {str(path.parent)!r} for the {self.what} at "
                f"{self.shown!r}: {exc.strerror or exc}. {URL_FORMS}"
            ) from exc

    def _connection_hint(self) -> str:
        if self.store_url.is_sqlite:
            return (
                "Check that the file is a SQLite database and that it and its directory "
                "are writable."
            )
        return (
            "Check that the PostgreSQL server is running and reachable, and that the user, "
            "password and database name are right."
        )


# -- the store's state (key/value) ----------------------------------------------------------


def get_state(conn: Connection, key: str) -> str | None:
    query = sa.select(t.store_state.c.value).where(t.store_state.c.key == key)
    return conn.execute(query).scalar_one_or_none()


def set_state(conn: Connection, *, key: str, value: str) -> None:
    conn.execute(sa.delete(t.store_state).where(t.store_state.c.key == key))
    conn.execute(sa.insert(t.store_state).values(key=key, value=value))


def detail(exc: SQLAlchemyError) -> str:
    """The driver's own first line (no SQL, no parameters), without a trailing period."""
    source: BaseException = getattr(exc, "orig", None) or exc
    lines = str(source).strip().splitlines()
    return (lines[0] if lines else type(source).__name__).rstrip(".")


# -- times -------------------------------------------------------------------------------


def aware_utc(when: dt.datetime, field: str) -> dt.datetime:
    """``when`` in UTC; a naive datetime is an InputError naming ``field``."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InputError(
            f"the time {when.isoformat()} has no time zone",
            field=field,
            valid="a timezone-aware datetime",
        )
    return when.astimezone(dt.UTC)


def iso(when: dt.datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC (``2026-11-29T10:00:00+00:00``)."""
    return None if when is None else when.astimezone(dt.UTC).isoformat()


# -- engines ------------------------------------------------------------------------------


def _create_engine(url: StoreUrl, what: str) -> Engine:
    try:
        if url.is_sqlite:
            engine = sa.create_engine(url.url)
            _sqlite_hooks(engine)
            return engine
        # Fail in seconds, not minutes, when a PostgreSQL host does not answer.
        args = (
            {} if "connect_timeout" in url.url.query else {"connect_timeout": _PG_CONNECT_TIMEOUT_S}
        )
        return sa.create_engine(url.url, connect_args=args)
    except ImportError as exc:
        raise StoreError(
            f"cannot open the {what} at {url.shown!r}: its database driver is not "
            f"installed ({exc}). For PostgreSQL install psycopg 3: pip install 'arbiter[postgres]'."
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreUrlError(
            f"cannot use the {what} URL {url.shown!r}: {detail(exc)}. {URL_FORMS}"
        ) from exc


def _sqlite_hooks(engine: Engine) -> None:
    """Real transactions on SQLite: BEGIN before every statement, DDL included.

    Python's sqlite3 driver (before 3.16) only begins a transaction before INSERT/UPDATE/
    DELETE, so CREATE TABLE and the SELECT that checks for an existing row would run
    outside it. SQLAlchemy's documented recipe takes over BEGIN; writes use BEGIN IMMEDIATE
    so two writers queue on the lock instead of failing when they upgrade it.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


class Closing:
    """A store holding a :class:`Database` in ``_db``: ``close()`` and ``with`` support."""

    _db: Database

    @property
    def url(self) -> str:
        """The URL with any password masked, as messages show it."""
        return self._db.shown

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
