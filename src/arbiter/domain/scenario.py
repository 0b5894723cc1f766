"""Dependency-risk scenarios: shocks to supply, prices, spot markets, regions, roadmaps and
demand, each with a probability, a random magnitude and a random time window.

A :class:`ScenarioSet` is what a scenario file describes (see :mod:`arbiter.scenarios.spec`
for the format) and what :mod:`arbiter.scenarios.sampling` draws Monte Carlo samples of.

Rules the sampler and the code that applies shocks to a plan rely on:

- **What a shock hits.** A :class:`Selector` picks offers (by vendor, provider, region glob
  and accelerator) for every kind but ``demand_shift``, which picks workloads (by name and
  workload kind). A field left ``None`` matches anything; an empty selector matches all.
- **Magnitude, by kind** (:data:`MAGNITUDE_MEANING`): ``supply_cut`` the capacity factor
  left, in [0, 1]; ``price_shift`` the price factor, > 0; ``spot_surge`` the multiplier of
  the spot interruption rate, >= 1; ``outage`` 0 (no capacity left, always fixed);
  ``roadmap_slip`` the delay in days, >= 0; ``demand_shift`` the demand factor, > 0.
- **Time window.** A shock starts ``start_days`` after the start of the horizon and lasts
  ``duration_days`` (``inf``: to the end of the horizon). A ``roadmap_slip`` starts at day 0
  and lasts its delay: the chips it selects are unavailable for ``magnitude`` days.
- **Correlation.** A shock may load on one shared factor (``factor``, ``loading`` in
  [0, 1]). A high factor draw makes every shock it drives likelier and more severe.

Only the standard library is used here; the distributions' inverse CDFs live in
:mod:`arbiter.scenarios.distributions`.
"""

from __future__ import annotations

import enum
import fnmatch
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from arbiter.domain.workload import WorkloadKind

DistributionKind = Literal["fixed", "uniform", "triangular", "lognormal", "beta"]

PARAMS_BY_DISTRIBUTION: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("lo", "hi"),
    "triangular": ("lo", "mode", "hi"),
    "lognormal": ("median", "sigma"),
    "beta": ("a", "b", "lo", "hi"),
}
"""The parameters of each distribution family, in the order of :attr:`Distribution.params`."""


class ShockKind(enum.StrEnum):
    """What a shock does; see :data:`MAGNITUDE_MEANING` for what its magnitude measures."""

    SUPPLY_CUT = "supply_cut"
    PRICE_SHIFT = "price_shift"
    SPOT_SURGE = "spot_surge"
    OUTAGE = "outage"
    ROADMAP_SLIP = "roadmap_slip"
    DEMAND_SHIFT = "demand_shift"

    @property
    def acts_on_workloads(self) -> bool:
        """Whether the shock selects workloads (``demand_shift``) rather than offers."""
        return self is ShockKind.DEMAND_SHIFT


MAGNITUDE_MEANING: dict[ShockKind, str] = {
    ShockKind.SUPPLY_CUT: "the factor of capacity left, in [0, 1]",
    ShockKind.PRICE_SHIFT: "the factor prices are multiplied by, > 0",
    ShockKind.SPOT_SURGE: "the factor spot interruption rates are multiplied by, >= 1",
    ShockKind.OUTAGE: "0, the capacity left",
    ShockKind.ROADMAP_SLIP: "the delay in days before the chips are available, >= 0",
    ShockKind.DEMAND_SHIFT: "the factor workload demand is multiplied by, > 0",
}

OFFER_SELECTORS: tuple[str, ...] = ("vendors", "providers", "regions", "accelerators")
"""The :class:`Selector` fields that pick offers."""
WORKLOAD_SELECTORS: tuple[str, ...] = ("workloads", "kinds")
"""The :class:`Selector` fields that pick workloads."""


def _among(value: str, names: tuple[str, ...] | None) -> bool:
    return names is None or value.lower() in {n.lower() for n in names}


@dataclass(frozen=True, slots=True)
class Selector:
    """Which offers or workloads a shock hits; ``None`` in a field matches anything.

    Vendor, provider and accelerator names compare case-insensitively; ``regions`` are
    globs (``us-*``) on the offer's region, also case-insensitive; workload names compare
    exactly.
    """

    vendors: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    accelerators: tuple[str, ...] | None = None
    workloads: tuple[str, ...] | None = None
    kinds: tuple[WorkloadKind, ...] | None = None

    def __post_init__(self) -> None:
        for name in (*OFFER_SELECTORS, *WORKLOAD_SELECTORS):
            value = getattr(self, name)
            if value is not None and not value:
                msg = f"selector field {name} must be None (any) or non-empty"
                raise ValueError(msg)

    @property
    def selects_offers(self) -> bool:
        """Whether any offer field (vendor, provider, region, accelerator) is set."""
        return any(getattr(self, name) is not None for name in OFFER_SELECTORS)

    @property
    def selects_workloads(self) -> bool:
        """Whether any workload field (workload name, workload kind) is set."""
        return any(getattr(self, name) is not None for name in WORKLOAD_SELECTORS)

    def matches_offer(self, vendor: str, provider: str, region: str, accelerator: str) -> bool:
        """Whether an offer of ``accelerator`` (by ``vendor``) at ``provider`` in ``region``
        is hit; the workload fields are ignored."""
        return (
            _among(vendor, self.vendors)
            and _among(provider, self.providers)
            and _among(accelerator, self.accelerators)
            and (
                self.regions is None
                or any(fnmatch.fnmatchcase(region.lower(), g.lower()) for g in self.regions)
            )
        )

    def matches_workload(self, name: str, kind: WorkloadKind) -> bool:
        """Whether the workload ``name`` of ``kind`` is hit; the offer fields are ignored."""
        return (self.workloads is None or name in self.workloads) and (
            self.kinds is None or kind in self.kinds
        )


def _order_problem(lo: float, hi: float) -> str | None:
    return f"lo {lo:g} is above hi {hi:g}" if lo > hi else None


def _fixed_problem(params: tuple[float, ...]) -> str | None:
    return "a fixed value must not be -inf" if params[0] == -math.inf else None


def _uniform_problem(params: tuple[float, ...]) -> str | None:
    return _order_problem(params[0], params[1])


def _triangular_problem(params: tuple[float, ...]) -> str | None:
    lo, mode, hi = params
    if lo <= hi and not lo <= mode <= hi:
        return f"mode {mode:g} is outside [lo, hi] = [{lo:g}, {hi:g}]"
    return _order_problem(lo, hi)


def _lognormal_problem(params: tuple[float, ...]) -> str | None:
    median, sigma = params
    if median > 0 and sigma > 0:
        return None
    return f"a lognormal needs median > 0 and sigma > 0, got median={median:g}, sigma={sigma:g}"


def _beta_problem(params: tuple[float, ...]) -> str | None:
    a, b, lo, hi = params
    if not (a > 0 and b > 0):
        return f"a beta needs a > 0 and b > 0, got a={a:g}, b={b:g}"
    return _order_problem(lo, hi)


_FAMILY_PROBLEM: dict[str, Callable[[tuple[float, ...]], str | None]] = {
    "fixed": _fixed_problem,
    "uniform": _uniform_problem,
    "triangular": _triangular_problem,
    "lognormal": _lognormal_problem,
    "beta": _beta_problem,
}


def _params_problem(kind: str, params: tuple[float, ...]) -> str | None:
    """Why ``params`` are not valid for the family ``kind`` (``None`` if they are)."""
    names = PARAMS_BY_DISTRIBUTION.get(kind)
    if names is None:
        return f"unknown distribution {kind!r}; valid: {', '.join(PARAMS_BY_DISTRIBUTION)}"
    if len(params) != len(names):
        return f"a {kind} distribution takes ({', '.join(names)}), got {len(params)} numbers"
    if kind != "fixed" and not all(math.isfinite(p) for p in params):
        return f"{kind} parameters must be finite numbers, got {params}"
    if any(math.isnan(p) for p in params):
        return f"{kind} parameters must be numbers, got {params}"
    return _FAMILY_PROBLEM[kind](params)


@dataclass(frozen=True, slots=True)
class Distribution:
    """A one-dimensional distribution: its family ``kind`` and ``params``.

    ``fixed``: (value,); ``uniform``: (lo, hi); ``triangular``: (lo, mode, hi);
    ``lognormal``: (median, sigma), i.e. ``median * exp(sigma * Z)``; ``beta``:
    (a, b, lo, hi), a Beta(a, b) stretched onto [lo, hi]. Only a fixed value may be
    ``inf`` (a duration to the end of the horizon).
    """

    kind: DistributionKind
    params: tuple[float, ...]

    def __post_init__(self) -> None:
        problem = _params_problem(self.kind, self.params)
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        """The distribution that is always ``value``."""
        return cls("fixed", (float(value),))

    @property
    def mean(self) -> float:
        """The expected value, in closed form."""
        p = self.params
        if self.kind == "fixed":
            return p[0]
        if self.kind == "uniform":
            return (p[0] + p[1]) / 2
        if self.kind == "triangular":
            return (p[0] + p[1] + p[2]) / 3
        if self.kind == "lognormal":
            return p[0] * math.exp(p[1] ** 2 / 2)
        a, b, lo, hi = p
        return lo + (hi - lo) * a / (a + b)

    @property
    def support(self) -> tuple[float, float]:
        """The smallest and largest values; a lognormal's (0, inf) never reaches 0."""
        p = self.params
        if self.kind == "fixed":
            return p[0], p[0]
        if self.kind in {"uniform", "triangular"}:
            return p[0], p[-1]
        if self.kind == "lognormal":
            return 0.0, math.inf
        return p[2], p[3]

    @property
    def is_positive(self) -> bool:
        """Whether every value is > 0."""
        return self.kind == "lognormal" or self.support[0] > 0


ZERO = Distribution.fixed(0.0)
"""The fixed value 0: an outage's magnitude and a roadmap slip's start."""
FOREVER = Distribution.fixed(math.inf)
"""An infinite duration: the shock lasts to the end of the horizon."""


def magnitude_problem(kind: ShockKind, magnitude: Distribution) -> str | None:
    """Why ``magnitude`` cannot be the magnitude of a ``kind`` shock (``None`` if it can)."""
    lo, hi = magnitude.support
    if magnitude.kind == "fixed" and not math.isfinite(lo):
        return f"must be finite, got {lo:g}"
    lognormal = magnitude.kind == "lognormal"
    outside_unit = (
        "a lognormal is unbounded above, outside [0, 1]"
        if lognormal
        else f"ranges over [{lo:g}, {hi:g}], outside [0, 1]"
    )
    below_one = "a lognormal can fall below 1" if lognormal else f"can be {lo:g}"
    not_positive = f"can be {lo:g}; it must be > 0"
    ok, problem = {
        ShockKind.SUPPLY_CUT: (lo >= 0 and hi <= 1, outside_unit),
        ShockKind.PRICE_SHIFT: (magnitude.is_positive, not_positive),
        ShockKind.SPOT_SURGE: (lo >= 1, f"{below_one}; a multiplier must be >= 1"),
        ShockKind.OUTAGE: (
            magnitude == ZERO,
            "an outage leaves no capacity: its magnitude is fixed at 0",
        ),
        ShockKind.ROADMAP_SLIP: (lo >= 0, f"can be {lo:g} days; a delay must be >= 0"),
        ShockKind.DEMAND_SHIFT: (magnitude.is_positive, not_positive),
    }[kind]
    return None if ok else problem


def days_problem(days: Distribution, *, duration: bool) -> str | None:
    """Why ``days`` cannot be a start (or a ``duration``) in days (``None`` if it can).

    Only a duration may be the fixed value ``inf`` (to the end of the horizon)."""
    lo, _hi = days.support
    if lo < 0:
        return f"can be {lo:g} days; days must be >= 0"
    if not duration and not math.isfinite(lo):
        return "a start must be a finite number of days"
    return None


@dataclass(frozen=True, slots=True)
class Shock:
    """One possible shock: it occurs with ``probability`` in a sample, and then hits what
    ``selector`` picks with a ``magnitude`` (see :data:`MAGNITUDE_MEANING`) from day
    ``start_days`` for ``duration_days``.

    ``factor`` names the shared factor it loads on with ``loading`` in [0, 1] (0 when
    ``factor`` is ``None``). An outage's magnitude is :data:`ZERO`; a roadmap slip starts at
    :data:`ZERO` and its ``duration_days`` is its ``magnitude`` (the delay).
    """

    name: str
    kind: ShockKind
    selector: Selector
    probability: float
    magnitude: Distribution
    start_days: Distribution = ZERO
    duration_days: Distribution = FOREVER
    factor: str | None = None
    loading: float = 0.0

    def __post_init__(self) -> None:
        problems = [
            p
            for p in (
                self._probability_problem(),
                self._factor_problem(),
                self._selector_problem(),
                magnitude_problem(self.kind, self.magnitude),
                days_problem(self.start_days, duration=False),
                days_problem(self.duration_days, duration=True),
                self._slip_problem(),
            )
            if p is not None
        ]
        if problems:
            msg = f"shock {self.name!r}: {problems[0]}"
            raise ValueError(msg)

    def _probability_problem(self) -> str | None:
        if 0 < self.probability <= 1:
            return None
        return f"probability must be in (0, 1], got {self.probability}"

    def _factor_problem(self) -> str | None:
        if not 0 <= self.loading <= 1:
            return f"loading must be in [0, 1], got {self.loading}"
        if self.factor is None and self.loading != 0:
            return "a loading needs a factor"
        return None

    def _selector_problem(self) -> str | None:
        if self.kind.acts_on_workloads and self.selector.selects_offers:
            return "a demand_shift selects workloads (by name or kind), not offers"
        if not self.kind.acts_on_workloads and self.selector.selects_workloads:
            return f"a {self.kind} selects offers, not workloads"
        return None

    def _slip_problem(self) -> str | None:
        if self.kind is not ShockKind.ROADMAP_SLIP:
            return None
        if self.start_days != ZERO or self.duration_days != self.magnitude:
            return "a roadmap_slip starts at day 0 and lasts its delay (its magnitude)"
        return None


@dataclass(frozen=True, slots=True)
class ScenarioSet:
    """Every shock to sample, the shared factors they load on, and how to value them.

    ``penalty`` prices unmet work at ``penalty`` times what the plan pays per unit of it;
    ``samples`` and ``seed`` are defaults for the number of Monte Carlo samples and the
    random seed; ``horizon_days`` is the period the shocks fall in (``None``: the plan's).
    ``perf_error`` (on unless a scenario file turns it off) also samples the performance
    model's error: each platform's throughput drawn from its error band, one draw per
    platform per sample (``arbiter.risk.perf_error``).
    """

    shocks: tuple[Shock, ...]
    factors: tuple[str, ...] = ()
    horizon_days: float | None = None
    penalty: float = 3.0
    samples: int = 1000
    seed: int = 0
    perf_error: bool = True

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ValueError(problem)

    def _problem(self) -> str | None:
        names = [s.name for s in self.shocks]
        duplicate = next((n for i, n in enumerate(names) if n in names[:i]), None)
        unknown = next(
            (s.factor for s in self.shocks if s.factor and s.factor not in self.factors), None
        )
        horizon = self.horizon_days
        checks = [
            (bool(self.shocks), "a scenario set needs at least one shock"),
            (duplicate is None, f"duplicate shock name {duplicate!r}"),
            (
                len(set(self.factors)) == len(self.factors),
                f"duplicate factor names in {self.factors}",
            ),
            (unknown is None, f"factor {unknown!r} is not one of the factors {self.factors}"),
            (
                horizon is None or (math.isfinite(horizon) and horizon > 0),
                f"horizon_days must be a finite number > 0, got {horizon}",
            ),
            (
                math.isfinite(self.penalty) and self.penalty > 0,
                f"penalty must be a finite number > 0, got {self.penalty}",
            ),
            (self.samples > 0, f"samples must be > 0, got {self.samples}"),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
        ]
        return next((message for ok, message in checks if not ok), None)

    def factor_index(self, shock: Shock) -> int | None:
        """The position of ``shock``'s factor in :attr:`factors` (``None``: no factor)."""
        return None if shock.factor is None else self.factors.index(shock.factor)
