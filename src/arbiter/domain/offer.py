"""Offers: one way to buy an accelerator, under one price regime."""

from __future__ import annotations

import enum
import functools
import hashlib
from dataclasses import dataclass

from arbiter.domain.as_of import AsOf


class PriceRegime(enum.StrEnum):
    """arbiter's price-regime vocabulary (see docs/price-regimes.md for the mapping).

    - ``on_demand``: pay per hour, no commitment.
    - ``spot``: interruptible, pay per hour (GCP Spot, Azure Spot, RunPod spot, OCI preemptible).
    - ``reserved_1y`` / ``reserved_3y``: resource-specific commitment for one or three years
      (AWS Standard RI, GCP resource-based CUD, Azure reservations); billed for the whole term.
    - ``capacity_block``: capacity for a fixed, short duration booked ahead (AWS Capacity
      Blocks for ML, GCP DWS flex-start and calendar mode).
    - ``committed``: a spend or term commitment of another length or kind (AWS Savings
      Plans, RunPod 3/6-month terms); ``term_months`` says how long.
    """

    ON_DEMAND = "on_demand"
    SPOT = "spot"
    RESERVED_1Y = "reserved_1y"
    RESERVED_3Y = "reserved_3y"
    CAPACITY_BLOCK = "capacity_block"
    COMMITTED = "committed"


PAY_AS_YOU_GO = (PriceRegime.ON_DEMAND, PriceRegime.SPOT)
"""The regimes billed by the hour used, with nothing bought ahead."""


SAME_SOURCE_REGIME: dict[str, str] = {
    # Azure Retail Prices API
    "Consumption": "on_demand",
    "Consumption Spot": "spot",
    "Reservation 1 Year": "reserved_1y",
    "Reservation 3 Years": "reserved_3y",
    # AWS Price List (the curated tables' reserved_1y/3y are Standard RIs, No Upfront)
    "OnDemand": "on_demand",
    "Reserved 1yr standard No Upfront": "reserved_1y",
    "Reserved 3yr standard No Upfront": "reserved_3y",
}
"""A provider feed's name of a source regime -> the curated tables' name of the same one.
An offer's key uses the latter, so a feed's price of an offer reprices the curated row
instead of standing beside it; ``Offer.source_regime`` keeps the source's own name."""


TERM_MONTHS_BY_REGIME: dict[PriceRegime, int] = {
    PriceRegime.RESERVED_1Y: 12,
    PriceRegime.RESERVED_3Y: 36,
}


@dataclass(frozen=True, slots=True)
class Offer:
    """One priced way to buy ``accelerators_per_instance`` chips of ``accelerator``.

    ``usd_per_hour`` is for the whole instance; ``usd_per_accelerator_hour`` divides it.
    ``source_regime`` keeps the source's own name for the regime (``cud_3y``,
    ``dws_flex_start``, ``commit_6m``, ``Reservation 1 Year`` ...). ``derived`` is true when
    arbiter computed the price (a sum of SKUs, a documented discount); ``provenance``
    then states the rule.
    """

    provider: str
    region: str
    instance_type: str
    accelerator: str
    accelerators_per_instance: int
    price_regime: PriceRegime
    usd_per_hour: float
    as_of: AsOf
    source: str
    source_regime: str = ""
    zone: str = ""
    term_months: int | None = None
    derived: bool = False
    provenance: str = ""
    interruption_rate: float | None = None
    capacity_instances: int | None = None

    def __post_init__(self) -> None:
        if self.accelerators_per_instance <= 0:
            raise ValueError(f"offer {self.instance_type}: accelerators_per_instance must be > 0")
        if not self.usd_per_hour > 0:
            raise ValueError(f"offer {self.instance_type}: usd_per_hour must be > 0")
        if self.term_months is not None and self.term_months <= 0:
            raise ValueError(f"offer {self.instance_type}: term_months must be > 0")

    @property
    def usd_per_accelerator_hour(self) -> float:
        return self.usd_per_hour / self.accelerators_per_instance

    @property
    def key(self) -> tuple[str, str, str, str, str, int]:
        """What makes two offers the same offer across catalog versions (price and date aside)."""
        return (
            self.provider,
            self.region,
            self.instance_type,
            self.price_regime.value,
            SAME_SOURCE_REGIME.get(self.source_regime, self.source_regime),
            self.term_months or 0,
        )

    @property
    def offer_id(self) -> str:
        """A stable short id: the same offer keeps its id when its price changes."""
        return offer_id_of(self.key)


@functools.lru_cache(maxsize=1 << 17)  # a planner asks for the same ids many times
def offer_id_of(key: tuple[str, str, str, str, str, int]) -> str:
    digest = hashlib.sha256("\x1f".join(str(k) for k in key).encode()).hexdigest()
    return digest[:12]
