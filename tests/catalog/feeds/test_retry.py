"""Retries of the feed downloads: what is retried (transport errors, 429, 5xx), what is
not (any other 4xx), the back-off and its jitter, Retry-After, and giving up."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from arbiter.catalog.feeds import download
from arbiter.catalog.feeds.retry import (
    RetryPolicy,
    RetryTransport,
    retry_after_s,
    retryable_status,
    retrying_client,
    shown_url,
)
from arbiter.domain.errors import FeedError

URL = "https://feeds.example/prices.json"


def _client(
    answers: list[object], sleeps: list[float], **policy: float
) -> tuple[httpx.Client, list[httpx.Request]]:
    """A retrying client whose server gives ``answers`` in turn (a status, a Response or an
    exception class), the last one for ever."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("boom", request=request)  # type: ignore[call-arg]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(int(answer), content=b"{}")  # type: ignore[call-overload]

    transport = httpx.MockTransport(handle)
    client = retrying_client(
        transport,
        policy=RetryPolicy(**policy),
        sleep=sleeps.append,
        random=lambda: 0.0,  # type: ignore[arg-type]
    )
    return client, seen


def test_a_503_then_a_200_succeeds_after_one_wait():
    sleeps: list[float] = []
    client, seen = _client([503, 200], sleeps)
    assert client.get(URL).status_code == 200
    assert len(seen) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504, 599])
def test_429_and_every_5xx_are_retried(code):
    sleeps: list[float] = []
    client, seen = _client([code, 200], sleeps)
    assert client.get(URL).status_code == 200
    assert len(seen) == 2


@pytest.mark.parametrize("code", [400, 401, 403, 404, 410, 418])
def test_other_4xx_are_not_retried(code):
    sleeps: list[float] = []
    client, seen = _client([code, 200], sleeps)
    assert client.get(URL).status_code == code
    assert len(seen) == 1
    assert sleeps == []


def test_retries_run_out_after_the_policy_s_tries():
    sleeps: list[float] = []
    client, seen = _client([503], sleeps)
    assert client.get(URL).status_code == 503
    assert len(seen) == 4
    assert sleeps == [1.0, 2.0, 4.0]
    with pytest.raises(FeedError, match="HTTP 503"):
        download.fetch_azure_retail(client)


def test_retry_after_in_seconds_is_honoured():
    sleeps: list[float] = []
    busy = httpx.Response(429, headers={"Retry-After": "7"})
    client, _ = _client([busy, 200], sleeps)
    assert client.get(URL).status_code == 200
    assert sleeps == [7.0]


def test_retry_after_as_a_date():
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": later}), now) == 30.0
    past = email.utils.format_datetime(now - dt.timedelta(seconds=30), usegmt=True)
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": past}), now) == 0.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "soon"}), now) is None
    assert retry_after_s(httpx.Response(503), now) is None


def test_a_retry_after_too_long_is_not_waited_for():
    sleeps: list[float] = []
    client, seen = _client([httpx.Response(503, headers={"Retry-After": "3600"}), 200], sleeps)
    assert client.get(URL).status_code == 503
    assert len(seen) == 1
    assert sleeps == []


def test_transport_errors_are_retried_and_named_when_they_persist():
    sleeps: list[float] = []
    client, seen = _client([httpx.ConnectError, 200], sleeps)
    assert client.get(URL).status_code == 200
    sleeps.clear()
    client, seen = _client([httpx.ReadTimeout], sleeps)
    with pytest.raises(FeedError, match=r"ReadTimeout: boom \(4 tries\)"):
        download.fetch_azure_retail(client)
    assert len(seen) == 4 and len(sleeps) == 3


def test_an_error_no_retry_cures_is_not_retried():
    sleeps: list[float] = []
    client, seen = _client([httpx.UnsupportedProtocol, 200], sleeps)
    with pytest.raises(httpx.UnsupportedProtocol):
        client.get(URL)
    assert len(seen) == 1


def test_a_post_sends_its_body_again():
    sleeps: list[float] = []
    client, seen = _client([502, 200], sleeps)
    client.post(URL, json={"query": "q"})
    assert [r.content for r in seen] == [b'{"query":"q"}'] * 2


def test_the_back_off_doubles_is_capped_and_jittered_by_up_to_half():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0)
    assert [policy.backoff_s(n, 0.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.backoff_s(2, 0.999) == pytest.approx(1.001)
    assert all(1.0 <= policy.backoff_s(2, d / 10) <= 2.0 for d in range(10))
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_one_try_is_no_retry():
    sleeps: list[float] = []
    client, seen = _client([503, 200], sleeps, max_attempts=1)
    assert client.get(URL).status_code == 503
    assert len(seen) == 1


def test_statuses_and_shown_urls():
    assert [c for c in (200, 301, 404, 429, 500, 503) if retryable_status(c)] == [429, 500, 503]
    url = httpx.URL("https://cloudbilling.googleapis.com/v1/skus?key=SECRET&pageSize=5")
    assert shown_url(url) == "https://cloudbilling.googleapis.com/v1/skus"


def test_the_client_times_out_as_told():
    with retrying_client(timeout_s=5.0) as client:
        assert client.timeout.read == 5.0 and client.timeout.connect == 5.0
        assert client.headers["User-Agent"] == download.USER_AGENT
        assert isinstance(client._transport, RetryTransport)
