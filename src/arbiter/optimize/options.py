"""Candidate placements of a fleet: one row per (workload, accelerator configuration, offer).

The performance model gives each workload its configurations on each allowed accelerator;
every catalog offer of that accelerator the workload may buy then makes one option, sized
for that offer's whole instances (``docs/semantics-plan.md`` states the semantics):

- train / finetune: of the estimate's ``frontier`` (the fewest chips for each speed), the
  layout that costs least on this offer, billed ``ceil(chips / per_instance)`` whole
  instances for the offer's billed hours, among those that finish by the deadline (after
  the platform's lead time, at the spot-discounted speed);
- batch: the estimate's replica, with the replica count that costs least on this offer
  among those that meet the deadline: on pay-as-you-go offers the instances bought are
  filled, so more replicas never cost more per token and a looser deadline never costs
  more;
- serve: one replica; the MILP buys whole instances and packs replicas into them.

Offers a capacity limit covers keep, besides the cheapest size, every size that needs
fewer instances. What an option costs:

- pay-as-you-go (``on_demand``, ``spot``): instances x chips per instance x hours x price;
- ``capacity_block``: the same for whole days booked;
- ``reserved_*`` and ``committed``: the whole term, whatever the job uses of it, so they
  only win where the utilisation pays for them; a job longer than the term pays the hours
  past it on demand or renews for whole terms, as the fleet's ``after_term`` says, never
  the committed rate for a part of a term (``term_billing.py``).

Pruning is exact: an option is dropped only when another option of the same workload
does the job at no more cost in every row of the model it is in (``pruning.prune``), or, under
share caps, when the LP bound proves no plan with it beats a plan already found. Under
share caps an option is compared only with options in the same vendor, provider and
region: a dearer one elsewhere may be what meets a cap, a dearer one in the same place
could only raise total spend, which is padding and never part of a plan.

Spot offers only serve interruptible workloads, with throughput discounted for expected
preemptions: ``1 / (1 + interruptions_per_hour x restart_hours)``, the spot model's
:func:`arbiter.catalog.spot.throughput_factor` (the rate from the offer, the AWS Spot
Advisor feed or the provider's published figure; ``docs/spot.md``). A job with a deadline
(train, finetune, batch) on a spot offer is priced at its expected cost when it waits for
spot and moves to the on-demand offer of the same instance type at the same place just in
time to finish there (:mod:`arbiter.spotsim.outlook`: spot's availability from traces of
that place where the plan has them, else from the spot rate and an assumed outage); with
no such on-demand offer it runs on spot alone, and is an option only while the chance that
it finishes late is at most 5% (:mod:`arbiter.optimize.spot_options`). Options on a
platform that is not enabled must still finish by the deadline after its lead time.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.spot import serves
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.after_term import AfterTerm
from arbiter.domain.capacity import CapacityAssumption
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.offer import PAY_AS_YOU_GO, Offer, PriceRegime
from arbiter.domain.regions import is_local_zone
from arbiter.domain.units import HOURS_PER_DAY, HOURS_PER_WEEK
from arbiter.domain.workload import BatchJob, ServeJob, TrainJob, Workload
from arbiter.optimize import estimate_cache
from arbiter.optimize.dominance import serve_shape, within
from arbiter.optimize.hosted_offers import HostedOffers, same_estimates
from arbiter.optimize.spot_options import spot_outlooks, spot_places
from arbiter.optimize.term_billing import TermBilling, term_hours, terms_started
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.estimate import DEFAULT_TRAIN_DAYS, Estimate, Layout
from arbiter.perf.topology import Host, estimate_targets
from arbiter.spotsim.outlook import SpotOutlook

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TIE_BREAK_COST_WEIGHT = 1e-6  # as the fleet MILP: "time" still breaks ties on cost
MAX_BLOCK_DAYS = 128  # batch on capacity blocks: run lengths in whole days tried per offer
# Under share caps, up to this many workloads options are thinned and pruned only within
# each vendor, provider and region (exact: see ``pruning.py``); above it across places as
# without caps, which is fast but may miss a plan only a dearer option elsewhere lets meet
# a cap (the scale benchmark's fleets: 2.5 times fewer options).
EXACT_CAPS_WORKLOADS = 50


@dataclass(frozen=True, slots=True)
class Option:
    """One candidate: ``units`` of it do the job (1 for train/batch; replicas for serve).

    ``estimate`` is the configuration on this offer: chips, layout (``layout.replicas``:
    data-parallel replicas of a training job, replicas of a batch job, the estimate's
    replicas for the whole rate of a service, whose plan counts its own), tokens/s."""

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
    spot: SpotOutlook | None = None  # a deadline job on spot: its expected outcome, per chip


def billed_hours(offer: Offer, hours: float, after_term: AfterTerm = AfterTerm.ON_DEMAND) -> float:
    """Hours paid for using ``offer`` for ``hours`` (``term_billing.py``)."""
    regime = offer.price_regime
    if regime in PAY_AS_YOU_GO:
        return hours
    if regime is PriceRegime.CAPACITY_BLOCK:
        return math.ceil(hours / HOURS_PER_DAY) * HOURS_PER_DAY
    term = term_hours(offer)
    if after_term is AfterTerm.RENEW:
        return term * float(terms_started(hours, term))
    return max(term, hours)


def _region_ok(region: str, globs: Sequence[str] | None) -> bool:
    if globs is None:
        return True
    low = region.lower()
    return any(fnmatch.fnmatchcase(low, g.lower()) for g in globs)


def offer_allowed(offer: Offer, w: Workload, fleet: Fleet) -> bool:
    rules = w.placement
    if not serves(offer, rules.interruptible):
        return False
    if rules.providers is not None and offer.provider not in rules.providers:
        return False
    if offer.provider in rules.forbidden_providers:
        return False
    if not fleet.local_zones and is_local_zone(offer.provider, offer.region):
        return False
    return _region_ok(offer.region, rules.regions) and _region_ok(offer.region, fleet.regions)


def deadline_hours(w: Workload) -> float | None:
    job = w.job
    if isinstance(job, TrainJob):
        return (job.deadline_days or DEFAULT_TRAIN_DAYS) * HOURS_PER_DAY
    if isinstance(job, BatchJob):
        return job.deadline_hours
    return None


def build_options(
    fleet: Fleet,
    catalog: Catalog,
    eff: Efficiency,
    *,
    thin: bool = True,
    obtainable: Mapping[str, CapacityAssumption] | None = None,
    calibration: CalibrationProfile | None = None,
) -> tuple[list[Option], list[list[Estimate]]]:
    """Every option of every workload, and each workload's estimates (for reasons).

    Each workload is estimated once; its options on one accelerator are priced together
    as arrays over that accelerator's offers. ``thin`` drops, before they become objects,
    the options ``pruning.prune`` would drop anyway (those another offer of the same
    estimate beats, in the same provider and region under share caps, none of them in a
    capacity limit); ``thin=False`` gives
    the raw option set the plan is defined on (the brute-force tests compare against it).
    ``obtainable`` (by offer id, ``arbiter.catalog.capacity``) sizes options in whole units
    of allocation, drops those one purchase cannot supply, and adds the lead time of a
    quota request or contract to the platform's. ``calibration`` corrects the estimates
    of the chips it covers (``perf/calibration.py``); None leaves them as the model's.
    Spot's availability at an offer is the fleet's (``fleet.spot.measured``, from traces)
    or comes from the spot rate and the fleet's assumed outage."""
    accs: list[Accelerator] = [
        a for a in catalog.accelerators.values() if fleet.platform(a.platform) is not None
    ]
    # each (accelerator, instance-type fabric) is estimated on its own (perf/topology.py:
    # the layouts a fabric admits, at its speed); equal estimates share one offer table
    tables = HostedOffers(catalog, lambda offers: _OfferArrays(offers, fleet, obtainable))
    targets, hosts = estimate_targets(accs, tables.pairs())
    allowed_cache: dict[tuple[object, ...], dict[tuple[str, frozenset[Host]], BoolArray]] = {}
    leads: dict[str, float] = {}
    for state in fleet.platforms:
        leads[state.platform.value] = 0.0 if state.enabled else state.lead_weeks * HOURS_PER_WEEK
    # thinning compares offers of one estimate by cost alone: exact only without caps
    may_thin = thin
    by_place = share_capped(fleet) and len(fleet.workloads) <= EXACT_CAPS_WORKLOADS
    options: list[Option] = []
    estimates: list[list[Estimate]] = []
    made: dict[Workload, tuple[int, int]] = {}  # spec: where its options are in ``options``
    for wi, w in enumerate(fleet.workloads):
        all_estimates = list(estimate_cache.estimates_of(w, targets, eff, hosts, calibration))
        estimates.append(all_estimates)
        spec = spec_key(w)
        if spec is not None and spec in made:  # the same options as an earlier workload's
            first, end = made[spec]
            options.extend(dataclasses.replace(o, workload=wi) for o in options[first:end])
            continue
        first = len(options)
        rules = w.placement
        key = (rules.interruptible, rules.providers, rules.forbidden_providers, rules.regions)
        allowed = allowed_cache.setdefault(key, {})
        limit = deadline_hours(w)
        for e, on in same_estimates(all_estimates):
            # a chip that serves only some classes of a request mix may still take those
            usable = e.feasible or any(r > 0 for r in e.class_requests_per_s)
            if not usable:
                continue
            where = (e.accelerator, on)
            table = tables.table(*where)
            mask = allowed.get(where)
            if mask is None:
                mask = np.array([offer_allowed(o, w, fleet) for o in table.offers], dtype=bool)
                allowed[where] = mask
            lead = leads.get(e.platform, 0.0)
            options.extend(
                _options_of(wi, w, e, table, mask, limit, lead, fleet, may_thin, by_place)
            )
        if spec is not None:
            made[spec] = (first, len(options))
    return options, estimates


def spec_key(w: Workload) -> Workload | None:
    """``w`` but for its name (what its options depend on), if it can be a key."""
    spec = dataclasses.replace(w, name="")
    try:
        hash(spec)
    except TypeError:
        return None
    return spec


def share_capped(fleet: Fleet) -> bool:
    return any(getattr(fleet.caps, g) is not None and getattr(fleet.caps, g) < 1.0 for g in GROUPS)


class _OfferArrays:
    """The offers of one accelerator as arrays: what pricing an option needs."""

    def __init__(
        self,
        offers: Sequence[Offer],
        fleet: Fleet,
        obtainable: Mapping[str, CapacityAssumption] | None = None,
    ) -> None:
        self.offers = list(offers)
        found = [None if obtainable is None else obtainable.get(o.offer_id) for o in offers]
        # obtainable capacity: units of allocation, the most one purchase supplies, lead hours
        self.unit = np.array(
            [
                o.accelerators_per_instance if a is None else a.unit_chips
                for o, a in zip(offers, found, strict=True)
            ],
            dtype=np.float64,
        )
        self.pow2 = np.array([a is not None and a.power_of_two for a in found], dtype=bool)
        self.job = np.array([np.inf if a is None else a.job_chips for a in found], dtype=np.float64)
        self.lead = np.array([0.0 if a is None else a.lead_hours for a in found], dtype=np.float64)
        places = sorted({(o.provider, o.region) for o in offers})
        self.place = np.array(
            [places.index((o.provider, o.region)) for o in offers], dtype=np.int64
        )
        # offers a capacity limit may bind: never thinned
        self.limited = np.array(
            [
                o.capacity_instances is not None or any(c.covers(o) for c in fleet.capacity)
                for o in offers
            ],
            dtype=bool,
        )
        names = sorted({o.provider for o in offers})
        self.provider = np.array([names.index(o.provider) for o in offers], dtype=np.int64)
        self.on_demand = np.array(
            [o.price_regime is PriceRegime.ON_DEMAND for o in offers], dtype=bool
        )
        self.per = np.array([o.accelerators_per_instance for o in offers], dtype=np.int64)
        self.price = np.array([o.usd_per_accelerator_hour for o in offers], dtype=np.float64)
        # 1 off spot; on spot, at the rate its availability rests on
        self.spot = spot_places(self.offers, fleet.spot)
        self.factor = np.ones(len(self.offers), dtype=np.float64)
        for k, place in self.spot.items():
            self.factor[k] = place.throughput_factor
        self.billing = TermBilling(self.offers, fleet.after_term)
        self.payg, self.block, self.term = self.billing.payg, self.billing.block, self.billing.term

    def instances_for(self, chips: FloatArray) -> FloatArray:
        """Instances bought on each offer (rows) for ``chips`` (columns): whole units of
        allocation, their count a power of two where the offer's capacity says so."""
        units = np.ceil(chips[None, :] / self.unit[:, None])
        units = np.where(self.pow2[:, None], 2.0 ** np.ceil(np.log2(np.maximum(units, 1.0))), units)
        return np.ceil(units * self.unit[:, None] / self.per[:, None])

    def billed(self, hours: FloatArray) -> FloatArray:
        """:func:`billed_hours` of every offer for ``hours`` (offers along the first axis)."""
        return self.billing.billed(hours)

    def usd_per_chip(self, hours: FloatArray) -> FloatArray:
        """USD per chip for ``hours``; past a term priced as the fleet says, infinite
        where the offer is ruled out (``term_billing.py``)."""
        return self.billing.usd_per_chip(hours)


def _options_of(
    wi: int,
    w: Workload,
    e: Estimate,
    t: _OfferArrays,
    allowed: BoolArray,
    limit: float | None,
    lead: float,
    fleet: Fleet,
    may_thin: bool,
    by_place: bool = False,
) -> list[Option]:
    """The options of estimate ``e`` on the offers of ``t`` the workload may use
    (thinned within each provider and region when ``by_place``)."""
    if isinstance(w.job, ServeJob):
        return _serve_options(wi, w.job, e, t, allowed, may_thin, by_place)
    cw = fleet.objective.cost_weight or TIE_BREAK_COST_WEIGHT
    tw = fleet.objective.time_usd_per_hour
    if isinstance(w.job, TrainJob):
        frontier = e.frontier or ((e.chips, e.tokens_per_s, e.layout),)
        chips = np.array([f[0] for f in frontier], dtype=np.float64)
        rate = np.array([f[1] for f in frontier], dtype=np.float64)
        work = e.tokens_per_s * e.hours * 3600.0  # the job's tokens
        sizes: list[tuple[int, float, Layout | int | None]] = list(frontier)
        hours = work / (rate[None, :] * t.factor[:, None]) / 3600.0
        instances = t.instances_for(chips)
    else:
        chips, rate, hours, instances, sizes = _batch_sizes(e, t, limit, lead + t.lead)
    paid = t.billed(hours)
    room = None if limit is None else limit - lead - t.lead
    usd, outlooks = _priced(t, allowed, hours, instances, room)
    ok = allowed[:, None] & np.isfinite(hours) & np.isfinite(usd)
    ok &= instances * t.per[:, None] <= t.job[:, None]
    if limit is not None:
        ok &= hours + lead + t.lead[:, None] <= limit
    objective = cw * usd + tw * hours if tw > 0 else usd
    masked = np.where(ok, objective, np.inf)
    pick = np.argmin(masked, axis=1)  # the first of the cheapest sizes
    rows = np.arange(len(t.offers))
    eligible = ok.any(axis=1)
    chosen = np.zeros_like(ok)
    chosen[rows[eligible], pick[eligible]] = True
    # offers a capacity limit covers: also every size that needs fewer instances
    for k in np.flatnonzero(eligible & t.limited).tolist():
        chosen[k] = _pareto(usd[k], objective[k], instances[k], ok[k])
    if may_thin:  # offers of one estimate outside capacity limits are in the same rows
        free = eligible & ~t.limited
        idx = np.flatnonzero(free)
        cost, obj = usd[idx, pick[idx]], objective[idx, pick[idx]]
        beaten = ~within(t.place[idx] if by_place else None, cost, cost, -obj, -obj)
        beaten &= ~_baseline_needs(t, idx, cost)
        chosen[idx[beaten]] = False
    made: dict[int, Estimate] = {}
    out = []
    for k, j in zip(*(x.tolist() for x in np.nonzero(chosen)), strict=True):
        est = made.get(j)
        if est is None:
            est = made[j] = _sized(e, sizes[j])
        out.append(
            Option(
                workload=wi,
                estimate=est,
                offer=t.offers[k],
                chips=int(chips[j]),
                instances=int(instances[k, j]),
                hours=float(hours[k, j]),
                billed_hours=float(paid[k, j]),
                tokens_per_s=float(rate[j] * t.factor[k]),
                usd=float(usd[k, j]),
                serve=False,
                spot=outlooks.get((k, j)),
            )
        )
    return out


def _priced(
    t: _OfferArrays,
    allowed: BoolArray,
    hours: FloatArray,
    instances: FloatArray,
    room: FloatArray | None,
) -> tuple[FloatArray, dict[tuple[int, int], SpotOutlook | None]]:
    """What each size (column) costs on each offer (row): instances x chips x the price of
    ``hours``; a deadline job (``room``: hours before its deadline on each offer) on spot
    at its outlook's expected cost (inf where spot alone would be late too often)."""
    usd = instances * t.per[:, None] * t.usd_per_chip(hours)
    if room is None:
        return usd, {}
    outlooks = spot_outlooks(t.spot, t.factor, t.price, allowed, hours, room)
    for (k, j), o in outlooks.items():
        usd[k, j] = instances[k, j] * t.per[k] * o.usd if o is not None else np.inf
    return usd, outlooks


def _sized(e: Estimate, size: tuple[int, float, Layout | int | None]) -> Estimate:
    """``e`` at ``size`` (chips, tokens/s, and its layout or a batch's replica count)."""
    chips, tokens, layout = size
    if isinstance(layout, int):  # a batch size: its replica count
        layout = None if e.layout is None else dataclasses.replace(e.layout, replicas=layout)
    return dataclasses.replace(
        e, chips=int(chips), tokens_per_s=float(tokens), layout=layout,
        hours=float(work_hours(e, tokens)),
    )  # fmt: skip


def work_hours(e: Estimate, tokens_per_s: float) -> float:
    """Hours the job of ``e`` takes at ``tokens_per_s`` (before any spot discount)."""
    return e.tokens_per_s * e.hours / tokens_per_s


def _batch_sizes(
    e: Estimate, t: _OfferArrays, limit: float | None, lead: FloatArray
) -> tuple[
    FloatArray, FloatArray, FloatArray, FloatArray, list[tuple[int, float, Layout | int | None]]
]:
    """Batch replica counts to try on each offer (a matrix, one row per offer, padded by
    repeating the first): from the fewest that meet the deadline (after each offer's lead
    time ``lead`` in hours, at the spot-discounted speed) up to the next count that fills
    whole instances, the count where a term is used up, and on capacity blocks the fewest
    per whole day of run. The cheapest count of all counts >= the fewest is among them,
    so a looser deadline (fewer needed) never costs more. Returns per (offer, candidate):
    chips, tokens/s, hours, instances; and the sizes as (chips, tokens/s, replicas) per
    distinct replica count (the layout is made only for the sizes an option takes)."""
    replicas = max(e.layout.replicas if e.layout is not None else 1, 1)
    c = max(e.chips // replicas, 1)
    per_replica = e.tokens_per_s / replicas
    replica_hours = e.hours * replicas / t.factor  # hours one replica needs, per offer
    n = len(t.offers)
    if limit is None:
        fewest = np.ones(n)
    else:
        room = limit - lead
        fewest = np.where(
            room > 0,
            np.maximum(np.ceil(replica_hours / np.maximum(room, 1e-12) - 1e-9), 1.0),
            np.inf,
        )
    fewest = np.where(np.isfinite(fewest), fewest, 1.0)
    period = t.per // np.gcd(t.per, c)  # replicas that fill whole instances come this often
    width = int(period.max(initial=1))
    cols = [fewest[:, None] + np.arange(width)[None, :]]
    cols[0] = np.where(np.arange(width)[None, :] < period[:, None], cols[0], fewest[:, None])
    term = np.where(t.payg | t.block, 1.0, np.ceil(replica_hours / t.term))
    cols.append(np.maximum(fewest, term)[:, None])
    if t.block.any():
        days = np.arange(1, MAX_BLOCK_DAYS + 1, dtype=np.float64)
        per_day = np.maximum(
            fewest[:, None], np.ceil(replica_hours[:, None] / (HOURS_PER_DAY * days))
        )
        cols.append(np.where(t.block[:, None], per_day, fewest[:, None]))
    count = np.concatenate(cols, axis=1)
    unique, at = np.unique(count, return_inverse=True)
    at = at.reshape(count.shape)
    # one "size" per distinct count; the matrices index sizes through ``at``
    sizes: list[tuple[int, float, Layout | int | None]] = [
        (int(r) * c, float(r) * per_replica, int(r)) for r in unique.tolist()
    ]
    chips = unique * c
    rate = unique * per_replica
    hours_by_size = replica_hours[:, None] / unique[None, :]
    instances_by_size = t.instances_for(chips)
    # sizes not among an offer's candidates: never chosen
    mask = np.zeros((n, len(unique)), dtype=bool)
    mask[np.repeat(np.arange(n), count.shape[1]), at.ravel()] = True
    hours_by_size = np.where(mask, hours_by_size, np.inf)
    if limit is not None:
        hours_by_size = np.where(hours_by_size + lead[:, None] <= limit, hours_by_size, np.inf)
    return chips, rate, hours_by_size, instances_by_size, sizes


def _pareto(
    usd: FloatArray, objective: FloatArray, instances: FloatArray, ok: BoolArray
) -> BoolArray:
    """The sizes of one offer no other size beats on cost, objective and instances
    (the first of equals)."""
    idx = np.flatnonzero(ok)
    u, o, n = usd[idx], objective[idx], instances[idx]
    le = (u[:, None] <= u[None, :]) & (o[:, None] <= o[None, :]) & (n[:, None] <= n[None, :])
    lt = (u[:, None] < u[None, :]) | (o[:, None] < o[None, :]) | (n[:, None] < n[None, :])
    first = np.arange(len(idx))[:, None] < np.arange(len(idx))[None, :]
    beaten = (le & (lt | first)).any(axis=0)
    out = np.zeros(len(usd), dtype=bool)
    out[idx[~beaten]] = True
    return out


def _serve_options(
    wi: int,
    job: ServeJob,
    e: Estimate,
    t: _OfferArrays,
    allowed: BoolArray,
    may_thin: bool,
    by_place: bool = False,
) -> list[Option]:
    """One replica of ``e`` per offer: usd per instance for the whole period."""
    assert e.layout is not None
    replicas = max(e.layout.replicas, 1)
    chips = e.chips // replicas
    tokens = e.tokens_per_s / replicas * t.factor
    hours = np.full(len(t.offers), job.hours, dtype=np.float64)
    paid = t.billed(hours)
    instances = np.ceil(chips / t.per).astype(np.int64)
    usd = t.per * t.usd_per_chip(hours)
    keep = allowed & np.isfinite(usd)
    keep &= instances * t.per <= t.job  # a replica comes from one purchase
    if may_thin and not e.class_requests_per_s:
        idx = np.flatnonzero(keep & ~t.limited)
        per = t.per[idx].astype(np.float64)
        block_usd, block_tokens = serve_shape(usd[idx], tokens[idx], np.full(len(idx), chips), per)
        beaten = ~within(
            t.place[idx] if by_place else None,
            block_usd,
            usd[idx],
            block_tokens,
            tokens[idx] * per / chips,
        )
        beaten &= ~_baseline_needs(t, idx, block_usd / block_tokens)
        keep[idx[beaten]] = False
    per_class: list[tuple[float, ...]] = [()] * len(t.offers)
    if e.class_requests_per_s:  # a request mix: each class's requests/s, after spot
        rates = np.outer(t.factor, np.array(e.class_requests_per_s))
        per_class = [tuple(r) for r in rates.tolist()]
    return [
        Option(
            workload=wi,
            estimate=e,
            offer=t.offers[k],
            chips=chips,
            instances=int(instances[k]),
            hours=float(hours[k]),
            billed_hours=float(paid[k]),
            tokens_per_s=float(tokens[k]),
            usd=float(usd[k]),
            serve=True,
            class_requests_per_s=per_class[k],
        )
        for k in np.flatnonzero(keep).tolist()
    ]


def _baseline_needs(t: _OfferArrays, idx: IntArray, cost: FloatArray) -> BoolArray:
    """Of the offers ``idx`` (costs ``cost``), those the baselines of ``plan.py`` need,
    kept by thinning although a plan never would: per provider the cheapest on-demand one
    (``locked_in``), and every pay-as-you-go one at the lowest price per accelerator-hour
    (``cheapest_per_hour``)."""
    out = np.zeros(len(idx), dtype=bool)
    od = np.flatnonzero(t.on_demand[idx])
    if len(od):
        order = od[np.lexsort((od, cost[od], t.provider[idx[od]]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = t.provider[idx[order]][1:] != t.provider[idx[order]][:-1]
        out[order[first]] = True
    payg = np.flatnonzero(t.payg[idx])
    if len(payg):
        price = t.price[idx[payg]]
        out[payg[price <= price.min()]] = True
    return out
