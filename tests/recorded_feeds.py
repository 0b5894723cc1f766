"""Recorded answers of every price feed ``arbiter catalog refresh`` downloads, served over
``httpx.MockTransport``: no test touches the network.

The bodies are the real feed samples of ``tests/data/feeds/`` and the trimmed or
constructed files of ``tests/data/recorded/`` (``PROVENANCE.md`` there says which is
which). ``recorded_client()`` answers every URL the refresh asks for; ``failing`` makes
the hosts named answer another way (a status for ever, a transport error ...).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from arbiter.catalog.feeds import download
from arbiter.catalog.feeds.aws_spot_advisor import URL as SPOT_ADVISOR_URL
from arbiter.catalog.feeds.retry import RetryPolicy, retrying_client, shown_url
from arbiter.catalog.refresh_sources import GPUHUNT_PROVIDERS, SKYPILOT_CLOUDS, SKYPILOT_SCHEMA

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
RECORDED = DATA / "recorded"

GCP_KEY = "AIzaSy-recorded-gcp-secret"
RUNPOD_KEY = "rpa_recorded-runpod-secret"
AWS_REGION = "ap-northeast-1"  # the region of the recorded AWS files
KEYS = {"ARBITER_GCP_API_KEY": GCP_KEY, "ARBITER_RUNPOD_API_KEY": RUNPOD_KEY}
ENV = {**KEYS, "ARBITER_AWS_REGIONS": AWS_REGION}

Handler = Callable[[httpx.Request], httpx.Response]

_SKYPILOT_FILES = {
    "aws": FEEDS / "skypilot-catalog" / "aws_vms.sample.csv",
    "azure": FEEDS / "skypilot-catalog" / "azure_vms.sample.csv",
    "lambda": FEEDS / "skypilot-catalog" / "lambda_vms.sample.csv",
    "runpod": FEEDS / "skypilot-catalog" / "runpod_vms.sample.csv",
    "gcp": RECORDED / "skypilot-gcp-vms.trimmed.csv",
    "oci": RECORDED / "skypilot-oci-vms.trimmed.csv",
}
_SKYPILOT_EMPTY = (
    b"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region\n"
)
_SP_VERSION = "/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/20250911184447/ap-northeast-1/index"


def _gpuhunt_zips() -> dict[str, bytes]:
    """One catalog.zip per gpuhunt provider: the sample's header and that provider's rows
    (AWS: p5; GCP: a3 and the TPU slice); providers without rows get the header only."""
    text = (FEEDS / "gpuhunt-catalog-v2.sample.csv").read_text()
    header, *rows = text.splitlines(keepends=True)
    owner = {"p5": "aws", "a3": "gcp", "v5": "gcp"}
    zips = {}
    for slug in GPUHUNT_PROVIDERS:
        mine = [r for r in rows if owner.get(r[:2]) == slug]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr(f"{slug}.csv", header + "".join(mine))
        zips[slug] = buf.getvalue()
    return zips


def recordings() -> dict[str, bytes]:
    """The body of every URL (without its query string) the refresh fetches."""
    version = (RECORDED / "gpuhunt-version.txt").read_text().strip()
    bodies = {
        download.AZURE_RETAIL_URL: (FEEDS / "azure-retail-prices.sample.json").read_bytes(),
        download.AWS_OFFER_URL.format(region=AWS_REGION, fmt="csv"): (
            RECORDED / "aws-ec2-offer-ap-northeast-1.csv"
        ).read_bytes(),
        download.AWS_SAVINGS_PLAN_INDEX_URL: (
            RECORDED / "aws-savings-plan-region-index.json"
        ).read_bytes(),
        download.AWS_PRICING_HOST + _SP_VERSION + ".csv": (
            RECORDED / "aws-savings-plan-ap-northeast-1.csv"
        ).read_bytes(),
        SPOT_ADVISOR_URL: (FEEDS / "aws-spot-advisor-data.sample.json").read_bytes(),
        download.GCP_SKUS_URL.format(service=download.GCP_COMPUTE_SERVICE): (
            FEEDS / "gcp-cloud-billing-catalog-skus.sample.json"
        ).read_bytes(),
        download.RUNPOD_GRAPHQL_URL: (FEEDS / "runpod-graphql-gputypes.sample.json").read_bytes(),
    }
    for cloud in SKYPILOT_CLOUDS:
        path = _SKYPILOT_FILES.get(cloud)
        url = download.SKYPILOT_URL.format(schema=SKYPILOT_SCHEMA, cloud=cloud)
        bodies[url] = path.read_bytes() if path else _SKYPILOT_EMPTY
    for slug, body in _gpuhunt_zips().items():
        bodies[download.GPUHUNT_VERSION_URL.format(provider=slug)] = f"{version}\n".encode()
        bodies[download.GPUHUNT_CATALOG_URL.format(provider=slug, version=version)] = body
    return bodies


def _next_page(request: httpx.Request) -> httpx.Response | None:
    """The pages after the first: the Azure sample links to a next page, the GCP sample
    carries a page token; both end on an empty last page."""
    if request.url.host == "prices.azure.com" and "$skip" in request.url.params:
        return httpx.Response(200, json={"Items": [], "NextPageLink": None, "Count": 0})
    if request.url.host == "cloudbilling.googleapis.com" and "pageToken" in request.url.params:
        return httpx.Response(200, json={"skus": [], "nextPageToken": ""})
    return None


def recorded_handler(
    failing: Mapping[str, Handler] | None = None, seen: list[httpx.Request] | None = None
) -> Handler:
    """Answers from the recordings; a host in ``failing`` answers with its handler."""
    bodies = recordings()

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        special = (failing or {}).get(request.url.host)
        if special is not None:
            return special(request)
        page = _next_page(request)
        if page is not None:
            return page
        body = bodies.get(shown_url(request.url))
        if body is None:
            return httpx.Response(404, content=b"not recorded")
        return httpx.Response(200, content=body)

    return handle


def recorded_client(
    failing: Mapping[str, Handler] | None = None,
    *,
    seen: list[httpx.Request] | None = None,
    sleeps: list[float] | None = None,
    policy: RetryPolicy | None = None,
    timeout_s: float = 60.0,
) -> httpx.Client:
    """A retrying client over the recordings; its waits go into ``sleeps``, not the clock."""
    waits = sleeps if sleeps is not None else []
    return retrying_client(
        httpx.MockTransport(recorded_handler(failing, seen)),
        timeout_s=timeout_s,
        policy=policy,
        sleep=waits.append,
        random=lambda: 0.0,
    )


def status(code: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> Handler:
    """A handler answering ``code`` for ever."""
    return lambda _request: httpx.Response(code, content=body, headers=headers)
