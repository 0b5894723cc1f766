"""Database URLs of the catalog store: the default, validation, masking and error messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from arbiter.domain.errors import InputError, StoreError

ENV_VAR = "ARBITER_DB_URL"

URL_FORMS = (
    "Valid URLs look like sqlite:///path/to/arbiter.db or "
    "postgresql+psycopg://user:pass@host:5432/db; set one with the "
    f"{ENV_VAR} environment variable (default: a SQLite file under $XDG_DATA_HOME/arbiter "
    "or ~/.local/share/arbiter)."
)

# The drivers arbiter is tested with; anything else is refused up front rather than
# failing later in a driver nobody has tried.
_SQLITE_DRIVERS = frozenset({"", "pysqlite"})
_POSTGRES_BACKENDS = frozenset({"postgresql", "postgres"})
_POSTGRES_DRIVERS = frozenset({"", "psycopg"})

# `scheme://user:password@` -> `scheme://user:***@`; greedy up to the last `@` so a
# password with a stray `@` is masked whole.
_PASSWORD = re.compile(r"^(?P<head>[^:/?#]+://[^:/@]*:)(?P<secret>.*)@")


class StoreUrlError(StoreError, InputError):
    """A database URL that cannot be parsed or names a database arbiter does not support.

    A bad URL is bad input (exit 2); a good URL whose database cannot be reached is a
    :class:`StoreError` (exit 5).
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        InputError.__init__(self, message)


def default_db_url(env: Mapping[str, str]) -> str:
    """``ARBITER_DB_URL`` if set, else a SQLite file under the XDG data directory.

    Only ``env`` is read, never ``os.environ`` directly, so callers (and tests) decide.
    """
    explicit = env.get(ENV_VAR, "").strip()
    if explicit:
        return explicit
    return f"sqlite:///{default_sqlite_path(env)}"


def default_sqlite_path(env: Mapping[str, str]) -> Path:
    xdg = env.get("XDG_DATA_HOME", "")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        base = Path(xdg)
    else:
        home = env.get("HOME")
        # Without HOME in env, fall back to the account database (Path.home), as a shell would.
        base = (Path(home) if home else Path.home()) / ".local" / "share"
    return base / "arbiter" / "arbiter.db"


def mask_password(raw: str) -> str:
    return _PASSWORD.sub(r"\g<head>***@", raw.strip(), count=1)


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A validated URL: what SQLAlchemy connects to, and what messages show."""

    url: URL
    shown: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_file(self) -> Path | None:
        """The database file, or None for in-memory and ``file:`` URI databases."""
        database = self.url.database or ""
        if not self.is_sqlite or database in {"", ":memory:"}:
            return None
        if database.startswith("file:") or self.url.query.get("uri") == "true":
            return None
        return Path(database).expanduser()


def parse_store_url(raw: str) -> StoreUrl:
    """Validate ``raw``; rewrite plain ``postgresql://`` (and ``postgres://``) to psycopg 3.

    Raises :class:`StoreUrlError` naming the (masked) URL and the accepted forms.
    """
    shown = mask_password(raw)
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise StoreUrlError(
            f"cannot read the catalog store URL {shown!r}: it is not a database URL. {URL_FORMS}"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in _SQLITE_DRIVERS:
        return StoreUrl(url.set(drivername="sqlite+pysqlite"), shown)
    if backend in _POSTGRES_BACKENDS and driver in _POSTGRES_DRIVERS:
        return StoreUrl(url.set(drivername="postgresql+psycopg"), shown)
    raise StoreUrlError(
        f"cannot use the catalog store URL {shown!r}: {url.drivername!r} is not a supported "
        "database (arbiter stores catalogs in SQLite, or in PostgreSQL through psycopg 3). "
        f"{URL_FORMS}"
    )
