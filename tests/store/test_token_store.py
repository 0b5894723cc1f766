"""The token store: secrets shown once and stored only as their SHA-256; verification,
expiry, revocation and the order of roles; on SQLite and, given a server, PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.store import ROLES, TokenInfo, TokenStore

T0 = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
SECRET = re.compile(r"^arb_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def tokens(store_url):
    store = TokenStore(store_url)
    yield store
    store.close()


def _rows(url: str) -> list[dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text("SELECT * FROM api_tokens")).mappings()]
    finally:
        engine.dispose()


def test_create_returns_the_secret_once_and_stores_only_its_hash(tokens, store_url, tmp_path):
    secret, info = tokens.create("planner", label="ci runner", now=T0)
    assert SECRET.match(secret)
    assert re.fullmatch(r"[0-9a-f]{12}", info.token_id)
    assert (info.role, info.label, info.revoked, info.expires_at) == (
        "planner",
        "ci runner",
        False,
        None,
    )
    assert info.created_at == "2026-11-29T10:00:00+00:00"
    assert secret not in repr(info) and secret not in repr(tokens.list())
    rows = _rows(store_url)
    assert len(rows) == 1
    assert rows[0]["secret_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(v) and secret[4:] not in str(v) for v in rows[0].values())
    db = tmp_path / "data" / "arbiter.db"
    if store_url.startswith("sqlite"):  # nor anywhere in the file (nor its journal)
        for path in db.parent.iterdir():
            raw = path.read_bytes()
            assert secret.encode() not in raw and secret[4:].encode() not in raw


def test_each_token_gets_its_own_secret_and_id(tokens):
    made = [tokens.create("viewer", now=T0) for _ in range(5)]
    assert len({s for s, _ in made}) == 5 and len({i.token_id for _, i in made}) == 5


def test_verify_accepts_the_secret_and_nothing_else(tokens):
    secret, info = tokens.create("admin", now=T0)
    assert tokens.verify(secret, now=T0) == info
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in (flipped, secret[:-1], secret + "x", "", "arb_", secret[4:], secret.upper()):
        assert tokens.verify(wrong, now=T0) is None


def test_expired_tokens_do_not_verify(tokens):
    expires = T0 + dt.timedelta(days=1)
    secret, info = tokens.create("viewer", expires_at=expires, now=T0)
    assert info.expires_at == "2026-11-30T10:00:00+00:00"
    assert tokens.verify(secret, now=expires - dt.timedelta(seconds=1)) == info
    assert tokens.verify(secret, now=expires) is None
    assert tokens.verify(secret, now=expires + dt.timedelta(days=9)) is None
    with pytest.raises(InputError) as err:
        tokens.create("viewer", expires_at=T0, now=T0)
    assert err.value.field == "expires_at"


def test_revoked_tokens_do_not_verify(tokens):
    secret, info = tokens.create("planner", now=T0)
    other, _ = tokens.create("planner", now=T0)
    revoked = tokens.revoke(info.token_id)
    assert revoked == dataclasses.replace(info, revoked=True)
    assert tokens.verify(secret, now=T0) is None
    assert tokens.verify(other, now=T0) is not None
    assert tokens.revoke(info.token_id).revoked  # again: no change, no error
    with pytest.raises(UnknownNameError) as err:
        tokens.revoke("000000000000")
    assert err.value.field == "token_id"


def test_list_is_newest_first_with_revoked_and_expired(tokens):
    _, old = tokens.create("viewer", label="old", now=T0)
    tokens.create("admin", label="new", now=T0 + dt.timedelta(hours=1))
    tokens.revoke(old.token_id)
    listed = tokens.list()
    assert [i.label for i in listed] == ["new", "old"]
    assert [i.revoked for i in listed] == [False, True]


@pytest.mark.parametrize(
    ("have", "want", "allowed"),
    [
        ("viewer", "viewer", True),
        ("viewer", "planner", False),
        ("viewer", "admin", False),
        ("planner", "viewer", True),
        ("planner", "planner", True),
        ("planner", "admin", False),
        ("admin", "viewer", True),
        ("admin", "planner", True),
        ("admin", "admin", True),
    ],
)
def test_roles_are_ordered(have, want, allowed):
    info = TokenInfo("t", have, "", "2026-11-29T10:00:00+00:00", None, False)
    assert info.allows(want) is allowed


def test_unknown_roles_and_bad_labels_are_refused(tokens):
    assert ROLES == ("viewer", "planner", "admin")
    with pytest.raises(UnknownNameError) as err:
        tokens.create("planer", now=T0)
    assert err.value.field == "--role" and "planner" in str(err.value)
    with pytest.raises(UnknownNameError):
        TokenInfo("t", "viewer", "", "", None, False).allows("root")
    with pytest.raises(InputError) as err:
        tokens.create("viewer", label="x" * 201, now=T0)
    assert err.value.field == "--label"
    with pytest.raises(InputError, match="time zone"):
        tokens.create("viewer", now=dt.datetime(2026, 1, 1))
    assert tokens.list() == []


def test_verify_on_a_missing_database_creates_nothing(tmp_path):
    db = tmp_path / "none" / "arbiter.db"
    store = TokenStore(f"sqlite:///{db}")
    assert store.verify("arb_" + "a" * 43, now=T0) is None
    assert store.list() == []
    assert not db.exists()
    store.close()
