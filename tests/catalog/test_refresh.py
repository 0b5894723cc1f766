"""``arbiter.refresh_catalog``: every source end to end over recorded answers, each source
on its own (partial failure), nothing saved when all fail, and the counts (added,
repriced, unchanged, older, dropped) against a base catalog built here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from arbiter.api.refreshing import refresh_catalog
from arbiter.api.settings import Settings
from arbiter.catalog.embedded import DEFAULT_VERSION, default_catalog
from arbiter.catalog.feeds import download, runpod
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.refresh import plan_refresh
from arbiter.catalog.refresh_sources import SOURCES
from arbiter.catalog.spot import SpotBasis, interruptions_per_hour
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.results.refresh import CatalogRefresh
from arbiter.store import CatalogStore
from recorded_feeds import (
    AWS_REGION,
    ENV,
    FEEDS,
    GCP_KEY,
    RUNPOD_KEY,
    recorded_client,
    recordings,
    status,
)

TODAY = dt.date(2026, 12, 7)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            **ENV,
            "ARBITER_DB_URL": f"sqlite:///{tmp_path / 'arbiter.db'}",
            "ARBITER_TODAY": "2026-12-07",
        }
    )


@pytest.fixture
def store(config: Settings) -> Iterator[CatalogStore]:
    assert config.db_url is not None
    with CatalogStore(config.db_url) as opened:
        yield opened


def _every_host() -> set[str]:
    return {httpx.URL(url).host for url in recordings()}


def _row(result: CatalogRefresh, source: str):
    (row,) = [r for r in result.sources if r.source == source]
    return row


# ---------------------------------------------------------------------------------------------
# Every source, end to end


@pytest.fixture
def empty_base(store: CatalogStore) -> str:
    """A current version with the chips and no offer: every count is then known."""
    base = Catalog.of(default_catalog().accelerators.values(), [])
    info = store.save(base, label="chips only", created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    store.use(info.version)
    return info.version


def test_every_source_refreshes_into_a_new_current_version(config, store, empty_base):
    seen: list[httpx.Request] = []
    result = refresh_catalog(client=recorded_client(seen=seen), config=config)
    assert result.status == "ok"
    assert [r.source for r in result.sources] == list(SOURCES)
    assert all(r.status == "ok" and r.reason is None for r in result.sources)
    assert all(r.records > 0 and r.offers > 0 and r.urls for r in result.sources)
    assert result.parent == empty_base
    assert result.version == store.current()
    assert result.label == "refresh " + " ".join(SOURCES)
    assert result.observed_on == "2026-12-07"
    catalog = store.load(result.version)
    assert len(catalog.offers) == result.n_offers
    for row in result.sources:
        counts = (row.added, row.repriced, row.unchanged, row.older, row.dropped)
        if row.source == "aws-spot-advisor":  # it rates the AWS spot offers the others priced
            assert counts == (0, row.offers, 0, 0, 0)
        else:
            assert counts == (row.offers, 0, 0, 0, 0)
        assert {httpx.URL(u).host for u in row.urls} == {SOURCES[row.source].host}
        assert all("?" not in u for u in row.urls)
    distinct = {o.key for o in catalog.offers}
    assert len(distinct) <= sum(r.offers for r in result.sources if r.source != "aws-spot-advisor")
    rated = [o for o in catalog.offers if o.interruption_rate is not None]
    assert len(rated) == _row(result, "aws-spot-advisor").offers
    assert all(o.provider == "aws" and o.price_regime is PriceRegime.SPOT for o in rated)
    assert any(o.instance_type == "p5.48xlarge" and o.region == AWS_REGION for o in catalog.offers)
    assert {r.url.host for r in seen} == _every_host()
    assert CatalogRefresh.model_validate(json.loads(result.to_json())) == result


@pytest.mark.parametrize("source", list(SOURCES))
def test_each_source_alone(config, store, source):
    result = refresh_catalog([source], client=recorded_client(), config=config)
    assert [(r.source, r.status) for r in result.sources] == [(source, "ok")]
    row = result.sources[0]
    assert row.records > 0
    assert result.version == store.current()
    assert result.label == f"refresh {source}"
    assert store.load(result.version).content_hash == result.version
    if source != "aws-spot-advisor":
        new = {o.key for o in store.load(result.version).offers}
        base = {o.key for o in default_catalog().offers}
        assert row.added == len(new - base)


def test_the_offers_are_those_the_parsers_read_from_the_same_answer(config, store):
    result = refresh_catalog(["runpod"], client=recorded_client(), config=config)
    ctx = FeedContext(
        file=download.RUNPOD_GRAPHQL_URL,
        known_accelerators=frozenset(default_catalog().accelerators),
        observed_on=TODAY,
    )
    parsed = runpod.parse((FEEDS / "runpod-graphql-gputypes.sample.json").read_bytes(), ctx)
    assert _row(result, "runpod").offers == len(parsed.offers)
    held = {o.key: o for o in store.load(store.current()).offers}
    for offer in parsed.offers:
        assert held[offer.key].usd_per_hour == offer.usd_per_hour
        assert held[offer.key].as_of.text == "2026-12-07"  # the feed has no date: the day's
        assert SOURCES["runpod"].produced(held[offer.key].source)


def test_every_source_names_the_origin_its_offers_carry(config, store, empty_base):
    """The drop rule finds a feed's offers by how their source starts: check it on the
    offers each parser writes."""
    result = refresh_catalog(client=recorded_client(), config=config)
    catalog = store.load(result.version or "")
    for name, source in SOURCES.items():
        if not source.origins:
            continue
        mine = [o for o in catalog.offers if source.produced(o.source)]
        assert mine, name
        others = [s for s in SOURCES.values() if s is not source]
        assert not any(s.produced(o.source) for s in others for o in mine), name


def test_progress_follows_each_source(config):
    ticks: list[tuple[str, int, int]] = []
    refresh_catalog(
        ["skypilot", "azure"],
        client=recorded_client(),
        progress=lambda s, d, t: ticks.append((s, d, t)),
        config=config,
    )
    sky = [t for t in ticks if t[0] == "skypilot"]
    assert sky[0][1] == 0 and sky[-1][1] == sky[-1][2] == len(SOURCES["skypilot"].providers)
    assert ("azure", 1, 1) in ticks


def test_providers_restrict_what_is_fetched_and_taken(config, store):
    seen: list[httpx.Request] = []
    result = refresh_catalog(providers=["Lambda"], client=recorded_client(seen=seen), config=config)
    ran = {r.source for r in result.sources if r.status == "ok"}
    assert ran == {"skypilot", "gpuhunt"}
    assert all(r.reason and "lambda" in r.reason for r in result.sources if r.status == "skipped")
    assert all(r.providers == ["lambda"] for r in result.sources if r.status == "ok")
    assert {
        r.url.path.split("/")[-2] for r in seen if r.url.host == "raw.githubusercontent.com"
    } == {"lambda"}
    new = store.load(result.version or "")
    base = default_catalog()
    assert {o.provider for o in set(new.offers) ^ set(base.offers)} <= {"lambda"}


def test_aws_regions_come_from_the_call_or_the_environment(config):
    seen: list[httpx.Request] = []
    refresh_catalog(["aws"], client=recorded_client(seen=seen), config=config)
    assert [r.url.path.split("/")[-2] for r in seen] == [AWS_REGION]
    seen.clear()
    result = refresh_catalog(
        ["aws"], aws_regions=["us-east-1"], client=recorded_client(seen=seen), config=config
    )
    assert [r.url.path.split("/")[-2] for r in seen] == ["us-east-1"]
    assert _row(result, "aws").status == "failed"  # not recorded: HTTP 404, not retried
    assert "HTTP 404" in (_row(result, "aws").reason or "")


# ---------------------------------------------------------------------------------------------
# Each source on its own


def test_a_failing_source_is_named_and_the_others_are_saved(config, store):
    sleeps: list[float] = []
    failing = {"prices.azure.com": status(500, b"Internal Server Error")}
    result = refresh_catalog(client=recorded_client(failing, sleeps=sleeps), config=config)
    assert result.status == "partial"
    azure = _row(result, "azure")
    assert azure.status == "failed"
    assert "HTTP 500" in (azure.reason or "") and "prices.azure.com" in (azure.reason or "")
    assert azure.offers == azure.added == 0
    assert sleeps == [1.0, 2.0, 4.0]  # 4 tries, back-off doubling (no jitter drawn)
    assert result.version == store.current()
    assert "azure" not in (result.label or "")
    assert store.load(DEFAULT_VERSION) == default_catalog()  # the previous current still loads
    new = store.load(result.version or "")
    assert any(o.instance_type == "p5.48xlarge" and o.region == AWS_REGION for o in new.offers)
    assert not any(SOURCES["azure"].produced(o.source) for o in new.offers)


def test_when_every_source_fails_nothing_is_saved(config, store):
    first = refresh_catalog(["runpod"], client=recorded_client(), config=config)
    before = [v.version for v in store.versions()]
    failing = {host: status(503) for host in _every_host()}
    result = refresh_catalog(client=recorded_client(failing), config=config)
    assert result.status == "failed"
    assert result.version is None
    assert result.parent == first.version
    assert all(r.status == "failed" for r in result.sources)
    assert [v.version for v in store.versions()] == before
    assert store.current() == first.version


def test_a_timeout_fails_only_its_source(config):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    sleeps: list[float] = []
    result = refresh_catalog(
        client=recorded_client({"api.runpod.io": slow}, sleeps=sleeps), config=config
    )
    assert result.status == "partial"
    reason = _row(result, "runpod").reason or ""
    assert "ReadTimeout: timed out (4 tries)" in reason
    assert "api.runpod.io/graphql" in reason
    assert len(sleeps) == 3


def test_a_bad_timeout_is_bad_input(config):
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="timeout"):
            refresh_catalog(timeout_s=bad, client=recorded_client(), config=config)


# ---------------------------------------------------------------------------------------------
# Keys


def test_without_a_key_the_source_is_skipped_naming_the_variable(tmp_path):
    config = Settings.from_env(
        {"ARBITER_DB_URL": f"sqlite:///{tmp_path / 'a.db'}", "ARBITER_AWS_REGIONS": AWS_REGION}
    )
    result = refresh_catalog(client=recorded_client(), config=config)
    assert result.status == "ok"
    assert _row(result, "gcp").status == "skipped"
    assert _row(result, "gcp").reason == "no API key: set ARBITER_GCP_API_KEY"
    assert _row(result, "runpod").reason == "no API key: set ARBITER_RUNPOD_API_KEY"
    asked = refresh_catalog(["gcp"], client=recorded_client(), config=config)
    assert asked.status == "failed"  # asked for by name: a failure, nothing to save
    assert _row(asked, "gcp").status == "failed"
    assert "ARBITER_GCP_API_KEY" in (_row(asked, "gcp").reason or "")


def test_keys_never_show(config):
    echo = {
        "cloudbilling.googleapis.com": status(403, f"API key {GCP_KEY} not valid".encode()),
        "api.runpod.io": status(401, f"bad key {RUNPOD_KEY}".encode()),
    }
    failed = refresh_catalog(client=recorded_client(echo), config=config)
    worked = refresh_catalog(["gcp", "runpod"], client=recorded_client(), config=config)
    for result in (failed, worked):
        text = result.to_json()
        assert GCP_KEY not in text and RUNPOD_KEY not in text
    assert "***" in (_row(failed, "gcp").reason or "")
    assert "HTTP 403" in (_row(failed, "gcp").reason or "")


# ---------------------------------------------------------------------------------------------
# Counts against a base built here


def _runpod_offers() -> tuple[Offer, ...]:
    ctx = FeedContext(
        file=download.RUNPOD_GRAPHQL_URL,
        known_accelerators=frozenset(default_catalog().accelerators),
        observed_on=TODAY,
    )
    return runpod.parse((FEEDS / "runpod-graphql-gputypes.sample.json").read_bytes(), ctx).offers


def test_added_repriced_unchanged_older_and_dropped(config, store):
    feed = _runpod_offers()
    assert len(feed) >= 4
    earlier, later = (
        AsOf.of_day(TODAY - dt.timedelta(days=30)),
        AsOf.of_day(TODAY + dt.timedelta(days=30)),
    )
    r = dataclasses.replace
    repriced = r(feed[0], usd_per_hour=feed[0].usd_per_hour + 1.0, as_of=earlier)
    unchanged = r(feed[1], as_of=earlier)
    newer_held = r(feed[2], usd_per_hour=feed[2].usd_per_hour + 2.0, as_of=later)
    gone = r(feed[3], instance_type="NVIDIA Retired GPU", as_of=earlier)
    other_regime = r(
        gone,
        instance_type="NVIDIA Held GPU",
        price_regime=PriceRegime.CAPACITY_BLOCK,
        source_regime="x",
    )
    other_origin = r(gone, instance_type="NVIDIA Curated GPU", source="RunPod pricing page")
    other_provider = next(o for o in default_catalog().offers if o.provider == "aws")
    held = [repriced, unchanged, newer_held, gone, other_regime, other_origin, other_provider]
    base = Catalog.of(default_catalog().accelerators.values(), held)
    info = store.save(base, label="base", created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    store.use(info.version)

    result = refresh_catalog(["runpod"], client=recorded_client(), config=config)
    row = _row(result, "runpod")
    assert (row.added, row.repriced, row.unchanged, row.older, row.dropped) == (
        len(feed) - 3, 1, 1, 1, 1,
    )  # fmt: skip
    assert row.offers == len(feed)
    assert result.parent == info.version
    new = {o.key: o for o in store.load(result.version or "").offers}
    assert gone.key not in new
    assert {other_regime.key, other_origin.key, other_provider.key} <= set(new)
    assert new[newer_held.key] == newer_held  # the newer price held stays
    assert new[repriced.key].usd_per_hour == feed[0].usd_per_hour
    assert new[unchanged.key].as_of.text == "2026-12-07"
    assert len(new) == len(feed) - 1 + 3 + 1  # the feed, less the older one; 3 kept; held newer


def test_a_refreshed_price_keeps_the_rate_its_offer_held(config, store):
    feed = _runpod_offers()
    rated = dataclasses.replace(
        feed[0], usd_per_hour=feed[0].usd_per_hour + 1, interruption_rate=0.01
    )
    base = Catalog.of(default_catalog().accelerators.values(), [rated])
    store.use(store.save(base, label="b", created_at=dt.datetime(2026, 12, 1)).version)
    result = refresh_catalog(["runpod"], client=recorded_client(), config=config)
    new = {o.key: o for o in store.load(result.version or "").offers}
    assert new[rated.key].usd_per_hour == feed[0].usd_per_hour
    assert new[rated.key].interruption_rate == 0.01


def test_the_spot_advisor_rates_aws_spot_offers(config, store):
    spot = Offer(
        provider="aws", region="us-east-1", instance_type="p5.48xlarge", accelerator="H100-SXM",
        accelerators_per_instance=8, price_regime=PriceRegime.SPOT, usd_per_hour=30.0,
        as_of=AsOf.of_day(TODAY), source="somewhere",
    )  # fmt: skip
    not_listed = dataclasses.replace(spot, region="eu-central-1")
    base = Catalog.of(default_catalog().accelerators.values(), [spot, not_listed])
    store.use(store.save(base, label="b", created_at=dt.datetime(2026, 12, 1)).version)
    expected = interruptions_per_hour(spot)  # the shipped table's band for it
    assert expected.basis is SpotBasis.FEED

    result = refresh_catalog(["aws-spot-advisor"], client=recorded_client(), config=config)
    row = _row(result, "aws-spot-advisor")
    assert (row.offers, row.repriced, row.unchanged, row.added, row.dropped) == (1, 1, 0, 0, 0)
    new = {o.key: o for o in store.load(result.version or "").offers}
    rate = interruptions_per_hour(new[spot.key])
    assert rate.basis is SpotBasis.OFFER
    assert rate.interruptions_per_hour == pytest.approx(expected.interruptions_per_hour, rel=1e-4)
    assert new[not_listed.key].interruption_rate is None

    again = refresh_catalog(["aws-spot-advisor"], client=recorded_client(), config=config)
    assert (
        _row(again, "aws-spot-advisor").repriced,
        _row(again, "aws-spot-advisor").unchanged,
    ) == (0, 1)
    assert again.version == result.version  # the same content: the same version


# ---------------------------------------------------------------------------------------------
# Bad input, and the published schema


def test_unknown_names_are_bad_input_naming_the_field():
    with pytest.raises(UnknownNameError) as info:
        plan_refresh(["azur"])
    assert info.value.field == "--source"
    assert "Did you mean 'azure'" in str(info.value)
    assert "aws-spot-advisor" in str(info.value)
    with pytest.raises(UnknownNameError, match="--provider"):
        plan_refresh(providers=["amazon"])
    with pytest.raises(InputError, match="--aws-region"):
        plan_refresh(aws_regions=["../evil"])
    with pytest.raises(InputError, match="ARBITER_AWS_REGIONS"):
        plan_refresh(env={"ARBITER_AWS_REGIONS": "us-east-1,nowhere"})
    with pytest.raises(InputError, match="prices azure, none of the providers asked for"):
        plan_refresh(["azure"], ["aws"])
    with pytest.raises(InputError, match="no refresh source prices coreweave") as caught:
        plan_refresh(providers=["coreweave"])
    assert caught.value.field == "--provider" and "lambda" in str(caught.value)
    assert [s.name for s in plan_refresh("azure").sources] == ["azure"]  # one name, not letters
    assert plan_refresh(env={"ARBITER_AWS_REGIONS": " us-west-2, eu-west-1 "}).aws_regions == (
        "us-west-2",
        "eu-west-1",
    )


def test_the_published_schema_is_the_model():
    published = json.loads((REPO / "docs" / "schemas" / "catalog-refresh.schema.json").read_text())
    assert published == CatalogRefresh.json_schema()
