"""Spot options of a job with a deadline, priced by the spot outlook (``spotsim/outlook.py``).

Each spot offer gets a :class:`SpotPlace`: spot's availability there (measured on the
fleet's traces, ``fleet.spot.measured``, or from the spot rate and the fleet's assumed
outage) and its fallback, the cheapest on-demand offer of the same instance type, provider
and region. Each size of a job on it then gets the outlook of waiting for spot and moving to
the fallback just in time; with no fallback the job runs on spot alone, and the size is no
option while the chance that it finishes late is above :data:`SPOT_ALONE_MAX_MISS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.spot import RESTART_HOURS, interruptions_per_hour, throughput_factor_at
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.spot import Availability, SpotSettings
from arbiter.spotsim.outlook import SpotOutlook, availability_from_rate, outlook

SPOT_ALONE_MAX_MISS = 0.05
"""A deadline job on spot with no on-demand fallback at its place (no on-demand offer of the
same instance type in the same provider and region) is an option only while the chance
that spot alone leaves it late is at most this (``spotsim/outlook.py``)."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SpotPlace:
    """A spot offer's availability and its on-demand fallback price (None: none sold)."""

    availability: Availability
    fallback_usd_per_hour: float | None

    @property
    def throughput_factor(self) -> float:
        """``1 / (1 + rate x restart hours)`` at the rate the availability rests on."""
        return throughput_factor_at(self.availability.interruptions_per_hour)


def spot_places(offers: Sequence[Offer], settings: SpotSettings) -> dict[int, SpotPlace]:
    """By index in ``offers``, each spot offer's :class:`SpotPlace` (module docstring); the
    fallback is looked for among ``offers``."""
    measured = dict(settings.measured)
    on_demand: dict[tuple[str, str, str], float] = {}
    for o in offers:
        if o.price_regime is PriceRegime.ON_DEMAND:
            key = (o.provider, o.region, o.instance_type)
            on_demand[key] = min(on_demand.get(key, math.inf), o.usd_per_accelerator_hour)
    out = {}
    for k, o in enumerate(offers):
        if o.price_regime is PriceRegime.SPOT:
            found = measured.get(o.offer_id)
            available = found or availability_from_rate(
                interruptions_per_hour(o), settings.outage_hours
            )
            fallback = on_demand.get((o.provider, o.region, o.instance_type))
            out[k] = SpotPlace(available, fallback)
    return out


def spot_outlooks(
    places: Mapping[int, SpotPlace],
    factor: FloatArray,
    price: FloatArray,
    allowed: BoolArray,
    hours: FloatArray,
    room: FloatArray,
) -> dict[tuple[int, int], SpotOutlook | None]:
    """The outlook of each size (column of ``hours``, the run hours on spot) of a deadline
    job on each allowed spot offer (row; ``factor`` its throughput factor, ``price`` its
    USD per chip-hour) that has ``room`` hours before its deadline; None where spot alone
    would leave it late too often. Sizes that do not fit the room are left out (they miss
    anyway); offers with the same availability and fallback share the outlook's work split
    per job length (it is cached)."""
    out: dict[tuple[int, int], SpotOutlook | None] = {}
    for k, place in places.items():
        if not allowed[k] or not room[k] > 0:
            continue
        for j in np.flatnonzero(hours[k] <= room[k]).tolist():
            out[k, j] = _outlook(
                place, float(hours[k, j] * factor[k]), float(room[k]), float(price[k])
            )
    return out


def _outlook(
    place: SpotPlace, compute_h: float, deadline_h: float, spot_usd_per_hour: float
) -> SpotOutlook | None:
    found = outlook(
        place.availability,
        compute_h=compute_h,
        deadline_h=deadline_h,
        restart_h=RESTART_HOURS,
        spot_usd_per_hour=spot_usd_per_hour,
        on_demand_usd_per_hour=place.fallback_usd_per_hour,
    )
    alone = place.fallback_usd_per_hour is None
    return None if alone and found.miss_probability > SPOT_ALONE_MAX_MISS else found
