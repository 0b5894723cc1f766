"""A fleet's ``spot.traces`` read and measured: the availability of spot at each spot offer
they cover (``docs/spot.md``)."""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path

from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.spot import Availability, SpotTraceSource
from arbiter.spotsim.outlook import availability_from_traces
from arbiter.spotsim.traces import read_traces


def with_measured_spot(fleet: Fleet, catalog: Catalog, name: str) -> Fleet:
    """``fleet`` with ``spot.measured`` set from its ``spot.traces``: each entry's trace
    files (a path relative to the fleet file's folder, or to the working directory for a
    fleet given as text or a mapping), pooled, measure spot for the spot offers of the
    catalog it names. An entry whose files are missing or match no spot offer is bad input
    naming ``spot.traces[i]``; a later entry covering an offer again is too."""
    if not fleet.spot.traces:
        return fleet
    named = Path(name)
    base = named.parent if named.is_file() else Path.cwd()
    measured: dict[str, Availability] = {}
    first: dict[str, int] = {}
    for i, source in enumerate(fleet.spot.traces):
        where = f"spot.traces[{i}]"
        availability = _measure(source, base, name, where)
        for offer in _covered(source, catalog, name, where):
            if offer.offer_id in first:
                raise InputError(
                    f"spot offer {offer.provider} {offer.region} {offer.instance_type} is "
                    f"also measured by spot.traces[{first[offer.offer_id]}]",
                    file=name,
                    field=where,
                    valid="one entry per spot offer",
                )
            first[offer.offer_id] = i
            measured[offer.offer_id] = availability
    spot = dataclasses.replace(fleet.spot, measured=tuple(sorted(measured.items())))
    return dataclasses.replace(fleet, spot=spot)


def _measure(source: SpotTraceSource, base: Path, name: str, where: str) -> Availability:
    path = Path(source.path)
    traces = read_traces(path if path.is_absolute() else base / path, nodes=source.nodes)
    if source.select is not None:
        traces = [
            t for t in traces if fnmatch.fnmatchcase(t.name.rpartition("/")[2], source.select)
        ]
    if not traces:
        raise InputError(
            f"no trace file under {source.path} matches {source.select!r}",
            file=name,
            field=f"{where}.select",
            valid="a glob over the trace files' stems, such as us-east-1*_v100_1",
        )
    return availability_from_traces(traces)


def _covered(source: SpotTraceSource, catalog: Catalog, name: str, where: str) -> list[Offer]:
    spot = [
        o
        for o in catalog.offers
        if o.price_regime is PriceRegime.SPOT and o.provider == source.provider
    ]
    found = [
        o
        for o in spot
        if o.region == source.region
        and (source.accelerator is None or o.accelerator == source.accelerator)
        and (source.instance_type is None or o.instance_type == source.instance_type)
    ]
    if not found:
        here = sorted({o.instance_type for o in spot if o.region == source.region})
        machine = source.accelerator or source.instance_type
        raise InputError(
            f"the catalog has no spot offer of {machine} at {source.provider} in {source.region}",
            file=name,
            field=where,
            valid=(
                f"spot instance types there: {', '.join(here[:12])}"
                if here
                else f"a region where {source.provider} sells spot"
            ),
        )
    return found
