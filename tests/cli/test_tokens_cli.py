"""``arbiter tokens create/list/revoke``: the secret printed once, on stdout alone; listings
by public id only; unknown roles and ids refused with exit code 2."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

from arbiter.store import TokenStore

SECRET = re.compile(r"arb_[A-Za-z0-9_-]{43}")


def _store() -> TokenStore:
    return TokenStore(os.environ["ARBITER_DB_URL"])


def test_create_prints_the_secret_once_and_it_verifies(cli):
    code, out, err = cli("tokens", "create", "--role", "planner", "--label", "ci")
    assert code == 0, err
    secret = out.strip()
    assert SECRET.fullmatch(secret), out  # stdout holds the secret alone
    assert "cannot be shown again" in err and secret not in err
    now = dt.datetime.now(dt.UTC)
    info = _store().verify(secret, now=now)
    assert info is not None and info.role == "planner" and info.label == "ci"
    assert f"created planner token {info.token_id}" in err

    code, out, err = cli("tokens", "list")
    assert code == 0 and info.token_id in out and "planner" in out and "active" in out
    assert secret not in out and secret[4:] not in out


def test_expiring_tokens_and_the_json_listing(cli):
    code, out, err = cli("tokens", "create", "--role", "viewer", "--expires-days", "30")
    assert code == 0, err
    code, out, _ = cli("tokens", "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert set(row) == {"token_id", "role", "label", "created_at", "expires_at", "revoked"}
    created = dt.datetime.fromisoformat(row["created_at"])
    expires = dt.datetime.fromisoformat(row["expires_at"])
    assert expires - created == dt.timedelta(days=30)


def test_revoke_stops_a_token(cli):
    _, out, _ = cli("tokens", "create", "--role", "admin")
    secret = out.strip()
    info = _store().verify(secret, now=dt.datetime.now(dt.UTC))
    code, out, err = cli("tokens", "revoke", info.token_id)
    assert code == 0, err
    assert f"revoked admin token {info.token_id}" in out
    assert _store().verify(secret, now=dt.datetime.now(dt.UTC)) is None
    _, out, _ = cli("tokens", "list")
    assert "revoked" in out


def test_bad_roles_ids_and_days_exit_2(cli):
    code, out, err = cli("tokens", "create", "--role", "root")
    assert code == 2 and "unknown role 'root'" in err and "--role" in err
    assert not out and _store().list() == []
    code, _, err = cli("tokens", "revoke", "abcdefabcdef")
    assert code == 2 and "unknown token" in err
    code, _, _ = cli("tokens", "create", "--role", "viewer", "--expires-days", "0")
    assert code == 2
    code, _, _ = cli("tokens", "create")
    assert code == 2
