"""The fleet-wide keys of a workload file as pydantic models, all ``extra="forbid"``.

A fleet file is a workload file whose top level may also hold ``constraints``,
``platforms``, ``capacity``, ``objective``, ``pricing`` and ``spot`` (:data:`FLEET_KEYS`).
These models check
shape, types and ranges; :mod:`arbiter.workloads.fleet` resolves names (platforms,
providers, accelerators) and builds the domain :class:`~arbiter.domain.fleet.Fleet`.

Dollar amounts take the suffixes K, M, B (``40M`` = 4e7); shares may be written as
fractions (``0.6``) or percentages (``"60%"``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from arbiter.domain.after_term import AfterTerm
from arbiter.domain.offer import PriceRegime
from arbiter.workloads.spec import Text, _count, _Spec, lowered, plain_number

_OBJECTIVE_FORMS = "cost, time, or a mapping such as {cost: 1, time_usd_per_hour: 50}"


def _share(value: object) -> object:
    """A fraction in (0, 1]; ``"60%"`` is 0.6."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = plain_number(value.strip().removesuffix("%").strip())
        if isinstance(number, int | float):
            value = number / 100
    value = plain_number(value)
    if isinstance(value, int | float) and not 0 < value <= 1:
        raise ValueError(f"must be a share of total spend in (0, 1] such as 0.6, got {value!r}")
    return value


def _objective(value: object) -> object:
    if isinstance(value, str):
        key = value.strip().lower()
        if key == "cost":
            return {"cost": 1.0, "time_usd_per_hour": 0.0}
        if key == "time":
            return {"cost": 0.0, "time_usd_per_hour": 1.0}
        raise ValueError(f"unknown objective {value!r}; valid: {_OBJECTIVE_FORMS}")
    if isinstance(value, dict):
        return value
    raise ValueError(f"must be {_OBJECTIVE_FORMS}, got {value!r}")


Share = Annotated[float, BeforeValidator(_share), Field(strict=True, allow_inf_nan=False)]
"""A share of total spend in (0, 1]."""

# Amounts are bounded far above any real one (1e13 USD is ten trillion) so that a typo such
# as 1e308 is reported with its field here, not by the solver as a numerical failure.
MAX_USD = 1e13

Usd = Annotated[
    float, BeforeValidator(_count), Field(gt=0, le=MAX_USD, strict=True, allow_inf_nan=False)
]
"""A positive dollar amount up to 1e13: ``40000000``, ``"4e7"`` or ``"40M"``."""

NonNegativeUsd = Annotated[
    float, BeforeValidator(_count), Field(ge=0, le=MAX_USD, strict=True, allow_inf_nan=False)
]
NonNegativeFloat = Annotated[
    float, BeforeValidator(plain_number), Field(ge=0, le=1e9, strict=True, allow_inf_nan=False)
]
Weeks = Annotated[
    float, BeforeValidator(plain_number), Field(ge=0, le=1040, strict=True, allow_inf_nan=False)
]
"""A lead time in weeks, at most 1040 (twenty years)."""
NonNegativeInt = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
RegimeName = Annotated[PriceRegime, BeforeValidator(lowered)]


class ShareCapsSpec(_Spec):
    """``constraints.max_share``: the largest share of total spend per vendor/provider/region."""

    vendor: Share | None = None
    provider: Share | None = None
    region: Share | None = None


class ConstraintsSpec(_Spec):
    """``constraints``: share caps, a global region allow-list and a budget."""

    max_share: ShareCapsSpec = Field(default_factory=ShareCapsSpec)
    regions: Annotated[list[Text], Field(min_length=1)] | None = None
    """Region globs (``us-*``) every placement must match."""
    local_zones: Annotated[bool, Field(strict=True)] = True
    """Whether placements may use AWS Local Zones (``us-east-1-atl-2``: another city
    attached to a region, opted into per account); false leaves them all out."""
    budget_usd: Usd | None = None


class PlatformSpec(_Spec):
    """One entry of ``platforms``: ``{enabled: true}`` or ``{enable_usd: ..., lead_weeks: ...}``."""

    enabled: Annotated[bool, Field(strict=True)] = False
    enable_usd: NonNegativeUsd | None = None
    lead_weeks: Weeks = 0.0

    @model_validator(mode="after")
    def _cost_or_enabled(self) -> PlatformSpec:
        if self.enabled and (self.enable_usd is not None or "lead_weeks" in self.model_fields_set):
            raise ValueError(
                "an enabled platform takes no enable_usd or lead_weeks; drop them, "
                "or set enabled: false"
            )
        if not self.enabled and self.enable_usd is None:
            raise ValueError(
                "a platform that is not enabled needs enable_usd (the one-off cost to enable "
                "it; 0 if free) and may give lead_weeks; leave the platform out to make it "
                "unavailable"
            )
        return self


class CapacitySpec(_Spec):
    """One entry of ``capacity``: how many instances of a chip a provider can supply."""

    provider: Text
    accelerator: Text
    max_instances: NonNegativeInt
    region: Text | None = None
    """A region glob; leave out for every region."""
    price_regime: RegimeName | None = None
    """Leave out to cap every price regime together."""


class ObjectiveSpec(_Spec):
    """``objective``: weights of cost (USD) and completion time (USD per hour)."""

    cost: NonNegativeFloat = 1.0
    time_usd_per_hour: NonNegativeFloat = 0.0

    @model_validator(mode="after")
    def _not_both_zero(self) -> ObjectiveSpec:
        if self.cost == 0 and self.time_usd_per_hour == 0:
            raise ValueError("cost and time_usd_per_hour must not both be 0")
        return self


AfterTermName = Annotated[AfterTerm, BeforeValidator(lowered)]


class PricingSpec(_Spec):
    """``pricing``: how hours past a commitment's term are priced (``on_demand`` or
    ``renew``; see :mod:`arbiter.domain.after_term`)."""

    after_term: AfterTermName = AfterTerm.ON_DEMAND


class SpotTraceSpec(_Spec):
    """One entry of ``spot.traces``: trace files that measure spot for some spot offers."""

    path: Text
    """A trace file or a folder of them, relative to the fleet file."""
    provider: Text
    region: Text
    accelerator: Text | None = None
    instance_type: Text | None = None
    select: Text | None = None
    """A glob over the trace files' stems, such as ``us-east-1*_v100_1``."""
    nodes: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] = 1
    """Spot counts as available with this many instances (the N-node trace format)."""

    @model_validator(mode="after")
    def _one_machine(self) -> SpotTraceSpec:
        if (self.accelerator is None) == (self.instance_type is None):
            raise ValueError("give accelerator or instance_type (one of them)")
        return self


class SpotSpec(_Spec):
    """``spot``: the outage assumed where no trace measures spot, and the traces."""

    outage_hours: (
        Annotated[
            float,
            BeforeValidator(plain_number),
            Field(gt=0, le=8760, strict=True, allow_inf_nan=False),
        ]
        | None
    ) = None
    traces: list[SpotTraceSpec] = Field(default_factory=list)


class FleetKeysSpec(_Spec):
    """The fleet-wide top-level keys of a workload file (``workloads`` is read separately)."""

    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    platforms: Annotated[dict[str, Any], Field(min_length=1)] | None = None
    """Platform name -> :class:`PlatformSpec` mapping; validated entry by entry."""
    capacity: list[CapacitySpec] = Field(default_factory=list)
    objective: Annotated[ObjectiveSpec, BeforeValidator(_objective)] = Field(
        default_factory=ObjectiveSpec
    )
    pricing: PricingSpec = Field(default_factory=PricingSpec)
    spot: SpotSpec = Field(default_factory=SpotSpec)


FLEET_KEYS: tuple[str, ...] = tuple(FleetKeysSpec.model_fields)
"""Top-level keys of a fleet file besides ``workloads``."""
