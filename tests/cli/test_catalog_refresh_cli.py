"""``arbiter catalog refresh``: every source through the CLI over recorded answers (no
network), the exit codes (0 ok, 6 some sources failed, 7 all failed, 2 bad input), the
skip message of a missing key, and keys that never show."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from arbiter.api import refreshing
from arbiter.catalog.refresh_sources import SOURCES
from arbiter.results.refresh import CatalogRefresh
from recorded_feeds import ENV, GCP_KEY, RUNPOD_KEY, recorded_client, recordings, status


@pytest.fixture
def feeds(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The refresh downloads from the recordings: ``feeds["failing"]`` makes hosts fail,
    ``feeds["sleeps"]`` collects the retries' waits, ``feeds["timeout_s"]`` the timeout."""
    state: dict[str, Any] = {"failing": {}, "sleeps": [], "timeout_s": None}

    def client(*, timeout_s: float) -> httpx.Client:
        state["timeout_s"] = timeout_s
        return recorded_client(state["failing"], sleeps=state["sleeps"], timeout_s=timeout_s)

    monkeypatch.setattr(refreshing, "retrying_client", client)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return state


def _versions(cli) -> list[dict[str, Any]]:
    code, out, _ = cli("catalog", "versions", "--json")
    assert code == 0
    return json.loads(out)


@pytest.mark.parametrize("source", list(SOURCES))
def test_each_source_through_the_cli(cli, feeds, source):
    code, out, err = cli("catalog", "refresh", "--source", source, "--json")
    assert code == 0, err
    result = CatalogRefresh.model_validate(json.loads(out))
    assert [(r.source, r.status) for r in result.sources] == [(source, "ok")]
    assert result.sources[0].records > 0
    current = [v for v in _versions(cli) if v["current"]]
    assert [v["version"] for v in current] == [result.version]
    assert current[0]["label"] == f"refresh {source}"


def test_every_source_as_a_table(cli, feeds):
    code, out, err = cli("catalog", "refresh", "--label", "nightly", "--timeout", "12")
    assert code == 0, err
    for name in SOURCES:
        assert name in out
    assert "(nightly)" in out and "now current" in out
    assert "runpod: " in err  # what each file held, on stderr
    assert feeds["timeout_s"] == 12.0
    (current,) = [v for v in _versions(cli) if v["current"]]
    assert current["label"] == "nightly"
    code, out, _ = cli("catalog", "diff", "default", current["version"], "--json")
    assert code == 0
    diff = json.loads(out)
    assert diff["added"] or diff["changed"]


def test_a_failing_source_exits_6_and_the_others_are_saved(cli, feeds):
    feeds["failing"] = {"prices.azure.com": status(500, b"Internal Server Error")}
    code, out, err = cli("catalog", "refresh", "--json")
    assert code == 6
    result = CatalogRefresh.model_validate(json.loads(out))
    assert result.status == "partial"
    assert "1 of 8 sources failed (azure: " in err and "HTTP 500" in err
    assert "the others were saved as catalog version" in err
    assert feeds["sleeps"] == [1.0, 2.0, 4.0]
    versions = _versions(cli)
    assert [v["version"] for v in versions if v["current"]] == [result.version]
    code, out, _ = cli("catalog", "offers", "--version", "default", "--json")
    assert code == 0 and json.loads(out)  # the previous current version still loads
    code, out, _ = cli("catalog", "offers", "--provider", "runpod", "--json")
    assert any(o["as_of"] == "2026-11-29" for o in json.loads(out))  # ARBITER_TODAY


def test_when_every_source_fails_exit_7_and_nothing_is_saved(cli, feeds):
    feeds["failing"] = {httpx.URL(u).host: status(503) for u in recordings()}
    code, _, err = cli("catalog", "refresh")
    assert code == 7
    assert "every source failed" in err and "nothing was saved" in err
    assert "current catalog version (default) is unchanged" in err
    assert [v["version"] for v in _versions(cli)] == ["default"]


def test_a_missing_key_is_a_skip_naming_the_variable(cli, feeds, monkeypatch):
    monkeypatch.delenv("ARBITER_GCP_API_KEY")
    code, out, err = cli("catalog", "refresh", "--json")
    assert code == 0
    assert "gcp skipped: no API key: set ARBITER_GCP_API_KEY" in err
    code, out, err = cli("catalog", "refresh")
    assert code == 0
    assert "skipped" in out and "ARBITER_GCP_API_KEY" in out
    code, out, err = cli("catalog", "refresh", "--source", "gcp")
    assert code == 7  # asked for by name: its failure, and the only source
    assert "gcp: no API key: set ARBITER_GCP_API_KEY" in err


def test_keys_never_show(cli, feeds):
    feeds["failing"] = {
        "cloudbilling.googleapis.com": status(403, f"API key {GCP_KEY} not valid".encode()),
        "api.runpod.io": status(401, f"bad key {RUNPOD_KEY}".encode()),
    }
    for args in ([], ["--json"]):
        code, out, err = cli("catalog", "refresh", *args)
        assert code == 6
        assert GCP_KEY not in out + err and RUNPOD_KEY not in out + err
        assert "HTTP 403" in out + err
    feeds["failing"] = {}
    code, out, err = cli("catalog", "refresh", "--source", "gcp", "--source", "runpod", "--json")
    assert code == 0
    assert GCP_KEY not in out + err and RUNPOD_KEY not in out + err


def test_a_provider_restricts_the_refresh(cli, feeds):
    code, out, err = cli("catalog", "refresh", "--provider", "lambda", "--json")
    assert code == 0, err
    rows = {r["source"]: r for r in json.loads(out)["sources"]}
    assert {s for s, r in rows.items() if r["status"] == "ok"} == {"skypilot", "gpuhunt"}
    assert rows["azure"]["reason"] == "prices none of the providers asked for (lambda)"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--source", "azur"], ["--source", "unknown refresh source 'azur'", "Did you mean"]),
        (["--provider", "amazon"], ["--provider", "unknown provider 'amazon'", "Valid: aws"]),
        (["--aws-region", "mars-1"], ["--aws-region", "not an AWS region code"]),
        (["--source", "azure", "--provider", "aws"], ["--source", "prices azure"]),
        (["--timeout", "0"], ["timeout", "seconds > 0"]),
        (["--timeout", "nan"], ["timeout"]),
    ],
)
def test_bad_input_exits_2_with_one_paragraph(cli, feeds, args, words):
    code, out, err = cli("catalog", "refresh", *args)
    assert code == 2
    assert "Traceback" not in out + err
    for word in words:
        assert word in err
    assert [v["version"] for v in _versions(cli)] == ["default"]
