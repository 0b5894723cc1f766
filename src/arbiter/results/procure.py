"""A procurement plan (``arbiter procure``; :func:`arbiter.procure`): what to commit to,
when and with whom, under uncertain demand, with its cost distribution, utilisation,
stranded spend and the value of planning under uncertainty."""

from __future__ import annotations

from pydantic import Field

from arbiter.results.base import Result, Rows
from arbiter.results.provenance import Provenance


class Commitment(Result):
    """A block of a commitment product bought in ``start_period``."""

    product: str
    provider: str
    accelerator: str
    region: str
    start_period: int
    chips: int
    term_periods: int
    periods_in_horizon: int
    usd_per_chip_hour: float
    commitment_usd: float
    upfront_usd: float


class PeriodSummary(Result):
    """One period: expected spend, the on-demand share, what is committed, concentration."""

    period: int
    expected_spend_usd: float
    on_demand_share: float
    committed_chips: dict[str, float]
    provider_hhi: float
    provider_shares: dict[str, float]
    vendor_hhi: float
    vendor_shares: dict[str, float]


class ClassEstimate(Result):
    """The performance model's band behind a chip a class of work runs on."""

    work_class: str = Field(alias="class")
    accelerator: str
    platform: str
    error_band_share: float
    band_cases: int
    chip_cases: int
    thin: bool


class ValueOfUncertainty(Result):
    """VSS and EVPI on expected cost, with the solver tolerances they are read against."""

    rp_usd: float
    eev_usd: float | None  # None: the expected-value plan cannot serve some scenario
    ws_usd: float
    vss_usd: float | None
    evpi_usd: float
    vss_tolerance_usd: float
    evpi_tolerance_usd: float
    warnings: tuple[str, ...]


class FrontierPoint(Result):
    risk_weight: float
    expected_cost_usd: float
    cvar_usd: float


class ProcurementPrice(Result):
    """What one resource the schedule spends on costs per chip-hour and what that rests on:
    a catalog offer (its date and source) or a commitment product (the file's price, or a
    discount off a dated catalog price); ``age_days`` on the settings' date."""

    resource: str
    committed: bool
    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_chip_hour: float
    expected_spend_usd: float
    as_of: str | None
    age_days: int | None
    source: str


class ProcurementPlan(Result):
    """The commitment schedule and its statistics over the file's scenarios."""

    status: str
    mip_gap: float
    objective_usd: float
    expected_cost_usd: float
    p95_usd: float
    cvar_usd: float
    cvar_level: float
    risk_weight: float
    scenario_costs_usd: dict[str, float]
    schedule: Rows[Commitment]
    platforms_enabled: tuple[str, ...]
    utilisation: dict[str, dict[str, float]]
    expected_stranded_usd: float
    expected_unmet_share: dict[str, float]
    periods: Rows[PeriodSummary]
    estimates: Rows[ClassEstimate]
    prices: Rows[ProcurementPrice] = Rows()
    """Every price the schedule spends on, with its date, source and age (empty in a
    document written before arbiter reported them)."""
    value_of_uncertainty: ValueOfUncertainty
    frontier: Rows[FrontierPoint] | None = None
    solver_note: str | None = None
    provenance: Provenance
