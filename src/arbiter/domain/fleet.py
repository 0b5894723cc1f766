"""A fleet: every workload to place, plus the rules that bind them together.

A :class:`Fleet` is what the planner solves for: the workloads, caps on how much of the
total spend may go to one vendor, provider or region, a global region allow-list, a
budget, the software platforms that are usable (now or after a one-off porting cost),
limits on obtainable capacity, and the objective.

Rules the file format fixes and the planner relies on:

- **Platforms.** When a fleet file has no ``platforms`` key, every platform is enabled at
  no cost (a plain cost comparison). When it has one, the platforms it lists are the only
  usable ones: each is either enabled today or can be enabled for ``enable_usd`` after
  ``lead_weeks``; an unlisted platform is not available at all. :meth:`Fleet.platform`
  answers ``None`` for an unavailable platform.
- **Objective.** ``Objective(cost_weight, time_usd_per_hour)`` minimises
  ``cost_weight * cost_usd + time_usd_per_hour * completion_hours``. Its :attr:`kind` is
  ``"cost"`` when ``time_usd_per_hour`` is 0 (minimise cost), ``"time"`` when
  ``cost_weight`` is 0 (minimise completion time, with cost as the tie-break; the hourly
  value is then only a scale) and ``"weighted"`` otherwise. ``objective: cost`` is
  ``Objective(1, 0)`` and ``objective: time`` is ``Objective(0, 1)``.
- **After the term.** ``after_term`` prices the hours of a job past a commitment's term:
  on demand (the default) or by renewing the commitment for whole terms
  (:mod:`arbiter.domain.after_term`).
- **Shares.** A share cap is a fraction of total spend in (0, 1]; ``None`` is no cap.
- **Capacity.** A :class:`CapacityLimit` caps the instances of one accelerator at one
  provider, optionally only in regions matching a glob and only under one price regime.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass

from arbiter.domain.accelerator import Platform
from arbiter.domain.after_term import AfterTerm
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.spot import SpotSettings
from arbiter.domain.workload import Workload

GROUPS = ("vendor", "provider", "region")
"""The groups a share cap can bound: options by vendor, by provider and by provider/region."""


@dataclass(frozen=True, slots=True)
class ShareCaps:
    """The largest share of total spend one vendor, provider or region may take."""

    vendor: float | None = None
    provider: float | None = None
    region: float | None = None

    def __post_init__(self) -> None:
        for name in ("vendor", "provider", "region"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= 1:
                msg = f"share cap {name} must be in (0, 1], got {value}"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class PlatformState:
    """A usable software platform: enabled today, or enabled for ``enable_usd`` later."""

    platform: Platform
    enabled: bool
    enable_usd: float = 0.0
    """One-off cost of porting to the platform; 0 when it is already enabled."""
    lead_weeks: float = 0.0
    """Weeks until the platform is usable once the port starts; 0 when enabled."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.enable_usd) and self.enable_usd >= 0):
            msg = f"enable_usd must be a finite number >= 0, got {self.enable_usd}"
            raise ValueError(msg)
        if not (math.isfinite(self.lead_weeks) and self.lead_weeks >= 0):
            msg = f"lead_weeks must be a finite number >= 0, got {self.lead_weeks}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class CapacityLimit:
    """At most ``max_instances`` of ``accelerator`` at ``provider`` (in ``region``, under
    ``price_regime``, when given)."""

    provider: str
    accelerator: str
    max_instances: int
    region: str | None = None
    """A region glob such as ``us-*``; ``None`` is every region of the provider."""
    price_regime: PriceRegime | None = None
    """``None`` caps instances under every price regime together."""
    offer_ids: frozenset[str] | None = None
    """Only these offers, when given: a limit derived from the offers' obtainable capacity
    (``arbiter.optimize.capacity``), whose ``tag`` ends its label."""
    tag: str = ""

    def __post_init__(self) -> None:
        if self.max_instances < 0:
            msg = f"max_instances must be >= 0, got {self.max_instances}"
            raise ValueError(msg)

    def covers(self, offer: Offer) -> bool:
        """Whether instances bought through ``offer`` count against this limit."""
        return (
            offer.provider == self.provider
            and offer.accelerator == self.accelerator
            and (
                self.region is None
                or fnmatch.fnmatchcase(offer.region.lower(), self.region.lower())
            )
            and (self.price_regime is None or offer.price_regime is self.price_regime)
            and (self.offer_ids is None or offer.offer_id in self.offer_ids)
        )

    @property
    def label(self) -> str:
        where = f"/{self.region}" if self.region else ""
        regime = f"/{self.price_regime.value}" if self.price_regime else ""
        tag = f"/{self.tag}" if self.tag else ""
        return f"{self.provider}/{self.accelerator}{where}{regime}{tag}"


@dataclass(frozen=True, slots=True)
class Objective:
    """Minimise ``cost_weight * cost_usd + time_usd_per_hour * completion_hours``."""

    cost_weight: float = 1.0
    time_usd_per_hour: float = 0.0

    def __post_init__(self) -> None:
        for name in ("cost_weight", "time_usd_per_hour"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"{name} must be a finite number >= 0, got {value}"
                raise ValueError(msg)
        if self.cost_weight == 0 and self.time_usd_per_hour == 0:
            msg = "cost_weight and time_usd_per_hour must not both be 0"
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        """``"cost"``, ``"time"`` (cost breaks ties) or ``"weighted"``."""
        if self.time_usd_per_hour == 0:
            return "cost"
        if self.cost_weight == 0:
            return "time"
        return "weighted"


COST = Objective(cost_weight=1.0, time_usd_per_hour=0.0)
TIME = Objective(cost_weight=0.0, time_usd_per_hour=1.0)


@dataclass(frozen=True, slots=True)
class Fleet:
    """The workloads to place together, with the fleet-wide constraints and objective."""

    workloads: tuple[Workload, ...]
    caps: ShareCaps = ShareCaps()
    regions: tuple[str, ...] | None = None
    """Region globs every placement must match; ``None`` allows every region."""
    local_zones: bool = True
    """Whether placements may use AWS Local Zones (:mod:`arbiter.domain.regions`)."""
    budget_usd: float | None = None
    platforms: tuple[PlatformState, ...] = tuple(
        PlatformState(platform=p, enabled=True) for p in Platform
    )
    """The usable platforms; one missing from here is unavailable."""
    capacity: tuple[CapacityLimit, ...] = ()
    objective: Objective = COST
    after_term: AfterTerm = AfterTerm.ON_DEMAND
    """How hours past a commitment's term are priced (:mod:`arbiter.domain.after_term`)."""
    spot: SpotSettings = SpotSettings()  # noqa: RUF009 - frozen, so one shared default is safe
    """The ``spot:`` key: the outage assumed for spot, and traces that measure it."""
    copies: tuple[int, ...] = ()
    """Per workload, how many identical workloads it stands for (empty: one each). Only a
    train, finetune or batch workload stands for more than one (see
    :mod:`arbiter.optimize.folding`)."""

    def platform(self, platform: Platform) -> PlatformState | None:
        """The state of ``platform``, or ``None`` if it is unavailable."""
        for state in self.platforms:
            if state.platform is platform:
                return state
        return None
