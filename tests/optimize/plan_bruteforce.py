"""An independent optimum of the fleet plan for tiny fleets: every assignment of every
train/batch workload and every replica count of every service, enumerated directly from
the options, checked against the fleet's rows one by one (no MILP, no pruning).

The semantics enumerated are those of ``docs/semantics-plan.md``: a train/batch option
is bought once, whole (its ``usd``, ``instances``); a serving option with ``r`` replicas
of ``chips`` chips buys ``ceil(chips r / per_instance)`` instances at ``usd`` each and
serves ``r tokens_per_s``. Share caps bound each group's share, its compute spend against
itself plus the need of every pick outside it (:func:`shares`), by ``cap``; capacity limits count instances; a platform not yet enabled costs its
``enable_usd`` once if anything runs on it; the budget bounds compute plus enablement.

No padding (``docs/semantics-plan.md``): a service's capacity exceeds its rate by less
than one replica of each option it uses, and under share caps no workload takes an
option that a cheaper one in the same vendor, provider and region beats
(:func:`padding`), written here pair by pair from the rule, not from ``prune``.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import FleetSolution, group_of
from arbiter.optimize.options import Option

REL = 1e-6


@dataclass(frozen=True)
class Pick:
    option: Option
    units: int
    instances: int
    usd: float


def serve_instances(o: Option, replicas: int) -> int:
    return math.ceil(o.chips * replicas / o.offer.accelerators_per_instance - 1e-9)


def covers(limit: object, o: Option) -> bool:
    off = o.offer
    return (
        off.provider == limit.provider  # type: ignore[attr-defined]
        and off.accelerator == limit.accelerator  # type: ignore[attr-defined]
        and (
            limit.region is None  # type: ignore[attr-defined]
            or fnmatch.fnmatchcase(off.region.lower(), limit.region.lower())  # type: ignore[attr-defined]
        )
        and (limit.price_regime is None or off.price_regime is limit.price_regime)  # type: ignore[attr-defined]
    )


def _rows(fleet: Fleet, o: Option) -> frozenset[object]:
    out: set[object] = {k for k, limit in enumerate(fleet.capacity) if covers(limit, o)}
    if o.offer.capacity_instances is not None:
        out.add(o.offer.offer_id)
    return frozenset(out)


def beats(fleet: Fleet, a: Option, b: Option) -> bool:
    """Option ``a`` does ``b``'s job at no more cost in every row ``b`` is in."""
    enabled = {s.platform.value for s in fleet.platforms if s.enabled}
    if a.estimate.platform not in enabled and a.estimate.platform != b.estimate.platform:
        return False
    rows_a = _rows(fleet, a)
    if not rows_a <= _rows(fleet, b):
        return False
    if not a.serve:
        slower = fleet.objective.time_usd_per_hour > 0 and a.hours > b.hours
        return a.usd <= b.usd and not slower and (not rows_a or a.instances <= b.instances)
    per_a, per_b = a.offer.accelerators_per_instance, b.offer.accelerators_per_instance
    if a.chips <= per_a:
        block_usd, block_tokens = a.usd, a.tokens_per_s * (per_a // a.chips)
    elif rows_a:
        return False  # in a capacity row, a must fill its instances
    else:
        block_usd, block_tokens = a.usd * math.ceil(a.chips / per_a), a.tokens_per_s
    return block_usd <= b.usd and block_tokens >= b.tokens_per_s * per_b / b.chips


def padding(fleet: Fleet, options: Sequence[Option]) -> set[int]:
    """Under share caps, the options (by ``id``) a plan may not take: another option of
    the same workload in the same vendor, provider and region beats them (of two that beat
    each other, the later one goes)."""
    if all(getattr(fleet.caps, g) is None or getattr(fleet.caps, g) >= 1 for g in GROUPS):
        return set()
    out: set[int] = set()
    for j, b in enumerate(options):
        for i, a in enumerate(options):
            if i == j or a.workload != b.workload or a.serve != b.serve:
                continue
            if a.class_requests_per_s or b.class_requests_per_s:
                continue
            place = (a.estimate.vendor, a.offer.provider, a.offer.region)
            if place != (b.estimate.vendor, b.offer.provider, b.offer.region):
                continue
            if beats(fleet, a, b) and not (beats(fleet, b, a) and j < i):
                out.add(id(b))
                break
    return out


def unit_cost(fleet: Fleet, o: Option) -> float:
    """Cost per unit of work: the option's ``usd`` (train/batch), or what serving the
    service's whole rate on it alone costs per token/s (whole replicas, whole
    instances)."""
    if not o.serve:
        return o.usd
    job = fleet.workloads[o.workload].job
    assert isinstance(job, ServeJob)
    rate = job.requests_per_s * job.output_tokens
    replicas = math.ceil(rate / o.tokens_per_s - 1e-9)
    return serve_instances(o, replicas) * o.usd / rate


def shares(
    fleet: Fleet, picks: Sequence[Pick], group: str, options: Sequence[Option]
) -> dict[str, float]:
    """Each group's share as share caps bound it: its spend against its spend plus what
    the work of every pick outside it needs there, at the least cost per unit of work of
    the workload's options outside the group."""
    spend: dict[str, float] = defaultdict(float)
    for p in picks:
        spend[group_of(p.option, group)] += p.usd
    out = {}
    for g, mine in spend.items():
        outside = 0.0
        for p in picks:
            if group_of(p.option, group) == g:
                continue
            w = p.option.workload
            least = min(
                unit_cost(fleet, o) for o in options if o.workload == w and group_of(o, group) != g
            )
            o = p.option
            if o.serve:  # a replica's need: at most its share of its own instances
                per = o.offer.accelerators_per_instance
                own = o.usd * o.chips / per if o.chips <= per else o.usd * math.ceil(o.chips / per)
                outside += p.units * min(least * o.tokens_per_s, own)
            else:
                outside += least
        out[g] = mine / (mine + outside) if mine > 0 else 0.0
    return out


def evaluate(  # noqa: PLR0911
    fleet: Fleet,
    picks: Sequence[Pick],
    options: Sequence[Option],
    *,
    barred: set[int] | None = None,
) -> float | None:
    """Total cost of ``picks`` (compute plus enablement), or None if they break a row
    or pad (take a :func:`padding` option of ``options``, the fleet's options, which
    also set each workload's need for the share caps)."""
    barred = padding(fleet, options) if barred is None else barred
    if barred and any(id(p.option) in barred for p in picks):
        return None
    # every train/batch workload once, every service's rate covered, less than one of
    # each used option's replicas over it
    for wi, w in enumerate(fleet.workloads):
        mine = [p for p in picks if p.option.workload == wi]
        if isinstance(w.job, ServeJob):
            rate = w.job.requests_per_s * w.job.output_tokens
            served = sum(p.units * p.option.tokens_per_s for p in mine)
            if served < rate * (1 - 1e-9):
                return None
            least = min((p.option.tokens_per_s for p in mine if p.units), default=0.0)
            if mine and served - rate > least - 1e-6 * rate * (1 - 1e-3):
                return None
        elif len(mine) != 1:
            return None
    compute = sum(p.usd for p in picks)
    for group in GROUPS:
        cap = getattr(fleet.caps, group)
        if cap is None:
            continue
        if any(v > cap * (1 + 1e-9) + 1e-9 for v in shares(fleet, picks, group, options).values()):
            return None
    for limit in fleet.capacity:
        if sum(p.instances for p in picks if covers(limit, p.option)) > limit.max_instances:
            return None
    by_offer: dict[str, int] = defaultdict(int)
    for p in picks:
        by_offer[p.option.offer.offer_id] += p.instances
    for p in picks:
        most = p.option.offer.capacity_instances
        if most is not None and by_offer[p.option.offer.offer_id] > most:
            return None
    states = {s.platform.value: s for s in fleet.platforms}
    used = {p.option.estimate.platform for p in picks}
    if any(u not in states for u in used):
        return None
    enable = sum(states[u].enable_usd for u in used if not states[u].enabled)
    total = compute + enable
    if fleet.budget_usd is not None and total > fleet.budget_usd * (1 + 1e-9) + 1e-9:
        return None
    return total


def choices(fleet: Fleet, options: Sequence[Option], pad: int) -> list[list[tuple[Pick, ...]]]:
    """Per workload, every way to place it: one option (train/batch), or replica counts
    per option from 0 to what covers the rate alone plus ``pad`` (a service)."""
    out = []
    for wi, w in enumerate(fleet.workloads):
        mine = [o for o in options if o.workload == wi]
        if not isinstance(w.job, ServeJob):
            out.append([(Pick(o, 1, o.instances, o.usd),) for o in mine])
            continue
        rate = w.job.requests_per_s * w.job.output_tokens
        ranges = [range(math.ceil(rate / o.tokens_per_s - 1e-9) + pad + 1) for o in mine]
        ways = []
        for counts in itertools.product(*ranges):
            if sum(r * o.tokens_per_s for r, o in zip(counts, mine, strict=True)) < rate * (
                1 - 1e-9
            ):
                continue
            picks = []
            for r, o in zip(counts, mine, strict=True):
                if r:
                    n = serve_instances(o, r)
                    picks.append(Pick(o, r, n, n * o.usd))
            ways.append(tuple(picks))
        out.append(ways)
    return out


def brute_force(fleet: Fleet, options: Sequence[Option], *, pad: int = 0) -> float | None:
    """The least total cost of any placement enumerated (None: none is feasible)."""
    best: float | None = None
    barred = padding(fleet, options)
    for combo in itertools.product(*choices(fleet, options, pad)):
        picks = [p for part in combo for p in part]
        total = evaluate(fleet, picks, options, barred=barred)
        if total is not None and (best is None or total < best):
            best = total
    return best


def picks_of(sol: FleetSolution) -> list[Pick]:
    return [Pick(p.option, p.units, p.instances, p.usd) for p in sol.placed]


def within(fleet: Fleet, sol: FleetSolution, pad: int) -> bool:
    """Whether the plan's replica counts are among those :func:`choices` enumerates."""
    for p in sol.placed:
        job = fleet.workloads[p.option.workload].job
        if isinstance(job, ServeJob):
            rate = job.requests_per_s * job.output_tokens
            if p.units > math.ceil(rate / p.option.tokens_per_s - 1e-9) + pad:
                return False
    return True


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), 1.0)
