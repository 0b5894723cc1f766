"""The procurement file format as pydantic models, all ``extra="forbid"``.

A procurement file says what work is coming, period by period and under which futures,
and which commitments could be bought ahead of it; the planner decides what to commit to
and what to leave to on-demand::

    horizon: {periods: 8, period: quarter}      # period: month | quarter
    discount_rate: 0.08                         # yearly, >= 0
    risk: {lambda: 0.3, alpha: 0.95}            # optional
    unmet_penalty: 3.0                          # optional, > 0
    salvage: prorate                            # optional: prorate | full | none
    catalog_commitments: false                  # optional: the catalog's reserved offers too
    classes:
      - name: chat
        workload: {kind: serve, model: llama-3.3-70b, precision: fp8, input_tokens: 1500,
                   output_tokens: 350, slo: {ttft_s: 1.5, tpot_s: 0.04}}
        demand: [100, 120, 140, 165, 190, 220, 255, 300]     # requests/s, one per period
      - name: pretrain
        workload: {kind: train, model: llama-3.1-70b, seq_len: 8192}
        demand: [0, 1.5T, 0, 0, 0, 2T, 0, 0]                 # tokens per period
    scenarios:                                  # optional; a list, or {sample: ...}
      - {name: low, probability: 0.25, growth: {chat: 0.8}}
      - {name: mid, probability: 0.5}
      - {name: high, probability: 0.25, factors: {chat: [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7]}}
    price_paths:                                # optional
      - {accelerator: H100-SXM, yearly_change: -0.3}
      - {vendor: NVIDIA, yearly_change: -0.2}
      - {accelerator: B300, yearly_change: -0.1, available_from: 2}
    commitments:
      - {name: aws-h100-1y, provider: aws, accelerator: H100-SXM, region: us-east-1,
         usd_per_chip_hour: 2.2, term: 1y, upfront_share: 0, min_chips: 8, max_chips: 512,
         resale_share: 0}
      - {name: gcp-v6e-3y, provider: gcp, accelerator: TPU-v6e, region: us-central1,
         discount: 0.55, term: 3y}
    constraints: {max_share: {vendor: 0.7}, regions: ["us-*"], budget_per_period_usd: 30M}
    platforms: {cuda: {enabled: true}, xla: {enable_usd: 1.5M, lead_weeks: 12}}

**Top level.** ``horizon`` (required): ``periods`` >= 1 equal periods of a ``month``
(730 h) or a ``quarter`` (2190 h), indexed from 0. ``discount_rate`` (required): the
yearly rate that discounts later costs, >= 0 (``0.08`` or ``"8%"``). ``risk``: ``lambda``
>= 0 (default 0), the weight of CVaR against expected cost, and ``alpha`` in (0, 1)
(default 0.95), the CVaR level. ``unmet_penalty`` (> 0, default 3): demand left unserved
costs this many times the cheapest on-demand cost of the work. ``salvage`` (default
``prorate``): what a term that runs past the horizon means: ``prorate`` counts only the
periods inside the horizon (the rest is assumed worth what it costs); ``full`` charges the
whole term (the rest is worth nothing to this plan); with ``none`` a term longer than the
whole horizon is an error.

**Classes** (required, names unique). ``workload`` is a workload mapping as in a workload
file (see ``examples/workloads.yaml``) without its ``name`` (the class's name is used) and
without the fields that size the work, which the class's ``demand`` replaces: a service's
``requests_per_s`` and ``hours``, training's and fine-tuning's ``tokens``, a batch job's
``input_tokens`` and ``output_tokens``. ``demand`` has one value >= 0 per period, in the
work's unit: requests/s held through the period for ``serve``, tokens to finish within the
period for ``train`` and ``finetune``, generated tokens for ``batch``; token counts take
K/M/B/T suffixes.

The domain workload of a class carries placeholders for the replaced fields, so that it
describes one unit of demand: ``requests_per_s: 1`` for the period's hours, ``tokens: 1``,
and for a batch job ``output_tokens: 1`` with ``input_tokens`` the prompt tokens per
generated token (``request_input_tokens / request_output_tokens``).

**Scenarios** (optional; without them there is one, ``base``, with probability 1). Either
a list, each with a unique ``name``, a ``probability`` in (0, 1] (together summing to 1)
and, per class, a demand multiplier: ``growth: {class: g}`` ramps linearly from 1 in
period 0 to ``g`` in the last period (with one period, ``g``); ``factors: {class: [...]}``
gives one multiplier >= 0 per period. A class named in neither keeps its demand (factor 1).
Or sampled: ``{sample: {n: 200, seed: 0, growth: {class: distribution}}}`` draws ``n``
scenarios of probability ``1/n``: per scenario and class, one uniform from NumPy's
``default_rng(SeedSequence(seed))`` (an ``n`` x classes matrix, classes in file order)
mapped through the distribution's inverse CDF gives ``g``, ramped as above. A
distribution is a number or ``{uniform: [lo, hi]}``, ``{triangular: [lo, mode, hi]}``,
``{lognormal: {median, sigma}}`` or ``{beta: {a, b, lo, hi}}`` (as in scenario files),
with every value >= 0.

**Price paths** (optional). Offers of the ``accelerator`` (a name or a list) and/or
``vendor`` (a name or a list; leave both out to match every chip) change price by
``yearly_change`` a year (> -1; ``-0.3`` is 30% cheaper after a year), compounding per
period, and can be bought from period ``available_from`` (default 0, below ``periods``).
A path applies to on-demand offers and commitment products of its chips alike; paths that
match the same chip multiply. With both ``vendor`` and ``accelerator``, a chip must match
both (so the accelerators must be made by one of the vendors).

**Commitments** (required, names unique). ``provider`` and ``accelerator`` are catalog
names (aliases allowed). The price is exactly one of ``usd_per_chip_hour`` (> 0; needs
``region``) or ``discount`` in (0, 1): that much off the cheapest on-demand price of the
chip at the provider in the embedded catalog, in ``region`` when given (else in any region
``constraints.regions`` allows, and the region of that offer is used). ``term`` is ``1y``,
``3y`` or a count of weeks, months or quarters (``26w``, ``6m``, ``2q``), rounded up to
whole periods (at least one). ``upfront_share`` (in [0, 1], default 0) is paid when bought
and the rest per period; chips come in blocks of ``min_chips`` (>= 1, default 1), at most
``max_chips`` (>= ``min_chips``) bought in one period; ``resale_share`` (in [0, 1], default
0) of an unused chip-hour's price comes back. A ``region`` must match ``constraints.regions``
when that is given.

**Constraints** (optional): ``max_share`` caps the share of total spend per ``vendor``,
``provider`` or ``region`` (in (0, 1]); ``regions`` are globs every placement and
commitment must match; ``budget_per_period_usd`` caps spend in each period. ``platforms``
(optional) is as in a fleet file: when given, the platforms listed are the only usable
ones, each ``{enabled: true}`` or ``{enable_usd: ..., lead_weeks: ...}``.

Dollar amounts take K/M/B suffixes (``30M``); shares, discounts, rates and yearly changes
may be written as percentages (``"55%"``). These models check shape, types and ranges of
single fields; :mod:`arbiter.procure.loading` resolves names and checks what spans fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from arbiter.domain.units import HOURS_PER_MONTH, HOURS_PER_QUARTER, HOURS_PER_WEEK, HOURS_PER_YEAR
from arbiter.scenarios.spec import Dist, Names, Probability
from arbiter.workloads.fleet_spec import ShareCapsSpec, Usd
from arbiter.workloads.spec import (
    PositiveFloat,
    PositiveInt,
    Text,
    _count,
    _Spec,
    lowered,
    plain_number,
)

PERIOD_NAMES: tuple[str, ...] = ("month", "quarter")
SALVAGE_NAMES: tuple[str, ...] = ("prorate", "none")
TERM_FORMS = "1y, 3y, or a count of weeks, months or quarters such as 26w, 6m or 2q"

HOURS_PER_TERM_UNIT: dict[str, float] = {
    "y": HOURS_PER_YEAR,
    "q": HOURS_PER_QUARTER,
    "m": HOURS_PER_MONTH,
    "w": HOURS_PER_WEEK,
}
_TERM_UNITS: dict[str, str] = {
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "y"),
    **dict.fromkeys(("q", "qtr", "qtrs", "quarter", "quarters"), "q"),
    **dict.fromkeys(("m", "mo", "mos", "month", "months"), "m"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
}
_TERM = re.compile(r"^(?P<count>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[a-z]+)$")


def _percent(value: object) -> object:
    """A number, with ``"55%"`` read as 0.55."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = plain_number(value.strip().removesuffix("%").strip())
        if isinstance(number, int | float):
            return number / 100
    return plain_number(value)


def _fraction(value: object) -> object:
    value = _percent(value)
    if isinstance(value, int | float) and not 0 <= value <= 1:
        raise ValueError(f"must be a share in [0, 1] such as 0.25, got {value!r}")
    return value


def _open_fraction(example: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        value = _percent(value)
        if isinstance(value, int | float) and not 0 < value < 1:
            raise ValueError(f"must be a fraction in (0, 1) such as {example}, got {value!r}")
        return value

    return check


def _yearly_change(value: object) -> object:
    value = _percent(value)
    if isinstance(value, int | float) and not value > -1:
        raise ValueError(
            f"must be a yearly price change above -1 such as -0.3 (30% cheaper a year), "
            f"got {value!r}"
        )
    return value


def _term(value: object) -> object:
    """A term such as ``1y`` or ``26w``, normalised to a count and a one-letter unit."""
    if isinstance(value, bool) or not isinstance(value, str):
        # pydantic turns ValueError, not TypeError, into a validation error
        raise ValueError(f"must be a term with a unit ({TERM_FORMS}), got {value!r}")  # noqa: TRY004
    match = _TERM.match(value.strip().lower())
    unit = _TERM_UNITS.get(match["unit"]) if match else None
    if match is None or unit is None or float(match["count"]) <= 0:
        raise ValueError(f"must be a term such as {TERM_FORMS}, got {value!r}")
    return f"{float(match['count']):g}{unit}"


def term_hours(term: str) -> float:
    """The hours of a normalised term (``"1y"`` -> 8760)."""
    return float(term[:-1]) * HOURS_PER_TERM_UNIT[term[-1]]


Fraction = Annotated[float, BeforeValidator(_fraction), Field(strict=True)]
"""A share in [0, 1] (``0.25`` or ``"25%"``)."""
Discount = Annotated[float, BeforeValidator(_open_fraction("0.4")), Field(strict=True)]
"""A discount in (0, 1) (``0.4`` or ``"40%"``)."""
CvarLevel = Annotated[float, BeforeValidator(_open_fraction("0.95")), Field(strict=True)]
"""A CVaR level in (0, 1)."""
Rate = Annotated[
    float, BeforeValidator(_percent), Field(ge=0, le=100, strict=True, allow_inf_nan=False)
]
"""A number from 0 to 100 (``0.08`` or ``"8%"``)."""
NonNegativeFloat = Annotated[
    float, BeforeValidator(plain_number), Field(ge=0, le=1e9, strict=True, allow_inf_nan=False)
]
YearlyChange = Annotated[float, BeforeValidator(_yearly_change), Field(strict=True)]
Demand = Annotated[
    float, BeforeValidator(_count), Field(ge=0, le=1e18, strict=True, allow_inf_nan=False)
]
"""Demand in one period, from 0 to 1e18; token counts take K/M/B/T suffixes."""
NonNegativeInt = Annotated[int, Field(ge=0, le=1_000_000_000, strict=True)]
MinChips = Annotated[int, Field(ge=1, le=1_000_000_000, strict=True)]
# A horizon of at most 240 periods (twenty years of months) and at most 10,000 sampled
# scenarios: the two-stage model grows with their product.
Periods = Annotated[int, Field(gt=0, le=240, strict=True)]
SampledScenarios = Annotated[int, Field(gt=0, le=10_000, strict=True)]
Term = Annotated[str, BeforeValidator(_term)]
"""A commitment term, normalised to a count and a unit: ``1y``, ``26w``, ``6m``, ``2q``."""
PeriodName = Annotated[Literal["month", "quarter"], BeforeValidator(lowered)]
SalvageName = Annotated[Literal["prorate", "full", "none"], BeforeValidator(lowered)]


class HorizonSpec(_Spec):
    """``horizon``: how many periods, and how long each is."""

    periods: Periods
    period: PeriodName


class RiskSpec(_Spec):
    """``risk``: minimise expected cost + ``lambda`` x CVaR at level ``alpha``."""

    lambda_: NonNegativeFloat = Field(default=0.0, alias="lambda")
    alpha: CvarLevel = 0.95


class ClassSpec(_Spec):
    """One class of work: a workload without its demand fields, and the demand per period."""

    name: Text
    workload: dict[str, Any]
    """Validated by the loader as a workload of its kind (see the module docstring)."""
    demand: list[Demand]


class ScenarioSpec(_Spec):
    """One listed scenario: a probability and per-class demand multipliers."""

    name: Text
    probability: Probability
    growth: dict[str, NonNegativeFloat] = Field(default_factory=dict)
    """Class -> the factor reached in the last period, ramped linearly from 1."""
    factors: dict[str, list[NonNegativeFloat]] = Field(default_factory=dict)
    """Class -> one multiplier per period."""


class SampleSpec(_Spec):
    """``scenarios.sample``: ``n`` equally likely scenarios drawn with ``seed``."""

    n: SampledScenarios
    seed: NonNegativeInt = 0
    growth: dict[str, Dist]
    """Class -> the distribution of the factor reached in the last period."""


class SampledScenariosSpec(_Spec):
    """``scenarios: {sample: ...}``."""

    sample: SampleSpec


class PricePathSpec(_Spec):
    """One price path: which chips, their yearly price change and first buyable period."""

    vendor: Names | None = None
    accelerator: Names | None = None
    yearly_change: YearlyChange = 0.0
    available_from: NonNegativeInt = 0


class CommitmentSpec(_Spec):
    """One commitment product (the price is ``usd_per_chip_hour`` or ``discount``)."""

    name: Text
    provider: Text
    accelerator: Text
    region: Text | None = None
    usd_per_chip_hour: PositiveFloat | None = None
    discount: Discount | None = None
    """Off the cheapest on-demand price of the chip at the provider (embedded catalog)."""
    term: Term
    upfront_share: Fraction = 0.0
    min_chips: MinChips = 1
    max_chips: PositiveInt | None = None
    resale_share: Fraction = 0.0


class ProcureConstraintsSpec(_Spec):
    """``constraints``: share caps, a region allow-list and a budget per period."""

    max_share: ShareCapsSpec = Field(default_factory=ShareCapsSpec)
    regions: Annotated[list[Text], Field(min_length=1)] | None = None
    """Region globs (``us-*``) every placement and commitment must match."""
    budget_per_period_usd: Usd | None = None


class ProcurementFileSpec(_Spec):
    """The top level of a procurement file."""

    horizon: HorizonSpec
    discount_rate: Rate
    risk: RiskSpec = Field(default_factory=RiskSpec)
    unmet_penalty: PositiveFloat = 3.0
    salvage: SalvageName = "prorate"
    classes: list[ClassSpec]
    scenarios: Any = None
    """A list of :class:`ScenarioSpec` or a :class:`SampledScenariosSpec`; see the loader."""
    price_paths: list[PricePathSpec] = Field(default_factory=list)
    commitments: list[CommitmentSpec]
    catalog_commitments: Annotated[bool, Field(strict=True)] = False
    """Also offer every reserved and committed offer of the catalog as a product."""
    constraints: ProcureConstraintsSpec = Field(default_factory=ProcureConstraintsSpec)
    platforms: Annotated[dict[str, Any], Field(min_length=1)] | None = None
    """Platform name -> ``{enabled: true}`` or ``{enable_usd, lead_weeks}``, as in a fleet."""


TOP_KEYS: tuple[str, ...] = tuple(
    field.alias or name for name, field in ProcurementFileSpec.model_fields.items()
)
"""The top-level keys of a procurement file."""
