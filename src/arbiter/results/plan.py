"""A fleet plan (``arbiter plan``; :func:`arbiter.plan`): where each workload runs, what
it costs, how concentrated the spend is, what binds, the alternatives, the baselines on
the same inputs, and the audit a buyer reads before money moves."""

from __future__ import annotations

from pydantic import PrivateAttr

from arbiter.results.base import Result, Rows
from arbiter.results.provenance import Provenance


class Layout(Result):
    """How an assignment's chips are split: tensor, pipeline and context parallel
    degrees, and the replicas of ``tp x pp x cp`` chips it places."""

    tp: int
    pp: int
    cp: int
    replicas: int


class SpotBasis(Result):
    """What a spot placement rests on: the interruption rate and its source; for a job with
    a deadline, its expected outcome under ``policy`` (``greedy``: wait for spot, move to the
    on-demand offer of the same instance type at the same place just in time): the share of
    the time spot can be had, the mean outage, the share of the work done on spot, the
    on-demand chip-hours the fallback is expected to take at its price (None: no on-demand
    offer there, spot alone), and the chance of finishing late
    (0 with a fallback; with none, from spot's spread). ``docs/spot.md``."""

    interruptions_per_hour: float
    basis: str
    source: str
    as_of: str
    restart_hours: float
    throughput_factor: float
    policy: str | None = None
    available_share: float | None = None
    mean_outage_hours: float | None = None
    spot_share: float | None = None
    on_demand_hours: float | None = None
    on_demand_usd_per_hour: float | None = None
    miss_probability: float | None = None


class Assignment(Result):
    """One workload on one offer: instances, chips, hours, cost, and how far the
    performance estimate behind it may be off (``error_band_share``, 80% band, with the
    published cases of its platform and kind, ``band_cases``, and of the chip itself)."""

    workload: str
    kind: str
    offer_id: str
    provider: str
    region: str
    instance_type: str
    accelerator: str
    vendor: str
    platform: str
    price_regime: str
    price_source: str
    price_as_of: str
    price_age_days: int | None = None
    instance_count: int
    accelerator_count: int
    accelerators_per_instance: int
    replicas: int | None
    layout: Layout | None
    hours: float
    billed_hours: float
    usd: float
    tokens_per_s: float
    usd_per_million_tokens: float | None
    error_band_share: float
    band_cases: int
    chip_cases: int
    class_requests_per_s: tuple[float, ...] | None = None
    spot: SpotBasis | None = None


class PlatformEnabled(Result):
    platform: str
    enable_usd: float
    lead_weeks: float
    already_enabled: bool


class BindingRow(Result):
    """A constraint whose relaxation lowers the plan's cost, found by re-solving with it
    relaxed: ``shadow_price_usd`` is proven saved at least (None: not checked within the
    time limit), ``at_most_usd`` the most it can save."""

    constraint: str
    shadow_price_usd: float | None
    at_most_usd: float | None
    text: str


class Alternative(Result):
    """The next-best option of a job on another chip or cloud, priced as the plan would
    pay (``extra_usd`` over its assignment, platform enabling included)."""

    accelerator: str
    provider: str
    region: str
    price_regime: str
    usd: float
    enable_usd: float
    extra_usd: float
    capacity_full: tuple[str, ...]


class Baseline(Result):
    """A naive plan on the same inputs; ``feasible`` says whether it meets the fleet's
    caps, capacity and budget (None: not solved within the time limit, ``note`` says)."""

    total_usd: float | None
    feasible: bool | None
    shares: dict[str, dict[str, float]]
    note: str | None = None


class CapacityUsed(Result):
    """An obtainable-capacity assumption the plan relies on, with its basis."""

    offer_id: str
    provider: str
    region: str
    accelerator: str
    instance_type: str
    price_regime: str
    chips_used: int
    obtainable_chips: int | None
    job_chips: int | None
    unit_chips: int
    basis: str
    needs: str
    lead_days: float
    source: str
    as_of: str


class ServiceSurplus(Result):
    workload: str
    demand_tokens_per_s: float
    bought_tokens_per_s: float
    surplus_tokens_per_s: float
    smallest_replica_tokens_per_s: float
    within_one_replica: bool


class PriceUsed(Result):
    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_hour: float
    source: str
    as_of: str
    age_days: int
    stale: bool


class ThinEstimate(Result):
    workload: str
    accelerator: str
    platform: str
    error_band_share: float
    band_cases: int
    chip_cases: int


class PlanAudit(Result):
    """What a buyer checks: surplus and idle capacity (``padded``), the capacity
    assumptions and quotas, the age and source of every price, the thin estimates."""

    surplus: Rows[ServiceSurplus]
    idle_instances: int
    extra_placements: int
    capacity_assumptions: Rows[CapacityUsed]
    quotas_and_contracts: Rows[CapacityUsed]
    prices: Rows[PriceUsed]
    stale_prices: int
    thin_estimates: Rows[ThinEstimate]
    padded: bool


class SweepPoint(Result):
    """The plan's cost with one share cap set to ``cap`` (the price of diversification):
    ``feasible`` False is proven infeasible; ``status`` ``time_limit``, none found in
    time; ``feasible`` within ``mip_gap``."""

    group: str
    cap: float
    total_usd: float | None
    feasible: bool
    status: str | None = None
    mip_gap: float | None = None


class Plan(Result):
    """The cheapest placement of a fleet under its caps, capacity and budget."""

    status: str
    objective: str
    total_usd: float
    compute_usd: float
    enablement_usd: float
    assignments: Rows[Assignment]
    platforms_enabled: Rows[PlatformEnabled]
    shares: dict[str, dict[str, float]]
    hhi: dict[str, float]
    caps: dict[str, float | None]
    binding: Rows[BindingRow]
    alternatives: dict[str, Rows[Alternative]]
    mip_gap: float | None
    provenance: Provenance
    cheaper_plan_usd: float | None
    baselines: dict[str, Baseline] | None = None
    capacity_assumptions: Rows[CapacityUsed] | None = None
    audit: PlanAudit | None = None
    solver_note: str | None = None
    sweep: Rows[SweepPoint] | None = None
    plan_id: str | None = None
    _engine: object = PrivateAttr(default=None)

    def with_engine(self, engine: object) -> Plan:
        """This plan, holding the solved model it came from (what a sweep or a risk run
        starts from; a plan read from a document has none)."""
        self._engine = engine
        return self

    @property
    def engine(self) -> object:
        return self._engine
