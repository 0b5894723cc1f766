"""Tokens verified a moment ago, so a burst of requests does not read the store for each.

A token the store verified is taken as verified again for ``ttl_s`` seconds (5 by
default), unless it expires meanwhile. A token revoked through this server's API is
forgotten at once; one revoked in another process (``arbiter tokens revoke``) is refused
once its entry is ``ttl_s`` old. The entries are keyed by the secret's SHA-256, never the
secret; unknown secrets are not remembered.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from arbiter.store import TokenInfo, TokenStore
from arbiter.store.token_store import secret_hash

__all__ = ["TokenCache"]

TTL_S = 5.0
SIZE = 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    info: TokenInfo
    checked: float  # time.monotonic()
    expires: dt.datetime | None


class TokenCache:
    """:meth:`TokenStore.verify`, remembered for ``ttl_s`` seconds per token."""

    def __init__(self, store: TokenStore, *, ttl_s: float = TTL_S, size: int = SIZE) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def peek(self, secret: str, *, now: dt.datetime) -> TokenInfo | None:
        """The token ``secret`` is, if the store verified it less than ``ttl_s`` ago and
        it has not expired since; else None (ask :meth:`verify`)."""
        with self._lock:
            entry = self._entries.get(secret_hash(secret))
        if entry is None or time.monotonic() - entry.checked >= self._ttl_s:
            return None
        return entry.info if entry.expires is None or entry.expires > now else None

    def verify(self, secret: str, *, now: dt.datetime) -> TokenInfo | None:
        """The token ``secret`` is, if it is known, not revoked and not expired at ``now``."""
        found = self.peek(secret, now=now)
        if found is not None:
            return found
        key = secret_hash(secret)
        found = self._store.verify(secret, now=now)
        with self._lock:
            if found is None:
                self._entries.pop(key, None)
            else:
                expires = (
                    None
                    if found.expires_at is None
                    else dt.datetime.fromisoformat(found.expires_at)
                )
                self._entries[key] = _Entry(found, time.monotonic(), expires)
                self._entries.move_to_end(key)
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return found

    def forget(self, token_id: str) -> None:
        """Verify the token ``token_id`` against the store again next time (it was revoked)."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.info.token_id == token_id]:
                del self._entries[key]
