"""A deal valuation (``arbiter deal``; :func:`arbiter.deal`): what a strategic deal is
worth to the lab (NPV, risk-adjusted value, its breakdown), the procurement plan with the
deal and without it on the same scenarios, the effective price per delivered PFLOP-hour,
the lock-in it buys per year, and optionally the break-evens, the tornado and the
distribution of its worth over sampled futures.

The NPV splits into what the deal changes (expected present values)::

    npv_usd = compute_savings_usd + tranches_usd + credits_usd - shortfall_usd
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from arbiter.results.base import Result, Rows
from arbiter.results.procure import ClassEstimate, Commitment, ProcurementPrice
from arbiter.results.provenance import Provenance

if TYPE_CHECKING:
    import pandas as pd


class Tranche(Result):
    """Capital the counterparty pays in ``period`` with ``probability`` (``kind``:
    equity, cash or usage); ``value_if_paid_usd`` after the equity haircut."""

    usd: float
    period: int
    kind: str
    probability: float
    condition: str
    value_if_paid_usd: float


class Obligation(Result):
    """What the lab must spend with the counterparty (per year or in total, after an
    optional ramp), what it commits up front, the penalty on a shortfall and the minimum
    share of covered work."""

    min_spend_usd_per_year: tuple[float, ...] | None
    total_spend_usd: float | None
    ramp: tuple[float, ...] | None
    committed_usd: float | None
    shortfall_penalty: float
    min_share: float | None


class EfficiencyPoint(Result):
    efficiency: float
    probability: float


class Porting(Result):
    """The port to the covered chips' platform: its cost, lead time and the efficiency
    of the ported work against the chips' estimates (mean and the planning points)."""

    platform: str
    enable_usd: float
    lead_weeks: float
    efficiency_mean: float
    efficiency_points: Rows[EfficiencyPoint]


class DealTerms(Result):
    """The deal as read from its file."""

    name: str
    counterparty: str
    covers: tuple[str, ...]
    discount: float
    tranches: Rows[Tranche]
    credits_usd: float
    obligation: Obligation
    porting: Porting | None
    discount_rate: float
    horizon_years: int
    equity_haircut: float
    periods: int
    period: str


class Breakdown(Result):
    """The NPV's parts (expected present values) and the shortfall paid per year."""

    compute_savings_usd: float
    tranches_usd: float
    credits_usd: float
    shortfall_usd: float
    shortfall_by_year_usd: tuple[float, ...]


class ScenarioValue(Result):
    name: str
    probability: float
    value_usd: float


class Side(Result):
    """The lab's procurement plan on one side (with the deal, or without it)."""

    status: str
    mip_gap: float
    expected_net_cost_usd: float
    cvar_net_cost_usd: float
    objective_usd: float
    rounding_usd: float
    fixed_inflow_usd: float
    platforms_enabled: tuple[str, ...]
    schedule: Rows[Commitment]
    expected_unmet_share: dict[str, float]
    estimates: Rows[ClassEstimate]
    prices: Rows[ProcurementPrice] = Rows()
    """Every price the side's plan spends on, with its date, source and age (empty in a
    document written before arbiter reported them)."""
    scenario_net_cost_usd: dict[str, float]


class Sides(Result):
    with_deal: Side
    without: Side


class EffectivePrice(Result):
    """Expected USD per delivered PFLOP-hour: on the covered chips with the deal, the
    alternative without it, and over each whole plan (``None`` when nothing ran)."""

    covered_with_deal_usd_per_pflop_hour: float | None
    alternative_without_deal_usd_per_pflop_hour: float | None
    plan_with_deal_usd_per_pflop_hour: float | None
    plan_without_deal_usd_per_pflop_hour: float | None
    covered_pflop_hours: float
    covered_spend_usd: float


class SinglePoint(Result):
    """A vendor or provider carrying (nearly) all of some classes' work in a year."""

    group: str
    name: str
    spend_share: float
    classes_stopped: tuple[str, ...]


class LockInYear(Result):
    """One year of the procurement horizon: spend, covered and counterparty shares,
    vendor concentration and single points of failure."""

    year: int
    in_deal: bool
    spend_usd: float
    covered_spend_share: float
    covered_compute_share: float
    counterparty_spend_share: float
    vendor_shares: dict[str, float]
    vendor_hhi: float
    single_points_of_failure: Rows[SinglePoint]


class LockIn(Result):
    with_deal: Rows[LockInYear]
    without: Rows[LockInYear]


class BreakEven(Result):
    """The value of ``input`` at which the NPV changes sign nearest its base (``None``
    when it does not on the grid), the grid points bracketing it, and the NPV over the
    grid."""

    input: str
    base: float
    break_even: float | None
    bracket: tuple[float, float] | None
    pays_above: bool | None
    grid: tuple[float, ...]
    npv_usd: tuple[float, ...]


class TornadoBar(Result):
    input: str
    low: str
    high: str
    npv_low_usd: float
    npv_high_usd: float
    swing_usd: float


class Sensitivity(Result):
    """Break-evens and the tornado, solved at the stated (faster) settings."""

    settings: str
    base_npv_usd: float
    base_efficiency: float
    break_evens: Rows[BreakEven]
    tornado: Rows[TornadoBar]


class ValueDistribution(Result):
    """The deal's worth over sampled futures (``values_usd``, one per sample)."""

    samples: int
    seed: int
    shocks_file: str | None
    mean_usd: float
    p5_usd: float
    p50_usd: float
    p95_usd: float
    probability_destroys_value: float
    values_usd: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per sampled future: ``sample`` and ``value_usd``."""
        import pandas as pd  # noqa: PLC0415 - pandas is loaded when a frame is asked for

        return pd.DataFrame({"sample": range(len(self.values_usd)), "value_usd": self.values_usd})


class DealValuation(Result):
    """What a strategic deal is worth to the lab and the lock-in it buys."""

    deal: DealTerms
    npv_usd: float
    risk_adjusted_value_usd: float
    risk_weight: float
    cvar_level: float
    breakdown: Breakdown
    scenarios: Rows[ScenarioValue]
    sides: Sides
    effective_price: EffectivePrice
    lock_in: LockIn
    sensitivity: Sensitivity | None = None
    distribution: ValueDistribution | None = None
    provenance: Provenance
