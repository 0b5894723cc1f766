"""Feed downloads, over httpx.MockTransport serving the real samples: no network."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from arbiter.catalog.feeds import aws_offer, aws_savings_plan, azure, download
from arbiter.domain.errors import FeedError
from conftest import FEEDS, make_context

Handler = Callable[[httpx.Request], httpx.Response]
AZURE_SAMPLE = FEEDS / "azure-retail-prices.sample.json"
GCP_SAMPLE = FEEDS / "gcp-cloud-billing-catalog-skus.sample.json"
RUNPOD_SAMPLE = FEEDS / "runpod-graphql-gputypes.sample.json"
SKYPILOT_SAMPLE = FEEDS / "skypilot-catalog" / "aws_vms.sample.csv"
API_KEY = "AIzaSy-secret-test-key"


@pytest.fixture
def requests() -> list[httpx.Request]:
    return []


def _client(handler: Handler, seen: list[httpx.Request] | None = None) -> httpx.Client:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record))


def _error(call: Callable[[], Any]) -> FeedError:
    with pytest.raises(FeedError) as info:
        call()
    assert "\n" not in str(info.value)
    return info.value


def _status(code: int, body: bytes = b"") -> Handler:
    return lambda _request: httpx.Response(code, content=body)


# ---------------------------------------------------------------------------------------------
# Azure Retail Prices: follows NextPageLink, merges Items


def _azure_pages() -> Iterator[dict[str, Any]]:
    """The sample's 7 items over 3 pages (3, 3, 1), linked as the API links them."""
    doc = json.loads(AZURE_SAMPLE.read_bytes())
    items = doc["Items"]
    for page, start in enumerate((0, 3, 6)):
        chunk = items[start : start + 3]
        last = start + 3 >= len(items)
        link = f"https://prices.azure.com:443/api/retail/prices?$skip={1000 * (page + 1)}"
        yield {**doc, "Items": chunk, "Count": len(chunk), "NextPageLink": None if last else link}


def _azure_handler(request: httpx.Request) -> httpx.Response:
    skip = int(request.url.params.get("$skip", "0"))
    pages = list(_azure_pages())
    return httpx.Response(200, json=pages[skip // 1000])


def test_azure_follows_pages_and_merges_items(requests: list[httpx.Request]) -> None:
    body = download.fetch_azure_retail(_client(_azure_handler, requests))
    assert len(requests) == 3
    first = requests[0].url
    assert first.host == "prices.azure.com"
    assert first.params["api-version"] == "2023-01-01-preview"
    assert first.params["$filter"] == download.AZURE_GPU_FILTER
    assert "startswith(armSkuName, 'Standard_N')" in first.params["$filter"]
    assert [r.url.params.get("$skip") for r in requests[1:]] == ["1000", "2000"]

    doc = json.loads(body)
    assert doc["Count"] == 7
    assert doc["NextPageLink"] is None
    assert doc["BillingCurrency"] == "USD"
    result = azure.parse(body, make_context("azure-download.json"))
    assert result.tally.records == 7
    assert sorted(o.usd_per_hour for o in result.offers) == [18.169536, 98.32]


def test_azure_custom_filter(requests: list[httpx.Request]) -> None:
    odata = "armSkuName eq 'Standard_ND96isr_H100_v5'"
    download.fetch_azure_retail(_client(_azure_handler, requests), filter=odata)
    assert requests[0].url.params["$filter"] == odata


def test_azure_stops_after_max_pages() -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        page = next(_azure_pages())  # always links on to another page
        return httpx.Response(200, json=page)

    error = _error(lambda: download.fetch_azure_retail(_client(endless), max_pages=2))
    assert "still more pages after 2" in str(error)


def test_azure_error_status_names_the_url() -> None:
    error = _error(
        lambda: download.fetch_azure_retail(_client(_status(503, b"Service Unavailable")))
    )
    text = str(error)
    assert "prices.azure.com/api/retail/prices" in text
    assert "HTTP 503" in text
    assert "Service Unavailable" in text


def test_azure_error_on_a_later_page() -> None:
    def second_page_fails(request: httpx.Request) -> httpx.Response:
        if "$skip" in request.url.params:
            return httpx.Response(429, content=b"Too Many Requests")
        return _azure_handler(request)

    error = _error(lambda: download.fetch_azure_retail(_client(second_page_fails)))
    assert "$skip=1000" in str(error)
    assert "HTTP 429" in str(error)


def test_azure_answers_that_are_not_the_api() -> None:
    html = _status(200, b"<html><body>maintenance</body></html>")
    assert "not JSON" in str(_error(lambda: download.fetch_azure_retail(_client(html))))
    no_items = _status(200, b'{"Items": {}}')
    error = _error(lambda: download.fetch_azure_retail(_client(no_items)))
    assert error.field == "Items"


def test_transport_error_becomes_feed_error() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    error = _error(lambda: download.fetch_azure_retail(_client(unreachable)))
    assert "ConnectError: name resolution failed" in str(error)
    assert "prices.azure.com" in str(error)


# ---------------------------------------------------------------------------------------------
# AWS offer files and Savings Plans rate files


def _serve(files: dict[str, bytes]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        body = files.get(request.url.path)
        return httpx.Response(200, content=body) if body is not None else httpx.Response(404)

    return handler


def test_aws_offer_json_and_csv(requests: list[httpx.Request]) -> None:
    json_body = (FEEDS / "aws-price-list-offer.sample.json").read_bytes()
    csv_body = (FEEDS / "aws-price-list-offer.sample.csv").read_bytes()
    base = "/offers/v1.0/aws/AmazonEC2/current/us-east-2"
    client = _client(
        _serve({f"{base}/index.json": json_body, f"{base}/index.csv": csv_body}), requests
    )
    assert download.fetch_aws_offer(client, "us-east-2") == json_body
    assert download.fetch_aws_offer(client, "us-east-2", fmt="csv") == csv_body
    assert str(requests[0].url) == (
        "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/us-east-2/index.json"
    )
    result = aws_offer.parse(download.fetch_aws_offer(client, "us-east-2"), make_context("x"))
    assert result.tally.records == 3


def test_aws_offer_errors(requests: list[httpx.Request]) -> None:
    client = _client(_serve({}), requests)
    error = _error(lambda: download.fetch_aws_offer(client, "eu-west-1"))
    assert "HTTP 404" in str(error)
    assert "/AmazonEC2/current/eu-west-1/index.json" in str(error)
    # A name that would change the URL is refused before any request.
    error = _error(lambda: download.fetch_aws_offer(client, "../../evil"))
    assert "not a valid AWS region" in str(error)
    assert len(requests) == 1
    html = _client(_status(200, b"<!DOCTYPE html><html>"))
    assert "not an EC2 offer file" in str(
        _error(lambda: download.fetch_aws_offer(html, "us-east-1"))
    )
    assert "unknown format" in str(
        _error(lambda: download.fetch_aws_offer(client, "us-east-1", fmt="xml"))
    )


SP_VERSION = "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/20250911184447/ap-east-2/index.json"
SP_INDEX = {
    "disclaimer": "…",
    "publicationDate": "2025-09-11T18:44:47Z",
    "regions": [
        {"regionCode": "us-east-1", "versionUrl": SP_VERSION.replace("ap-east-2", "us-east-1")},
        {"regionCode": "ap-east-2", "versionUrl": SP_VERSION},
    ],
}


def test_aws_savings_plan_through_the_region_index(requests: list[httpx.Request]) -> None:
    rates = (FEEDS / "aws-savings-plan-rates.sample.csv").read_bytes()
    files = {
        "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/region_index.json": json.dumps(
            SP_INDEX
        ).encode(),
        SP_VERSION.removesuffix(".json") + ".csv": rates,
    }
    body = download.fetch_aws_savings_plan(_client(_serve(files), requests), "ap-east-2")
    assert body == rates
    assert [r.url.path for r in requests] == [
        "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/region_index.json",
        "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/20250911184447/ap-east-2/index.csv",
    ]
    assert aws_savings_plan.parse(body, make_context("x")).tally.records == 2


def test_aws_savings_plan_errors() -> None:
    index = json.dumps(SP_INDEX).encode()
    only_index = _serve(
        {"/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/region_index.json": index}
    )
    error = _error(lambda: download.fetch_aws_savings_plan(_client(only_index), "eu-west-9"))
    assert "not in the Savings Plans region index" in str(error)
    assert "Valid: ap-east-2, us-east-1" in str(error)
    error = _error(lambda: download.fetch_aws_savings_plan(_client(only_index), "ap-east-2"))
    assert "HTTP 404" in str(error)
    assert "ap-east-2/index.csv" in str(error)


# ---------------------------------------------------------------------------------------------
# GCP Cloud Billing Catalog: follows nextPageToken, merges skus; the key never shows


def test_gcp_follows_page_tokens(requests: list[httpx.Request]) -> None:
    sample = json.loads(GCP_SAMPLE.read_bytes())
    skus = sample["skus"]

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        if token is None:
            return httpx.Response(200, json={"skus": skus[:4], "nextPageToken": "page-2"})
        if token == "page-2":
            return httpx.Response(200, json={"skus": skus[4:], "nextPageToken": ""})
        return httpx.Response(400)

    body = download.fetch_gcp_skus(_client(handler, requests), API_KEY)
    doc = json.loads(body)
    assert [s["skuId"] for s in doc["skus"]] == [s["skuId"] for s in skus]
    assert doc["nextPageToken"] == ""
    assert len(requests) == 2
    assert requests[0].url.path == "/v1/services/6F81-5844-456A/skus"
    assert requests[0].url.params["key"] == API_KEY
    assert requests[1].url.params["pageToken"] == "page-2"


def test_gcp_error_hides_the_api_key() -> None:
    echo = _status(403, f'{{"error": "API key {API_KEY} not valid"}}'.encode())
    error = _error(lambda: download.fetch_gcp_skus(_client(echo), API_KEY))
    text = str(error)
    assert "HTTP 403" in text
    assert "cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus" in text
    assert API_KEY not in text
    assert "***" in text


def test_gcp_stops_after_max_pages() -> None:
    endless = _status(200, b'{"skus": [], "nextPageToken": "again"}')
    error = _error(lambda: download.fetch_gcp_skus(_client(endless), API_KEY, max_pages=3))
    assert "still more pages after 3" in str(error)


def test_gcp_bad_service_id() -> None:
    error = _error(lambda: download.fetch_gcp_skus(_client(_status(200)), API_KEY, "x/../y"))
    assert "not a valid GCP service id" in str(error)


# ---------------------------------------------------------------------------------------------
# RunPod GraphQL and SkyPilot catalog


def test_runpod_posts_the_gpu_types_query(requests: list[httpx.Request]) -> None:
    sample = RUNPOD_SAMPLE.read_bytes()
    body = download.fetch_runpod(_client(lambda _r: httpx.Response(200, content=sample), requests))
    assert body == sample
    (request,) = requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.runpod.io/graphql"
    query = json.loads(request.content)["query"]
    for field in ("gpuTypes", "securePrice", "communitySpotPrice", "sixMonthPrice"):
        assert field in query


def test_runpod_errors() -> None:
    graphql_error = _status(200, b'{"errors": [{"message": "Cannot query field x"}]}')
    error = _error(lambda: download.fetch_runpod(_client(graphql_error)))
    assert "Cannot query field x" in str(error)
    assert "api.runpod.io/graphql" in str(error)
    no_data = _status(200, b'{"data": {}}')
    assert "data.gpuTypes" in str(_error(lambda: download.fetch_runpod(_client(no_data))))
    assert "HTTP 500" in str(_error(lambda: download.fetch_runpod(_client(_status(500)))))


def test_runpod_api_key_is_a_parameter_and_never_shown(requests: list[httpx.Request]) -> None:
    failing = _client(_status(401, f"bad key {API_KEY}".encode()), requests)
    error = _error(lambda: download.fetch_runpod(failing, api_key=API_KEY))
    assert requests[0].url.params["api_key"] == API_KEY
    assert API_KEY not in str(error)


def test_skypilot_catalog(requests: list[httpx.Request]) -> None:
    sample = SKYPILOT_SAMPLE.read_bytes()
    body = download.fetch_skypilot(
        _client(lambda _r: httpx.Response(200, content=sample), requests), "aws"
    )
    assert body == sample
    assert str(requests[0].url) == (
        "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master"
        "/catalogs/v8/aws/vms.csv"
    )
    download.fetch_skypilot(
        _client(lambda _r: httpx.Response(200, content=sample), requests), "lambda", schema="v7"
    )
    assert requests[1].url.path.endswith("/catalogs/v7/lambda/vms.csv")


def test_skypilot_errors() -> None:
    error = _error(lambda: download.fetch_skypilot(_client(_status(404, b"404: Not Found")), "aws"))
    assert "HTTP 404" in str(error)
    assert "catalogs/v8/aws/vms.csv" in str(error)
    not_csv = _status(200, b"<html>rate limited</html>")
    assert "not a SkyPilot catalog" in str(
        _error(lambda: download.fetch_skypilot(_client(not_csv), "aws"))
    )
    assert "not a valid SkyPilot cloud" in str(
        _error(lambda: download.fetch_skypilot(_client(not_csv), "../aws"))
    )


def test_new_client_defaults() -> None:
    with download.new_client(timeout_s=5.0) as client:
        assert client.timeout.read == 5.0
        assert client.headers["User-Agent"] == download.USER_AGENT
