"""RunPod GraphQL gpuTypes: the sample (real per-GPU prices captured 2025-06-21)."""

import json
from collections import Counter
from typing import Any

import pytest

from arbiter.catalog.feeds import runpod
from arbiter.catalog.feeds.tally import FeedResult
from arbiter.domain.errors import FeedError
from arbiter.domain.offer import Offer, PriceRegime
from conftest import FEEDS, make_context

SAMPLE = FEEDS / "runpod-graphql-gputypes.sample.json"
FILE = "gputypes.json"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def gpu(doc: dict[str, Any], gpu_id: str) -> dict[str, Any]:
    (hit,) = [g for g in doc["data"]["gpuTypes"] if g["id"] == gpu_id]
    return hit


def parse_doc(doc: Any) -> FeedResult:
    return runpod.parse(json.dumps(doc).encode(), make_context(FILE))


def offers_of(result: FeedResult, gpu_id: str) -> dict[tuple[str, str], Offer]:
    return {(o.region, o.source_regime): o for o in result.offers if o.instance_type == gpu_id}


@pytest.fixture(scope="module")
def result() -> FeedResult:
    return runpod.parse(SAMPLE.read_bytes(), make_context(str(SAMPLE)))


def test_every_price_field_becomes_a_per_gpu_offer(result):
    offers = offers_of(result, "NVIDIA H100 80GB HBM3")
    prices = {key: o.usd_per_hour for key, o in offers.items()}
    assert prices == {
        ("secure-cloud", "on_demand"): 2.99,
        ("community-cloud", "on_demand"): 2.69,
        ("secure-cloud", "spot"): 1.75,
        ("community-cloud", "spot"): 1.5,
        ("secure-cloud", "commit_3m"): 2.811,
        ("secure-cloud", "commit_6m"): 2.601,
    }
    commit = offers[("secure-cloud", "commit_6m")]
    assert (commit.price_regime, commit.term_months) == (PriceRegime.COMMITTED, 6)
    assert offers[("secure-cloud", "commit_3m")].term_months == 3
    assert offers[("secure-cloud", "spot")].price_regime is PriceRegime.SPOT
    for offer in offers.values():
        assert (offer.provider, offer.accelerator, offer.accelerators_per_instance) == (
            "runpod",
            "H100-SXM",
            1,
        )
        assert offer.as_of.text == "2026-11-01"


@pytest.mark.parametrize(
    ("gpu_id", "accelerator"),
    [
        ("AMD Instinct MI300X OAM", "MI300X"),
        ("NVIDIA A100-SXM4-80GB", "A100-SXM-80GB"),
        ("NVIDIA B200", "B200"),
        ("NVIDIA H100 80GB HBM3", "H100-SXM"),
        ("NVIDIA H200", "H200-SXM"),
    ],
)
def test_runpod_ids_map_to_canonical_chips(result, gpu_id, accelerator):
    assert {o.accelerator for o in offers_of(result, gpu_id).values()} == {accelerator}


def test_community_placeholder_price_is_skipped(result):
    # B200 and MI300X: securePrice 6.39 / 2.49 but communityPrice 0.5 (not offered)
    assert ("community-cloud", "on_demand") not in offers_of(result, "NVIDIA B200")
    assert ("community-cloud", "on_demand") not in offers_of(result, "AMD Instinct MI300X OAM")
    assert result.tally.skipped[runpod.PLACEHOLDER] == 2


@pytest.mark.parametrize(("community_usd", "kept"), [(1.0, False), (1.19, False), (1.2, True)])
def test_placeholder_rule_is_thirty_percent_of_the_secure_price(community_usd, kept):
    doc = sample()
    gpu(doc, "NVIDIA H200")["communityPrice"] = community_usd  # securePrice 3.99; 30% = 1.197
    result = parse_doc(doc)
    assert (("community-cloud", "on_demand") in offers_of(result, "NVIDIA H200")) is kept


def test_sample_totals(result):
    assert result.tally.records == 5
    assert len(result.offers) == 23
    assert not result.tally.unmapped
    assert result.tally.skipped == Counter({runpod.PLACEHOLDER: 2, runpod.CLUSTER_PRICE: 5})


def test_week_and_month_terms_when_present():
    doc = sample()
    gpu(doc, "NVIDIA H200").update(oneWeekPrice=3.9, oneMonthPrice=3.85)
    offers = offers_of(parse_doc(doc), "NVIDIA H200")
    assert offers[("secure-cloud", "commit_1w")].term_months == 1
    assert offers[("secure-cloud", "commit_1m")].usd_per_hour == 3.85


def test_null_zero_unknown_and_not_offered_are_counted():
    doc = sample()
    gpu(doc, "NVIDIA H200").update(secureSpotPrice=0, clusterPrice=None)
    b200 = gpu(doc, "NVIDIA B200")
    b200.update(communityPrice=5.0)  # credible, but communityCloud is false
    empty = {"id": "NVIDIA A40", "displayName": "A40", "securePrice": None, "clusterPrice": None}
    unknown = {"id": "NVIDIA GeForce RTX 4090", "displayName": "RTX 4090", "securePrice": 0.69}
    nothing = {"id": "NVIDIA H100 NVL", "displayName": "H100 NVL"}
    doc["data"]["gpuTypes"] += [empty, unknown, nothing]
    result = parse_doc(doc)
    assert result.tally.records == 8
    assert result.tally.unmapped == Counter({runpod.UNKNOWN_ACCELERATOR: 2})  # A40, RTX 4090
    assert result.tally.skipped[runpod.ZERO_PRICE] == 1
    assert result.tally.skipped[runpod.NOT_OFFERED] == 1
    assert result.tally.skipped[runpod.NO_PRICES] == 1  # H100 NVL without any price


def test_display_name_is_a_fallback_alias():
    doc = {
        "data": {
            "gpuTypes": [{"id": "some-new-id", "displayName": "H100 NVL", "securePrice": 2.59}]
        }
    }
    (offer,) = parse_doc(doc).offers
    assert (offer.accelerator, offer.instance_type) == ("H100-NVL", "some-new-id")


# --- malformed input ---------------------------------------------------------------


def _bad(data: bytes) -> FeedError:
    with pytest.raises(FeedError) as info:
        runpod.parse(data, make_context(FILE))
    assert info.value.file == FILE
    return info.value


def test_empty_file_is_an_error():
    assert "empty" in str(_bad(b"\n"))


def test_truncated_json_is_an_error():
    assert "truncated" in str(_bad(SAMPLE.read_bytes()[:700]))


def test_missing_gpu_types_is_an_error():
    assert _bad(b'{"data": {}}').field == "data.gpuTypes"
    assert _bad(b'{"data": {"gpuTypes": {}}}').field == "data.gpuTypes"


def test_graphql_errors_are_reported():
    error = _bad(b'{"errors": [{"message": "Unauthorized"}], "data": null}')
    assert "Unauthorized" in str(error)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2.99", "not a number"),
        ("abc", "not a number"),
        (-2.99, "negative"),
        (True, "not a number"),
    ],
)
def test_bad_prices_name_the_gpu_type_and_field(value, message):
    doc = sample()
    doc["data"]["gpuTypes"][3]["securePrice"] = value
    error = _bad(json.dumps(doc).encode())
    assert error.field == "data.gpuTypes[3].securePrice"
    assert message in str(error)
    assert "Valid:" in str(error)


def test_wrong_record_types_are_errors():
    assert _bad(b'{"data": {"gpuTypes": ["H100"]}}').record == "data.gpuTypes[0]"
    assert _bad(b'{"data": {"gpuTypes": [{"id": 5}]}}').field == "data.gpuTypes[0].id"
