"""What a deadline job on spot is expected to cost and how likely it is to miss, under a policy.

The fleet planner prices a spot option of a job with a deadline here; ``arbiter spot
simulate`` replays the same policies tick by tick (:mod:`arbiter.spotsim.simulate`), and the
tests hold this closed form to that replay on synthetic traces.

**Availability.** Spot at a place alternates between spells when it can be had and spells
when it cannot: a spell with spot ends at ``interruptions_per_hour`` (``lambda``) and an
outage lasts ``mean_outage_h`` (``W``) on average, both exponential (a two-state Markov
chain). The long-run share of time with spot is ``a = 1 / (1 + lambda W)``. Where they come
from (:class:`Availability`):

- **traces** of that place (:func:`availability_from_traces`): ``lambda`` is the number of
  readings where spot disappears per hour with spot, ``W`` the hours without spot per
  outage;
- otherwise **the spot rate** of :mod:`arbiter.catalog.spot` (the offer's own rate, the AWS
  Spot Advisor band or the provider's published figure) with an assumed outage of
  :data:`DEFAULT_OUTAGE_H` (:func:`availability_from_rate`). The bands speak of instances
  interrupted, not of capacity that cannot be had; they make spot nearly always
  available. The public traces of V100 and K80 spot on AWS (2022-2023) had spot 12% to 90%
  of the time, 0.1 to 1.4 interruptions per hour with spot and outages of 0.5 to 12 hours
  (median 1.6 h): replay traces of your own where that matters.

**The policy** the planner prices is ``greedy`` (:func:`arbiter.spotsim.policies.greedy`):
wait for spot, run on it whenever it can be had, and move to on-demand for good just in
time to finish there. Of the policies ``arbiter spot simulate`` replays it is the one whose
expected cost has a closed form, and it leaves on-demand to the end, so the share of the
work done on spot is the most a job can count on without looking ahead. A job of ``C``
hours of work, due in ``D`` hours, that loses ``d`` hours on every (re)start, has the
slack ``s = D - C``. By the time it has done ``x`` hours of work on spot it has lost

    L(x) = d + J + sum_{i <= N(x)} (E_i + d)

hours: its first start, an outage ``J`` it may start in (of mean ``W``, with probability
``1 - a``), and per interruption (``N(x)`` Poisson with mean ``lambda x``) an outage ``E_i``
(exponential, mean ``W``) and a restart. ``P(L(x) <= s)`` is a Poisson mixture of gamma
distributions, summed exactly. Greedy gives up on spot when ``L`` passes ``s`` (less the
on-demand start), so the work done on on-demand is ``E[C - x*] = integral_0^C P(L(x) >
s - d) dx`` (``x*`` the work done when it gives up), and on-demand is needed at all with
probability ``P(L(C) > s - d)``. The job is billed ``spot work / f`` hours on spot (with
``f = 1 / (1 + lambda d)``, the restarts: :func:`arbiter.catalog.spot.throughput_factor`'s
rule) and its on-demand work plus one start on on-demand.

Against the replay of ``greedy`` on synthetic traces with those spells, this is within a
few percent of the mean cost on the grid the tests run (``tests/spotsim/test_outlook.py``).

A job falling back to on-demand misses only when even on-demand from the start is late
(``D < C + d``). **Without a fallback** (no on-demand offer of the same machine at the same
place) it runs on spot alone and misses with probability ``P(L(C) > s)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arbiter.catalog.spot import SpotRate, throughput_factor_at
from arbiter.domain.spot import Availability
from arbiter.spotsim.traces import Trace

__all__ = [
    "DEFAULT_OUTAGE_H",
    "POLICY",
    "Availability",
    "SpotOutlook",
    "availability_from_rate",
    "availability_from_traces",
    "outlook",
]

DEFAULT_OUTAGE_H = 2.0
"""Mean hours without spot after spot is gone, where no trace says: no provider publishes
it; the median zone of the public traces is 1.6 h, rounded up (``docs/spot.md``)."""

INTEGRATION_POINTS = 257
"""Points of the trapezoid rule over the job's work (``_late`` is smooth in it)."""

NEGLIGIBLE = 1e-9
"""A chance of needing on-demand this small counts as none (no integral is taken)."""

POLICY = "greedy"
"""The policy the planner prices spot under (module docstring)."""


def availability_from_rate(
    rate: SpotRate, outage_h: float | None = DEFAULT_OUTAGE_H
) -> Availability:
    """Availability from a spot rate (the catalog's spot model) and an assumed outage
    (None: :data:`DEFAULT_OUTAGE_H`)."""
    outage_h = DEFAULT_OUTAGE_H if outage_h is None else outage_h
    return Availability(
        interruptions_per_hour=rate.interruptions_per_hour,
        mean_outage_h=outage_h,
        basis=rate.basis.value,
        source=f"{rate.source}; outages of {outage_h:g} h assumed",
        as_of=rate.as_of,
    )


def availability_from_traces(traces: Sequence[Trace], as_of: str = "") -> Availability:
    """Availability measured on ``traces`` of one place, pooled: interruptions per hour with
    spot, and hours without spot per outage (a trace that starts without spot starts an
    outage). Spot never gone gives 0 interruptions; spot never there an outage as long as
    the traces."""
    if not traces:
        raise ValueError("no traces to measure availability on")
    spot_h = outage_h = 0.0
    ends = outages = 0
    for t in traces:
        a = t.available.astype(bool)
        spot_h += float(a.sum()) * t.gap_h
        outage_h += float((~a).sum()) * t.gap_h
        gone = int(np.sum(a[:-1] & ~a[1:]))
        ends += gone
        outages += gone + int(not a[0])
    rate = ends / spot_h if spot_h > 0 else math.inf
    mean_outage = outage_h / outages if outages else 0.0
    names = ", ".join(t.name for t in traces[:3]) + (" ..." if len(traces) > 3 else "")
    return Availability(
        interruptions_per_hour=rate,
        mean_outage_h=mean_outage,
        basis="trace",
        source=f"{len(traces)} trace(s) ({names}), {spot_h + outage_h:,.0f} h",
        as_of=as_of,
    )


@dataclass(frozen=True, slots=True)
class SpotOutlook:
    """The expected outcome of a job on spot under :data:`POLICY`, per chip.

    ``spot_share`` of the work is done on spot, the rest on on-demand (none without a
    fallback, at ``fallback_usd_per_hour``); ``spot_h`` and ``on_demand_h`` are the
    expected chip-hours billed on each (restarts included), ``usd`` their expected cost;
    ``miss_probability`` the chance of finishing after the deadline."""

    policy: str
    availability: Availability
    throughput_factor: float
    spot_share: float
    spot_h: float
    on_demand_h: float
    usd: float
    miss_probability: float
    fallback_usd_per_hour: float | None


def outlook(
    availability: Availability,
    *,
    compute_h: float,
    deadline_h: float,
    restart_h: float,
    spot_usd_per_hour: float,
    on_demand_usd_per_hour: float | None,
) -> SpotOutlook:
    """The expected cost and miss probability of a job of ``compute_h`` hours of work due
    in ``deadline_h`` hours on spot under :data:`POLICY` (module docstring), falling back
    to on-demand at ``on_demand_usd_per_hour`` (``None``: no fallback, spot alone)."""
    if not (compute_h > 0 and deadline_h > 0 and restart_h >= 0):
        raise ValueError("compute_h and deadline_h must be > 0 and restart_h >= 0")
    fallback = on_demand_usd_per_hour is not None
    f, spot_work, od_h, miss = _split(availability, compute_h, deadline_h, restart_h, fallback)
    spot_h = spot_work / f if f > 0.0 else 0.0
    usd = spot_h * spot_usd_per_hour + od_h * (on_demand_usd_per_hour or 0.0)
    share = spot_work / compute_h
    return SpotOutlook(
        POLICY, availability, f, share, spot_h, od_h, usd, miss, on_demand_usd_per_hour
    )


@functools.lru_cache(maxsize=65536)
def _split(
    availability: Availability,
    compute_h: float,
    deadline_h: float,
    restart_h: float,
    fallback: bool,
) -> tuple[float, float, float, float]:
    """The throughput factor on spot, the work done on spot, the hours on on-demand and
    the miss probability (module docstring); what prices do not change, so cached."""
    a = availability.available_share
    f = throughput_factor_at(availability.interruptions_per_hour, restart_h)
    slack_h = deadline_h - compute_h
    if a <= 0.0 or f <= 0.0:  # spot is never there (a trace without a reading of it)
        if not fallback:
            return 0.0, 0.0, 0.0, 1.0
        return 0.0, 0.0, compute_h + restart_h, float(slack_h < restart_h - 1e-9)
    if not fallback:
        late = _late(availability, restart_h, np.array([compute_h]), slack_h)
        return f, compute_h, 0.0, float(late[0])
    if slack_h < restart_h - 1e-9:  # not even on-demand from the start finishes in time
        return f, 0.0, compute_h + restart_h, 1.0
    whole = _late(availability, restart_h, np.array([compute_h]), slack_h - restart_h)
    if whole[0] <= NEGLIGIBLE:  # spot does the whole job but for a negligible chance
        return f, compute_h, 0.0, 0.0
    x = np.linspace(0.0, compute_h, INTEGRATION_POINTS)
    late = _late(availability, restart_h, x, slack_h - restart_h)
    od_work = float(np.sum((late[1:] + late[:-1]) / 2.0 * np.diff(x)))
    return f, compute_h - od_work, od_work + restart_h * float(late[-1]), 0.0


def _late(
    availability: Availability, restart_h: float, work_h: np.ndarray, slack_h: float
) -> np.ndarray:
    """``P(L(x) > slack_h)`` for each ``x`` in ``work_h``: the time lost by then (module
    docstring) is past the slack."""
    lam, w = availability.interruptions_per_hour, availability.mean_outage_h
    a = availability.available_share
    room = slack_h - restart_h  # after the first start
    if room < 0.0:
        return np.ones_like(work_h)
    mean = lam * float(work_h.max())
    most = int(mean + 12.0 * math.sqrt(mean) + 40.0)
    if restart_h > 0.0:  # more interruptions than this lose more than the slack in restarts
        most = min(most, int(room / restart_h) + 1)
    n = np.arange(most + 1)
    left = room - n * restart_h  # for the outages, after n restarts
    fits = a * _gamma_cdf(n, w, left) + (1.0 - a) * _gamma_cdf(n + 1, w, left)
    if lam <= 0.0:
        return 1.0 - np.full_like(work_h, fits[0])
    mu = lam * work_h[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = n[None, :] * np.log(mu) - mu - _log_factorial(n)[None, :]
    pmf = np.where(mu > 0, np.exp(log_pmf), (n[None, :] == 0).astype(float))
    late: np.ndarray = np.clip(1.0 - pmf @ fits, 0.0, 1.0)
    return late


@functools.lru_cache(maxsize=8)
def _log_factorials(most: int) -> np.ndarray:
    """``ln k!`` for ``k = 0 .. most``."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, most + 1)))])


def _log_factorial(n: np.ndarray) -> np.ndarray:
    top = int(n.max(initial=0))
    table = _log_factorials(max(64, 1 << top.bit_length()))
    out: np.ndarray = table[n]
    return out


def _gamma_cdf(k: np.ndarray, mean_h: float, y: np.ndarray) -> np.ndarray:
    """``P(sum of k exponentials of mean mean_h <= y)``, elementwise: ``P(Poisson(y / mean_h)
    >= k)``; 1 for ``k = 0`` and ``y >= 0``, 0 for ``y < 0``."""
    if mean_h <= 0.0:
        return (y >= 0.0).astype(float)
    m = np.maximum(y, 0.0) / mean_h
    j = np.arange(int(k.max(initial=0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_m = np.log(m)[:, None]
        terms = np.where(
            m[:, None] > 0,
            np.exp(j[None, :] * log_m - m[:, None] - _log_factorial(j)[None, :]),
            (j[None, :] == 0).astype(float),
        )
    below = np.where(j[None, :] < k[:, None], terms, 0.0).sum(axis=1)
    return np.where(y < 0.0, 0.0, np.clip(1.0 - below, 0.0, 1.0))
