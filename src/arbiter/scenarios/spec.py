"""The scenario file format as pydantic models: one model per shock kind, all
``extra="forbid"``.

A scenario file describes the shocks a plan may meet, for ``arbiter`` to sample::

    horizon_days: 90        # optional
    penalty: 3.0            # optional, > 0
    samples: 1000           # optional default for the CLI, positive int
    seed: 0                 # optional
    factors: [gpu_shortage] # optional list of shared factor names
    perf_error: true        # optional: sample the perf model's error bands (default true)
    shocks:
      - name: nvidia-supply-cut          # unique
        kind: supply_cut
        select: {vendor: NVIDIA}         # keys: vendor, provider, region, accelerator,
                                         # workload, kind; value a string or a list
        probability: 0.15
        capacity_factor: {triangular: [0.3, 0.6, 0.9]}
        start_days: {uniform: [0, 60]}   # default 0
        duration_days: {lognormal: {median: 30, sigma: 0.5}}
        factor: {name: gpu_shortage, loading: 0.8}              # optional
      - {name: hopper-price-spike, kind: price_shift,
         select: {accelerator: [H100-SXM, H200-SXM]}, probability: 0.2,
         price_factor: {uniform: [1.2, 1.8]}, duration_days: 45}
      - {kind: spot_surge, interruption_multiplier: ..., duration_days: ...}
      - {kind: outage, select: {provider: aws, region: us-east-1}, duration_days: 7}
      - {kind: roadmap_slip, select: {accelerator: B200}, delay_days: {uniform: [30, 120]}}
      - {kind: demand_shift, select: {kind: serve},
         demand_factor: {triangular: [1.0, 1.3, 2.0]}, start_days: ..., duration_days: ...}

Top level: ``horizon_days`` (> 0), ``penalty`` (> 0, default 3: unmet work costs 3 times
what the plan pays per unit of it), ``samples`` (default 1000), ``seed`` (>= 0, default 0),
``factors`` (default none), ``perf_error`` (``true`` or ``false``, default ``true``: the
``perf_error`` shock, each platform's throughput drawn from the performance model's error
band, one draw per platform per sample; ``false`` turns it off) and ``shocks``
(required, not empty).

A shock has a unique ``name``, a ``kind``, a ``probability`` in (0, 1] of occurring in a
sample, an optional ``select`` (leave it out to hit everything), an optional ``factor``
(a name listed in ``factors`` and a ``loading`` in [0, 1]) and exactly its kind's own
magnitude field:

==============  ===========================  ==========================================
kind            magnitude field              meaning
==============  ===========================  ==========================================
supply_cut      ``capacity_factor``          capacity left, every value in [0, 1]
price_shift     ``price_factor``             price multiplier, every value > 0
spot_surge      ``interruption_multiplier``  spot interruption-rate multiplier, >= 1
outage          (none)                       no capacity left
roadmap_slip    ``delay_days``               days before the chips arrive, >= 0
demand_shift    ``demand_factor``            demand multiplier, every value > 0
==============  ===========================  ==========================================

``start_days`` (default 0) and ``duration_days`` are days >= 0; ``duration_days`` is
required for supply_cut, price_shift, spot_surge and outage, optional for demand_shift
(default: to the end of the horizon), and a roadmap_slip takes neither (it starts at day
0 and lasts its delay). ``select`` keys ``vendor``, ``provider``, ``region`` (globs such as
``us-*``) and ``accelerator`` pick offers, for every kind but demand_shift; ``workload``
(names) and ``kind`` (workload kinds) pick workloads, for demand_shift only. When
``horizon_days`` is given, every shock must be able to start before it ends.

A distribution is a plain number (fixed) or a one-key mapping: ``uniform: [lo, hi]``;
``triangular: [lo, mode, hi]``; ``lognormal: {median, sigma}`` (``median * exp(sigma Z)``);
``beta: {a, b, lo: 0, hi: 1}`` (a Beta(a, b) stretched onto [lo, hi]). ``{fixed: v}`` is
the same as ``v``.

These models check shape, types and ranges of single fields; :mod:`arbiter.scenarios.loading`
resolves names and checks what spans fields (ranges per kind, factors, duplicates).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from arbiter.domain.scenario import ShockKind
from arbiter.workloads.spec import PositiveFloat, Text, lowered, plain_number

SHOCK_KINDS: tuple[str, ...] = tuple(k.value for k in ShockKind)
DISTRIBUTION_FORMS = (
    "a number, or one of {uniform: [lo, hi]}, {triangular: [lo, mode, hi]}, "
    "{lognormal: {median: m, sigma: s}}, {beta: {a: a, b: b, lo: 0, hi: 1}}"
)


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_strip_whitespace=True
    )


def _probability(value: object) -> object:
    value = plain_number(value)
    if isinstance(value, int | float) and not 0 < value <= 1:
        raise ValueError(f"must be a probability in (0, 1] such as 0.15, got {value!r}")
    return value


def _loading(value: object) -> object:
    value = plain_number(value)
    if isinstance(value, int | float) and not 0 <= value <= 1:
        raise ValueError(f"must be a loading in [0, 1] such as 0.8, got {value!r}")
    return value


def _one_or_many(value: object) -> object:
    """A single string stands for a one-element list."""
    return [value] if isinstance(value, str) else value


def _numbers(count: int, names: str) -> Any:
    def check(value: object) -> object:
        if not isinstance(value, list | tuple) or len(value) != count:
            raise ValueError(f"must be a list of {count} numbers [{names}], got {value!r}")
        return list(value)

    return BeforeValidator(check)


def _ordered(values: list[float]) -> list[float]:
    lo, hi = values[0], values[-1]
    if lo > hi:
        raise ValueError(f"lo {lo:g} is above hi {hi:g}; valid: lo <= hi")
    if len(values) == 3 and not lo <= values[1] <= hi:
        raise ValueError(f"mode {values[1]:g} is outside [lo, hi] = [{lo:g}, {hi:g}]")
    return values


Number = Annotated[float, BeforeValidator(plain_number), Field(strict=True, allow_inf_nan=False)]
"""A finite number (a string with one is accepted)."""
Probability = Annotated[float, BeforeValidator(_probability), Field(strict=True)]
Loading = Annotated[float, BeforeValidator(_loading), Field(strict=True)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
Names = Annotated[list[Text], BeforeValidator(_one_or_many), Field(min_length=1)]
"""One name or a non-empty list of names."""
ShockKindName = Annotated[ShockKind, BeforeValidator(lowered)]
Pair = Annotated[list[Number], _numbers(2, "lo, hi"), AfterValidator(_ordered)]
Triple = Annotated[list[Number], _numbers(3, "lo, mode, hi"), AfterValidator(_ordered)]


class LognormalSpec(_Spec):
    """``median * exp(sigma * Z)`` for a standard normal ``Z``."""

    median: PositiveFloat
    sigma: PositiveFloat


class BetaSpec(_Spec):
    """A Beta(a, b) stretched onto [lo, hi]."""

    a: PositiveFloat
    b: PositiveFloat
    lo: Number = 0.0
    hi: Number = 1.0

    @model_validator(mode="after")
    def _lo_not_above_hi(self) -> BetaSpec:
        if self.lo > self.hi:
            raise ValueError(f"lo {self.lo:g} is above hi {self.hi:g}; valid: lo <= hi")
        return self


def _distribution(value: object) -> object:
    if isinstance(value, dict):
        if len(value) != 1:
            keys = ", ".join(str(k) for k in value) or "no keys"
            raise ValueError(f"must have exactly one key, got {keys}; valid: {DISTRIBUTION_FORMS}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        # pydantic turns ValueError, not TypeError, into a validation error
        raise ValueError(f"must be {DISTRIBUTION_FORMS}, got {value!r}")  # noqa: TRY004
    return {"fixed": value}


class DistributionSpec(_Spec):
    """A distribution: exactly one of its fields is set."""

    fixed: Number | None = None
    uniform: Pair | None = None
    triangular: Triple | None = None
    lognormal: LognormalSpec | None = None
    beta: BetaSpec | None = None

    @model_validator(mode="after")
    def _one_family(self) -> DistributionSpec:
        if sum(getattr(self, name) is not None for name in type(self).model_fields) != 1:
            raise ValueError(f"must give one distribution; valid: {DISTRIBUTION_FORMS}")
        return self


Dist = Annotated[DistributionSpec, BeforeValidator(_distribution)]
"""A distribution field: a number or a one-key mapping."""
ZERO_DAYS = DistributionSpec(fixed=0.0)


class SelectSpec(_Spec):
    """``select``: what a shock hits; a field left out matches anything."""

    vendor: Names | None = None
    provider: Names | None = None
    region: Names | None = None
    """Region globs such as ``us-*``."""
    accelerator: Names | None = None
    workload: Names | None = None
    """Workload names (demand_shift only)."""
    kind: Names | None = None
    """Workload kinds: train, finetune, serve, batch (demand_shift only)."""


OFFER_KEYS: tuple[str, ...] = ("vendor", "provider", "region", "accelerator")
WORKLOAD_KEYS: tuple[str, ...] = ("workload", "kind")


class FactorSpec(_Spec):
    """``factor``: the shared factor a shock loads on, and how strongly."""

    name: Text
    loading: Loading


class ShockSpec(_Spec):
    """Fields every shock kind shares."""

    name: Text
    kind: ShockKindName
    select: SelectSpec = Field(default_factory=SelectSpec)
    probability: Probability
    factor: FactorSpec | None = None


class WindowedShockSpec(ShockSpec):
    """A shock with a time window: every kind but roadmap_slip."""

    start_days: Dist = ZERO_DAYS
    duration_days: Dist | None = None
    """Required except for demand_shift, where leaving it out lasts to the horizon's end."""


class SupplyCutSpec(WindowedShockSpec):
    capacity_factor: Dist
    duration_days: Dist


class PriceShiftSpec(WindowedShockSpec):
    price_factor: Dist
    duration_days: Dist


class SpotSurgeSpec(WindowedShockSpec):
    interruption_multiplier: Dist
    duration_days: Dist


class OutageSpec(WindowedShockSpec):
    duration_days: Dist


class DemandShiftSpec(WindowedShockSpec):
    demand_factor: Dist


class RoadmapSlipSpec(ShockSpec):
    """Starts at day 0 and lasts ``delay_days``: it takes no start_days or duration_days."""

    delay_days: Dist


SPEC_BY_KIND: dict[ShockKind, type[ShockSpec]] = {
    ShockKind.SUPPLY_CUT: SupplyCutSpec,
    ShockKind.PRICE_SHIFT: PriceShiftSpec,
    ShockKind.SPOT_SURGE: SpotSurgeSpec,
    ShockKind.OUTAGE: OutageSpec,
    ShockKind.ROADMAP_SLIP: RoadmapSlipSpec,
    ShockKind.DEMAND_SHIFT: DemandShiftSpec,
}

MAGNITUDE_FIELD: dict[ShockKind, str | None] = {
    ShockKind.SUPPLY_CUT: "capacity_factor",
    ShockKind.PRICE_SHIFT: "price_factor",
    ShockKind.SPOT_SURGE: "interruption_multiplier",
    ShockKind.OUTAGE: None,
    ShockKind.ROADMAP_SLIP: "delay_days",
    ShockKind.DEMAND_SHIFT: "demand_factor",
}


class ScenarioFileSpec(_Spec):
    """The top level of a scenario file; ``shocks`` are validated one by one."""

    horizon_days: PositiveFloat | None = None
    penalty: PositiveFloat = 3.0
    samples: Annotated[int, Field(gt=0, le=1_000_000, strict=True)] = 1000
    seed: NonNegativeInt = 0
    factors: list[Text] = Field(default_factory=list)
    perf_error: Annotated[bool, Field(strict=True)] = True
    shocks: list[Any]


def fields_of(kind: ShockKind) -> tuple[str, ...]:
    """Every field a shock of ``kind`` takes, in declaration order."""
    return tuple(SPEC_BY_KIND[kind].model_fields)


def kinds_with_field(name: str) -> tuple[ShockKind, ...]:
    """The shock kinds that take field ``name`` (empty if none does)."""
    return tuple(k for k, spec in SPEC_BY_KIND.items() if name in spec.model_fields)
