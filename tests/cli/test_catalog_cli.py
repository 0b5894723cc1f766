"""The ``arbiter catalog`` commands, run in-process through the CLI's single entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbiter.cli.app import main

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run ``arbiter ARGS``; return (exit code, stdout, stderr). Each test gets its own store."""
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.delenv("ARBITER_MAX_AGE_DAYS", raising=False)
    monkeypatch.setenv("COLUMNS", "240")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_offers_json_spans_providers_vendors_and_regimes(cli):
    code, out, _ = cli("catalog", "offers", "--json")
    assert code == 0
    offers = json.loads(out)
    assert len({o["provider"] for o in offers}) >= 7
    assert len({o["vendor"] for o in offers}) >= 4
    assert len({o["price_regime"] for o in offers}) >= 5
    required = {
        "offer_id", "provider", "region", "instance_type", "accelerator", "vendor",
        "accelerators_per_instance", "price_regime", "usd_per_hour",
        "usd_per_accelerator_hour", "as_of", "source", "derived",
    }  # fmt: skip
    for offer in offers:
        assert required <= offer.keys()
        assert offer["as_of"]
        assert offer["source"]
        assert offer["usd_per_accelerator_hour"] == pytest.approx(
            offer["usd_per_hour"] / offer["accelerators_per_instance"], rel=1e-6
        )
    prices = [o["usd_per_accelerator_hour"] for o in offers]
    assert prices == sorted(prices)


def test_the_three_chips_of_the_issue_cheapest_first(cli):
    code, out, _ = cli(
        "catalog", "offers", "-a", "H100", "-a", "MI300X", "-a", "Trainium2", "--json"
    )
    assert code == 0
    offers = json.loads(out)
    assert {o["accelerator"] for o in offers} == {"H100-SXM", "MI300X", "Trainium2"}
    assert {o["vendor"] for o in offers} == {"NVIDIA", "AMD", "AWS"}


def test_filters_combine(cli):
    code, out, _ = cli(
        "catalog", "offers", "--vendor", "NVIDIA", "--regime", "spot", "--region", "us-*",
        "--provider", "aws", "--limit", "5", "--json",
    )  # fmt: skip
    assert code == 0
    offers = json.loads(out)
    assert 0 < len(offers) <= 5
    assert all(o["provider"] == "aws" and o["region"].startswith("us-") for o in offers)


def test_table_output_and_stale_warning(cli):
    code, out, err = cli("catalog", "offers", "-a", "TPU-v5e", "--max-age-days", "30")
    assert code == 0
    assert "TPU-v5e" in out
    assert "older than 30 days" in err
    code, _, err = cli("catalog", "offers", "-a", "TPU-v5e", "--max-age-days", "100000")
    assert code == 0
    assert "older than" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["catalog", "offers", "-a", "H1000"], "Did you mean 'H100-SXM'"),
        (["catalog", "offers", "--provider", "awz"], "Did you mean 'aws'"),
        (["catalog", "offers", "--vendor", "nvidai"], "Did you mean 'NVIDIA'"),
        (["catalog", "offers", "--regime", "ondemand"], "Did you mean 'on_demand'"),
        (["catalog", "accelerators", "--vendor", "Intell"], "Did you mean 'Intel'"),
        (["catalog", "import", "azur", "x.json"], "Did you mean 'azure'"),
    ],
)
def test_unknown_names_exit_2_with_suggestions(cli, args, expected):
    code, out, err = cli(*args)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


def test_accelerators_by_vendor(cli):
    code, out, _ = cli("catalog", "accelerators", "--vendor", "AMD", "--json")
    assert code == 0
    accs = json.loads(out)
    assert {a["vendor"] for a in accs} == {"AMD"}
    mi300x = next(a for a in accs if a["name"] == "MI300X")
    assert (mi300x["bf16_tflops"], mi300x["hbm_gb"], mi300x["platform"]) == (1307.4, 192.0, "rocm")


def test_summary_counts(cli):
    code, out, _ = cli("catalog", "summary")
    assert code == 0
    assert "offers by vendor" in out
    assert "cheapest offer per accelerator" in out
    assert "MI300X" in out


def _versions(cli) -> list[dict]:
    code, out, _ = cli("catalog", "versions", "--json")
    assert code == 0
    return json.loads(out)


def test_import_creates_a_version_and_a_broken_feed_changes_nothing(cli, tmp_path):
    assert [v["version"] for v in _versions(cli)] == ["default"]
    code, out, err = cli(
        "catalog", "import", "azure", str(FEEDS / "azure-retail-prices.sample.json")
    )
    assert code == 0, err
    # the feed prices the two ND H100 v5 offers the curated table has (same key: Azure's
    # "Consumption" is the table's "on_demand"), at the same price: replaced, not added
    assert "0 offers added, 2 replaced" in out
    assert "skipped" in err  # the tally of records left out is shown
    versions = _versions(cli)
    assert len(versions) == 2
    imported = versions[1]
    assert imported["current"]

    broken = tmp_path / "broken.json"
    broken.write_bytes((FEEDS / "azure-retail-prices.sample.json").read_bytes()[:700])
    code, out, err = cli("catalog", "import", "azure", str(broken))
    assert code == 2
    assert "broken.json" in err
    assert "Traceback" not in err
    assert _versions(cli) == versions  # same list, same hashes, same current version

    code, out, _ = cli("catalog", "diff", "default", imported["version"][:12], "--json")
    assert code == 0
    diff = json.loads(out)
    assert (diff["added"], diff["removed"], diff["changed"]) == ([], [], [])
    code, out, _ = cli(
        "catalog", "offers", "--provider", "azure", "-a", "H100", "--region", "eastus", "--json"
    )
    regimes = {
        o["source_regime"]
        for o in json.loads(out)
        if o["instance_type"] == "Standard_ND96isr_H100_v5"
    }
    assert {"Consumption", "Consumption Spot"} <= regimes

    code, out, _ = cli("catalog", "use", "default")
    assert code == 0
    assert next(v for v in _versions(cli) if v["current"])["version"] == "default"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "empty"),
        (b'{"Items": [{"retailPrice": "abc"', "JSON"),
    ],
)
def test_malformed_feeds_exit_2_naming_the_file(cli, tmp_path, content, what):
    path = tmp_path / "feed.json"
    path.write_bytes(content)
    code, _, err = cli("catalog", "import", "azure", str(path))
    assert code == 2
    assert "feed.json" in err


def test_missing_file_is_bad_input(cli, tmp_path):
    code, _, err = cli("catalog", "import", "runpod", str(tmp_path / "nope.json"))
    assert code == 2
    assert "nope.json" in err


def test_unreadable_database_url_exits_2(cli, monkeypatch):
    monkeypatch.setenv("ARBITER_DB_URL", "notadialect://whatever")
    code, _out, err = cli("catalog", "offers", "--limit", "1")
    assert code == 2
    assert "notadialect://whatever" in err
    assert "ARBITER_DB_URL" in err


def test_debug_shows_the_traceback(cli):
    code, _, err = cli("--debug", "catalog", "offers", "-a", "H1000")
    assert code == 2
    assert "Traceback" in err


def test_bad_environment_setting_is_bad_input(cli, monkeypatch):
    monkeypatch.setenv("ARBITER_MAX_AGE_DAYS", "-3")
    code, _, err = cli("catalog", "offers", "--limit", "1")
    assert code == 2
    assert "ARBITER_MAX_AGE_DAYS" in err


def test_offers_history_lists_the_superseded_prices_with_what_replaced_them(cli):
    code, out, err = cli(
        "catalog", "offers", "--history", "--provider", "lambda", "-a", "GH200", "--json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["region"], r["usd_per_hour"], r["as_of"]) for r in rows] == [
        ("global", 1.49, "2024-10/2025-06")
    ]
    assert rows[0]["superseded_by_usd_per_hour"] == 2.29
    assert rows[0]["superseded_reason"] == "global price older than per-region prices"
    code, out, _ = cli("catalog", "offers", "--provider", "lambda", "-a", "GH200", "--json")
    assert {r["usd_per_hour"] for r in json.loads(out)} == {2.29}


def test_summary_shows_how_old_each_providers_prices_are(cli):
    code, out, _ = cli("catalog", "summary", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["today"] == "2026-11-29"  # the settings' date
    rows = doc["freshness"]
    assert sum(r["offers"] for r in rows) == doc["n_offers"]
    assert {r["provider"]: r["offers"] for r in rows} == doc["offers_by_provider"]
    for r in rows:
        assert (
            r["dated_to_the_day"] + r["dated_to_the_month"] + r["dated_by_interval"] == r["offers"]
        )
        assert 0 <= r["newest_age_days"] <= r["oldest_age_days"]
        assert 0 <= r["stale"] <= r["offers"] and r["max_age_days"] == 180
    assert [r["offers"] for r in rows] == sorted((r["offers"] for r in rows), reverse=True)
    code, out, _ = cli("catalog", "summary")
    assert "how old the prices are on 2026-11-29 (stale: over 180 days)" in out
