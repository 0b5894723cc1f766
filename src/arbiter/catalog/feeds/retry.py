"""Retries for the feed downloads: an ``httpx`` transport that tries a request again.

:class:`RetryTransport` wraps another transport (the network's, or ``httpx.MockTransport``
in tests) and retries what is worth retrying, with exponential back-off and jitter:

- transport errors that a second try can cure (timeouts, dropped connections, a protocol
  error from the server), and the statuses 429 (too many requests) and 5xx;
- never another 4xx: a wrong URL, a refused key or a bad query stays wrong;
- at most :attr:`RetryPolicy.max_attempts` tries in all. The wait before retry ``n``
  (1, 2, ...) is ``min(max_delay_s, base_delay_s x 2^(n-1))``, of which a random half is
  taken off (jitter: clients that failed together do not retry together);
- a ``Retry-After`` header (seconds, or an HTTP date) replaces the back-off; one longer
  than :attr:`RetryPolicy.max_retry_after_s` is not waited for: the answer is returned as
  it is and the caller fails on it.

When the tries run out, the last answer is returned (the caller turns its status into a
:class:`~arbiter.domain.errors.FeedError`) or the last transport error raised, its message
saying how many tries were made. Messages name the URL without its query string, where
API keys travel. ``sleep`` and ``random`` are injectable so tests neither sleep nor vary.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from arbiter.catalog.feeds.download import new_client

DEFAULT_TIMEOUT_S = 60.0
"""Seconds a request may wait to connect, or between two chunks of the answer (not the
whole download: the AWS offer files take minutes on a slow link)."""

RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry (see the module docstring)."""

    max_attempts: int = 4
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not (self.base_delay_s >= 0 and self.max_delay_s >= 0 and self.max_retry_after_s >= 0):
            raise ValueError("delays must be >= 0")

    def backoff_s(self, retry: int, draw: float) -> float:
        """The wait before retry number ``retry`` (1, 2, ...), ``draw`` uniform in [0, 1):
        the capped exponential delay, less a random part of up to half of it."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return delay * (1.0 - 0.5 * draw)


def retryable_status(status_code: int) -> bool:
    """429 and every 5xx; no other status is worth a second try."""
    return status_code == 429 or 500 <= status_code <= 599


def retry_after_s(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (None: absent or unreadable)."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def shown_url(url: httpx.URL) -> str:
    """A URL as messages and results show it: without the query string (keys travel there)."""
    return str(url.copy_with(query=None, fragment=None))


class RetryTransport(httpx.BaseTransport):
    """``inner`` with retries (see the module docstring)."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._policy = policy or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._random = random or _random.random

    @property
    def policy(self) -> RetryPolicy:
        return self._policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempts = self._policy.max_attempts
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._inner.handle_request(request)
            except RETRYABLE_ERRORS as exc:
                if last:
                    tries = f"{attempts} tries" if attempts > 1 else "1 try"
                    raise type(exc)(f"{exc} ({tries})", request=request) from exc
                self._sleep(self._policy.backoff_s(attempt, self._random()))
                continue
            if last or not retryable_status(response.status_code):
                return response
            wait = retry_after_s(response)
            if wait is None:
                wait = self._policy.backoff_s(attempt, self._random())
            elif wait > self._policy.max_retry_after_s:
                return response  # asked to wait longer than a refresh should: give up now
            response.close()
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def close(self) -> None:
        self._inner.close()


def retrying_client(
    transport: httpx.BaseTransport | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    random: Callable[[], float] | None = None,
) -> httpx.Client:
    """A client with arbiter's defaults (:func:`~arbiter.catalog.feeds.download.new_client`)
    whose requests time out after ``timeout_s`` and are retried (:class:`RetryTransport`
    over ``transport``, default the network)."""
    retrying = RetryTransport(transport, policy=policy, sleep=sleep, random=random)
    return new_client(timeout_s, transport=retrying)
