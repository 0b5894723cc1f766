"""Refresh the catalog from the public price feeds: run each source on its own, then merge
what the sources that worked returned into the base catalog.

**Each source on its own.** A source downloads and parses all its files or fails as a
whole (a network error after the retries, an HTTP error, an answer its parser cannot
read): a failed source contributes nothing and is named with its reason; the others still
count. A source that needs an API key and has none is skipped, naming the variable (a
failure when it was asked for by name).

**Merge** (:func:`merge_refreshed`), per source, against the base catalog:

- ``added``: offers whose key (provider, region, instance type, regime, source regime,
  term) the base lacks; ``repriced``: in the base at another price; ``unchanged``: in the
  base at the same price; ``older``: the base holds a newer price of the offer, which
  stays (:func:`arbiter.domain.current_prices.is_newer`).
- ``dropped``: base offers that this feed priced last (their ``source`` starts as the
  feed's offers' do, :attr:`RefreshSource.origins`), within what this refresh covered,
  whose key no source of this refresh returned. What a refresh covers: the (provider,
  price regime) pairs the feed returned offers for, and for the AWS files the regions
  fetched (and the Local Zones they listed). A feed that returned no spot price of a
  provider, or that was not fetched for a region, says nothing about those offers, so they
  stay. Dropped offers are not in the new version.
- A refreshed price keeps the ``interruption_rate`` its offer held when the feed gives
  none.

**The Spot Advisor** prices nothing: it rates AWS spot offers. After the merge, every AWS
spot offer of a (region, instance type) the feed lists for Linux gets the band's
interruptions per hour as its ``interruption_rate`` (the figure
:mod:`arbiter.catalog.spot` reads from the shipped table); its ``repriced`` counts the
offers whose rate it set or changed, ``unchanged`` those that already had it, ``offers``
all it rated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from arbiter.catalog import names
from arbiter.catalog.feeds.aws_spot_advisor import SpotAdvisorFeed
from arbiter.catalog.feeds.download import is_aws_region
from arbiter.catalog.feeds.retry import shown_url
from arbiter.catalog.importing import merge_offers
from arbiter.catalog.refresh_sources import (
    AWS_REGIONS_ENV,
    DEFAULT_AWS_REGIONS,
    SOURCES,
    SPOT_ADVISOR_OS,
    Fetched,
    FetchJob,
    RefreshSource,
    api_key,
)
from arbiter.domain.catalog import Catalog
from arbiter.domain.current_prices import is_newer
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime

Status = Literal["ok", "failed", "skipped"]
Progress = Callable[[str, int, int], None]
"""``progress(source, done, total)``: files downloaded and parsed of one source."""


@dataclass(frozen=True, slots=True)
class Counts:
    """What one source did to the catalog (see the module docstring)."""

    added: int = 0
    repriced: int = 0
    unchanged: int = 0
    older: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class Scope:
    """What a refreshed feed covered: (provider, regime) pairs and, for AWS files, regions."""

    pairs: frozenset[tuple[str, PriceRegime]]
    regions: frozenset[str] | None = None

    def covers(self, offer: Offer) -> bool:
        if (offer.provider, offer.price_regime) not in self.pairs:
            return False
        return self.regions is None or offer.region in self.regions


@dataclass(frozen=True, slots=True)
class SourceRun:
    """One source's run: its status (``ok``, ``failed``, ``skipped``) and ``reason``, the
    offers it returned (of the providers asked for), the records its files held, the URLs
    fetched (without query strings) and when the fetch ended; after the merge, its counts."""

    source: RefreshSource
    status: Status
    reason: str | None = None
    providers: tuple[str, ...] = ()
    offers: tuple[Offer, ...] = ()
    records: int = 0
    notes: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    fetched_at: dt.datetime | None = None
    scope: Scope | None = None
    spot: SpotAdvisorFeed | None = None
    counts: Counts = Counts()


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """Every source's run, and the refreshed catalog (None when no source worked)."""

    runs: tuple[SourceRun, ...]
    catalog: Catalog | None


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """What to refresh, checked (:func:`plan_refresh`): the sources (``explicit``: named by
    the caller), the providers wanted and the AWS regions."""

    sources: tuple[RefreshSource, ...]
    explicit: bool
    providers: tuple[str, ...]
    aws_regions: tuple[str, ...]


def plan_refresh(
    sources: Sequence[str] = (),
    providers: Sequence[str] = (),
    aws_regions: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> RefreshRequest:
    """Check the names: an unknown source or provider, a malformed AWS region, or a source
    named together with providers it cannot price is bad input naming the field."""
    env = env or {}
    sources, providers, aws_regions = (
        [v] if isinstance(v, str) else v for v in (sources, providers, aws_regions)
    )
    chosen = []
    for raw in sources:
        key = raw.strip().lower()
        if key not in SOURCES:
            raise UnknownNameError("refresh source", raw, SOURCES, field="--source")
        if SOURCES[key] not in chosen:
            chosen.append(SOURCES[key])
    wanted = tuple(dict.fromkeys(names.resolve_provider(p, field="--provider") for p in providers))
    priced = {p for s in SOURCES.values() for p in s.providers}
    if wanted and not chosen and not priced & set(wanted):
        raise InputError(
            f"no refresh source prices {', '.join(wanted)}",
            field="--provider",
            valid=", ".join(sorted(priced)),
        )
    if wanted and chosen:
        for source in chosen:
            if not set(source.providers) & set(wanted):
                raise InputError(
                    f"source {source.name!r} prices {', '.join(source.providers)}, none of the "
                    f"providers asked for ({', '.join(wanted)})",
                    field="--source",
                    valid="a source that prices one of the providers, or no --provider",
                )
    return RefreshRequest(
        sources=tuple(chosen) or tuple(SOURCES.values()),
        explicit=bool(chosen),
        providers=wanted,
        aws_regions=_aws_regions(aws_regions, env),
    )


def _aws_regions(given: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    field, raw = "--aws-region", list(given)
    if not raw and env.get(AWS_REGIONS_ENV, "").strip():
        field, raw = AWS_REGIONS_ENV, env[AWS_REGIONS_ENV].split(",")
    regions = tuple(dict.fromkeys(r.strip().lower() for r in raw if r.strip()))
    for region in regions:
        if not is_aws_region(region):
            raise InputError(
                f"{region!r} is not an AWS region code",
                field=field,
                valid="region codes such as us-east-1 (comma-separated in the variable)",
            )
    return regions or DEFAULT_AWS_REGIONS


def run_refresh(
    base: Catalog,
    request: RefreshRequest,
    *,
    client: httpx.Client,
    observed_on: dt.date,
    env: Mapping[str, str],
    progress: Progress | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> RefreshOutcome:
    """Run every source of ``request`` against ``base`` (each on its own) and merge what
    the sources that worked returned (the module docstring has the rules)."""
    now = clock or (lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
    runs = [
        _run(source, request, base, client, observed_on, env, progress, now)
        for source in request.sources
    ]
    if not any(r.status == "ok" for r in runs):
        return RefreshOutcome(tuple(runs), None)
    merged, counted = merge_refreshed(base, runs)
    return RefreshOutcome(tuple(counted), merged)


def _run(
    source: RefreshSource,
    request: RefreshRequest,
    base: Catalog,
    client: httpx.Client,
    observed_on: dt.date,
    env: Mapping[str, str],
    progress: Progress | None,
    now: Callable[[], dt.datetime],
) -> SourceRun:
    wanted = tuple(p for p in source.providers if not request.providers or p in request.providers)
    if not wanted:
        asked = ", ".join(request.providers)
        return SourceRun(source, "skipped", f"prices none of the providers asked for ({asked})")
    key = api_key(source, env)
    if source.key_env is not None and key is None:
        why = f"no API key: set {source.key_env}"
        return SourceRun(source, "failed" if request.explicit else "skipped", why, wanted)
    urls: list[str] = []

    def record(sent: httpx.Request) -> None:
        url = shown_url(sent.url)
        if url not in urls:
            urls.append(url)

    job = FetchJob(
        client=client,
        known_accelerators=frozenset(base.accelerators),
        observed_on=observed_on,
        providers=wanted,
        api_key=key,
        aws_regions=request.aws_regions,
        tick=(lambda done, total: progress(source.name, done, total)) if progress else _no_tick,
    )
    hooks = client.event_hooks
    client.event_hooks = {**hooks, "request": [*hooks.get("request", []), record]}
    try:
        fetched = source.fetch(job)
    except (InputError, httpx.HTTPError) as exc:
        reason = str(exc).replace(key, "***") if key else str(exc)
        return SourceRun(source, "failed", reason, wanted, urls=tuple(urls), fetched_at=now())
    finally:
        client.event_hooks = hooks
    return _ok(source, fetched, wanted, tuple(urls), now())


def _no_tick(_done: int, _total: int) -> None:
    return None


def _ok(
    source: RefreshSource,
    fetched: Fetched,
    wanted: tuple[str, ...],
    urls: tuple[str, ...],
    at: dt.datetime,
) -> SourceRun:
    offers = tuple(o for r in fetched.results for o in r.offers if o.provider in wanted)
    regions = None
    if fetched.regions is not None:
        regions = fetched.regions | {o.region for o in offers}
    records = sum(r.tally.records for r in fetched.results)
    if fetched.spot is not None:
        records = len(fetched.spot.rows)
    return SourceRun(
        source,
        "ok",
        providers=wanted,
        offers=offers,
        records=records,
        notes=tuple(line for r in fetched.results for line in r.summary_lines()),
        urls=urls,
        fetched_at=at,
        scope=Scope(frozenset((o.provider, o.price_regime) for o in offers), regions),
        spot=fetched.spot,
    )


# ---------------------------------------------------------------------------------------------
# Merging


def merge_refreshed(base: Catalog, runs: Sequence[SourceRun]) -> tuple[Catalog, list[SourceRun]]:
    """``base`` with what the ``ok`` runs returned, and the runs with their counts (the
    module docstring has the rules). Runs are applied in order: on the same key and date
    the later source's price stands."""
    by_key = {o.key: o for o in base.offers}
    ok = [r for r in runs if r.status == "ok"]
    refreshed = {o.key for r in ok for o in r.offers}
    dropped: dict[str, list[Offer]] = {r.source.name: [] for r in ok}
    gone: set[tuple[str, str, str, str, str, int]] = set()
    for offer in base.offers:
        if offer.key in refreshed:
            continue
        for run in ok:
            if run.scope is not None and run.source.produced(offer.source):
                if run.scope.covers(offer):
                    dropped[run.source.name].append(offer)
                    gone.add(offer.key)
                break
    kept = Catalog.of(base.accelerators.values(), [o for o in base.offers if o.key not in gone])
    incoming = [_keep_rate(o, by_key.get(o.key)) for r in ok for o in r.offers]
    merged = merge_offers(kept, incoming)[0]
    counted = []
    for run in runs:
        if run.status != "ok":
            counted.append(run)
            continue
        if run.spot is None:
            counts = _counts(run.offers, by_key, len(dropped[run.source.name]))
            counted.append(dataclasses.replace(run, counts=counts))
            continue
        merged, counts, rated = apply_spot_bands(merged, run.spot)
        counted.append(dataclasses.replace(run, offers=rated, counts=counts))
    return merged, counted


def _keep_rate(offer: Offer, held: Offer | None) -> Offer:
    if offer.interruption_rate is not None or held is None or held.interruption_rate is None:
        return offer
    return dataclasses.replace(offer, interruption_rate=held.interruption_rate)


def _counts(
    offers: Sequence[Offer],
    held: Mapping[tuple[str, str, str, str, str, int], Offer],
    dropped: int,
) -> Counts:
    added = repriced = unchanged = older = 0
    for offer in offers:
        prev = held.get(offer.key)
        if prev is None:
            added += 1
        elif is_newer(prev, offer):
            older += 1
        elif prev.usd_per_hour == offer.usd_per_hour:
            unchanged += 1
        else:
            repriced += 1
    return Counts(added, repriced, unchanged, older, dropped)


def apply_spot_bands(
    catalog: Catalog, feed: SpotAdvisorFeed
) -> tuple[Catalog, Counts, tuple[Offer, ...]]:
    """``catalog`` with the Spot Advisor's Linux band rate on every AWS spot offer the feed
    lists; the counts (``repriced``: rates set or changed, ``unchanged``: already so) and
    the offers rated."""
    rates = {
        (row.region, row.instance_type): row.band.interruptions_per_hour
        for row in feed.rows
        if row.os == SPOT_ADVISOR_OS
    }
    changed = same = 0
    offers, rated = [], []
    for offer in catalog.offers:
        rate = None
        if offer.provider == "aws" and offer.price_regime is PriceRegime.SPOT:
            rate = rates.get((offer.region, offer.instance_type))
        if rate is None:
            offers.append(offer)
            continue
        if offer.interruption_rate == rate:
            same += 1
            now = offer
        else:
            changed += 1
            now = dataclasses.replace(offer, interruption_rate=rate)
        offers.append(now)
        rated.append(now)
    updated = Catalog.of(catalog.accelerators.values(), offers) if changed else catalog
    return updated, Counts(repriced=changed, unchanged=same), tuple(rated)
