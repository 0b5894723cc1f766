"""Offers grouped by accelerator and instance-type fabric, for the option builder.

Every workload is estimated once per (accelerator, fabric) the catalog offers
(``perf/topology.py``). Fabrics on which a workload's estimate comes out the same (a
service whose replica fits one instance of each, a job whose layouts never leave the
scale-up domain) price over one table of all their offers, in catalog order, so the
options are those of one estimate over those offers, as with one table per accelerator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from arbiter.domain.catalog import Catalog
from arbiter.domain.offer import Offer
from arbiter.perf.estimate import Estimate
from arbiter.perf.topology import Host, offer_host

T = TypeVar("T")


class HostedOffers(Generic[T]):
    """The offers of each accelerator with their hosts; ``table`` builds (once) what
    ``make`` makes of the offers of a set of hosts."""

    def __init__(self, catalog: Catalog, make: Callable[[list[Offer]], T]) -> None:
        self._make = make
        self._offers: dict[str, list[tuple[Offer, Host]]] = {}
        for offer in catalog.offers:
            h = offer_host(offer, catalog.accelerators.get(offer.accelerator))
            self._offers.setdefault(offer.accelerator, []).append((offer, h))
        self._tables: dict[tuple[str, frozenset[Host]], T] = {}

    def pairs(self) -> list[tuple[str, Host]]:
        """Every (accelerator, host) offered, in catalog order."""
        return list(dict.fromkeys((a, h) for a, found in self._offers.items() for _, h in found))

    def table(self, accelerator: str, hosts: frozenset[Host]) -> T:
        key = (accelerator, hosts)
        found = self._tables.get(key)
        if found is None:
            offers = [o for o, h in self._offers.get(accelerator, ()) if h in hosts]
            found = self._tables[key] = self._make(offers)
        return found


_FIELDS = tuple(f.name for f in dataclasses.fields(Estimate) if f.name != "host")


def same_estimates(estimates: Sequence[Estimate]) -> list[tuple[Estimate, frozenset[Host]]]:
    """The estimates of one workload with those equal but for their host merged: each
    distinct estimate (the first of its equals) with the hosts it holds on."""
    out: dict[tuple[object, ...], tuple[Estimate, list[Host]]] = {}
    for e in estimates:
        if e.host is None:
            continue
        key = tuple(getattr(e, name) for name in _FIELDS)
        try:
            found = out.get(key)
        except TypeError:  # a field that cannot be a key: the estimate stands alone
            key, found = (id(e),), None
        if found is None:
            out[key] = (e, [e.host])
        else:
            found[1].append(e.host)
    return [(e, frozenset(hosts)) for e, hosts in out.values()]
