"""The history of one chip's prices as a typed result (``arbiter catalog history``).

Observations come from the chosen catalog version (default: the current one), every
stored version it descends from, and the embedded catalog's superseded prices; see
:mod:`arbiter.catalog.observations`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence

from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.catalog import observations as obs
from arbiter.catalog.embedded import DEFAULT_VERSION, default_price_history
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.catalog.observations import Observation, observations, price_moves
from arbiter.domain.errors import UnknownNameError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.regions import is_local_zone
from arbiter.results.base import Rows
from arbiter.results.catalog import PriceHistory, PriceMove, PriceObservation, ProviderPrices
from arbiter.store.catalog_store import CatalogStore

__all__ = ["price_history"]

CHANGE_DIGITS = 6
MAX_LINEAGE = 1000  # versions followed back from the chosen one (a guard against a cycle)


def price_history(
    accelerator: str,
    *,
    providers: Sequence[str] = (),
    regimes: Sequence[str] = (),
    version: str | None = None,
    config: Settings | None = None,
) -> PriceHistory:
    """Every dated price of ``accelerator`` (any alias) in version ``version`` and the
    versions it descends from, of ``providers`` and ``regimes`` only if given."""
    config = config or settings()
    with catalog_store(config) as store:
        name = store.resolve(version or store.current())
        catalog = store.load(name)
        chip = resolve_accelerator(accelerator, catalog.accelerators, field="ACCELERATOR")
        known = sorted({*PROVIDERS, *catalog.providers})
        wanted_providers = {resolve_provider(p, known, field="--provider") for p in providers}
        wanted_regimes = {_regime(r) for r in regimes}
        past: list[Offer] = []
        lineage = _lineage(store, name)
        for ancestor in lineage[1:]:
            past.extend(store.load(ancestor).offers)
    past.extend(h.offer for h in default_price_history())

    def keep(o: Offer) -> bool:
        return (
            o.accelerator == chip
            and (not wanted_providers or o.provider in wanted_providers)
            and (not wanted_regimes or o.price_regime in wanted_regimes)
        )

    found = observations(filter(keep, catalog.offers), filter(keep, past))
    today = config.today
    return PriceHistory(
        accelerator=chip,
        version=name,
        content_hash=catalog.content_hash,
        today=today.isoformat(),
        providers=sorted(wanted_providers),
        regimes=sorted(r.value for r in wanted_regimes),
        versions_read=len(lineage),
        by_provider=Rows(_by_provider(found, today)),
        moves=Rows(_move(m) for m in price_moves(found)),
        observations=Rows(_observation(o, today) for o in found),
    )


def _lineage(store: CatalogStore, name: str) -> list[str]:
    """``name`` and the versions it descends from, newest first, ending at ``default``."""
    parents = {v.version: v.parent for v in store.versions()}
    out = [name]
    while len(out) < MAX_LINEAGE:
        parent = parents.get(out[-1])
        if parent is None or parent in out:
            break
        out.append(parent)
    if out[-1] != DEFAULT_VERSION and DEFAULT_VERSION not in out:
        out.append(DEFAULT_VERSION)
    return out


def _regime(name: str) -> PriceRegime:
    try:
        return PriceRegime(name.strip().lower())
    except ValueError:
        raise UnknownNameError(
            "price regime", name, [r.value for r in PriceRegime], field="--regime"
        ) from None


def _observation(o: Observation, today: dt.date) -> PriceObservation:
    offer = o.offer
    return PriceObservation(
        offer_id=offer.offer_id,
        provider=offer.provider,
        region=offer.region,
        local_zone=is_local_zone(offer.provider, offer.region),
        instance_type=offer.instance_type,
        accelerators_per_instance=offer.accelerators_per_instance,
        price_regime=offer.price_regime.value,
        source_regime=offer.source_regime,
        term_months=offer.term_months,
        usd_per_hour=offer.usd_per_hour,
        usd_per_accelerator_hour=offer.usd_per_accelerator_hour,
        as_of=offer.as_of.text,
        observed_from=offer.as_of.start.isoformat(),
        observed_to=offer.as_of.end.isoformat(),
        age_days=offer.as_of.age_days(today),
        source=offer.source,
        current=o.current,
    )


def _move(m: obs.PriceMove) -> PriceMove:
    first, last = m.first, m.last
    return PriceMove(
        offer_id=last.offer_id,
        provider=last.provider,
        region=last.region,
        instance_type=last.instance_type,
        price_regime=last.price_regime.value,
        observations=m.observations,
        first_as_of=first.as_of.text,
        first_usd_per_accelerator_hour=first.usd_per_accelerator_hour,
        last_as_of=last.as_of.text,
        last_usd_per_accelerator_hour=last.usd_per_accelerator_hour,
        change_share=round(m.change_share, CHANGE_DIGITS),
    )


def _by_provider(found: Sequence[Observation], today: dt.date) -> list[ProviderPrices]:
    groups: dict[tuple[str, str], list[Observation]] = {}
    for o in found:
        groups.setdefault((o.offer.provider, o.offer.price_regime.value), []).append(o)
    rows = []
    for (provider, regime), seen in sorted(groups.items()):
        now = [o.offer.usd_per_accelerator_hour for o in seen if o.current]
        if not now:  # only past observations (the offer is gone): not a price today
            continue
        dates = sorted(o.offer.as_of for o in seen)
        rows.append(
            ProviderPrices(
                provider=provider,
                price_regime=regime,
                offers=len({o.offer.key for o in seen}),
                observations=len(seen),
                oldest_as_of=dates[0].text,
                newest_as_of=dates[-1].text,
                newest_age_days=dates[-1].age_days(today),
                lowest_usd_per_accelerator_hour=min(now),
                median_usd_per_accelerator_hour=statistics.median(now),
            )
        )
    return rows
