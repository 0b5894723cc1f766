"""Procurement planning inputs: demand per workload class and period under scenarios,
price paths, and the commitment products that can be bought ahead.

Periods are equal (months or quarters) and indexed from 0. Demand is in the units of
the class's workload: requests/s for a service (held for the period), tokens for
training and fine-tuning (to finish within the period), generated tokens for batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arbiter.domain.as_of import AsOf
from arbiter.domain.fleet import PlatformState, ShareCaps
from arbiter.domain.units import HOURS_PER_MONTH, HOURS_PER_QUARTER, HOURS_PER_YEAR
from arbiter.domain.workload import Workload

HOURS_PER_PERIOD = {"month": HOURS_PER_MONTH, "quarter": HOURS_PER_QUARTER}


@dataclass(frozen=True, slots=True)
class DemandClass:
    """A class of work: a workload template and its base demand per period."""

    name: str
    workload: Workload
    demand: tuple[float, ...]  # per period, in the workload's unit


@dataclass(frozen=True, slots=True)
class DemandScenario:
    """One future: a probability and, per class, a demand multiplier per period."""

    name: str
    probability: float
    factors: dict[str, tuple[float, ...]] = field(default_factory=dict)  # class -> per period

    def factor(self, klass: str, period: int) -> float:
        values = self.factors.get(klass)
        return 1.0 if values is None else values[period]


@dataclass(frozen=True, slots=True)
class PricePath:
    """Prices of the matching offers change by ``yearly_change`` a year (-0.3: 30% cheaper
    after a year), compounding per period; the chips are buyable from ``available_from``."""

    vendors: tuple[str, ...] | None = None
    accelerators: tuple[str, ...] | None = None
    yearly_change: float = 0.0
    available_from: int = 0  # first period the chips can be bought

    def matches(self, vendor: str, accelerator: str) -> bool:
        if self.vendors is not None and vendor not in self.vendors:
            return False
        return self.accelerators is None or accelerator in self.accelerators


@dataclass(frozen=True, slots=True)
class CommitmentProduct:
    """A commitment: ``chips`` bought in blocks of ``min_chips`` (up to ``max_chips`` in
    one period) at ``usd_per_chip_hour`` for ``term_periods`` periods, paid ``upfront_share``
    at the start and the rest per period; ``resale_share`` of an unused chip-hour's price
    comes back (0: stranded)."""

    name: str
    provider: str
    accelerator: str
    region: str
    usd_per_chip_hour: float
    term_periods: int
    upfront_share: float = 0.0
    min_chips: int = 1
    max_chips: int | None = None
    resale_share: float = 0.0
    source: str = "file"
    as_of: AsOf | None = None
    """When the catalog price the product rests on was observed (None: the file's price)."""


@dataclass(frozen=True, slots=True)
class ProcurementProblem:
    periods: int
    period: str  # "month" or "quarter"
    discount_rate: float  # yearly
    classes: tuple[DemandClass, ...]
    scenarios: tuple[DemandScenario, ...]
    products: tuple[CommitmentProduct, ...]
    price_paths: tuple[PricePath, ...] = ()
    caps: ShareCaps = field(default_factory=ShareCaps)
    budget_per_period_usd: float | None = None
    platforms: tuple[PlatformState, ...] = ()
    regions: tuple[str, ...] | None = None
    risk_weight: float = 0.0  # lambda
    cvar_level: float = 0.95  # alpha
    unmet_penalty: float = 3.0  # x the cheapest on-demand cost of the work
    salvage: str = "prorate"  # a term running past the horizon: "prorate", "full" or "none"
    catalog_commitments: bool = False  # also every reserved/committed offer of the catalog

    @property
    def period_hours(self) -> float:
        return HOURS_PER_PERIOD[self.period]

    @property
    def periods_per_year(self) -> float:
        return HOURS_PER_YEAR / self.period_hours

    def discount(self, period: int) -> float:
        """Present-value factor of a cost paid in ``period``."""
        return float((1.0 + self.discount_rate) ** (-period / self.periods_per_year))
