"""Named calibration profiles (:mod:`arbiter.perf.calibration`) in the catalog database.

A profile is stored whole, as JSON text (:meth:`CalibrationProfile.to_dict`), under its
name, in one transaction, with its provenance copied into columns for the listing: the
measurements' file name and SHA-256, when it was fitted, by which arbiter, on how many
cases. The profiles live in the same database as the catalog versions and saved plans
(``ARBITER_DB_URL``: SQLite by default, PostgreSQL by URL); a database written by an
older arbiter gains the ``calibrations`` table on the first save, and its layout version
does not change. Reading never creates a database. A name holds one profile: saving
under a name in use is refused unless the caller asks to replace it.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from dataclasses import dataclass
from typing import NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.perf.calibration import CalibrationProfile, check_name
from arbiter.store import tables as t
from arbiter.store.database import Closing, Database

_MAKE_ONE = "create one with `arbiter perf calibrate FILE --name NAME`"


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """One stored profile, as the listing shows it."""

    name: str
    created: dt.datetime
    file_name: str
    file_sha256: str
    arbiter_version: str
    n_cases: int


class CalibrationStore(Closing):
    """Calibration profiles in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="calibration store")

    # -- writing ------------------------------------------------------------------------

    def save(self, profile: CalibrationProfile, *, replace: bool = False) -> None:
        """Store ``profile`` under its name in one transaction. A name in use is an
        InputError (``--name``) unless ``replace``, which overwrites it."""
        name = check_name(profile.name)
        p = profile.provenance
        try:
            created = dt.datetime.fromisoformat(p.created)
        except ValueError:
            raise InputError(
                f"the profile's creation time {p.created!r} is not an ISO 8601 time"
            ) from None
        if created.tzinfo is None:
            raise InputError(f"the profile's creation time {p.created!r} has no time zone")
        row = {
            "name": name,
            "created": created.astimezone(dt.UTC),
            "file_name": p.file,
            "file_sha256": p.file_sha256,
            "arbiter_version": p.arbiter_version,
            "n_cases": p.cases,
            "document": json.dumps(profile.to_dict(), indent=2, allow_nan=False),
        }

        def write(conn: Connection) -> None:
            table = t.calibrations
            found = _infos(conn, name)
            if found and not replace:
                _exists(found[0])
            conn.execute(sa.delete(table).where(table.c.name == name))
            conn.execute(sa.insert(table).values(**row))

        try:
            self._db.write(f"save calibration profile {name!r}", write, tables=[t.calibrations])
        except StoreError as exc:
            # a concurrent writer stored the name first
            if isinstance(exc.__cause__, IntegrityError) and not replace:
                found = self.list_info(name)
                if found:
                    _exists(found[0])
            raise

    # -- reading ------------------------------------------------------------------------

    def list_info(self, name: str | None = None) -> builtins.list[CalibrationInfo]:
        """The listing rows (all, or the one called ``name``), by name."""
        return self._db.read(
            "list calibration profiles",
            lambda conn: _infos(conn, name),
            builtins.list,
            table=t.calibrations,
        )

    def list(self) -> builtins.list[CalibrationProfile]:
        """Every stored profile, by name."""

        def read(conn: Connection) -> builtins.list[CalibrationProfile]:
            query = sa.select(t.calibrations.c.name, t.calibrations.c.document).order_by(
                t.calibrations.c.name
            )
            return [_profile(n, doc) for n, doc in conn.execute(query)]

        return self._db.read("list calibration profiles", read, builtins.list, table=t.calibrations)

    def names(self) -> builtins.list[str]:
        return [i.name for i in self.list_info()]

    def load(self, name: str, *, field: str = "--calibration") -> CalibrationProfile:
        """The profile called ``name``; an unknown name is an UnknownNameError on
        ``field`` listing the stored names (exit 2)."""

        def read(conn: Connection) -> CalibrationProfile:
            query = sa.select(t.calibrations.c.document).where(t.calibrations.c.name == name)
            text = conn.execute(query).scalar_one_or_none()
            if text is None:
                _unknown(name, [i.name for i in _infos(conn)], field)
            return _profile(name, text)

        return self._db.read(
            f"load calibration profile {name!r}",
            read,
            lambda: _unknown(name, [], field),
            table=t.calibrations,
        )


# -- helpers ------------------------------------------------------------------------------


def _infos(conn: Connection, name: str | None = None) -> builtins.list[CalibrationInfo]:
    c = t.calibrations
    query = sa.select(
        c.c.name, c.c.created, c.c.file_name, c.c.file_sha256, c.c.arbiter_version, c.c.n_cases
    ).order_by(c.c.name)
    if name is not None:
        query = query.where(c.c.name == name)
    return [CalibrationInfo(**row) for row in conn.execute(query).mappings()]


def _profile(name: str, text: str) -> CalibrationProfile:
    try:
        profile = CalibrationProfile.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"calibration profile {name!r} in the store is damaged ({type(exc).__name__}: "
            f"{exc}); calibrate again with --replace."
        ) from exc
    if profile.name != name:
        raise StoreError(
            f"calibration profile {name!r} in the store holds a profile named "
            f"{profile.name!r}; calibrate again with --replace."
        )
    return profile


def _exists(info: CalibrationInfo) -> NoReturn:
    raise InputError(
        f"a calibration profile named {info.name!r} exists (fitted "
        f"{info.created.isoformat(timespec='seconds')} on {info.n_cases} cases of "
        f"{info.file_name})",
        field="--name",
        valid="another name, or --replace to overwrite it",
    )


def _unknown(name: str, known: builtins.list[str], field: str) -> NoReturn:
    if not known:
        raise InputError(
            f"no calibration profile called {name!r}: none is stored", field=field, valid=_MAKE_ONE
        )
    raise UnknownNameError("calibration profile", name, known, field=field)
