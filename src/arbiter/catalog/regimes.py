"""The sources' price regimes mapped onto arbiter's vocabulary (:class:`PriceRegime`).

The source's own name is kept in ``Offer.source_regime``; docs/price-regimes.md explains
each mapping. Terms are in months.
"""

from __future__ import annotations

from dataclasses import dataclass

from arbiter.domain.errors import UnknownNameError
from arbiter.domain.offer import PriceRegime


@dataclass(frozen=True, slots=True)
class RegimeMapping:
    regime: PriceRegime
    term_months: int | None
    meaning: str


SOURCE_REGIMES: dict[str, RegimeMapping] = {
    "on_demand": RegimeMapping(PriceRegime.ON_DEMAND, None, "pay per hour, no commitment"),
    "spot": RegimeMapping(PriceRegime.SPOT, None, "interruptible capacity"),
    "preemptible": RegimeMapping(PriceRegime.SPOT, None, "OCI preemptible capacity"),
    "reserved_1y": RegimeMapping(PriceRegime.RESERVED_1Y, 12, "AWS Standard RI, 1 year"),
    "reserved_3y": RegimeMapping(PriceRegime.RESERVED_3Y, 36, "AWS Standard RI, 3 years"),
    "cud_1y": RegimeMapping(PriceRegime.RESERVED_1Y, 12, "GCP resource-based CUD, 1 year"),
    "cud_3y": RegimeMapping(PriceRegime.RESERVED_3Y, 36, "GCP resource-based CUD, 3 years"),
    "capacity_block": RegimeMapping(
        PriceRegime.CAPACITY_BLOCK, None, "AWS EC2 Capacity Blocks for ML"
    ),
    "dws_flex_start": RegimeMapping(
        PriceRegime.CAPACITY_BLOCK, None, "GCP DWS flex-start (defined duration, up to 7 days)"
    ),
    "dws_calendar": RegimeMapping(
        PriceRegime.CAPACITY_BLOCK, None, "GCP DWS calendar mode (future reservation)"
    ),
    "reserved_5y": RegimeMapping(
        PriceRegime.COMMITTED, 60, "Azure VM reservation, 5 years (prices-extra.csv 'committed')"
    ),
    "committed": RegimeMapping(
        PriceRegime.COMMITTED,
        None,
        "a contract rate whose term the source does not state (Hyperstack 'Reserved')",
    ),
    "commit_1w": RegimeMapping(
        PriceRegime.COMMITTED, 1, "RunPod one-week term (rounded to 1 month)"
    ),
    "commit_1m": RegimeMapping(PriceRegime.COMMITTED, 1, "RunPod one-month term"),
    "commit_3m": RegimeMapping(PriceRegime.COMMITTED, 3, "RunPod three-month term"),
    "commit_6m": RegimeMapping(PriceRegime.COMMITTED, 6, "RunPod six-month term"),
}


def map_source_regime(
    name: str, *, file: str | None = None, field: str = "pricing_regime"
) -> RegimeMapping:
    """The mapping of a source regime name; unknown names raise with suggestions."""
    hit = SOURCE_REGIMES.get(name.strip())
    if hit is None:
        raise UnknownNameError("price regime", name, SOURCE_REGIMES, file=file, field=field)
    return hit
