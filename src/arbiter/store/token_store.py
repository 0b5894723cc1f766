"""The service's API tokens: a role each, stored as the SHA-256 of the secret.

A token is created by ``arbiter tokens create`` (or :meth:`TokenStore.create`), which
returns its secret once: ``arb_`` and 43 URL-safe characters (256 random bits). The store
keeps only the secret's SHA-256, beside a short public id (``token_id``, 12 hex digits,
what listings, logs and job records name), the role, a label, the creation and expiry
times and whether it was revoked. :meth:`TokenStore.verify` hashes a presented secret,
looks the hash up and compares it in constant time; an unknown, revoked or expired token
verifies to ``None``. The roles are ordered: a ``planner`` may do what a ``viewer`` may,
an ``admin`` what a ``planner`` may (:meth:`TokenInfo.allows`).

The tokens live in the same database as the catalog, plans and jobs (``ARBITER_DB_URL``;
SQLite or PostgreSQL); the table is created on the first write. Reading never creates a
database.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.store import tables as t
from arbiter.store.database import Closing, Database, aware_utc, iso

ROLES = ("viewer", "planner", "admin")
"""The roles, weakest first: each may do what the ones before it may."""

SECRET_PREFIX = "arb_"  # noqa: S105 - the prefix of every secret, not a secret
TOKEN_ID_DIGITS = 12
MAX_LABEL = 200


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """One token as listings show it: never the secret (nor its hash)."""

    token_id: str
    role: str
    label: str
    created_at: str
    expires_at: str | None
    revoked: bool

    def allows(self, role: str) -> bool:
        """Whether this token's role may do what ``role`` may (viewer < planner < admin).
        Says nothing about expiry or revocation: :meth:`TokenStore.verify` checks those."""
        return ROLES.index(self.role) >= ROLES.index(check_role(role, field="role"))


def check_role(role: str, *, field: str = "--role") -> str:
    """``role`` if it is one of :data:`ROLES`; else an UnknownNameError naming ``field``."""
    if role not in ROLES:
        raise UnknownNameError("role", role, ROLES, field=field)
    return role


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) of a token's secret: what the store keeps instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenStore(Closing):
    """API tokens in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="token store")

    def create(
        self,
        role: str,
        *,
        label: str = "",
        expires_at: dt.datetime | None = None,
        now: dt.datetime,
    ) -> tuple[str, TokenInfo]:
        """A new token of ``role``: its secret (shown once, never stored) and its entry.

        ``expires_at`` (timezone-aware, after ``now``) ends it; ``None`` never does."""
        check_role(role)
        text = label.strip()
        if len(text) > MAX_LABEL or not text.isprintable():
            raise InputError(
                "the token's label is too long or holds control characters",
                field="--label",
                valid=f"printable text of at most {MAX_LABEL} characters",
            )
        created = aware_utc(now, "now")
        expires = None if expires_at is None else aware_utc(expires_at, "expires_at")
        if expires is not None and expires <= created:
            raise InputError(
                f"the token would expire at {expires.isoformat()}, before it is created",
                field="expires_at",
                valid="a time after now (or none: the token does not expire)",
            )
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = {
            "token_id": secrets.token_hex(TOKEN_ID_DIGITS // 2),
            "secret_sha256": secret_hash(secret),
            "role": role,
            "label": text,
            "created_at": created,
            "expires_at": expires,
            "revoked": False,
        }

        def write(conn: Connection) -> None:
            conn.execute(sa.insert(t.api_tokens).values(**row))

        self._db.write(f"create a {role} token", write, tables=[t.api_tokens])
        return secret, _info(row)

    def verify(self, secret: str, *, now: dt.datetime) -> TokenInfo | None:
        """The token whose secret ``secret`` is, if it is known, not revoked and not
        expired at ``now``; else ``None`` (which of these is not said)."""
        if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
            return None
        digest = secret_hash(secret)
        when = aware_utc(now, "now")

        def read(conn: Connection) -> TokenInfo | None:
            query = sa.select(t.api_tokens).where(t.api_tokens.c.secret_sha256 == digest)
            row = conn.execute(query).mappings().one_or_none()
            if row is None or not hmac.compare_digest(row["secret_sha256"], digest):
                return None
            if row["revoked"] or (row["expires_at"] is not None and row["expires_at"] <= when):
                return None
            return _info(row)

        return self._db.read("verify a token", read, lambda: None, table=t.api_tokens)

    def list(self) -> builtins.list[TokenInfo]:
        """Every token, newest first (then by id); revoked and expired ones too."""

        def read(conn: Connection) -> builtins.list[TokenInfo]:
            a = t.api_tokens
            query = sa.select(a).order_by(a.c.created_at.desc(), a.c.token_id)
            return [_info(row) for row in conn.execute(query).mappings()]

        return self._db.read("list tokens", read, builtins.list, table=t.api_tokens)

    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke the token ``token_id``: it verifies no more. Revoking it again changes
        nothing; an unknown id is an UnknownNameError."""
        key = token_id.strip().lower()

        def write(conn: Connection) -> TokenInfo:
            a = t.api_tokens
            row = conn.execute(sa.select(a).where(a.c.token_id == key)).mappings().one_or_none()
            if row is None:
                known = conn.execute(sa.select(a.c.token_id)).scalars()
                raise UnknownNameError("token", token_id, known, field="token_id")
            conn.execute(sa.update(a).where(a.c.token_id == key).values(revoked=True))
            return _info({**row, "revoked": True})

        return self._db.write(f"revoke token {key!r}", write, tables=[t.api_tokens])


def _info(row: Mapping[Any, Any]) -> TokenInfo:
    created = iso(row["created_at"])
    assert created is not None
    return TokenInfo(
        token_id=row["token_id"],
        role=row["role"],
        label=row["label"],
        created_at=created,
        expires_at=iso(row["expires_at"]),
        revoked=bool(row["revoked"]),
    )
