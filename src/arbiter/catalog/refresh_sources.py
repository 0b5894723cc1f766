"""The sources ``arbiter catalog refresh`` downloads, one entry each: what it fetches, which
providers it prices, which offers it wrote before (the drop rule), and the key it needs.

Each source's ``fetch`` downloads its files with the downloaders of
:mod:`arbiter.catalog.feeds.download` and parses them with the parser of the same feed as
``arbiter catalog import`` does; it raises :class:`~arbiter.domain.errors.FeedError` when
a download or a parse fails. :mod:`arbiter.catalog.refresh` runs them and merges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from arbiter.catalog import names
from arbiter.catalog.feeds import (
    aws_offer,
    aws_savings_plan,
    aws_spot_advisor,
    azure,
    download,
    gcp,
    gpuhunt,
    runpod,
    skypilot,
)
from arbiter.catalog.feeds.aws_spot_advisor import SpotAdvisorFeed
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.tally import FeedResult

GCP_KEY_ENV = "ARBITER_GCP_API_KEY"
RUNPOD_KEY_ENV = "ARBITER_RUNPOD_API_KEY"
AWS_REGIONS_ENV = "ARBITER_AWS_REGIONS"

DEFAULT_AWS_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1")
"""Regions with the widest AWS GPU and Trainium offer (p5, p4d, trn1/trn2): the offer files
are hundreds of megabytes each, so only these by default (``ARBITER_AWS_REGIONS``)."""

AWS_OFFER_FORMAT = "csv"  # the CSV form is parsed row by row; the JSON one is loaded whole

SKYPILOT_SCHEMA = "v8"
SKYPILOT_CLOUDS = ("aws", "azure", "gcp", "lambda", "oci", "runpod", "nebius")
"""Clouds of SkyPilot's catalog whose ``vms.csv`` the SkyPilot parser is known to read (the
samples, the shipped snapshot; Nebius's fetcher writes the same columns); those arbiter
knows as providers are fetched. SkyPilot publishes more (vast, cudo ...), in layouts not
checked here: one unreadable file would fail the whole source."""

GPUHUNT_PROVIDERS = {
    "aws": "aws",
    "azure": "azure",
    "gcp": "gcp",
    "lambdalabs": "lambda",
    "oci": "oci",
    "runpod": "runpod",
    "nebius": "nebius",
    "verda": "verda",
    "cloudrift": "cloudrift",
}
"""gpuhunt's offline providers by gpuhunt's name -> arbiter's provider; those arbiter
knows are fetched."""

SPOT_ADVISOR_OS = "Linux"  # arbiter plans Linux GPU instances (scripts/build_spot_table.py)


@dataclass(frozen=True, slots=True)
class FetchJob:
    """What a source's ``fetch`` is given: the client, the accelerators the catalog knows,
    the day offers without a date of their own are dated to, the providers wanted (within
    the source's own), its API key if it needs one, the AWS regions, and ``tick(done,
    total)`` for its progress in files."""

    client: httpx.Client
    known_accelerators: frozenset[str]
    observed_on: dt.date
    providers: tuple[str, ...]
    api_key: str | None = None
    aws_regions: tuple[str, ...] = DEFAULT_AWS_REGIONS
    tick: Callable[[int, int], None] = lambda _done, _total: None

    def context(self, file: str, provider: str | None = None) -> FeedContext:
        return FeedContext(
            file=file,
            known_accelerators=self.known_accelerators,
            observed_on=self.observed_on,
            provider=provider,
        )


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a source returned: the parsed files; for a source fetched by AWS region, the
    regions it covers; for the Spot Advisor, its bands instead of offers."""

    results: tuple[FeedResult, ...] = ()
    regions: frozenset[str] | None = None
    spot: SpotAdvisorFeed | None = None


@dataclass(frozen=True, slots=True)
class RefreshSource:
    """One refresh source. ``provides``: the providers it can price (those not in
    :data:`arbiter.catalog.names.PROVIDERS` are left out, see :attr:`providers`).
    ``origins``: how the ``source`` of the offers it writes starts, for the drop rule.
    ``key_env``: the environment variable holding its API key (None: needs none)."""

    name: str
    title: str
    host: str
    provides: tuple[str, ...]
    origins: tuple[str, ...]
    fetch: Callable[[FetchJob], Fetched]
    key_env: str | None = None

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(p for p in self.provides if p in names.PROVIDERS)

    def produced(self, source: str) -> bool:
        """Whether an offer whose ``source`` is this was last priced by this feed."""
        return source.startswith(self.origins)


def _count(job: FetchJob, total: int) -> Callable[[], None]:
    done = [0]
    job.tick(0, total)

    def step() -> None:
        done[0] += 1
        job.tick(done[0], total)

    return step


def _azure(job: FetchJob) -> Fetched:
    step = _count(job, 1)
    body = download.fetch_azure_retail(job.client)
    step()
    return Fetched((azure.parse(body, job.context(download.AZURE_RETAIL_URL)),))


def _aws(job: FetchJob) -> Fetched:
    step = _count(job, len(job.aws_regions))
    results = []
    for region in job.aws_regions:
        url = download.AWS_OFFER_URL.format(region=region, fmt=AWS_OFFER_FORMAT)
        body = download.fetch_aws_offer(job.client, region, AWS_OFFER_FORMAT)
        results.append(aws_offer.parse(body, job.context(url)))
        step()
    return Fetched(tuple(results), regions=frozenset(job.aws_regions))


def _aws_savings_plan(job: FetchJob) -> Fetched:
    step = _count(job, len(job.aws_regions))
    results = []
    for region in job.aws_regions:
        body = download.fetch_aws_savings_plan(job.client, region, AWS_OFFER_FORMAT)
        file = f"AWSComputeSavingsPlan/current/{region}/index.{AWS_OFFER_FORMAT}"
        results.append(aws_savings_plan.parse(body, job.context(file)))
        step()
    return Fetched(tuple(results), regions=frozenset(job.aws_regions))


def _aws_spot_advisor(job: FetchJob) -> Fetched:
    step = _count(job, 1)
    body = download.fetch_aws_spot_advisor(job.client)
    feed = aws_spot_advisor.parse(body, job.context(aws_spot_advisor.URL))
    step()
    return Fetched(spot=feed)


def _gcp(job: FetchJob) -> Fetched:
    step = _count(job, 1)
    body = download.fetch_gcp_skus(job.client, job.api_key or "")
    url = download.GCP_SKUS_URL.format(service=download.GCP_COMPUTE_SERVICE)
    step()
    return Fetched((gcp.parse(body, job.context(url)),))


def _skypilot(job: FetchJob) -> Fetched:
    clouds = [c for c in SKYPILOT_CLOUDS if c in job.providers]
    step = _count(job, len(clouds))
    results = []
    for cloud in clouds:
        body = download.fetch_skypilot(job.client, cloud, SKYPILOT_SCHEMA)
        url = download.SKYPILOT_URL.format(schema=SKYPILOT_SCHEMA, cloud=cloud)
        results.append(skypilot.parse(body, job.context(url, provider=cloud)))
        step()
    return Fetched(tuple(results))


def _gpuhunt(job: FetchJob) -> Fetched:
    wanted = [(slug, p) for slug, p in GPUHUNT_PROVIDERS.items() if p in job.providers]
    step = _count(job, len(wanted))
    results = []
    for slug, provider in wanted:
        version = download.gpuhunt_version(job.client, slug)
        body = download.fetch_gpuhunt(job.client, slug, version)
        url = download.GPUHUNT_CATALOG_URL.format(provider=slug, version=version)
        results.append(gpuhunt.parse(body, job.context(f"{url}#{slug}.csv", provider=provider)))
        step()
    return Fetched(tuple(results))


def _runpod(job: FetchJob) -> Fetched:
    step = _count(job, 1)
    body = download.fetch_runpod(job.client, job.api_key)
    step()
    return Fetched((runpod.parse(body, job.context(download.RUNPOD_GRAPHQL_URL)),))


SOURCES: dict[str, RefreshSource] = {
    s.name: s
    for s in (
        RefreshSource(
            "azure",
            "Azure Retail Prices API",
            "prices.azure.com",
            ("azure",),
            (azure.SOURCE,),
            _azure,
        ),
        RefreshSource(
            "aws",
            "AWS Price List, EC2 offer files",
            "pricing.us-east-1.amazonaws.com",
            ("aws",),
            (f"{aws_offer.SOURCE}, EC2 offer file",),
            _aws,
        ),
        RefreshSource(
            "aws-savings-plan",
            "AWS Price List, Compute Savings Plans rate files",
            "pricing.us-east-1.amazonaws.com",
            ("aws",),
            (f"{aws_savings_plan.SOURCE}, Savings Plans rate file",),
            _aws_savings_plan,
        ),
        RefreshSource(
            "aws-spot-advisor",
            "AWS Spot Instance Advisor",
            "spot-bid-advisor.s3.amazonaws.com",
            ("aws",),
            (),  # prices nothing: it rates the spot offers others priced
            _aws_spot_advisor,
        ),
        RefreshSource(
            "gcp",
            "GCP Cloud Billing Catalog API",
            "cloudbilling.googleapis.com",
            ("gcp",),
            (gcp.SOURCE,),
            _gcp,
            key_env=GCP_KEY_ENV,
        ),
        RefreshSource(
            "skypilot",
            "SkyPilot catalog",
            "raw.githubusercontent.com",
            SKYPILOT_CLOUDS,
            (skypilot.SOURCE,),
            _skypilot,
        ),
        RefreshSource(
            "gpuhunt",
            "dstack gpuhunt catalog",
            "dstack-gpu-pricing.s3.eu-west-1.amazonaws.com",
            tuple(GPUHUNT_PROVIDERS.values()),
            (gpuhunt.SOURCE,),
            _gpuhunt,
        ),
        RefreshSource(
            "runpod",
            "RunPod GraphQL API",
            "api.runpod.io",
            ("runpod",),
            (runpod.SOURCE,),
            _runpod,
            key_env=RUNPOD_KEY_ENV,
        ),
    )
}


def api_key(source: RefreshSource, env: Mapping[str, str]) -> str | None:
    """The API key ``source`` needs, from ``env`` (the settings' environment); None if unset."""
    if source.key_env is None:
        return None
    return env.get(source.key_env, "").strip() or None
