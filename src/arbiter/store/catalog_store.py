"""The versioned catalog store: immutable catalog versions in SQLite or PostgreSQL.

A version is named by its content hash (:attr:`Catalog.content_hash`) and written in one
transaction, so it is either all there or not there at all. The embedded catalog is
always available as version ``default``. Reading never creates a database; the tables
are created by the first write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError

from arbiter.catalog.embedded import DEFAULT_VERSION, default_catalog
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.store import tables as t
from arbiter.store.urls import URL_FORMS, StoreUrl, StoreUrlError, parse_store_url

T = TypeVar("T")

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")
_SHORT = 12  # hash digits shown in messages and suggestions
_PG_CONNECT_TIMEOUT_S = 10
# How a SQLite transaction starts; writes take the write lock up front (see _sqlite_hooks).
_BEGIN_OPTION = "arbiter_sqlite_begin"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One catalog version. ``created_at`` and ``label`` are None only for ``default``;
    ``parent`` is the version it was derived from (a hash or ``default``), if known.
    """

    version: str
    created_at: str | None
    label: str | None
    parent: str | None
    n_offers: int
    n_accelerators: int


def default_version_info() -> VersionInfo:
    catalog = default_catalog()
    return VersionInfo(
        version=DEFAULT_VERSION,
        created_at=None,
        label="embedded catalog",
        parent=None,
        n_offers=len(catalog.offers),
        n_accelerators=len(catalog.accelerators),
    )


class CatalogStore:
    """Catalog versions in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._url = parse_store_url(url)
        self._engine = _create_engine(self._url)
        # Close pooled connections even if the caller never calls close().
        self._finalizer = weakref.finalize(self, self._engine.dispose)

    @classmethod
    def open(cls, url: str) -> CatalogStore:
        return cls(url)

    @property
    def url(self) -> str:
        """The URL with any password masked, as messages show it."""
        return self._url.shown

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------

    def versions(self) -> list[VersionInfo]:
        """``default`` first, then the stored versions by creation time (then hash)."""
        stored: list[VersionInfo] = self._read("list catalog versions", _stored_versions, list)
        return [default_version_info(), *stored]

    def current(self) -> str:
        """The current version's hash, or ``default`` when none was chosen."""
        return self._read("read the current catalog version", _current, lambda: DEFAULT_VERSION)

    def resolve(self, version: str) -> str:
        """``default``, or the full hash that ``version`` (a hash or unique prefix) names."""
        return self._read(
            f"look up catalog version {version!r}",
            lambda conn: _resolve(version, partial(_hashes, conn)),
            lambda: _resolve(version, _no_hashes),
        )

    def load(self, version: str) -> Catalog:
        """The catalog of ``version`` (``default``, a hash or a unique prefix)."""

        def read(conn: Connection) -> Catalog:
            name = _resolve(version, partial(_hashes, conn))
            return default_catalog() if name == DEFAULT_VERSION else _load(conn, name)

        def fallback() -> Catalog:
            _resolve(version, _no_hashes)  # raises unless version is "default"
            return default_catalog()

        return self._read(f"load catalog version {version!r}", read, fallback)

    # -- writing ------------------------------------------------------------------------

    def save(
        self,
        catalog: Catalog,
        *,
        label: str | None,
        created_at: dt.datetime,
        parent: str | None = None,
    ) -> VersionInfo:
        """Store ``catalog`` as a new version, in one transaction; return its info.

        The catalog is stored in canonical form (``Catalog.of``), so the version is
        ``Catalog.of(...).content_hash`` (equal to ``catalog.content_hash`` for any catalog
        built with ``Catalog.of``). Saving content that is already stored writes nothing
        and returns the existing version, with its original label and date.
        """
        canonical = Catalog.of(catalog.accelerators.values(), catalog.offers)
        version = canonical.content_hash

        def write(conn: Connection) -> VersionInfo:
            existing = _version_info(conn, version)
            if existing is not None:
                return existing
            info = VersionInfo(
                version=version,
                created_at=_iso(created_at),
                label=label,
                parent=None if parent is None else _resolve(parent, partial(_hashes, conn)),
                n_offers=len(canonical.offers),
                n_accelerators=len(canonical.accelerators),
            )
            _insert(conn, info, canonical)
            return info

        try:
            return self._write(f"save catalog version {version[:_SHORT]}", write)
        except StoreError as exc:
            # A concurrent writer may have stored the same content first; that is success.
            if isinstance(exc.__cause__, IntegrityError):
                found = self._read(
                    "re-read a catalog version",
                    partial(_version_info, version=version),
                    lambda: None,
                )
                if found is not None:
                    return found
            raise

    def use(self, version: str) -> str:
        """Make ``version`` current; return its resolved name. Unknown names raise."""
        name = self.resolve(version)
        if name == DEFAULT_VERSION and self.current() == DEFAULT_VERSION:
            return name  # nothing to record: do not create a database for it
        self._write(
            f"set the current catalog version to {name[:_SHORT]}",
            partial(_set_state, key=t.CURRENT_KEY, value=name),
        )
        return name

    # -- plumbing -----------------------------------------------------------------------

    def _read(self, action: str, fn: Callable[[Connection], T], fallback: Callable[[], T]) -> T:
        """``fn`` on a connection, or ``fallback()`` when the store holds nothing yet."""
        path = self._url.sqlite_file
        if path is not None and not path.exists():
            return fallback()  # and leave the file uncreated
        with self._guard(action), self._engine.connect() as conn:
            return fn(conn) if _initialised(conn) else fallback()

    def _write(self, action: str, fn: Callable[[Connection], T]) -> T:
        """``fn`` in one transaction, after creating the directory and tables if needed."""
        self._make_directory()
        writer = self._engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with self._guard(action, wrote=True), writer.begin() as conn:
            t.metadata.create_all(conn)
            _check_schema(conn, create=True)
            return fn(conn)

    def _make_directory(self) -> None:
        path = self._url.sqlite_file
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the directory {str(path.parent)!r} for the catalog store at "
                f"{self._url.shown!r}: {exc.strerror or exc}. {URL_FORMS}"
            ) from exc

    def _connection_hint(self) -> str:
        if self._url.is_sqlite:
            return (
                "Check that the file is a SQLite database and that it and its directory "
                "are writable."
            )
        return (
            "Check that the PostgreSQL server is running and reachable, and that the user, "
            "password and database name are right."
        )

    @contextlib.contextmanager
    def _guard(self, action: str, *, wrote: bool = False) -> Iterator[None]:
        """Turn database errors into one-paragraph StoreErrors naming the (masked) URL."""
        try:
            yield
        except SQLAlchemyError as exc:
            text = f"cannot {action} in the catalog store at {self._url.shown!r}: {_detail(exc)}."
            if isinstance(exc, OperationalError | InterfaceError):
                text += f" {self._connection_hint()} {URL_FORMS}"
            if wrote:
                text += " Nothing was written."
            raise StoreError(text) from exc


# -- engines ------------------------------------------------------------------------------


def _create_engine(url: StoreUrl) -> Engine:
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
            f"cannot open the catalog store at {url.shown!r}: its database driver is not "
            f"installed ({exc}). For PostgreSQL install psycopg 3: pip install 'arbiter[postgres]'."
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreUrlError(
            f"cannot use the catalog store URL {url.shown!r}: {_detail(exc)}. {URL_FORMS}"
        ) from exc


def _sqlite_hooks(engine: Engine) -> None:
    """Real transactions on SQLite: BEGIN before every statement, DDL included.

    Python's sqlite3 driver (before 3.16) only begins a transaction before INSERT/UPDATE/
    DELETE, so CREATE TABLE and the SELECT that checks for an existing version would run
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


def _detail(exc: SQLAlchemyError) -> str:
    """The driver's own first line (no SQL, no parameters), without a trailing period."""
    source: BaseException = getattr(exc, "orig", None) or exc
    lines = str(source).strip().splitlines()
    return (lines[0] if lines else type(source).__name__).rstrip(".")


# -- queries --------------------------------------------------------------------------------


def _initialised(conn: Connection) -> bool:
    if not sa.inspect(conn).has_table(t.catalog_versions.name):
        return False
    _check_schema(conn, create=False)
    return True


def _check_schema(conn: Connection, *, create: bool) -> None:
    stored = _state(conn, t.SCHEMA_KEY)
    if stored is None and create:
        _set_state(conn, key=t.SCHEMA_KEY, value=t.SCHEMA_VERSION)
    elif stored not in {None, t.SCHEMA_VERSION}:
        raise StoreError(
            f"the catalog store has layout version {stored}, but this arbiter reads version "
            f"{t.SCHEMA_VERSION}: use the arbiter that wrote it, or another ARBITER_DB_URL."
        )


def _state(conn: Connection, key: str) -> str | None:
    query = sa.select(t.store_state.c.value).where(t.store_state.c.key == key)
    return conn.execute(query).scalar_one_or_none()


def _set_state(conn: Connection, *, key: str, value: str) -> None:
    conn.execute(sa.delete(t.store_state).where(t.store_state.c.key == key))
    conn.execute(sa.insert(t.store_state).values(key=key, value=value))


def _current(conn: Connection) -> str:
    return _state(conn, t.CURRENT_KEY) or DEFAULT_VERSION


def _info(row: sa.RowMapping) -> VersionInfo:
    return VersionInfo(
        version=row["version_hash"],
        created_at=row["created_at"],
        label=row["label"],
        parent=row["parent_hash"],
        n_offers=row["n_offers"],
        n_accelerators=row["n_accelerators"],
    )


def _stored_versions(conn: Connection) -> list[VersionInfo]:
    v = t.catalog_versions
    query = sa.select(v).order_by(v.c.created_at, v.c.version_hash)
    return [_info(row) for row in conn.execute(query).mappings()]


def _version_info(conn: Connection, version: str) -> VersionInfo | None:
    v = t.catalog_versions
    row = conn.execute(sa.select(v).where(v.c.version_hash == version)).mappings().first()
    return None if row is None else _info(row)


def _hashes(conn: Connection, prefix: str) -> list[str]:
    column = t.catalog_versions.c.version_hash
    query = sa.select(column).where(column.startswith(prefix, autoescape=True)).order_by(column)
    return list(conn.execute(query).scalars())


def _no_hashes(_prefix: str) -> list[str]:
    return []


def _resolve(version: str, hashes: Callable[[str], list[str]]) -> str:
    """``default`` or the one stored hash ``version`` starts with; else a helpful error."""
    key = version.strip().lower()
    if key == DEFAULT_VERSION:
        return key
    matches = hashes(key) if _HEX.match(key) else []
    if len(matches) == 1 and len(key) >= MIN_PREFIX:
        return matches[0]
    if len(matches) > 1 and len(key) >= MIN_PREFIX:
        shown = ", ".join(h[:_SHORT] for h in matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise InputError(
            f"catalog version prefix {version!r} is ambiguous: {len(matches)} versions start "
            f"with it ({shown})",
            valid="a longer prefix of the version hash, or 'default'",
        )
    if matches:
        raise InputError(
            f"catalog version prefix {version!r} is too short",
            valid=f"at least {MIN_PREFIX} hex digits of a version hash, or 'default'",
        )
    known = [DEFAULT_VERSION, *(h[:_SHORT] for h in hashes(""))]
    raise UnknownNameError("catalog version", version, known)


def _load(conn: Connection, version: str) -> Catalog:
    a, o = t.accelerators, t.offers
    acc_rows = conn.execute(sa.select(a).where(a.c.version_hash == version)).mappings()
    offer_query = sa.select(o).where(o.c.version_hash == version).order_by(o.c.position)
    offer_rows = conn.execute(offer_query).mappings()
    try:
        catalog = Catalog.of(
            (t.accelerator_from_row(r) for r in acc_rows), (t.offer_from_row(r) for r in offer_rows)
        )
    except ValueError as exc:
        raise _damaged(version, str(exc)) from exc
    if catalog.content_hash != version:
        raise _damaged(version, f"its rows hash to {catalog.content_hash[:_SHORT]}")
    return catalog


def _damaged(version: str, why: str) -> StoreError:
    return StoreError(
        f"catalog version {version[:_SHORT]} in the store is damaged ({why}); versions are "
        "immutable, so its rows were changed outside arbiter. Use another version or re-import."
    )


def _insert(conn: Connection, info: VersionInfo, catalog: Catalog) -> None:
    conn.execute(
        sa.insert(t.catalog_versions).values(
            version_hash=info.version,
            created_at=info.created_at,
            label=info.label,
            parent_hash=info.parent,
            n_offers=info.n_offers,
            n_accelerators=info.n_accelerators,
        )
    )
    accs = [t.accelerator_row(info.version, acc) for acc in catalog.accelerators.values()]
    offers = [t.offer_row(info.version, i, offer) for i, offer in enumerate(catalog.offers)]
    if accs:
        conn.execute(sa.insert(t.accelerators), accs)
    if offers:
        conn.execute(sa.insert(t.offers), offers)


def _iso(created_at: dt.datetime) -> str:
    # Aware times are stored in UTC so that text order is time order.
    if created_at.tzinfo is not None:
        created_at = created_at.astimezone(dt.UTC)
    return created_at.isoformat()
