"""The versioned catalog store: immutable catalog versions in SQLite or PostgreSQL.

A version is named by its content hash (:attr:`Catalog.content_hash`) and written in one
transaction, so it is either all there or not there at all. The embedded catalog is
always available as version ``default``. Reading never creates a database; the tables
are created by the first write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from arbiter.catalog.embedded import DEFAULT_VERSION, default_catalog
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.store import tables as t
from arbiter.store.database import Closing, Database, get_state, set_state

T = TypeVar("T")

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")
_SHORT = 12  # hash digits shown in messages and suggestions
# The tables this store writes (the state table comes with every write).
_TABLES = (t.catalog_versions, t.accelerators, t.offers)


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


class CatalogStore(Closing):
    """Catalog versions in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="catalog store")
        self._url = self._db.store_url

    @classmethod
    def open(cls, url: str) -> CatalogStore:
        return cls(url)

    @property
    def url(self) -> str:
        """The URL with any password masked, as messages show it."""
        return self._url.shown

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
            partial(set_state, key=t.CURRENT_KEY, value=name),
        )
        return name

    # -- plumbing -----------------------------------------------------------------------

    def _read(self, action: str, fn: Callable[[Connection], T], fallback: Callable[[], T]) -> T:
        """``fn`` on a connection, or ``fallback()`` when the store holds nothing yet."""
        return self._db.read(action, fn, fallback, table=t.catalog_versions)

    def _write(self, action: str, fn: Callable[[Connection], T]) -> T:
        """``fn`` in one transaction, after creating the directory and tables if needed."""
        return self._db.write(action, fn, tables=_TABLES)


# -- queries --------------------------------------------------------------------------------


def _current(conn: Connection) -> str:
    return get_state(conn, t.CURRENT_KEY) or DEFAULT_VERSION


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
