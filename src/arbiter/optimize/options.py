"""Candidate placements of a fleet: one row per (workload, accelerator configuration, offer).

The performance model gives each workload its best configuration on each allowed
accelerator (chips, layout, hours or per-replica throughput); every catalog offer of that
accelerator the workload may buy then makes one option. Options are parallel arrays, the
input of the fleet MILP. What an option costs:

- pay-as-you-go (``on_demand``, ``spot``): instances x chips per instance x hours x price;
- ``capacity_block``: the same for whole days booked;
- ``reserved_*`` and ``committed``: the whole term (or the job, if longer), whatever the
  job uses of it, so they only win where the utilisation pays for them.

Spot offers only serve interruptible workloads, with throughput discounted for expected
preemptions: ``1 / (1 + interruptions_per_hour x restart_hours)`` (the offer's own rate
when the catalog has one, else ``DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR``). Options on a
platform that is not enabled must still finish by the deadline after its lead time.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.workload import BatchJob, ServeJob, TrainJob, Workload
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.estimate import DEFAULT_TRAIN_DAYS, Estimate, estimate_workload

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HOURS_PER_MONTH = 730.0
HOURS_PER_WEEK = 168.0
DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR = 0.05  # one preemption per 20 hours
RESTART_HOURS = 0.25  # checkpoint restore and warm-up lost per preemption
PAY_AS_YOU_GO = (PriceRegime.ON_DEMAND, PriceRegime.SPOT)


@dataclass(frozen=True, slots=True)
class Option:
    """One candidate: ``units`` of it do the job (1 for train/batch; replicas for serve)."""

    workload: int
    estimate: Estimate
    offer: Offer
    chips: int  # per unit: the job's chips, or one replica's
    instances: int  # per unit for train/batch; per replica (fractional use) for serve
    hours: float  # wall-clock hours the job runs (serve: the period)
    billed_hours: float
    tokens_per_s: float  # per unit, after the spot discount
    usd: float  # per unit for train/batch; per instance for serve
    serve: bool
    class_requests_per_s: tuple[float, ...] = ()  # per replica of a request mix, after spot


def spot_factor(offer: Offer) -> float:
    if offer.price_regime is not PriceRegime.SPOT:
        return 1.0
    rate = (
        offer.interruption_rate
        if offer.interruption_rate is not None
        else DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR
    )
    return 1.0 / (1.0 + rate * RESTART_HOURS)


def billed_hours(offer: Offer, hours: float) -> float:
    """Hours paid for using ``offer`` for ``hours``."""
    regime = offer.price_regime
    if regime in PAY_AS_YOU_GO:
        return hours
    if regime is PriceRegime.CAPACITY_BLOCK:
        return math.ceil(hours / 24.0) * 24.0
    months = offer.term_months or {PriceRegime.RESERVED_1Y: 12, PriceRegime.RESERVED_3Y: 36}.get(
        regime, 12
    )
    return max(months * HOURS_PER_MONTH, hours)


def _region_ok(region: str, globs: Sequence[str] | None) -> bool:
    if globs is None:
        return True
    low = region.lower()
    return any(fnmatch.fnmatchcase(low, g.lower()) for g in globs)


def offer_allowed(offer: Offer, w: Workload, fleet: Fleet) -> bool:
    rules = w.placement
    if offer.price_regime is PriceRegime.SPOT and not rules.interruptible:
        return False
    if rules.providers is not None and offer.provider not in rules.providers:
        return False
    if offer.provider in rules.forbidden_providers:
        return False
    return _region_ok(offer.region, rules.regions) and _region_ok(offer.region, fleet.regions)


def deadline_hours(w: Workload) -> float | None:
    job = w.job
    if isinstance(job, TrainJob):
        return (job.deadline_days or DEFAULT_TRAIN_DAYS) * 24.0
    if isinstance(job, BatchJob):
        return job.deadline_hours
    return None


def build_options(
    fleet: Fleet,
    catalog: Catalog,
    eff: Efficiency,
) -> tuple[list[Option], list[list[Estimate]]]:
    """Every option of every workload, and each workload's estimates (for reasons).

    Each workload is estimated once; its options on one accelerator are priced together
    as arrays over that accelerator's offers."""
    accs: list[Accelerator] = [
        a for a in catalog.accelerators.values() if fleet.platform(a.platform) is not None
    ]
    by_acc: dict[str, list[Offer]] = {}
    for offer in catalog.offers:
        by_acc.setdefault(offer.accelerator, []).append(offer)
    limited = {(c.provider, c.accelerator) for c in fleet.capacity}
    by_region = fleet.caps.region is not None
    tables = {acc: _OfferArrays(offers, limited, by_region) for acc, offers in by_acc.items()}
    allowed_cache: dict[tuple[object, ...], dict[str, BoolArray]] = {}
    leads: dict[str, float] = {}
    for state in fleet.platforms:
        leads[state.platform.value] = 0.0 if state.enabled else state.lead_weeks * HOURS_PER_WEEK
    options: list[Option] = []
    estimates: list[list[Estimate]] = []
    for wi, w in enumerate(fleet.workloads):
        all_estimates = list(estimate_workload(w, accs, eff))
        estimates.append(all_estimates)
        rules = w.placement
        key = (rules.interruptible, rules.providers, rules.forbidden_providers, rules.regions)
        allowed = allowed_cache.setdefault(key, {})
        limit = deadline_hours(w)
        for e in all_estimates:
            # a chip that serves only some classes of a request mix may still take those
            usable = e.feasible or any(r > 0 for r in e.class_requests_per_s)
            if not usable or e.accelerator not in tables:
                continue
            table = tables[e.accelerator]
            mask = allowed.get(e.accelerator)
            if mask is None:
                mask = np.array([offer_allowed(o, w, fleet) for o in table.offers], dtype=bool)
                allowed[e.accelerator] = mask
            lead = leads.get(e.platform, 0.0)
            options.extend(_options_of(wi, w, e, table, mask, limit, lead, fleet))
    return options, estimates


class _OfferArrays:
    """The offers of one accelerator as arrays: what pricing an option needs."""

    def __init__(
        self, offers: Sequence[Offer], limited: set[tuple[str, str]], by_region: bool
    ) -> None:
        self.offers = list(offers)
        # offers a capacity limit may bind: never thinned
        self.limited = np.array(
            [
                o.capacity_instances is not None or (o.provider, o.accelerator) in limited
                for o in offers
            ],
            dtype=bool,
        )
        # what thinning compares within: regions only matter to a region cap
        groups = [(o.provider, o.region if by_region else "", o.price_regime.value) for o in offers]
        index = {g: k for k, g in enumerate(sorted(set(groups)))}
        self.group = np.array([index[g] for g in groups], dtype=np.int64)
        self.per = np.array([o.accelerators_per_instance for o in offers], dtype=np.int64)
        self.price = np.array([o.usd_per_accelerator_hour for o in offers], dtype=np.float64)
        self.factor = np.array([spot_factor(o) for o in offers], dtype=np.float64)
        regime = [o.price_regime for o in offers]
        self.payg = np.array([r in PAY_AS_YOU_GO for r in regime], dtype=bool)
        self.block = np.array([r is PriceRegime.CAPACITY_BLOCK for r in regime], dtype=bool)
        months = [
            o.term_months
            or {PriceRegime.RESERVED_1Y: 12, PriceRegime.RESERVED_3Y: 36}.get(o.price_regime, 12)
            for o in offers
        ]
        self.term = np.array([m * HOURS_PER_MONTH for m in months], dtype=np.float64)

    def billed(self, hours: FloatArray) -> FloatArray:
        """:func:`billed_hours` of every offer for ``hours`` (one per offer)."""
        return np.where(
            self.payg,
            hours,
            np.where(self.block, np.ceil(hours / 24.0) * 24.0, np.maximum(self.term, hours)),
        )


def _options_of(
    wi: int,
    w: Workload,
    e: Estimate,
    t: _OfferArrays,
    allowed: BoolArray,
    limit: float | None,
    lead: float,
    fleet: Fleet,
) -> list[Option]:
    n = len(t.offers)
    if isinstance(w.job, ServeJob):
        assert e.layout is not None
        replicas = max(e.layout.replicas, 1)
        chips = e.chips // replicas
        tokens = e.tokens_per_s / replicas * t.factor
        hours = np.full(n, w.job.hours, dtype=np.float64)
        paid = t.billed(hours)
        instances = np.ceil(chips / t.per).astype(np.int64)
        usd = t.per * t.price * paid
        serve = True
    else:
        chips = e.chips
        hours = e.hours / t.factor
        instances = np.ceil(chips / t.per).astype(np.int64)
        paid = t.billed(hours)
        tokens = e.tokens_per_s * t.factor
        usd = (instances * t.per) * t.price * paid
        serve = False
    keep = allowed if limit is None else allowed & ~(hours + lead > limit)
    if not e.class_requests_per_s:
        if serve:
            per_usd = np.where(chips <= t.per, t.per // chips, 1.0 / np.ceil(chips / t.per))
            unit_cost = usd / (tokens * per_usd)
        elif fleet.objective.time_usd_per_hour > 0:
            unit_cost = (
                fleet.objective.cost_weight * usd + fleet.objective.time_usd_per_hour * hours
            )
        else:
            unit_cost = usd
        keep = _thin(t, unit_cost, keep)
    idx = np.flatnonzero(keep).tolist()
    offers = t.offers
    per_class: list[tuple[float, ...]] = [()] * n
    if e.class_requests_per_s:  # a request mix: each class's requests/s, after spot
        rates = np.outer(t.factor, np.array(e.class_requests_per_s))
        per_class = [tuple(r) for r in rates.tolist()]
    return [
        Option(
            workload=wi,
            estimate=e,
            offer=offers[k],
            chips=chips,
            instances=inst,
            hours=h,
            billed_hours=b,
            tokens_per_s=tok,
            usd=u,
            serve=serve,
            class_requests_per_s=per_class[k],
        )
        for k, inst, h, b, tok, u in zip(
            idx,
            instances[idx].tolist(),
            hours[idx].tolist(),
            paid[idx].tolist(),
            tokens[idx].tolist(),
            usd[idx].tolist(),
            strict=True,
        )
    ]


def _thin(t: _OfferArrays, unit_cost: FloatArray, eligible: BoolArray) -> BoolArray:
    """The offers :func:`prune` could keep, and the baselines need, of one estimate: per
    provider, price regime and (under a region cap) region, the first eligible offer with
    the lowest cost per unit of work and the first with the lowest price per
    accelerator-hour; and every offer a capacity limit may bind. Thinning here, before
    options become objects, is what keeps a large fleet's option build fast."""
    out: BoolArray = np.logical_and(eligible, t.limited)
    idx = np.flatnonzero(eligible & ~t.limited)
    for values in (unit_cost, t.price):
        order = idx[np.lexsort((idx, values[idx], t.group[idx]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = t.group[order][1:] != t.group[order][:-1]
        out[order[first]] = True
    return out


def prune(options: Sequence[Option], fleet: Fleet) -> list[Option]:
    """Drop options another option of the same workload beats on every count: the same
    vendor, platform, provider and (under a region cap) region, so the same caps and
    enablement, no capacity limit in play, and a lower cost per unit of work (options of
    a request mix are all kept). Exact without share caps; with them it rules out paying
    more inside a group just to dilute another group's share (a plan then moves work
    between groups instead), which can make a fleet that only such padding could satisfy
    infeasible."""
    limited = {(c.provider, c.accelerator) for c in fleet.capacity}
    by_region = fleet.caps.region is not None  # regions matter only to a region cap
    best: dict[tuple[object, ...], tuple[float, int]] = {}
    keep: list[int] = []
    for i, o in enumerate(options):
        off = o.offer
        limited_offer = (
            off.capacity_instances is not None or (off.provider, off.accelerator) in limited
        )
        # a request mix: chips differ in what they serve of each class; kept whole
        if limited_offer or o.class_requests_per_s:
            keep.append(i)
            continue
        key: tuple[object, ...] = (
            o.workload,
            o.estimate.vendor,
            o.estimate.platform,
            off.provider,
            off.region if by_region else None,
        )
        # serving: cost per token/s of capacity, counting the replicas an instance holds
        # (or the instances a replica needs); train/batch: the job's cost
        per = o.offer.accelerators_per_instance
        replicas_per_usd = (per // o.chips) if o.chips <= per else 1.0 / math.ceil(o.chips / per)
        unit_cost = o.usd / (o.tokens_per_s * replicas_per_usd) if o.serve else o.usd
        if fleet.objective.time_usd_per_hour > 0 and not o.serve:
            unit_cost = (
                fleet.objective.cost_weight * o.usd + fleet.objective.time_usd_per_hour * o.hours
            )
        if key not in best or unit_cost < best[key][0]:
            best[key] = (unit_cost, i)
    keep.extend(i for _, i in best.values())
    return [options[i] for i in sorted(keep)]
