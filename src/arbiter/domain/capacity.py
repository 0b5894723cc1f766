"""Obtainable capacity: how many chips of an offer one can actually get, and on what basis.

A :class:`CapacityAssumption` is what the planner assumes for one offer (one provider,
region, accelerator and price regime): the chips obtainable for all workloads together
(``chips``), the most one tightly coupled job may take in one purchase (``job_chips``:
one reservation or block, one region), the unit chips are bought in (``unit_chips``:
an 8-GPU node, a 72-GPU NVL72 rack, a 16-chip Trn2 instance; ``power_of_two`` when counts
of instances or chips must be powers of two, as AWS Capacity Blocks and TPU slices), what
must happen first (``needs``: nothing, a quota request or a contract) and how long that
takes (``lead_days``). ``basis`` says where the numbers come from: ``"fleet"`` (the
fleet's own ``capacity:`` rows), ``"file:<path>"`` (a capacity file the user keeps) or
``"rule R3 (source, date)"`` (the sourced default rules).

A :class:`StatedCapacity` is one row of a user's capacity file: a quantity of an
accelerator at a provider, optionally only in regions matching a glob and under one price
regime; it applies in each region it matches.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass

from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.units import HOURS_PER_DAY


class Needs(enum.StrEnum):
    """What must happen before the capacity can be used."""

    NONE = "none"
    QUOTA = "quota"
    CONTRACT = "contract"


@dataclass(frozen=True, slots=True)
class CapacityAssumption:
    """The obtainable quantity of one offer and its basis (see the module docstring)."""

    chips: int
    job_chips: int
    unit_chips: int
    needs: Needs
    lead_days: float
    basis: str
    source: str = ""
    as_of: str = ""
    power_of_two: bool = False

    def __post_init__(self) -> None:
        for name in ("chips", "job_chips"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.unit_chips <= 0:
            raise ValueError(f"unit_chips must be > 0, got {self.unit_chips}")
        if not self.lead_days >= 0:
            raise ValueError(f"lead_days must be >= 0, got {self.lead_days}")

    @property
    def lead_hours(self) -> float:
        return self.lead_days * HOURS_PER_DAY


@dataclass(frozen=True, slots=True)
class StatedCapacity:
    """One row of a capacity file: ``chips`` or ``instances`` obtainable per region."""

    provider: str
    accelerator: str
    chips: int | None = None
    instances: int | None = None
    region: str | None = None
    price_regime: PriceRegime | None = None
    needs: Needs = Needs.NONE
    lead_days: float = 0.0

    def __post_init__(self) -> None:
        if (self.chips is None) == (self.instances is None):
            raise ValueError("give exactly one of chips and instances")
        if (self.chips or 0) < 0 or (self.instances or 0) < 0:
            raise ValueError("chips and instances must be >= 0")
        if not self.lead_days >= 0:
            raise ValueError(f"lead_days must be >= 0, got {self.lead_days}")

    def covers(self, offer: Offer) -> bool:
        return (
            offer.provider == self.provider
            and offer.accelerator == self.accelerator
            and (
                self.region is None
                or fnmatch.fnmatchcase(offer.region.lower(), self.region.lower())
            )
            and (self.price_regime is None or offer.price_regime is self.price_regime)
        )

    def chips_of(self, offer: Offer) -> int:
        """The chips this row allows at ``offer``'s provider, region and regime."""
        if self.chips is not None:
            return self.chips
        return (self.instances or 0) * offer.accelerators_per_instance
