"""The catalog as typed results: accelerators, offers, a summary, the stored versions and
what changed between two of them (what ``arbiter catalog ...`` prints).

Each reads the store the settings name (``ARBITER_DB_URL``); ``version`` is a content
hash, a unique prefix or ``default`` (default: the current version).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.catalog.diff import diff_catalogs
from arbiter.catalog.embedded import default_price_history
from arbiter.catalog.history import HistoricalPrice
from arbiter.catalog.query import OfferQuery, OfferTable
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.regions import is_local_zone
from arbiter.results.base import Result, Rows
from arbiter.results.catalog import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogOffer,
    CatalogSummary,
    CatalogVersion,
    CheapestOffers,
    OfferBrief,
    OfferPrice,
    PriceChange,
    ProviderFreshness,
)

__all__ = [
    "CatalogIndex",
    "OfferQuery",
    "accelerators",
    "catalog_diff",
    "catalog_summary",
    "catalog_versions",
    "offers",
]

DIFF_SHARE_DIGITS = 6  # a price change's share, rounded as the document prints it
R = TypeVar("R", bound=Result)


def accelerators(
    vendors: Sequence[str] = (), *, version: str | None = None, config: Settings | None = None
) -> Rows[AcceleratorSpec]:
    """The chips of the catalog (of ``vendors`` only, any case, if given), by vendor,
    year and name; an unknown vendor is an error with a did-you-mean."""
    return CatalogIndex(*_load(version, config)).accelerators(vendors)


def offers(
    *,
    providers: Sequence[str] = (),
    accelerators: Sequence[str] = (),
    vendors: Sequence[str] = (),
    regimes: Sequence[str] = (),
    region: str | None = None,
    sort: str = "usd_per_accelerator_hour",
    limit: int | None = None,
    history: bool = False,
    version: str | None = None,
    config: Settings | None = None,
) -> Rows[CatalogOffer]:
    """Every way to buy the chips that match (names and aliases any case, ``region`` a
    glob), sorted by ``sort`` (cheapest per chip-hour first), at most ``limit``. With
    ``history``, the embedded catalog's superseded prices instead, each with what
    replaced it."""
    name, catalog = _load(version, config)
    replaced: dict[int, HistoricalPrice] = {}
    if history:
        past = default_price_history()
        # not Catalog.of, which would keep only the newest of these again
        catalog = Catalog(catalog.accelerators, tuple(h.offer for h in past))
        replaced = {id(h.offer): h for h in past}
    query = OfferQuery(providers, accelerators, vendors, regimes, region, sort)
    return CatalogIndex(name, catalog, replaced).offers(query, limit=limit)[1]


def catalog_summary(
    version: str | None = None, *, config: Settings | None = None
) -> CatalogSummary:
    """Counts of chips, offers, providers, vendors and regimes; offers by vendor, provider
    and regime; the cheapest offer per chip, on demand and under any regime; how fresh
    each provider's prices are on the settings' date (``ARBITER_TODAY``), older than
    ``ARBITER_MAX_AGE_DAYS`` counted as stale."""
    config = config or settings()
    return CatalogIndex(*_load(version, config)).summary(config)


class CatalogIndex:
    """One catalog version made ready for many queries (what a service keeps per
    version): the offers as a table (:class:`OfferTable`) and as rows, each made once,
    when first asked for. ``name`` is the version as the results show it."""

    def __init__(
        self, name: str, catalog: Catalog, replaced: Mapping[int, HistoricalPrice] | None = None
    ) -> None:
        self.name = name
        self.catalog = catalog
        self._replaced = replaced or {}
        self._rows: list[CatalogOffer | None] = [None] * len(catalog.offers)

    @functools.cached_property
    def table(self) -> OfferTable:
        return OfferTable(self.catalog)

    @functools.cached_property
    def content_hash(self) -> str:
        """The catalog's content hash (computed from every row: once here)."""
        return self.catalog.content_hash

    def offers(
        self, query: OfferQuery, *, offset: int = 0, limit: int | None = None
    ) -> tuple[int, Rows[CatalogOffer]]:
        """How many offers match ``query`` (its own ``limit`` aside), and the page of them
        from ``offset``, at most ``limit``, in the query's order."""
        hits = self.table.select_indices(dataclasses.replace(query, limit=None))
        end = None if limit is None else offset + limit
        return len(hits), Rows(self._row(int(i)) for i in hits[offset:end])

    def _row(self, i: int) -> CatalogOffer:
        """Offer ``i``'s row, made the first time it is asked for."""
        row = self._rows[i]
        if row is None:
            offer = self.catalog.offers[i]
            row = self._rows[i] = _offer(self.catalog, offer, self._replaced.get(id(offer)))
        return row

    def accelerators(self, vendors: Sequence[str] = ()) -> Rows[AcceleratorSpec]:
        """The chips (of ``vendors`` only, any case, if given), by vendor, year and name."""
        catalog = self.catalog
        chosen = list(catalog.accelerators.values())
        if vendors:
            by_lower = {v.lower(): v for v in catalog.vendors}
            wanted = set()
            for v in vendors:
                if v.lower() not in by_lower:
                    raise UnknownNameError("vendor", v, catalog.vendors, field="--vendor")
                wanted.add(by_lower[v.lower()])
            chosen = [a for a in chosen if a.vendor in wanted]
        chosen.sort(key=lambda a: (a.vendor, a.year, a.name))
        return Rows(
            _as(AcceleratorSpec, {**_attrs(a), "platform": a.platform.value}) for a in chosen
        )

    def summary(self, config: Settings) -> CatalogSummary:
        """The summary of :func:`catalog_summary`, ages on the settings' day."""
        catalog = self.catalog
        found = catalog.offers
        return CatalogSummary(
            version=self.name,
            content_hash=self.content_hash,
            n_accelerators=len(catalog.accelerators),
            n_offers=len(found),
            n_providers=len(catalog.providers),
            n_vendors=len({catalog.vendor_of(o) for o in found}),
            n_regimes=len({o.price_regime for o in found}),
            offers_by_vendor=dict(Counter(catalog.vendor_of(o) for o in found)),
            offers_by_provider=dict(Counter(o.provider for o in found)),
            offers_by_regime=dict(Counter(o.price_regime.value for o in found)),
            cheapest=Rows(_cheapest(catalog)),
            today=config.today.isoformat(),
            freshness=Rows(_freshness(found, config.today, config.max_age_days)),
        )


def _freshness(
    offers: Sequence[Offer], today: dt.date, max_age_days: int
) -> list[ProviderFreshness]:
    """Per provider (most offers first, then by name), how old its prices are on ``today``."""
    by_provider: dict[str, list[Offer]] = {}
    for o in offers:
        by_provider.setdefault(o.provider, []).append(o)
    out = []
    for provider, own in sorted(by_provider.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        ages = [o.as_of.age_days(today) for o in own]
        kinds = Counter(_dating(o.as_of) for o in own)
        out.append(
            ProviderFreshness(
                provider=provider,
                offers=len(own),
                dated_to_the_day=kinds["day"],
                dated_to_the_month=kinds["month"],
                dated_by_interval=kinds["interval"],
                newest_age_days=min(ages),
                oldest_age_days=max(ages),
                stale=sum(a > max_age_days for a in ages),
                max_age_days=max_age_days,
            )
        )
    return out


def _dating(as_of: AsOf) -> str:
    """``day``, ``month`` or ``interval``: how precisely an ``as_of`` dates a price."""
    if "/" in as_of.text:
        return "interval"
    return "day" if as_of.start == as_of.end else "month"


def catalog_versions(*, config: Settings | None = None) -> Rows[CatalogVersion]:
    """Every stored catalog version, ``default`` first; ``current`` marks the one in use."""
    with catalog_store(config or settings()) as store:
        infos, current = store.versions(), store.current()
    return Rows(_as(CatalogVersion, {**_attrs(v), "current": v.version == current}) for v in infos)


def catalog_diff(old: str, new: str, *, config: Settings | None = None) -> CatalogDiff:
    """Offers added, removed and repriced from version ``old`` to ``new`` (matched by
    provider, region, instance type, regime and term); the price changes largest move
    first (by the size of the relative change)."""
    with catalog_store(config or settings()) as store:
        found = diff_catalogs(store.load(old), store.load(new))
    return CatalogDiff(
        added=Rows(_as(OfferBrief, _offer_fields(o)) for o in found.added),
        removed=Rows(_as(OfferBrief, _offer_fields(o)) for o in found.removed),
        changed=Rows(
            _as(
                PriceChange,
                {
                    **_offer_fields(c.after),
                    "usd_per_hour_before": c.before.usd_per_hour,
                    "change_share": round(c.change_share, DIFF_SHARE_DIGITS),
                },
            )
            for c in sorted(found.changed, key=lambda c: (-abs(c.change_share), c.after.key))
        ),
        unchanged=found.unchanged,
    )


def _load(version: str | None, config: Settings | None) -> tuple[str, Catalog]:
    with catalog_store(config or settings()) as store:
        name = version or store.current()
        return name, store.load(name)


def _attrs(record: Any) -> dict[str, Any]:
    """A dataclass's fields by name (not recursing into the fields)."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def _as(model: type[R], values: Mapping[str, Any]) -> R:
    """``model`` from those of ``values`` it has fields for; the others are not its."""
    return model.model_validate({k: values[k] for k in model.model_fields if k in values})


def _offer_fields(o: Offer) -> dict[str, Any]:
    """An offer's fields as the documents name them: the regime by its value, the date
    of observation as its text."""
    return {
        **_attrs(o),
        "offer_id": o.offer_id,
        "local_zone": is_local_zone(o.provider, o.region),
        "price_regime": o.price_regime.value,
        "usd_per_accelerator_hour": o.usd_per_accelerator_hour,
        "as_of": o.as_of.text,
    }


def _offer(catalog: Catalog, o: Offer, replaced: HistoricalPrice | None) -> CatalogOffer:
    """A catalog offer with its chip's vendor and platform; a superseded price also says
    what replaced it (the ``superseded_*`` keys, absent otherwise)."""
    acc = catalog.accelerators[o.accelerator]
    values = {**_offer_fields(o), "vendor": acc.vendor, "platform": acc.platform.value}
    if replaced is not None:
        values.update((k, v) for k, v in _attrs(replaced).items() if k != "offer")
    return _as(CatalogOffer, values)


def _cheapest(catalog: Catalog) -> list[CheapestOffers]:
    by_acc: dict[str, list[Offer]] = {}
    for o in catalog.offers:
        by_acc.setdefault(o.accelerator, []).append(o)
    rows = []
    for name in sorted(by_acc, key=lambda n: (catalog.accelerators[n].vendor, n)):
        group = by_acc[name]
        on_demand = [o for o in group if o.price_regime is PriceRegime.ON_DEMAND]
        best_od = min(on_demand, key=lambda o: o.usd_per_accelerator_hour) if on_demand else None
        rows.append(
            CheapestOffers(
                accelerator=name,
                vendor=catalog.accelerators[name].vendor,
                on_demand=None if best_od is None else _as(OfferPrice, _offer_fields(best_od)),
                any_regime=_as(
                    OfferPrice,
                    _offer_fields(min(group, key=lambda o: o.usd_per_accelerator_hour)),
                ),
            )
        )
    return rows
