"""The cheapest catalog offer a workload may use, per accelerator.

The offer is the one that bills the job's chips cheapest in whole instances. Only
pay-as-you-go regimes price a single job: ``on_demand`` always, ``spot`` when the
workload is interruptible. Reservations, commitments and capacity blocks are charged for
their whole term; the fleet planner decides whether a job fills them.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from arbiter.catalog.spot import SpotRate, interruptions_per_hour, serves
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import PAY_AS_YOU_GO, Offer, PriceRegime
from arbiter.domain.workload import Placement
from arbiter.perf.topology import Host, offer_host


@dataclass(frozen=True, slots=True)
class OfferChoice:
    offer_id: str
    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_accelerator_hour: float
    accelerators_per_instance: int
    spot_rate: SpotRate | None = None  # the spot model's rate, on a spot offer
    as_of: AsOf | None = None
    """When the price was observed; with ``source``, what the estimate's price rests on."""
    source: str = ""


class PriceBook:
    """Offers by accelerator, cheapest first per chip-hour."""

    def __init__(self, catalog: Catalog) -> None:
        by_acc: dict[str, list[Offer]] = defaultdict(list)
        for offer in catalog.offers:
            if offer.price_regime in PAY_AS_YOU_GO:
                by_acc[offer.accelerator].append(offer)
        self._offers = {
            acc: sorted(offers, key=lambda o: (o.usd_per_accelerator_hour, o.offer_id))
            for acc, offers in by_acc.items()
        }
        self._host = {
            o.offer_id: offer_host(o, catalog.accelerators.get(o.accelerator))
            for offers in self._offers.values()
            for o in offers
        }
        self._allowed: dict[
            tuple[str, Placement, Host | None], tuple[list[Offer], np.ndarray, np.ndarray]
        ] = {}
        self._chosen: dict[tuple[str, Placement, int, Host | None], OfferChoice | None] = {}
        self._hosts: dict[tuple[str, Placement | None], list[Host]] = {}

    def hosts(self, accelerator: str, placement: Placement | None = None) -> list[Host]:
        """The distinct fabrics of the instance types offering ``accelerator`` (that
        ``placement`` allows, if given); workloads share placement rules: found once."""
        key = (accelerator, placement)
        found = self._hosts.get(key)
        if found is None:
            found = sorted(
                {
                    self._host[o.offer_id]
                    for o in self._offers.get(accelerator, ())
                    if placement is None or _allowed(o, placement)
                }
            )
            self._hosts[key] = found
        return list(found)

    def cheapest(
        self, accelerator: str, placement: Placement, chips: int = 1, host: Host | None = None
    ) -> OfferChoice | None:
        """The offer that runs ``chips`` chips for an hour cheapest, in whole instances
        (a 6,144-chip TPU slice is cheap per chip but not for a 4-chip job); with
        ``host``, only offers of instance types with that fabric."""
        chosen_key = (accelerator, placement, chips, host)
        if chosen_key in self._chosen:  # workloads share chips and rules: price each once
            return self._chosen[chosen_key]
        key = (accelerator, placement, host)
        if key not in self._allowed:  # workloads share placement rules: filter each once
            offers = [
                o
                for o in self._offers.get(accelerator, ())
                if _allowed(o, placement) and (host is None or self._host[o.offer_id] == host)
            ]
            per = np.array([max(o.accelerators_per_instance, 1) for o in offers], dtype=np.float64)
            usd = np.array([o.usd_per_accelerator_hour for o in offers], dtype=np.float64)
            self._allowed[key] = (offers, per, usd)
        offers, per, usd = self._allowed[key]
        choice = None
        if offers:
            billed = np.ceil(max(chips, 1) / per) * per * usd
            choice = _choice(offers[int(np.argmin(billed))])  # ties: cheapest per chip-hour
        self._chosen[chosen_key] = choice
        return choice


def _choice(offer: Offer) -> OfferChoice:
    return OfferChoice(
        offer_id=offer.offer_id,
        provider=offer.provider,
        region=offer.region,
        instance_type=offer.instance_type,
        price_regime=offer.price_regime.value,
        usd_per_accelerator_hour=offer.usd_per_accelerator_hour,
        accelerators_per_instance=offer.accelerators_per_instance,
        spot_rate=interruptions_per_hour(offer) if offer.price_regime is PriceRegime.SPOT else None,
        as_of=offer.as_of,
        source=offer.source,
    )


def _allowed(offer: Offer, rules: Placement) -> bool:
    if not serves(offer, rules.interruptible):
        return False
    if rules.providers is not None and offer.provider not in rules.providers:
        return False
    if offer.provider in rules.forbidden_providers:
        return False
    if rules.regions is not None:
        region = offer.region.lower()
        return any(fnmatch.fnmatchcase(region, g.lower()) for g in rules.regions)
    return True
