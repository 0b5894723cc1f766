"""Strategic deals: an investment in a lab tied to its commitment to spend on the
investor's chips (for example a hyperscaler putting $10B into a lab that commits to
spend on its Trainium chips).

A :class:`Deal` is what a deal file describes (format in :mod:`arbiter.deals.spec`): the
capital the lab receives (:class:`Tranche` s of equity or credit, some only on a
condition, plus usage credits), the price it gets on the covered chips, what it owes in
return (:class:`Obligation`), the cost of moving its work onto the covered chips
(:class:`Porting`), and how to value it all. The lab's own demand and alternatives are
its :class:`~arbiter.domain.procurement.ProcurementProblem`.

Rules the file format fixes and the evaluation relies on:

- **Time.** Periods are the procurement problem's (months or quarters, from 0); the deal
  runs ``horizon_years`` years, so ``horizon_years * periods_per_year`` periods. Year ``y``
  holds periods ``y * periods_per_year`` to ``(y + 1) * periods_per_year - 1``.
- **Capital.** A tranche of ``usd`` arrives in ``period`` with ``probability`` (1 when
  unconditional); ``condition`` says what it depends on (``""``: nothing). Equity counts at
  face value times ``1 - equity_haircut``; credit (cloud credits, loans) at face value.
- **Obligation.** Either a minimum spend per year (one amount per year of the horizon, 0
  allowed) or a total over the horizon, optionally with a ``ramp``: the minimum share of
  the total to spend in each year. A shortfall below the minimum costs
  ``shortfall_penalty`` times the shortfall (1: pay it in full). ``min_share`` is the
  exclusivity term: at least that share of the lab's compute spend goes to covered chips.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from arbiter.domain.accelerator import Platform
from arbiter.domain.procurement import ProcurementProblem
from arbiter.domain.scenario import Distribution, ScenarioSet

TrancheKind = Literal["equity", "credit"]
TRANCHE_KINDS: tuple[str, ...] = ("equity", "credit")
SHARE_TOLERANCE = 1e-9
USAGE_CONDITION = re.compile(r"^\s*usage\s*>=\s*([0-9]+(?:\.[0-9]+)?)\s*%", re.IGNORECASE)
"""A condition on usage: ``usage >= 50% of commitment`` (covered spend so far)."""
FULL_EFFICIENCY = Distribution.fixed(1.0)
"""Porting that achieves the estimated performance."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _unit(value: float) -> bool:
    return 0 <= value <= 1


def _amount(value: float) -> bool:
    return math.isfinite(value) and value >= 0


@dataclass(frozen=True, slots=True)
class Tranche:
    """``usd`` of capital arriving in ``period`` with ``probability`` (on ``condition``)."""

    usd: float
    period: int
    probability: float = 1.0
    condition: str = ""  # "" = unconditional; e.g. "milestone: ..." or "usage >= 50% ..."
    kind: TrancheKind = "equity"

    def __post_init__(self) -> None:
        _require(math.isfinite(self.usd) and self.usd > 0, f"usd must be > 0, got {self.usd}")
        _require(self.period >= 0, f"period must be >= 0, got {self.period}")
        _require(
            0 < self.probability <= 1, f"probability must be in (0, 1], got {self.probability}"
        )
        _require(self.kind in TRANCHE_KINDS, f"kind must be equity or credit, got {self.kind}")

    @property
    def expected_usd(self) -> float:
        return self.usd * self.probability

    @property
    def usage_threshold(self) -> float | None:
        """The share of the committed spend that must be spent on covered chips by
        ``period`` for the tranche to be paid (``None``: not a usage condition)."""
        found = USAGE_CONDITION.match(self.condition)
        return None if found is None else float(found.group(1)) / 100.0


@dataclass(frozen=True, slots=True)
class Obligation:
    """What the lab owes: a minimum spend on covered chips, and exclusivity.

    Exactly one of ``min_spend_usd_per_year`` (one per year of the horizon) and
    ``total_spend_usd`` is given; ``ramp`` (only with a total) is the minimum share of
    the total to spend in each year (summing to at most 1).
    """

    min_spend_usd_per_year: tuple[float, ...] | None = None
    total_spend_usd: float | None = None
    ramp: tuple[float, ...] | None = None
    shortfall_penalty: float = 1.0  # share of the shortfall paid
    min_share: float = 0.0  # of the lab's compute spend, on covered chips

    def __post_init__(self) -> None:
        per_year, total = self.min_spend_usd_per_year, self.total_spend_usd
        _require(
            (per_year is None) != (total is None),
            "give exactly one of min_spend_usd_per_year and total_spend_usd",
        )
        _require(all(_amount(v) for v in per_year or ()), "yearly minimum spends must be >= 0")
        _require(total is None or _amount(total), f"total_spend_usd must be >= 0, got {total}")
        if self.ramp is not None:
            _require(total is not None, "a ramp needs total_spend_usd")
            _require(all(_unit(s) for s in self.ramp), "ramp shares must be in [0, 1]")
            _require(sum(self.ramp) <= 1 + SHARE_TOLERANCE, "ramp shares must sum to <= 1")
        _require(
            _amount(self.shortfall_penalty),
            f"shortfall_penalty must be >= 0, got {self.shortfall_penalty}",
        )
        _require(_unit(self.min_share), f"min_share must be in [0, 1], got {self.min_share}")

    @property
    def committed_usd(self) -> float:
        """The total minimum spend over the horizon."""
        if self.total_spend_usd is not None:
            return self.total_spend_usd
        return float(sum(self.min_spend_usd_per_year or ()))

    def minimum_in_year(self, year: int) -> float:
        """The minimum spend due in ``year`` (0 when a total has no ramp)."""
        if self.min_spend_usd_per_year is not None:
            return self.min_spend_usd_per_year[year]
        if self.ramp is None:
            return 0.0
        return self.ramp[year] * self.committed_usd


@dataclass(frozen=True, slots=True)
class Porting:
    """Moving work onto the covered chips: a one-off cost, a lead time, and the achieved
    share of estimated performance (``efficiency``, e.g. triangular 0.7, 0.9, 1.0)."""

    platform: Platform
    enable_usd: float = 0.0
    lead_weeks: float = 0.0
    efficiency: Distribution = FULL_EFFICIENCY

    def __post_init__(self) -> None:
        _require(_amount(self.enable_usd), f"enable_usd must be >= 0, got {self.enable_usd}")
        _require(_amount(self.lead_weeks), f"lead_weeks must be >= 0, got {self.lead_weeks}")
        _require(self.efficiency.is_positive, "efficiency must be > 0 everywhere")


@dataclass(frozen=True, slots=True)
class Deal:
    """An investment-for-compute-commitment deal with ``counterparty`` (a provider)."""

    name: str
    counterparty: str
    covers: tuple[str, ...]  # canonical accelerator names
    discount: float  # off list price on covered offers
    tranches: tuple[Tranche, ...]
    credits_usd: float
    obligation: Obligation
    porting: Porting | None
    equity_haircut: float  # equity is worth face x (1 - haircut)
    discount_rate: float  # yearly
    horizon_years: int
    procurement: ProcurementProblem
    scenarios: ScenarioSet | None = None  # shocks to sample the deal's worth over
    scenarios_file: str | None = None
    procurement_file: str = ""

    def __post_init__(self) -> None:
        _require(bool(self.covers), "a deal covers one accelerator or more")
        _require(
            self.procurement.periods >= self.horizon_periods,
            f"the procurement problem's {self.procurement.periods} periods do not cover the "
            f"{self.horizon_periods}-period horizon",
        )
        _require(_unit(self.discount), f"discount must be in [0, 1], got {self.discount}")
        _require(_amount(self.credits_usd), f"credits_usd must be >= 0, got {self.credits_usd}")
        _require(
            _unit(self.equity_haircut),
            f"equity_haircut must be in [0, 1], got {self.equity_haircut}",
        )
        _require(
            _amount(self.discount_rate), f"discount_rate must be >= 0, got {self.discount_rate}"
        )
        _require(self.horizon_years >= 1, f"horizon_years must be >= 1, got {self.horizon_years}")
        for t in self.tranches:
            _require(
                t.period < self.horizon_periods,
                f"tranche period {t.period} is past the {self.horizon_periods}-period horizon",
            )
        per_year = self.obligation.min_spend_usd_per_year
        ramp = self.obligation.ramp
        for what, values in (("min_spend_usd_per_year", per_year), ("ramp", ramp)):
            _require(
                values is None or len(values) == self.horizon_years,
                f"{what} needs one value per year of the {self.horizon_years}-year horizon",
            )

    @property
    def periods_per_year(self) -> int:
        return round(self.procurement.periods_per_year)

    @property
    def horizon_periods(self) -> int:
        return self.horizon_years * self.periods_per_year

    def year_of(self, period: int) -> int:
        return period // self.periods_per_year

    def discount_factor(self, period: int) -> float:
        """Present-value factor of a cash flow in ``period``, at the deal's rate."""
        return float((1.0 + self.discount_rate) ** (-period / self.periods_per_year))

    def tranche_value(self, tranche: Tranche) -> float:
        """What a tranche is worth to the lab if paid: equity after the haircut."""
        if tranche.kind == "equity":
            return tranche.usd * (1.0 - self.equity_haircut)
        return tranche.usd

    def covered(self, accelerator: str) -> bool:
        return accelerator in self.covers
