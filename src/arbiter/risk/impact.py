"""What sampled shocks do to a fixed plan, without re-planning: cost, work left undone
and missed deadlines, vectorised over samples. ``docs/semantics-risk.md`` states the
rules with a worked example each; in short:

**Time line.** Hours count from the start of the horizon. A shock covers
``[24 start_days, 24 (start_days + duration_days)]`` whatever the placements' windows: an
outage that outlasts a job's window goes on holding the job back. At each instant a
placement ``p`` keeps the capacity ``c_p(t) = 1 - min(1, sum of the losses of the shocks
active at t that select p)``: ``1 - capacity_factor`` for a supply cut, 1 for an outage
and for a roadmap slip (the chip is missing from day 0 for the delay); a spot surge adds
``1 - (1 + r R) / (1 + m r R)`` on spot placements (m the multiplier, ``r R`` the spot
model's :func:`arbiter.catalog.spot.restart_load`: the offer's interruptions per hour, from
the offer, the AWS Spot Advisor feed or the provider's published figure, times the restart
hours; the same figure the planner's throughput factor uses). Two shocks active at once add
up (capped at all of it); two in turn do not. A pay-as-you-go placement is billed for
the share ``b_p(t)`` of it still there (``c_p`` without the spot surge: restarts are
billed time) at ``M_p(t) = max(0, 1 + sum of (price_factor - 1) of the price shifts
active at t)`` times its price; reserved, committed and capacity-block prices are fixed.

**Services** run from hour 0 for their period ``T``. A service loses
``u_w = min(1, sum_p share_p L_p + max(D_w, 0))`` of its work, ``L_p`` the mean of
``1 - c_p`` over ``[0, T]`` and ``share_p`` the share of the rate p carries; ``D_w`` is the
demand shift ``sum_s (demand_factor - 1) ov`` over the workload's window (``ov`` the share
of it the shift covers; a fall is not a saving without re-planning). Pay-as-you-go
capacity is billed as it is there, ``usd_p / T * integral of b_p M_p over [0, T]``; a
fixed-price placement costs ``usd_p`` whatever it delivers.

**Jobs** (train, finetune, batch) start at hour 0 (or when the platform the plan enables
for them is ready, after its lead time) and need ``h (1 + max(D_w, 0))`` hours of full
capacity, ``h`` their planned hours. They progress at ``c_p(t)``, so capacity lost is
caught up afterwards on the same placement, and they stop at their deadline: the work
not done by then is left undone, ``u_w = min(1, (work needed - work done by the
deadline) / h)``, and the job misses its deadline. A pay-as-you-go job is billed for the
capacity it holds until it stops (``b_p M_p``, at the price of the hour; without a spot
surge, just the work it does). A fixed-price one pays what it was
bought for (its term, or its whole days of a capacity block) and, if it holds the
placement longer (from its start to its finish or its deadline, whichever is first),
the offer's billed hours for that time at the same price per billed hour: catch-up
inside a reserved term or a booked day is already paid for, and is not paid again.

**Performance error** (the ``perf_error`` shock, on unless the scenario file says
``perf_error: false``). The throughput each placement was planned on is an estimate;
in a sample it runs at ``s_p = exp(sigma_p Z_k)`` of it, ``sigma_p = log(1 + band) / 1.2816``
from the estimate's 80% error band (:mod:`arbiter.perf.bands`) and one standard normal
``Z_k`` per platform ``k`` per sample, shared by every placement on that platform. A
service delivers ``min(1, s_p c_p(t))`` of its rate (a faster chip cannot make up for
another placement); a job needs ``1 / s_p`` times its hours of full capacity, so a slow
chip runs longer and may miss its deadline, and a fast one finishes early and bills
less if pay-as-you-go. Estimates the user measured carry no band and are not sampled.

Work left undone costs ``penalty`` times what the plan spends on that workload, per unit
of work (a price for emergency capacity or lost business), in place of running it. The
plan's platform enablement is paid in every sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.spot import restart_load
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import FleetSolution, Placed
from arbiter.optimize.options import HOURS_PER_WEEK, PAY_AS_YOU_GO, deadline_hours
from arbiter.perf.bands import sigma_of
from arbiter.risk.concentration import spend_weights, work_shares
from arbiter.scenarios.perf_error import platform_normals
from arbiter.scenarios.sampling import Samples

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CAPACITY_SHOCKS = (ShockKind.SUPPLY_CUT, ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP)
UNMET = 1e-9  # shares below this count as met


@dataclass(frozen=True, slots=True)
class PlanArrays:
    """A plan as arrays over its placements (``P``) and workloads (``W``), with which
    shock selects which placement (``S x P``) and which workload (``S x W``)."""

    usd: FloatArray  # P: compute spend
    payg: BoolArray  # P
    block: BoolArray  # P: a capacity block (billed by the whole day)
    billed_hours: FloatArray  # P: the hours ``usd`` pays for
    hours: FloatArray  # P
    start_hours: FloatArray  # P: when the placement starts (a job's platform lead time)
    surge_base: FloatArray  # P: r R on spot placements, 0 elsewhere
    workload: IntArray  # P
    work_share: FloatArray  # P
    serve: BoolArray  # W
    window_hours: FloatArray  # W
    deadline_hours: FloatArray  # W (inf: none)
    spend_usd: FloatArray  # W
    weight: FloatArray  # W: share of compute spend
    selects: BoolArray  # S x P
    selects_workload: BoolArray  # S x W
    enablement_usd: float
    platform: tuple[str, ...] = ()  # P: the software platform of each placement's chip
    perf_sigma: FloatArray | None = None  # P: lognormal sigma of its throughput error


def plan_arrays(fleet: Fleet, solution: FleetSolution, scenarios: ScenarioSet) -> PlanArrays:
    placed: Sequence[Placed] = solution.placed
    n_w = len(fleet.workloads)
    workload = np.array([p.option.workload for p in placed], dtype=np.int64)
    usd = np.array([p.usd for p in placed], dtype=np.float64)
    spend = np.bincount(workload, weights=usd, minlength=n_w).astype(np.float64)
    weights = spend_weights(placed)
    window = np.zeros(n_w)
    for p in placed:
        window[p.option.workload] = max(window[p.option.workload], p.option.hours)
    offers = [p.option.offer for p in placed]
    vendors = [p.option.estimate.vendor for p in placed]
    selects = np.array(
        [
            [
                not s.kind.acts_on_workloads
                and s.selector.matches_offer(v, o.provider, o.region, o.accelerator)
                for o, v in zip(offers, vendors, strict=True)
            ]
            for s in scenarios.shocks
        ],
        dtype=bool,
    ).reshape(len(scenarios.shocks), len(placed))
    selects_workload = np.array(
        [
            [
                s.kind.acts_on_workloads and s.selector.matches_workload(w.name, w.kind)
                for w in fleet.workloads
            ]
            for s in scenarios.shocks
        ],
        dtype=bool,
    ).reshape(len(scenarios.shocks), n_w)
    payg = np.array([o.price_regime in PAY_AS_YOU_GO for o in offers], dtype=bool)
    block = np.array([o.price_regime is PriceRegime.CAPACITY_BLOCK for o in offers], dtype=bool)
    lead = {
        s.platform.value: s.lead_weeks * HOURS_PER_WEEK
        for s in fleet.platforms
        if not s.enabled and s.platform in solution.enabled
    }
    return PlanArrays(
        usd=usd,
        payg=payg,
        block=block,
        billed_hours=np.array([p.option.billed_hours for p in placed], dtype=np.float64),
        hours=np.array([p.option.hours for p in placed], dtype=np.float64),
        start_hours=np.array(
            [0.0 if p.option.serve else lead.get(p.option.estimate.platform, 0.0) for p in placed],
            dtype=np.float64,
        ),
        surge_base=np.array([restart_load(o) for o in offers], dtype=np.float64),
        workload=workload,
        work_share=np.array(work_shares(placed), dtype=np.float64),
        serve=np.array([isinstance(w.job, ServeJob) for w in fleet.workloads], dtype=bool),
        window_hours=window,
        deadline_hours=np.array(
            [d if (d := deadline_hours(w)) is not None else np.inf for w in fleet.workloads]
        ),
        spend_usd=spend,
        weight=np.array([weights.get(w, 0.0) for w in range(n_w)], dtype=np.float64),
        selects=selects,
        selects_workload=selects_workload,
        enablement_usd=solution.enablement_usd,
        platform=tuple(p.option.estimate.platform for p in placed),
        perf_sigma=np.array(
            [sigma_of(p.option.estimate.error_band_share) for p in placed], dtype=np.float64
        ),
    )


def perf_speed(pa: PlanArrays, n: int, seed: np.random.SeedSequence) -> FloatArray | None:
    """The ``perf_error`` shock: each placement's throughput as a share of its estimate,
    ``exp(sigma_p Z_k)`` with one standard normal ``Z_k`` per platform ``k`` per sample
    (:func:`arbiter.scenarios.perf_error.platform_normals`), shared by every placement on
    it; ``P x n``. None when no placement has a band (nothing to sample)."""
    sigma = pa.perf_sigma
    if sigma is None or not len(sigma) or not (sigma > 0).any():
        return None
    names = sorted(set(pa.platform))
    z = platform_normals(names, n, seed)
    row = np.array([names.index(p) for p in pa.platform], dtype=np.int64)
    return np.asarray(np.exp(sigma[:, None] * z[row]), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One plan over ``n`` samples."""

    cost_usd: FloatArray  # n: compute + enablement + work left undone
    unmet_usd: FloatArray  # n
    unmet_share: FloatArray  # n: spend-weighted share of the plan's work left undone
    missed_deadlines: IntArray  # n
    unmet: FloatArray  # W x n: share of each workload's work left undone
    hit_day: FloatArray  # W x n: first day a shock may take its work (inf: none)


def overlap(
    start_days: FloatArray, duration_days: FloatArray, window_days: FloatArray
) -> FloatArray:
    """Share of each window ``[0, window]`` (axis 1) a shock ``[start, start + duration]``
    (axis 0, samples on axis 2) covers: ``S x P x n``."""
    w = window_days[None, :, None]
    return covered(start_days, duration_days, np.zeros_like(w), w) / np.where(w > 0, w, 1.0)


def covered(
    start_days: FloatArray, duration_days: FloatArray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Days of ``[lo, hi]`` a shock ``[start, start + duration]`` covers, ``S x P x n`` for
    shocks ``S x n`` and bounds broadcasting against ``1 x P x n``."""
    start = start_days[:, None, :]
    end = start + duration_days[:, None, :]
    return np.asarray(
        np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0.0, None), dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class Timeline:
    """Each sample's hours cut where a shock starts or ends: segment ``k`` runs from
    ``start[k]`` to ``end[k]`` (the last one to ``inf``); ``capacity``, ``paid`` and
    ``price`` are ``c_p``, ``b_p`` and ``M_p`` on each segment, ``P x K x n``."""

    start: FloatArray  # K x n
    end: FloatArray  # K x n
    capacity: FloatArray  # P x K x n: the share of the work rate left
    paid: FloatArray  # P x K x n: the share of the placement still there to be billed
    price: FloatArray  # P x K x n

    def integral(self, f: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """The integral of ``f`` (``P x K x n``, >= 0) over ``[lo, hi]`` (``P x n``)."""
        return np.asarray(times(f, self.lengths(lo, hi)).sum(axis=1), dtype=np.float64)

    def lengths(self, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """Hours of each segment inside ``[lo, hi]`` (``P x n``): ``P x K x n``."""
        a = np.maximum(self.start[None], lo[:, None, :])
        b = np.minimum(self.end[None], hi[:, None, :])
        return np.where(b > a, np.where(b > a, b, 0.0) - np.where(b > a, a, 0.0), 0.0)


def times(f: FloatArray, hours: FloatArray) -> FloatArray:
    """``f * hours`` with ``0 * inf = 0``: nothing accrues on an endless segment at 0."""
    finite = np.isfinite(hours)
    return np.where(finite, f * np.where(finite, hours, 0.0), np.where(f > 0, np.inf, 0.0))


def timeline(
    scenarios: ScenarioSet,
    samples: Samples,
    selects: BoolArray,
    payg: BoolArray,
    surge_base: FloatArray,
) -> Timeline:
    """The capacity and price over time, for every sample, of placements (or options)
    ``P`` that each shock selects (``selects``, ``S x P``), pay-as-you-go or not, with their
    spot surge base ``r R`` (0 off spot)."""
    n_s, n = samples.occurred.shape
    n_p = len(payg)
    occurred = samples.occurred
    start = np.where(occurred, samples.start_days * 24.0, 0.0)
    end = np.where(occurred, (samples.start_days + samples.duration_days) * 24.0, 0.0)
    # an inf cut (a shock to the end of the horizon) only starts empty segments
    cuts = np.sort(np.concatenate([np.zeros((1, n)), start, end]), axis=0)  # K x n
    seg_end = np.concatenate([cuts[1:], np.full((1, n), np.inf)])
    active = (
        occurred[:, None, :] & (start[:, None, :] <= cuts[None]) & (cuts[None] < end[:, None, :])
    )
    kinds = [s.kind for s in scenarios.shocks]
    mag = samples.magnitude
    base = surge_base[None, :, None]
    loss = np.zeros((n_s, n_p, n))
    gone = np.zeros((n_s, n_p, n))  # the part of the loss that is not there to be billed
    shift = np.zeros((n_s, n_p, n))
    for s, kind in enumerate(kinds):
        if kind is ShockKind.SUPPLY_CUT:
            loss[s] = gone[s] = 1.0 - mag[s][None, :]
        elif kind in (ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP):
            loss[s] = gone[s] = 1.0
        elif kind is ShockKind.SPOT_SURGE:  # restarts are billed time
            m = np.maximum(mag[s], 1.0)[None, None, :]
            loss[s] = np.where(base > 0, 1.0 - (1.0 + base) / (1.0 + m * base), 0.0)[0]
        elif kind is ShockKind.PRICE_SHIFT:
            shift[s] = np.where(payg[:, None], mag[s][None, :] - 1.0, 0.0)
    sel = selects[:, :, None]
    on = active.astype(np.float64)
    lost = np.einsum("spn,skn->pkn", np.where(sel, loss, 0.0), on)
    missing = np.einsum("spn,skn->pkn", np.where(sel, gone, 0.0), on)
    price = np.einsum("spn,skn->pkn", np.where(sel, shift, 0.0), on)
    return Timeline(
        start=cuts,
        end=seg_end,
        capacity=1.0 - np.minimum(lost, 1.0),
        paid=1.0 - np.minimum(missing, 1.0),
        price=np.maximum(1.0 + price, 0.0),
    )


def job_run(
    tl: Timeline, start: FloatArray, work: FloatArray, deadline: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For jobs started at ``start`` (``P``) needing ``work`` hours of full capacity
    (``P x n``), stopped at ``deadline`` (``P``): the work done by the deadline and the
    hour they stop (at the finish or the deadline, whichever comes first; without either,
    at the end of their last hour of work), each ``P x n``, and the hours of each segment
    they hold the placement in, ``P x K x n``."""
    lo = np.broadcast_to(start[:, None], work.shape)
    seg = tl.lengths(lo, np.full(work.shape, np.inf))  # P x K x n
    cap = tl.capacity
    done = times(cap, seg)  # work done in each segment
    before = np.concatenate([np.zeros_like(done[:, :1]), np.cumsum(done, axis=1)[:, :-1]], axis=1)
    begin = np.maximum(tl.start[None], lo[:, None, :])
    need = work[:, None, :]
    ends = (cap > 0) & (before < need) & (before + done >= need)
    with np.errstate(invalid="ignore"):
        at = begin + np.where(ends, need - before, 0.0) / np.where(cap > 0, cap, 1.0)
    finish = np.where(ends, at, np.inf).min(axis=1)
    last = np.where((cap > 0) & (seg > 0), begin + seg, lo[:, None, :]).max(axis=1)
    stop = np.minimum(finish, deadline[:, None])
    stop = np.maximum(np.where(np.isfinite(stop), stop, last), lo)
    due = np.broadcast_to(deadline[:, None], work.shape)
    by_deadline = np.minimum(tl.integral(cap, lo, np.maximum(due, lo)), work)
    return by_deadline, stop, tl.lengths(lo, stop)


def placement_types(pa: PlanArrays, speed: FloatArray | None = None) -> tuple[IntArray, IntArray]:
    """Placements that every shock treats alike: the same shocks select them, with the
    same regime, hours, billed hours, start, spot surge base, and a workload of the same
    kind, deadline, window and demand shocks (and, with a ``speed``, the same throughput
    error in every sample). Their outcomes per dollar are the same, so each type is
    evaluated once: ``(type of each placement, one placement of each type)``."""
    w = pa.workload
    key = np.column_stack(
        [
            *([] if speed is None else [speed]),
            pa.selects.T.astype(np.float64),
            pa.selects_workload.T[w].astype(np.float64),
            pa.payg,
            pa.block,
            pa.billed_hours,
            pa.hours,
            pa.start_hours,
            pa.surge_base,
            pa.serve[w],
            pa.deadline_hours[w],
            pa.window_hours[w],
        ]
    )
    if not len(key):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, first, kind = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return np.asarray(kind, dtype=np.int64).ravel(), np.asarray(first, dtype=np.int64)


def without_recourse(
    pa: PlanArrays, scenarios: ScenarioSet, samples: Samples, speed: FloatArray | None = None
) -> Outcome:
    """The module docstring's arithmetic for every sample at once, each placement type of
    :func:`placement_types` once (its cost per dollar of plan, its work lost or late).
    ``speed`` (``P x n``, from :func:`perf_speed`) is each placement's throughput as a share
    of its estimate: a service delivers ``min(1, speed x capacity)``, a job needs
    ``1 / speed`` times its hours; None leaves the arithmetic exactly as without it."""
    kinds = [s.kind for s in scenarios.shocks]
    n_s, n = samples.occurred.shape
    n_w = len(pa.serve)
    kind_of, first = placement_types(pa, speed)
    n_t = len(first)
    # a type stands in as a placement of its first member, at one dollar
    tw = pa.workload[first]
    payg, hours, billed_hours = pa.payg[first], pa.hours[first], pa.billed_hours[first]
    selects = pa.selects[:, first]
    tl = timeline(scenarios, samples, selects, payg, pa.surge_base[first])

    # demand shifts over each workload's window
    won = samples.occurred[:, None, :] & pa.selects_workload[:, :, None]  # S x W x n
    wov = np.where(
        won, overlap(samples.start_days, samples.duration_days, pa.window_hours / 24.0), 0.0
    )
    demand = np.zeros((n_s, 1, n))
    for s, kind in enumerate(kinds):
        if kind is ShockKind.DEMAND_SHIFT:
            demand[s] = samples.magnitude[s][None, :] - 1.0
    extra = np.maximum((demand * wov).sum(axis=0), 0.0)  # W x n

    # services: capacity lost over the period, pay-as-you-go billed as used
    zero = np.zeros((n_t, n))
    period = np.broadcast_to(hours[:, None], zero.shape)
    used = tl.integral(tl.capacity, zero, period)
    delivered = used / np.where(period > 0, period, 1.0)  # T x n
    if speed is not None:
        delivered = np.minimum(speed[first] * delivered, 1.0)
    lost = 1.0 - delivered
    per_hour = 1.0 / np.maximum(hours, 1e-9)[:, None]
    serve_factor = np.where(
        payg[:, None], per_hour * tl.integral(tl.paid * tl.price, zero, period), 1.0
    )

    # jobs: caught up on the same placement, stopped at the deadline
    job_t = ~pa.serve[tw]  # T
    needed = hours[:, None] * (1.0 + extra[tw])  # T x n
    if speed is not None:
        needed = needed / speed[first]
    done, stop, seg = job_run(tl, pa.start_hours[first], needed, pa.deadline_hours[tw])
    gap = np.maximum(needed - done, 0.0)
    if speed is not None:  # hours of capacity at speed s do s times the planned work
        gap = gap * speed[first]
    late = np.minimum(gap / np.maximum(hours, 1e-9)[:, None], 1.0)
    held = stop - pa.start_hours[first][:, None]
    # a fixed-price placement keeps what it was bought for, and buys more if held longer
    billed = np.maximum(
        billed_hours[:, None],
        np.where(pa.block[first][:, None], np.ceil(held / 24.0 - 1e-9) * 24.0, held),
    )
    job_factor = np.where(
        payg[:, None],
        per_hour * times(tl.paid * tl.price, seg).sum(axis=1),
        billed / np.maximum(billed_hours, 1e-9)[:, None],
    )
    factor = np.where(job_t[:, None], job_factor, serve_factor)  # T x n: cost per dollar

    # back to placements and workloads: sums over a type are products with its members
    usd_of_type = np.bincount(kind_of, weights=pa.usd, minlength=n_t)
    job_p = job_t[kind_of]
    share = np.zeros((n_w, n_t))
    np.add.at(share, (pa.workload, kind_of), np.where(job_p, 0.0, pa.work_share))
    count = np.zeros((n_w, n_t))
    np.add.at(count, (pa.workload, kind_of), job_p.astype(np.float64))
    lost_work = share @ np.where(job_t[:, None], 0.0, lost)
    job_late = count @ np.where(job_t[:, None], late, 0.0)
    serve = pa.serve[:, None]
    unmet = np.where(serve, np.minimum(lost_work + extra, 1.0), job_late)
    missed = (~serve & (unmet > UNMET)).sum(axis=0)

    unmet_usd = (scenarios.penalty * pa.spend_usd[:, None] * unmet).sum(axis=0)
    cost = usd_of_type @ factor + unmet_usd + pa.enablement_usd

    # a price shift takes no work away: the first shock that can is the hit
    takes = np.array([k is not ShockKind.PRICE_SHIFT for k in kinds], dtype=bool)
    on = samples.occurred[:, None, :] & selects[:, :, None]  # S x T x n
    hit = np.where(on & takes[:, None, None], samples.start_days[:, None, :], np.inf).min(
        axis=0
    )  # T x n
    if speed is not None:  # a slower chip takes work from day 0
        hit = np.where(speed[first] < 1.0, 0.0, hit)
    hit_day = np.full((n_w, n), np.inf)
    for t in range(n_t):  # each type's earliest hit, to the workloads it holds
        members = np.unique(pa.workload[kind_of == t])
        hit_day[members] = np.minimum(hit_day[members], hit[t])
    whit = np.where(won, samples.start_days[:, None, :], np.inf).min(axis=0)
    hit_day = np.minimum(hit_day, whit)
    return Outcome(
        cost_usd=cost,
        unmet_usd=unmet_usd,
        unmet_share=(pa.weight[:, None] * unmet).sum(axis=0),
        missed_deadlines=missed.astype(np.int64),
        unmet=unmet,
        hit_day=hit_day,
    )
