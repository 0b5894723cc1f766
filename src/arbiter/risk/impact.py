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

**How it is computed.** Placements every shock treats alike are evaluated once, as a
placement type (:func:`placement_types`), and workloads alike once, as a workload type
(:func:`workload_types`). A placement type in a sample where no shock that can change it
(:func:`can_change`: a capacity shock that selects it, a spot surge on spot, a price shift
on pay-as-you-go) starts before its reach (a service's period; a job's stop at full
capacity) runs at full capacity at the list price, and its figures are closed forms. The
other (type, sample) pairs go on a time line cut only where their own shocks start and
end. Putting every pair on the time line (``shortcut=False``) gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.domain.units import HOURS_PER_DAY
from arbiter.risk.plan_arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    PlanArrays,
    Speed,
    perf_speed,
    plan_arrays,
)
from arbiter.risk.timeline import Timeline, covered, cut, effects, job_run, times
from arbiter.risk.types import WorkloadTypes, placement_types, workload_types
from arbiter.scenarios.sampling import Samples

__all__ = [  # the risk arithmetic's face: what it computes and what it is computed on
    "CAPACITY_SHOCKS",
    "UNMET",
    "Outcome",
    "PlanArrays",
    "Speed",
    "WorkloadTypes",
    "can_change",
    "perf_speed",
    "placement_types",
    "plan_arrays",
    "without_recourse",
    "workload_types",
]

CAPACITY_SHOCKS = (ShockKind.SUPPLY_CUT, ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP)
UNMET = 1e-9  # shares below this count as met


@dataclass(frozen=True, slots=True)
class Outcome:
    """One plan over ``n`` samples. Per-workload results are held once per workload type
    (:func:`workload_types`: workloads every shock treats alike); :attr:`unmet` and
    :attr:`hit_day` give them for every workload."""

    cost_usd: FloatArray  # n: compute + enablement + work left undone
    unmet_usd: FloatArray  # n
    unmet_share: FloatArray  # n: spend-weighted share of the plan's work left undone
    missed_deadlines: IntArray  # n
    unmet_by_type: FloatArray  # V x n: share of each workload type's work left undone
    hit_day_by_type: FloatArray  # V x n: first day a shock may take its work (inf: none)
    workload_type: IntArray  # W: the type of each workload

    @property
    def unmet(self) -> FloatArray:
        """``W x n``: the share of each workload's work left undone."""
        return self.unmet_by_type[self.workload_type]

    @property
    def hit_day(self) -> FloatArray:
        """``W x n``: the first day a shock may take each workload's work (inf: none)."""
        return self.hit_day_by_type[self.workload_type]


def can_change(
    scenarios: ScenarioSet, selects: BoolArray, payg: BoolArray, surge_base: FloatArray
) -> BoolArray:
    """``S x P``: the shocks that can change what a placement does or costs: a capacity
    shock any it selects, a spot surge only a spot placement, a price shift only a
    pay-as-you-go one."""
    out = selects.copy()
    for s, shock in enumerate(scenarios.shocks):
        if shock.kind is ShockKind.SPOT_SURGE:
            out[s] &= surge_base > 0
        elif shock.kind is ShockKind.PRICE_SHIFT:
            out[s] &= payg
    return out


@dataclass(frozen=True, slots=True)
class _Params:
    """Placement types' figures shaped to broadcast against the arrays they meet:
    ``T x 1`` against types by samples, ``1 x m`` against (type, sample) pairs."""

    payg: BoolArray
    block: BoolArray
    hours: FloatArray
    billed_hours: FloatArray
    start_hours: FloatArray
    deadline_hours: FloatArray
    surge_base: FloatArray

    def rows(self, t: IntArray) -> _Params:
        """Types ``t`` as rows (``len(t) x 1``)."""
        return _Params(*(getattr(self, f)[t][:, None] for f in _Params.__slots__))

    def pairs(self, t: IntArray) -> _Params:
        """Type ``t[j]`` in column ``j`` (``1 x len(t)``)."""
        return _Params(*(getattr(self, f)[t][None, :] for f in _Params.__slots__))


def _serve(
    p: _Params, tl: Timeline | None, speed: FloatArray | None, shape: tuple[int, int]
) -> tuple[FloatArray, FloatArray]:
    """Services (work lost, cost per dollar): on a time line, or with ``tl`` None at full
    capacity and the list price over their whole period."""
    period = np.broadcast_to(p.hours, shape)
    if tl is None:
        delivered = np.ones(shape)
        paid_hours = period
    else:
        zero = np.zeros(shape)
        delivered = tl.integral(tl.capacity, zero, period) / np.where(period > 0, period, 1.0)
        paid_hours = tl.integral(tl.billed, zero, period)
    if speed is not None:
        delivered = np.minimum(speed * delivered, 1.0)
    per_hour = 1.0 / np.maximum(p.hours, 1e-9)
    return 1.0 - delivered, np.where(p.payg, per_hour * paid_hours, 1.0)


def _job(
    p: _Params, tl: Timeline | None, needed: FloatArray, speed: FloatArray | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Jobs needing ``needed`` hours of full capacity (share of the work late, cost per
    dollar, the hour they stop): on a time line, or with ``tl`` None at full capacity and
    the list price from their start."""
    lo, due = p.start_hours, p.deadline_hours
    free = bool(np.isinf(due).all())  # no deadline: nothing is ever late
    if tl is None:
        stop = lo + needed if free else np.maximum(np.minimum(lo + needed, due), lo)
        held = paid_hours = stop - lo
        done = needed if free else np.minimum(np.maximum(due - lo, 0.0), needed)
    else:
        done, stop, seg = job_run(tl, lo, needed, due)
        held, paid_hours = stop - lo, times(tl.billed, seg).sum(axis=1)
    if free:
        late = np.zeros(np.broadcast_shapes(needed.shape, lo.shape))
    else:
        gap = np.maximum(needed - done, 0.0)
        if speed is not None:  # hours of capacity at speed s do s times the planned work
            gap = gap * speed
        late = np.minimum(gap / np.maximum(p.hours, 1e-9), 1.0)
    payg = billed = None  # cost per dollar where pay-as-you-go, and where fixed-price
    if p.payg.any():
        payg = paid_hours / np.maximum(p.hours, 1e-9)
    if not p.payg.all():
        # a fixed-price placement keeps what it was bought for, and buys more if held
        # longer (a capacity block by the whole day)
        if p.block.any():
            held = np.where(p.block, np.ceil(held / HOURS_PER_DAY - 1e-9) * HOURS_PER_DAY, held)
        billed = np.maximum(p.billed_hours, held) / np.maximum(p.billed_hours, 1e-9)
    if billed is None:
        cost = payg
    elif payg is None:
        cost = billed
    else:
        cost = np.where(p.payg, payg, billed)
    return late, np.asarray(cost, dtype=np.float64), stop


def demand_extra(
    pa: PlanArrays, wt: WorkloadTypes, scenarios: ScenarioSet, samples: Samples
) -> FloatArray:
    """``V x n``: each workload type's demand rise, ``max(0, sum_s (demand_factor - 1) ov)``
    over the demand shifts that select it, ``ov`` the share of its window one covers."""
    rise = np.zeros((len(wt.first), samples.n))
    for s, shock in enumerate(scenarios.shocks):
        chosen = np.flatnonzero(pa.selects_workload[s, wt.first])
        if shock.kind is not ShockKind.DEMAND_SHIFT or not len(chosen):
            continue
        window = (pa.window_hours[wt.first[chosen]] / HOURS_PER_DAY)[:, None]
        share = covered(
            samples.start_days[s][None, :], samples.duration_days[s][None, :], 0.0, window
        ) / np.where(window > 0, window, 1.0)
        rise[chosen] += np.where(
            samples.occurred[s][None, :], (samples.magnitude[s] - 1.0)[None, :] * share, 0.0
        )
    return np.asarray(np.maximum(rise, 0.0), dtype=np.float64)


def without_recourse(
    pa: PlanArrays,
    scenarios: ScenarioSet,
    samples: Samples,
    speed: Speed | None = None,
    *,
    shortcut: bool = True,
) -> Outcome:
    """The module docstring's arithmetic for every sample at once, each placement type of
    :func:`placement_types` once (its cost per dollar of plan, its work lost or late), and
    each workload type of :func:`workload_types` once. ``speed`` (from
    :func:`perf_speed`) is each placement's throughput as a share of its estimate: a
    service delivers ``min(1, speed x capacity)``, a job needs ``1 / speed`` times its
    hours; None leaves the arithmetic exactly as without it.

    A type in a sample where no shock that can change it (:func:`can_change`) starts
    before its reach (a service's period; a job's stop at full capacity) runs at full
    capacity at the list price: its figures are closed forms. Only the other (type,
    sample) pairs are put on a time line, each cut only where its own shocks start and
    end (``shortcut=False`` puts every pair there; the result is the same)."""
    n = samples.n
    kind_of, first = placement_types(pa, speed)
    n_t = len(first)
    tw = pa.workload[first]
    wt = workload_types(pa, kind_of, n_t)
    types = _Params(
        payg=pa.payg[first],
        block=pa.block[first],
        hours=pa.hours[first],
        billed_hours=pa.billed_hours[first],
        start_hours=pa.start_hours[first],
        deadline_hours=pa.deadline_hours[tw],
        surge_base=pa.surge_base[first],
    )
    tspeed = None if speed is None else speed.of(first)  # T x n
    extra = demand_extra(pa, wt, scenarios, samples)  # V x n
    extra_of = wt.of[tw]  # T: the workload type of each placement type
    change = can_change(scenarios, pa.selects[:, first], types.payg, types.surge_base)

    lost = np.zeros((n_t, n))  # services: share of the work rate lost
    late = np.zeros((n_t, n))  # jobs: share of the work late
    factor = np.empty((n_t, n))  # cost per dollar of plan
    reach = np.empty((n_t, n))  # the hour a shock must start before to change anything
    serve_t = pa.serve[tw]
    for serve in (True, False):
        rows = np.flatnonzero(serve_t == serve)
        if not len(rows):
            continue
        p = types.rows(rows)
        sp = None if tspeed is None else tspeed[rows]
        if serve:  # a service's whole period
            lost[rows], factor[rows] = _serve(p, None, sp, (len(rows), n))
            reach[rows] = p.hours
            continue
        rise = extra[extra_of[rows]]
        if sp is None and not rise.any():  # the same in every sample: once
            late[rows], factor[rows], reach[rows] = _job(p, None, p.hours, None)
        else:  # a job until it stops
            needed = p.hours * (1.0 + rise)
            late[rows], factor[rows], reach[rows] = _job(
                p, None, needed if sp is None else needed / sp, sp
            )

    # on a time line: the pairs (type, sample) a shock that can change the type starts
    # before its reach, each cut by the shocks that can change it alone
    affected = np.zeros((n_t, n), dtype=bool)
    if not shortcut:
        affected[:] = True
    affected[types.hours <= 0] = True  # no closed form to keep
    for s in range(len(scenarios.shocks)):
        rows, cols = np.flatnonzero(change[s]), np.flatnonzero(samples.occurred[s])
        block = np.ix_(rows, cols)
        affected[block] |= HOURS_PER_DAY * samples.start_days[s, cols][None, :] < reach[block]
    for t, k, tl in _pair_timelines(scenarios, samples, change, types, *np.nonzero(affected)):
        for serve in (True, False):
            sel = serve_t[t] == serve
            if not sel.any():
                continue
            ts, ks = t[sel], k[sel]
            p = types.pairs(ts)
            sp = None if tspeed is None else tspeed[ts, ks][None, :]
            if serve:
                pair_lost, pair_cost = _serve(p, tl.columns(sel), sp, (1, len(ts)))
                lost[ts, ks] = pair_lost[0]
            else:
                needed = p.hours * (1.0 + extra[extra_of[ts], ks][None, :])
                pair_late, pair_cost, _ = _job(
                    p, tl.columns(sel), needed if sp is None else needed / sp, sp
                )
                late[ts, ks] = pair_late[0]
            factor[ts, ks] = pair_cost[0]

    # back to workload types: sums over members are products with its columns (every
    # sum runs down its column alone, so a sample's figures do not depend on the others)
    lost_work = np.asarray(wt.share @ lost, dtype=np.float64)
    job_late = np.asarray(wt.count @ late, dtype=np.float64)
    serve_v = pa.serve[wt.first][:, None]
    unmet = np.where(serve_v, np.minimum(lost_work + extra, 1.0), job_late)
    missed = (np.where(serve_v, 0.0, wt.members[:, None]) * (unmet > UNMET)).sum(axis=0)
    unmet_usd = scenarios.penalty * (wt.spend_usd[:, None] * unmet).sum(axis=0)
    usd_of_type = np.bincount(kind_of, weights=pa.usd, minlength=n_t)
    cost = (usd_of_type[:, None] * factor).sum(axis=0) + unmet_usd + pa.enablement_usd
    return Outcome(
        cost_usd=cost,
        unmet_usd=unmet_usd,
        unmet_share=(wt.weight[:, None] * unmet).sum(axis=0),
        missed_deadlines=np.rint(missed).astype(np.int64),
        unmet_by_type=unmet,
        hit_day_by_type=hit_days(pa, scenarios, samples, first, wt, tspeed),
        workload_type=wt.of,
    )


def _pair_timelines(
    scenarios: ScenarioSet,
    samples: Samples,
    change: BoolArray,
    types: _Params,
    t: IntArray,
    k: IntArray,
) -> list[tuple[IntArray, IntArray, Timeline]]:
    """Type ``t[j]`` in sample ``k[j]`` on its own time line (``1 x m``), cut only by the
    shocks that occurred there and can change it (``change``, ``S x T``): pairs grouped by
    how many there are, ``c``, each group cut by its ``c`` shocks alone."""
    mine = change[:, t] & samples.occurred[:, k]  # S x m
    kinds = [shock.kind for shock in scenarios.shocks]
    loss, gone, shift = effects(
        kinds, samples.magnitude[:, k], types.payg[t][None, :], types.surge_base[t][None, :]
    )  # S x 1 x m
    start = samples.start_days[:, k] * HOURS_PER_DAY
    end = (samples.start_days[:, k] + samples.duration_days[:, k]) * HOURS_PER_DAY
    count = mine.sum(axis=0)
    out = []
    for c in np.unique(count).tolist():
        cols = np.flatnonzero(count == c)
        # each pair's c shocks, in shock order: its row's nonzeros, row by row
        slot = np.nonzero(mine[:, cols].T)[1].reshape(len(cols), c).T  # c x m_c

        def pick(a: FloatArray, cols: IntArray = cols, slot: IntArray = slot) -> FloatArray:
            rows = slot if a.ndim == 2 else slot[:, None, :]
            return np.take_along_axis(a[..., cols], rows, 0)

        occurred = np.ones(slot.shape, dtype=bool)
        tl = cut(occurred, pick(start), pick(end), pick(loss), pick(gone), pick(shift))
        out.append((t[cols], k[cols], tl))
    return out


def hit_days(
    pa: PlanArrays,
    scenarios: ScenarioSet,
    samples: Samples,
    first: IntArray,
    wt: WorkloadTypes,
    tspeed: FloatArray | None,
) -> FloatArray:
    """``V x n``: the first day a shock may take each workload type's work: a shock that
    selects one of its placements (a price shift takes no work), a demand shift that
    selects it, or day 0 when one of its placements runs slower than estimated."""
    n = samples.n
    starts = np.where(samples.occurred, samples.start_days, np.inf)  # S x n
    takes = np.array([s.kind is not ShockKind.PRICE_SHIFT for s in scenarios.shocks], dtype=bool)
    # types the same shocks may hit share their first hit: one row per pattern
    patterns, pattern_of = np.unique(
        (pa.selects[:, first] & takes[:, None]).T, axis=0, return_inverse=True
    )
    pattern_of = np.asarray(pattern_of, dtype=np.int64).ravel()
    by_pattern = np.full((len(patterns), n), np.inf)
    for g, row in enumerate(patterns):
        if row.any():
            by_pattern[g] = starts[row].min(axis=0)
    out = np.full((len(wt.first), n), np.inf)
    for v, held in enumerate(wt.types):
        if len(held):
            out[v] = by_pattern[np.unique(pattern_of[held])].min(axis=0)
            if tspeed is not None:  # a slower chip takes work from day 0
                out[v] = np.where((tspeed[held] < 1.0).any(axis=0), 0.0, out[v])
        chosen = pa.selects_workload[:, wt.first[v]]
        if chosen.any():
            out[v] = np.minimum(out[v], starts[chosen].min(axis=0))
    return out
