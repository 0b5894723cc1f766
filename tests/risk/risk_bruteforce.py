"""An independent, scalar brute force of the risk semantics (docs/semantics-risk.md) for
small instances: one service and one train job, each on one placement, with one
alternative offer each for re-planning.

Nothing here calls the engine: the time line is walked piece by piece in plain Python
(capacity and price read at each piece's midpoint), a job is run forward hour by hour of
capacity until it finishes or its deadline, and re-planning enumerates every integer
number of replicas and every job option instead of solving a MILP.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from arbiter.catalog.spot import RESTART_HOURS, default_spot_table
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ShockKind

PAYG = (PriceRegime.ON_DEMAND, PriceRegime.SPOT)
REPLAN = (*PAYG, PriceRegime.CAPACITY_BLOCK)
TOKENS_PER_REPLICA = 10.0
# The cases' providers (p, q, r, s) publish no spot rate: the spot model's default for them.
SPOT_INTERRUPTIONS_PER_HOUR = default_spot_table().unpublished.interruptions_per_hour


@dataclass(frozen=True)
class Hit:
    """One shock as it fell in one sample."""

    kind: ShockKind
    target: str  # a provider, or a workload name for a demand shift
    start: float  # hours
    end: float  # hours (inf: to the end of the horizon)
    magnitude: float


@dataclass(frozen=True)
class Place:
    """A placement or a re-planning option: where, how it is priced, for how long."""

    provider: str
    regime: PriceRegime
    usd_per_hour: float
    hours: float  # the job's hours, or the service's period
    term_hours: float = 730.0  # a reserved term

    @property
    def billed(self) -> float:
        return billed(self, self.hours)


def billed(p: Place, hours: float) -> float:
    if p.regime in PAYG:
        return hours
    if p.regime is PriceRegime.CAPACITY_BLOCK:
        return math.ceil(hours / 24.0 - 1e-9) * 24.0
    return max(p.term_hours, hours)


def loss(h: Hit, p: Place) -> float:
    if h.kind is ShockKind.SUPPLY_CUT:
        return 1.0 - h.magnitude
    if h.kind in (ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP):
        return 1.0
    if h.kind is ShockKind.SPOT_SURGE and p.regime is PriceRegime.SPOT:
        base = SPOT_INTERRUPTIONS_PER_HOUR * RESTART_HOURS
        return 1.0 - (1.0 + base) / (1.0 + max(h.magnitude, 1.0) * base)
    return 0.0


def at(hits: list[Hit], p: Place, t: float) -> tuple[float, float, float]:
    """Capacity left (the work rate), the share billed and the price factor of ``p`` at
    the instant ``t``: a spot surge slows it down but its restarts are paid for."""
    live = [h for h in hits if h.target == p.provider and h.start <= t < h.end]
    capacity = 1.0 - min(1.0, sum(loss(h, p) for h in live))
    paid = 1.0 - min(1.0, sum(loss(h, p) for h in live if h.kind is not ShockKind.SPOT_SURGE))
    price = 1.0
    if p.regime in PAYG:
        price = max(
            0.0, 1.0 + sum(h.magnitude - 1.0 for h in live if h.kind is ShockKind.PRICE_SHIFT)
        )
    return capacity, paid, price


def pieces(
    hits: list[Hit], p: Place, lo: float, hi: float
) -> list[tuple[float, float, float, float, float]]:
    """``[lo, hi]`` (finite) cut at every shock edge: (from, to, capacity, paid, price)."""
    edges = sorted({lo, hi, *(e for h in hits for e in (h.start, h.end) if lo < e < hi)})
    return [(a, b, *at(hits, p, (a + b) / 2.0)) for a, b in itertools.pairwise(edges)]


def mean_price(hits: list[Hit], p: Place, lo: float, hi: float) -> float:
    if hi <= lo:
        return 1.0
    return sum((b - a) * m for a, b, _, _, m in pieces(hits, p, lo, hi)) / (hi - lo)


def demand(hits: list[Hit], workload: str, window: float) -> float:
    extra = 0.0
    for h in hits:
        if h.kind is ShockKind.DEMAND_SHIFT and h.target == workload:
            cover = max(0.0, min(h.end, window) - max(h.start, 0.0))
            extra += (h.magnitude - 1.0) * cover / window
    return max(extra, 0.0)


@dataclass(frozen=True)
class Fixed:
    """What a plan does in one sample without re-planning."""

    compute_usd: float
    undone: float  # share of the workload's planned work
    missed: bool


def service(hits: list[Hit], p: Place, replicas: int, workload: str) -> Fixed:
    usd = replicas * p.usd_per_hour * p.billed
    parts = pieces(hits, p, 0.0, p.hours)
    lost = sum((b - a) * (1.0 - c) for a, b, c, _, _ in parts) / p.hours
    if p.regime in PAYG:
        usd = replicas * p.usd_per_hour * sum((b - a) * paid * m for a, b, _, paid, m in parts)
    return Fixed(usd, min(1.0, lost + demand(hits, workload, p.hours)), missed=False)


def job(hits: list[Hit], p: Place, deadline: float, workload: str) -> Fixed:
    """Run forward from hour 0 until the work is done or the deadline comes."""
    need = p.hours * (1.0 + demand(hits, workload, p.hours))
    done, usd, stop = 0.0, 0.0, deadline  # held until it finishes or its deadline
    for a, b, c, paid, m in pieces(hits, p, 0.0, deadline):
        step = min(b - a, (need - done) / c) if c > 0 else b - a
        done += c * step
        usd += p.usd_per_hour * paid * m * step  # held, if not working, under a surge
        if done >= need - 1e-12:
            stop = a + step
            break
    if p.regime not in PAYG:
        usd = p.usd_per_hour * max(p.billed, billed(p, stop))
    undone = min(1.0, max(0.0, need - done) / p.hours)
    return Fixed(usd, undone, missed=undone > 1e-9)


def first_hit(hits: list[Hit], provider: str, workload: str) -> float:
    """The first hour a shock that can take work away hits the workload."""
    starts = [
        h.start
        for h in hits
        if (h.target == provider and h.kind is not ShockKind.PRICE_SHIFT)
        or (h.target == workload and h.kind is ShockKind.DEMAND_SHIFT)
    ]
    return min(starts, default=math.inf)


def blocked(hits: list[Hit], provider: str) -> bool:
    capacity = (ShockKind.SUPPLY_CUT, ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP)
    return any(h.target == provider and h.kind in capacity for h in hits)


def replan_service(
    hits: list[Hit], rate: float, undone: float, penalty_usd: float, options: list[Place]
) -> float:
    """The cheapest way to do ``undone`` of a service's rate: whole replicas on each
    option not in a shortage, the rest left undone at ``penalty_usd`` per unit share."""
    usable = [o for o in options if o.regime in REPLAN and not blocked(hits, o.provider)]
    need = rate * undone
    per = [
        o.usd_per_hour * o.billed * (mean_price(hits, o, 0.0, o.hours) if o.regime in PAYG else 1.0)
        for o in usable
    ]
    most = math.ceil(need / TOKENS_PER_REPLICA - 1e-9)
    best = penalty_usd * undone
    counts: list[list[int]] = [[]]
    for _ in usable:
        counts = [[*c, k] for c in counts for k in range(most + 1)]
    for c in counts:
        served = TOKENS_PER_REPLICA * sum(c)
        left = max(0.0, 1.0 - served / need) if need > 0 else 0.0
        best = min(
            best, sum(k * u for k, u in zip(c, per, strict=True)) + penalty_usd * undone * left
        )
    return best


def replan_job(
    hits: list[Hit],
    undone: float,
    penalty_usd: float,
    options: list[Place],
    start: float,
    deadline: float,
) -> float:
    """The cheapest of leaving ``undone`` of a job undone or running it on one option not in
    a shortage, from the first hit, done by the deadline."""
    best = penalty_usd * undone
    for o in options:
        if o.regime not in REPLAN or blocked(hits, o.provider):
            continue
        hours = o.hours * undone
        if hours > deadline - start + 1e-9:
            continue
        factor = mean_price(hits, o, start, start + hours) if o.regime in PAYG else 1.0
        best = min(best, o.usd_per_hour * o.billed * undone * factor)
    return best
