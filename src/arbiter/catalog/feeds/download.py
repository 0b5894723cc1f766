"""Download the public price feeds, for users with network access.

Every function takes an ``httpx.Client``, so that callers choose timeouts and proxies and
tests pass a client over ``httpx.MockTransport`` (tests never touch the network). Each
returns the bytes a parser in :mod:`arbiter.catalog.feeds` reads; paginated APIs are
merged into one document in the API's own envelope. Whatever goes wrong (a transport
error, an HTTP status >= 400, an answer that is not what the API sends) raises
:class:`~arbiter.domain.errors.FeedError` naming the URL.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from typing import Any

import httpx

from arbiter.catalog.feeds.aws_spot_advisor import URL as AWS_SPOT_ADVISOR_URL
from arbiter.domain.errors import FeedError

AZURE_RETAIL_URL = "https://prices.azure.com/api/retail/prices"
# The preview version is the one that returns savingsPlan[] on Consumption rows.
AZURE_API_VERSION = "2023-01-01-preview"
# N-series sizes are Azure's GPU (and FPGA) families; Windows rows are half of the rest
# and the parser skips them anyway. Reservation rows are kept: they price reserved_1y/3y.
AZURE_GPU_FILTER = (
    "serviceName eq 'Virtual Machines' and startswith(armSkuName, 'Standard_N')"
    " and contains(productName, 'Windows') eq false"
)

AWS_PRICING_HOST = "https://pricing.us-east-1.amazonaws.com"
AWS_OFFER_URL = AWS_PRICING_HOST + "/offers/v1.0/aws/AmazonEC2/current/{region}/index.{fmt}"
AWS_SAVINGS_PLAN_INDEX_URL = (
    AWS_PRICING_HOST + "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/region_index.json"
)

GCP_COMPUTE_SERVICE = "6F81-5844-456A"
GCP_SKUS_URL = "https://cloudbilling.googleapis.com/v1/services/{service}/skus"
GCP_PAGE_SIZE = 5000

RUNPOD_GRAPHQL_URL = "https://api.runpod.io/graphql"
RUNPOD_GPU_FIELDS = (
    "id displayName memoryInGb maxGpuCount secureCloud communityCloud securePrice"
    " communityPrice secureSpotPrice communitySpotPrice clusterPrice oneWeekPrice"
    " oneMonthPrice threeMonthPrice sixMonthPrice"
)
RUNPOD_GPU_TYPES_QUERY = f"query GpuTypes {{ gpuTypes {{ {RUNPOD_GPU_FIELDS} }} }}"

SKYPILOT_URL = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master"
    "/catalogs/{schema}/{cloud}/vms.csv"
)

# gpuhunt publishes each provider on its own (gpuhunt's catalog.py, CATALOG_URL "v3"):
# {provider}/version names the latest build, {provider}/{version}/catalog.zip holds
# {provider}.csv. Providers use gpuhunt's names (lambdalabs, not lambda).
GPUHUNT_URL = "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3"
GPUHUNT_VERSION_URL = GPUHUNT_URL + "/{provider}/version"
GPUHUNT_CATALOG_URL = GPUHUNT_URL + "/{provider}/{version}/catalog.zip"
GPUHUNT_MAX_CSV_BYTES = 1 << 30  # a provider's CSV is megabytes; refuse to inflate more

USER_AGENT = "arbiter-price-feeds"

# Names that end up inside URLs: accept only their documented shapes.
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_GCP_SERVICE = re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$")
_SKYPILOT_CLOUD = re.compile(r"^[a-z0-9_-]+$")
_SKYPILOT_SCHEMA = re.compile(r"^v\d+$")
_GPUHUNT_PROVIDER = re.compile(r"^[a-z0-9_-]+$")
_GPUHUNT_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_AWS_FORMATS = ("json", "csv")
# what reading a damaged or hostile archive raises (zipfile raises NotImplementedError for a
# compression method it does not support)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, OSError)


def new_client(
    timeout_s: float = 120.0, *, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A client with arbiter's defaults; the AWS offer files take minutes on slow links.
    ``transport`` replaces the network's (retries, or ``httpx.MockTransport`` in tests)."""
    return httpx.Client(
        timeout=timeout_s,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        transport=transport,
    )


def is_aws_region(name: str) -> bool:
    """Whether ``name`` has the shape of an AWS region code (``us-east-1``)."""
    return bool(_AWS_REGION.match(name))


def fetch_azure_retail(
    client: httpx.Client,
    filter: str = AZURE_GPU_FILTER,  # noqa: A002 - the name of the API's $filter parameter
    max_pages: int = 1000,
) -> bytes:
    """All pages of an Azure Retail Prices query, merged into one response document.

    Follows ``NextPageLink`` until it is null; more than ``max_pages`` pages raises.
    """
    url: str | None = AZURE_RETAIL_URL
    params: dict[str, str] | None = {"api-version": AZURE_API_VERSION, "$filter": filter}
    envelope: dict[str, Any] = {}
    items: list[Any] = []
    for _ in range(max_pages):
        if url is None:
            break
        page = _get_json(client, url, params)
        params = None  # NextPageLink carries the query
        items.extend(_list_member(page, "Items", url))
        if not envelope:
            envelope = {k: v for k, v in page.items() if k not in ("Items", "NextPageLink")}
        url = _next_link(page.get("NextPageLink"), url)
    if url is not None:
        raise FeedError(
            f"still more pages after {max_pages}; narrow the filter or raise max_pages",
            file=url,
        )
    document = {**envelope, "Items": items, "NextPageLink": None, "Count": len(items)}
    return json.dumps(document).encode()


def fetch_aws_offer(client: httpx.Client, region: str, fmt: str = "json") -> bytes:
    """The EC2 offer file of one region (``fmt`` ``json`` or ``csv``), as published now."""
    _check_name(region, _AWS_REGION, "AWS region", "a region code such as us-east-1")
    if fmt not in _AWS_FORMATS:
        raise FeedError(f"unknown format {fmt!r}", field="fmt", valid=", ".join(_AWS_FORMATS))
    url = AWS_OFFER_URL.format(region=region, fmt=fmt)
    body = _request(client, "GET", url).content
    _check_start(body, url, fmt, "an EC2 offer file")
    return body


def fetch_aws_savings_plan(client: httpx.Client, region: str, fmt: str = "csv") -> bytes:
    """The Compute Savings Plans rate file of one region, found through the region index."""
    _check_name(region, _AWS_REGION, "AWS region", "a region code such as us-east-1")
    if fmt not in _AWS_FORMATS:
        raise FeedError(f"unknown format {fmt!r}", field="fmt", valid=", ".join(_AWS_FORMATS))
    index_url = AWS_SAVINGS_PLAN_INDEX_URL
    index = _get_json(client, index_url)
    version_path = _savings_plan_version(index, region, index_url)
    url = AWS_PRICING_HOST + version_path.removesuffix(".json") + f".{fmt}"
    body = _request(client, "GET", url).content
    _check_start(body, url, fmt, "a Savings Plans rate file")
    return body


def fetch_gcp_skus(
    client: httpx.Client,
    api_key: str,
    service: str = GCP_COMPUTE_SERVICE,
    max_pages: int = 1000,
) -> bytes:
    """All SKUs of one Cloud Billing Catalog service, merged into one ``{"skus": …}`` page.

    The API key goes in the query string, as the API requires, and never into messages.
    """
    _check_name(service, _GCP_SERVICE, "GCP service id", "an id such as 6F81-5844-456A")
    url = GCP_SKUS_URL.format(service=service)
    skus: list[Any] = []
    token = ""
    for _ in range(max_pages):
        params = {"key": api_key, "pageSize": str(GCP_PAGE_SIZE)}
        if token:
            params["pageToken"] = token
        page = _get_json(client, url, params, secret=api_key)
        skus.extend(_list_member(page, "skus", url, required=False))
        token = page.get("nextPageToken") or ""
        if not isinstance(token, str):
            raise FeedError("nextPageToken is not a string", file=url, field="nextPageToken")
        if not token:
            return json.dumps({"skus": skus, "nextPageToken": ""}).encode()
    raise FeedError(f"still more pages after {max_pages}; raise max_pages", file=url)


def fetch_runpod(client: httpx.Client, api_key: str | None = None) -> bytes:
    """RunPod's per-GPU prices (the GraphQL ``gpuTypes`` query), as ``{"data": …}``."""
    params = {"api_key": api_key} if api_key else None
    url = RUNPOD_GRAPHQL_URL
    response = _request(
        client,
        "POST",
        url,
        params=params,
        json_body={"query": RUNPOD_GPU_TYPES_QUERY},
        secret=api_key,
    )
    doc = _json_object(response, url)
    errors = doc.get("errors")
    if errors:
        raise FeedError(f"the GraphQL query failed: {_graphql_messages(errors)}", file=url)
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("gpuTypes"), list):
        raise FeedError(
            "the answer has no data.gpuTypes list", file=url, valid='{"data": {"gpuTypes": [...]}}'
        )
    return response.content


def fetch_skypilot(client: httpx.Client, cloud: str, schema: str = "v8") -> bytes:
    """SkyPilot's ``vms.csv`` for one cloud, from the skypilot-catalog repository."""
    _check_name(cloud, _SKYPILOT_CLOUD, "SkyPilot cloud", "a name such as aws, gcp, lambda")
    _check_name(schema, _SKYPILOT_SCHEMA, "SkyPilot catalog schema", "v7, v8 ...")
    url = SKYPILOT_URL.format(schema=schema, cloud=cloud)
    body = _request(client, "GET", url).content
    first_line = body.split(b"\n", 1)[0]
    if b"InstanceType" not in first_line:
        raise FeedError(
            f"the answer is not a SkyPilot catalog (it starts {_snippet(body)})",
            file=url,
            valid="a CSV whose header names InstanceType",
        )
    return body


def fetch_aws_spot_advisor(client: httpx.Client) -> bytes:
    """The AWS Spot Instance Advisor data (interruption bands by region, OS and type)."""
    url = AWS_SPOT_ADVISOR_URL
    body = _request(client, "GET", url).content
    _check_start(body, url, "json", "the Spot Advisor data")
    return body


def gpuhunt_version(client: httpx.Client, provider: str) -> str:
    """The latest build of gpuhunt's catalog of ``provider`` (gpuhunt's provider name)."""
    _check_name(provider, _GPUHUNT_PROVIDER, "gpuhunt provider", "a name such as aws, lambdalabs")
    url = GPUHUNT_VERSION_URL.format(provider=provider)
    version = _request(client, "GET", url).content.decode("utf-8", errors="replace").strip()
    if not _GPUHUNT_VERSION.match(version):
        raise FeedError(
            f"the answer is not a catalog version (it is {_snippet(version.encode())})",
            file=url,
            valid="a version such as 20260819-1234",
        )
    return version


def fetch_gpuhunt(client: httpx.Client, provider: str, version: str) -> bytes:
    """``{provider}.csv`` from gpuhunt's ``catalog.zip`` of ``provider`` at ``version``."""
    _check_name(provider, _GPUHUNT_PROVIDER, "gpuhunt provider", "a name such as aws, lambdalabs")
    _check_name(version, _GPUHUNT_VERSION, "gpuhunt catalog version", "20260819-1234 ...")
    url = GPUHUNT_CATALOG_URL.format(provider=provider, version=version)
    body = _request(client, "GET", url).content
    member = f"{provider}.csv"
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = archive.namelist()
            if member not in names:
                raise FeedError(
                    f"the archive has no {member}",
                    file=url,
                    valid=f"an archive holding {member} (it holds {', '.join(names) or 'nothing'})",
                )
            if archive.getinfo(member).file_size > GPUHUNT_MAX_CSV_BYTES:
                raise FeedError(f"{member} inflates to more than 1 GiB", file=url)
            data = archive.read(member)
    except _ZIP_ERRORS as exc:
        raise FeedError(
            f"the answer is not a readable zip archive ({exc}; it starts {_snippet(body)})",
            file=url,
        ) from None
    if b"instance_name" not in data.split(b"\n", 1)[0]:
        raise FeedError(
            f"{member} is not a gpuhunt catalog (it starts {_snippet(data)})",
            file=url,
            valid="a CSV whose header names instance_name",
        )
    return data


# ---------------------------------------------------------------------------------------------
# HTTP and checking the answers


def _request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    secret: str | None = None,
) -> httpx.Response:
    try:
        response = client.request(method, url, params=params, json=json_body, follow_redirects=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        message = f"the download failed ({type(exc).__name__}: {exc})"
        raise FeedError(_redact(message, secret), file=url) from None
    if response.status_code >= 400:
        message = (
            f"the server answered HTTP {response.status_code} {response.reason_phrase}:"
            f" {_snippet(response.content)}"
        )
        raise FeedError(_redact(message, secret), file=url)
    return response


def _get_json(
    client: httpx.Client,
    url: str,
    params: dict[str, str] | None = None,
    *,
    secret: str | None = None,
) -> dict[str, Any]:
    return _json_object(_request(client, "GET", url, params=params, secret=secret), url)


def _json_object(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        doc = response.json()
    except ValueError:
        raise FeedError(
            f"the answer is not JSON (it starts {_snippet(response.content)})", file=url
        ) from None
    if not isinstance(doc, dict):
        raise FeedError(f"the answer is a JSON {type(doc).__name__}, not an object", file=url)
    return doc


def _list_member(doc: dict[str, Any], name: str, url: str, *, required: bool = True) -> list[Any]:
    value = doc.get(name)
    if value is None and not required:
        return []  # the Billing Catalog omits "skus" on an empty page
    if not isinstance(value, list):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(f"{name} is {found}, not a list", file=url, field=name)
    return value


def _next_link(value: Any, url: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FeedError("NextPageLink is not a string", file=url, field="NextPageLink")
    return value


def _savings_plan_version(index: dict[str, Any], region: str, url: str) -> str:
    regions = index.get("regions")
    if not isinstance(regions, list):
        raise FeedError("regions is not a list", file=url, field="regions")
    known = []
    for entry in regions:
        if isinstance(entry, dict):
            known.append(str(entry.get("regionCode")))
            path = entry.get("versionUrl")
            if entry.get("regionCode") == region and isinstance(path, str):
                return path
    raise FeedError(
        f"region {region!r} is not in the Savings Plans region index",
        file=url,
        valid=", ".join(sorted(known)),
    )


def _check_name(value: str, pattern: re.Pattern[str], kind: str, valid: str) -> None:
    if not pattern.match(value):
        raise FeedError(f"{value!r} is not a valid {kind}", valid=valid)


def _check_start(body: bytes, url: str, fmt: str, what: str) -> None:
    # The AWS files run to gigabytes: check how they start, the parser checks the rest.
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if fmt == "json":
        ok = head.startswith(b"{")
    else:  # metadata lines first ("FormatVersion","v1.0"), or straight to the header
        ok = head.lstrip(b'"').startswith((b"FormatVersion", b"SKU"))
    if not ok:
        raise FeedError(
            f"the answer is not {what} in {fmt.upper()} (it starts {_snippet(body)})", file=url
        )


def _graphql_messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    return repr(text + ("..." if len(body) > limit else "")) if text else "(an empty body)"


def _redact(message: str, secret: str | None) -> str:
    return message.replace(secret, "***") if secret else message
