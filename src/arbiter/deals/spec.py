"""The deal file format as pydantic models, all ``extra="forbid"``.

A deal file describes a strategic deal: an investment in a lab (equity or credit, some of
it only on conditions) tied to the lab's commitment to spend on the investor's chips::

    name: trainium-10b
    counterparty: aws
    covers: [Trainium2, Trainium3]        # or {vendor: AWS}
    discount: 0.25                        # off list on covered offers
    capital:
      tranches:
        - {usd: 4B, period: 0, kind: equity}
        - {usd: 6B, period: 4, kind: equity, probability: 0.7,
           condition: "usage >= 50% of commitment"}
      credits_usd: 500M
    obligation:
      min_spend_usd_per_year: [2B, 3B, 3B, 4B]     # or total_spend_usd: 12B (+ ramp)
      shortfall_penalty: 1.0                         # pay 100% of any shortfall
      min_share: 0.3                                 # >= 30% of compute spend on covered chips
    porting: {platform: neuron, enable_usd: 2M, lead_weeks: 16,
              efficiency: {triangular: [0.7, 0.9, 1.0]}}
    valuation: {discount_rate: 0.1, horizon_years: 4, equity_haircut: 0.3}
    procurement: ../procure.yaml

**Top level.** ``name`` (required) names the deal. ``counterparty`` (required) is the
provider on the other side, a catalog provider name (``aws``, ``gcp``, ...). ``covers``
(required) is the chips the deal is about: an accelerator name or a list of them (catalog
names, aliases allowed), or ``{vendor: AWS}`` for every chip of a vendor in the catalog.
``discount`` (default 0) is the share in [0, 1] taken off list prices of covered offers.

**Capital** (optional). ``tranches`` is a list of ``{usd, period, kind, probability,
condition}``: ``usd`` > 0; ``period`` the procurement file's period (from 0) it arrives
in, inside the deal's horizon (below ``horizon_years`` times the periods in a year: 4
quarters or 12 months); ``kind`` ``equity`` (default) or ``credit``; ``probability`` in
(0, 1] (default 1) that it is paid; ``condition`` a free text saying what it depends on
(``"milestone: ..."``, ``"usage >= 50% of commitment"``; default none). ``credits_usd``
(>= 0, default 0) are usage credits on covered chips.

**Obligation** (required). Exactly one of ``min_spend_usd_per_year`` (one amount >= 0
per year of the horizon) and ``total_spend_usd`` (> 0, over the horizon). With a total,
``ramp`` may give the minimum share of it to spend in each year (one share in [0, 1] per
year, summing to at most 1). ``shortfall_penalty`` (>= 0, default 1) is the share of a
shortfall below the minimum that is paid anyway; ``min_share`` (in [0, 1], default 0) is
the exclusivity term: the least share of the lab's compute spend on covered chips.

**Porting** (optional): ``platform`` (``cuda``, ``rocm``, ``xla``, ``neuron``,
``gaudi``; the platform of the covered chips), ``enable_usd`` (>= 0, default 0) the
one-off cost of porting, ``lead_weeks`` (>= 0, default 0) until the port is usable, and
``efficiency`` (default 1) the achieved share of the estimated performance on the covered
chips: a number or a distribution as in scenario files (``{uniform: [lo, hi]}``,
``{triangular: [lo, mode, hi]}``, ``{lognormal: {median, sigma}}``, ``{beta: {a, b, lo,
hi}}``) with every value > 0.

**Valuation** (required): ``discount_rate`` (yearly, >= 0), ``horizon_years`` (whole
years, >= 1), ``equity_haircut`` (in [0, 1], default 0): equity counts at face value
times ``1 - equity_haircut``.

**Procurement** (required): the path of the lab's procurement file (see
:mod:`arbiter.procure.spec`), relative to the deal file. Its periods are the deal's
periods; years derive from its period length; it must cover the deal's horizon.

**Scenarios** (optional): the path of a scenario file of shocks (the risk engine's
format, :mod:`arbiter.scenarios.spec`), relative to the deal file, to sample the deal's
worth over; ``arbiter deal --scenarios`` overrides it. Workload names in its selectors
are the procurement file's class names.

A tranche's ``condition`` that starts with ``usage`` must read ``usage >= X% of
commitment``: the tranche is then paid only if covered spend up to its period reaches X%
of the committed spend (the evaluation decides whether to reach it). Any other condition
(``milestone: ...``) is outside the lab's plan and only its probability counts.

Dollar amounts take K/M/B/T suffixes (``4B``); shares, discounts and rates may be
written as percentages (``"25%"``). These models check shape, types and ranges of single
fields; :mod:`arbiter.deals.loading` resolves names and checks what spans fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from arbiter.procure.spec import Fraction, NonNegativeFloat, Rate
from arbiter.scenarios.spec import Dist, DistributionSpec, Names, Probability
from arbiter.workloads.fleet_spec import NonNegativeUsd, Usd
from arbiter.workloads.spec import PlatformName, Text, VendorName, _Spec, lowered

TrancheKindName = Annotated[Literal["equity", "credit"], BeforeValidator(lowered)]
ONE = DistributionSpec(fixed=1.0)


def _covers(value: object) -> object:
    """A name or a list of names stands for ``{accelerators: [...]}``."""
    if isinstance(value, str | list):
        return {"accelerators": value}
    return value


class CoversSpec(_Spec):
    """``covers``: accelerator names, or every chip of a vendor (exactly one)."""

    accelerators: Names | None = None
    vendor: VendorName | None = None

    @model_validator(mode="after")
    def _one(self) -> CoversSpec:
        if (self.accelerators is None) == (self.vendor is None):
            raise ValueError(
                "must give accelerator names ([Trainium2, Trainium3]) or a vendor "
                "({vendor: AWS}), not both"
            )
        return self


class TrancheSpec(_Spec):
    """One tranche of capital."""

    usd: Usd
    period: Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
    kind: TrancheKindName = "equity"
    probability: Probability = 1.0
    condition: Annotated[str, Field(strict=True)] = ""


class CapitalSpec(_Spec):
    tranches: list[TrancheSpec] = Field(default_factory=list)
    credits_usd: NonNegativeUsd = 0.0


class ObligationSpec(_Spec):
    min_spend_usd_per_year: Annotated[list[NonNegativeUsd], Field(min_length=1)] | None = None
    total_spend_usd: Usd | None = None
    ramp: Annotated[list[Fraction], Field(min_length=1)] | None = None
    shortfall_penalty: Rate = 1.0
    min_share: Fraction = 0.0

    @model_validator(mode="after")
    def _one_minimum(self) -> ObligationSpec:
        if (self.min_spend_usd_per_year is None) == (self.total_spend_usd is None):
            raise ValueError(
                "give exactly one of min_spend_usd_per_year (one amount per year) and "
                "total_spend_usd (over the horizon)"
            )
        if self.ramp is not None and self.total_spend_usd is None:
            raise ValueError(
                "a ramp splits total_spend_usd over the years; with min_spend_usd_per_year "
                "leave it out"
            )
        return self


class PortingSpec(_Spec):
    platform: PlatformName
    enable_usd: NonNegativeUsd = 0.0
    lead_weeks: NonNegativeFloat = 0.0
    efficiency: Dist = ONE


class ValuationSpec(_Spec):
    discount_rate: Rate
    horizon_years: Annotated[int, Field(gt=0, le=100, strict=True)]
    equity_haircut: Fraction = 0.0


class DealFileSpec(_Spec):
    """The top level of a deal file."""

    name: Text
    counterparty: Text
    covers: Annotated[CoversSpec, BeforeValidator(_covers)]
    discount: Fraction = 0.0
    capital: CapitalSpec = Field(default_factory=CapitalSpec)
    obligation: ObligationSpec
    porting: PortingSpec | None = None
    valuation: ValuationSpec
    procurement: Text
    scenarios: Text | None = None


TOP_KEYS: tuple[str, ...] = tuple(DealFileSpec.model_fields)
"""The top-level keys of a deal file."""
