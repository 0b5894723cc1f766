"""Replay a spot job over windows of availability traces under a policy.

A **window** ``(trace index, start reading)`` submits the job at that reading. Time runs in
ticks of the trace's gap ``g``; each tick a policy picks idle, spot (only where spot is
available at that reading) or on-demand, for the whole tick. The rules of the replay:

* every start of a run (from idle, after a preemption, on a switch between spot and
  on-demand, or between sites) first pays ``restart_h`` (plus the move between sites), during
  which the job is billed and makes no progress; progress counts only after it, at the
  site's speed;
* spot that stops being available at a reading preempts the job: it goes idle and, when the
  job has ``checkpoint_h``, loses the progress since its last checkpoint (checkpoints at
  every multiple of ``checkpoint_h`` of progress); a stop the policy chooses checkpoints
  first and loses nothing;
* the job is billed per chip-hour at the price of what it runs on, the last tick only up to
  the moment the work is done; finishing after ``deadline_h`` is a miss (the job then runs
  on-demand until done, and that is billed too).

Windows of different gaps are simulated in separate batches; within a batch every window
advances together, one NumPy step per tick. ``optimal`` is the hindsight optimum of
:mod:`arbiter.spotsim.optimal`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import InputError
from arbiter.spotsim.job import SpotJob
from arbiter.spotsim.optimal import optimal_costs
from arbiter.spotsim.policies import (
    EPS_H,
    IDLE,
    ON_DEMAND,
    RECENT_H,
    RULES,
    SPOT,
    TickView,
    WindowState,
)
from arbiter.spotsim.sites import site_batch
from arbiter.spotsim.traces import Trace

POLICIES = ("od", "greedy", "up", "arbiter", "optimal")
"""Every policy :func:`simulate` runs, in the order reports list them."""

GRID_STEP_H = 1.0
"""With ``count=None``, :func:`windows` starts a window every hour (rounded to readings)."""


@dataclass(frozen=True, slots=True)
class Outcomes:
    """One entry per window: what the policy paid and when the job finished."""

    policy: str
    trace: npt.NDArray[np.int64]
    start_h: npt.NDArray[np.float64]
    cost_usd: npt.NDArray[np.float64]
    finish_h: npt.NDArray[np.float64]
    missed: npt.NDArray[np.bool_]
    spot_share: npt.NDArray[np.float64]
    switches: npt.NDArray[np.int64]


def horizon_readings(trace: Trace, job: SpotJob) -> int:
    """Readings a window needs ahead of its start: enough to cover the deadline."""
    return max(1, math.ceil(job.deadline_h / trace.gap_h - EPS_H))


def windows(
    traces: Sequence[Trace], job: SpotJob, *, count: int | None, seed: int
) -> list[tuple[int, int]]:
    """Windows ``(trace index, start reading)`` whose deadline falls within their trace.

    ``count=None``: every trace, a start every :data:`GRID_STEP_H` hours (at least every
    reading). Otherwise ``count`` windows drawn with ``numpy.random.default_rng(seed)``: a
    trace uniformly among those long enough, then a start uniformly among its valid starts.
    Sorted by trace then start; the same seed gives the same windows.
    """
    valid = [len(t.available) - horizon_readings(t, job) for t in traces]
    usable = [i for i, v in enumerate(valid) if v >= 0]
    if not usable:
        raise InputError(
            f"no trace covers the deadline of {job.deadline_h:g} h",
            field="deadline_h",
            valid="a deadline shorter than the longest trace",
        )
    if count is None:
        out = []
        for i in usable:
            step = max(1, round(GRID_STEP_H / traces[i].gap_h))
            out += [(i, s) for s in range(0, valid[i] + 1, step)]
        return out
    if count < 1:
        raise InputError(f"count must be at least 1, got {count}", field="count", valid="1, 2, ...")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(usable), size=count)
    fractions = rng.random(count)
    out = []
    for p, f in zip(picks, fractions, strict=True):
        i = usable[int(p)]
        out.append((i, min(valid[i], int(f * (valid[i] + 1)))))
    return sorted(out)


def simulate(
    job: SpotJob, traces: Sequence[Trace], policy: str, windows: Sequence[tuple[int, int]]
) -> Outcomes:
    """The outcome of ``policy`` (one of :data:`POLICIES`) on every window."""
    if policy not in POLICIES:
        raise InputError(f"unknown policy {policy!r}", field="policy", valid=", ".join(POLICIES))
    n = len(windows)
    for w, (ti, start) in enumerate(windows):
        if not (0 <= ti < len(traces)) or not (0 <= start < len(traces[ti].available)):
            raise InputError(f"window {(ti, start)} is outside the traces", field=f"windows[{w}]")
    trace_ix = np.array([w[0] for w in windows], dtype=np.int64)
    start_h = np.array([w[1] * traces[w[0]].gap_h for w in windows], dtype=np.float64)
    cost = np.zeros(n)
    finish = np.zeros(n)
    spot_share = np.zeros(n)
    switches = np.zeros(n, dtype=np.int64)
    gaps = np.array([traces[w[0]].gap_s for w in windows])
    for gap in np.unique(gaps):
        rows = np.flatnonzero(gaps == gap).astype(np.int64)
        if policy == "optimal":
            c, f, s, k = optimal_costs(job, traces, windows, rows)
        else:
            c, f, s, k = _replay(job, traces, windows, rows, policy)
        cost[rows], finish[rows], spot_share[rows], switches[rows] = c, f, s, k
    return Outcomes(
        policy=policy,
        trace=trace_ix,
        start_h=start_h,
        cost_usd=cost,
        finish_h=finish,
        missed=finish > job.deadline_h + 1e-6,
        spot_share=spot_share,
        switches=switches,
    )


def _replay(
    job: SpotJob,
    traces: Sequence[Trace],
    windows: Sequence[tuple[int, int]],
    rows: npt.NDArray[np.int64],
    policy: str,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    gap_h = traces[windows[int(rows[0])][0]].gap_h
    late_h = (job.compute_h + job.restart_h) * 2 + max((o.move_h for o in job.options), default=0)
    ticks = math.ceil((job.deadline_h + late_h) / gap_h) + 2
    lookback = math.ceil(RECENT_H / gap_h)
    batch = site_batch(
        job,
        traces,
        windows,
        rows,
        ticks=ticks,
        lookback=lookback,
        with_options=policy == "arbiter",
    )
    rule = RULES[policy]
    n = len(rows)
    idx = np.arange(n)
    state = WindowState(
        mode=np.full(n, IDLE, dtype=np.int64),
        site=np.zeros(n, dtype=np.int64),
        progress_h=np.zeros(n),
        locked=np.zeros(n, dtype=np.bool_),
        overhead_h=np.zeros(n),
    )
    cost = np.zeros(n)
    spot_h = np.zeros(n)
    run_h = np.zeros(n)
    starts = np.zeros(n, dtype=np.int64)
    finish = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    chips = job.chips
    ckpt = job.checkpoint_h
    per_work = batch.spot_usd_per_hour / batch.speed
    any_site = batch.available.any(axis=1)
    seen = np.concatenate([np.zeros((n, 1)), np.cumsum(any_site, axis=1)], axis=1)
    read = np.concatenate([np.zeros((n, 1)), np.cumsum(batch.known, axis=1)], axis=1)
    for k in range(ticks):
        if done.all():
            break
        t_h = k * gap_h
        avail = batch.available[:, :, lookback + k]
        # preemption: spot gone at this reading
        pre = ~done & (state.mode == SPOT) & ~avail[idx, state.site]
        if pre.any():
            if ckpt is not None:
                kept = np.floor(state.progress_h / ckpt + EPS_H) * ckpt
                state.progress_h = np.where(
                    pre, np.minimum(kept, state.progress_h), state.progress_h
                )
            state.mode = np.where(pre, IDLE, state.mode)
            state.overhead_h = np.where(pre, 0.0, state.overhead_h)
        if ckpt is not None:
            saved = np.floor(state.progress_h / ckpt + EPS_H) * ckpt
            rem_risk = job.compute_h - saved
        else:
            rem_risk = job.compute_h - state.progress_h
        readings = read[:, lookback + k] - read[:, k]
        recent = np.divide(
            seen[:, lookback + k] - seen[:, k], readings, out=np.ones(n), where=readings > 0
        )
        view = TickView(
            t_h=t_h,
            gap_h=gap_h,
            compute_h=job.compute_h,
            deadline_h=job.deadline_h,
            restart_h=job.restart_h,
            rem_risk_h=rem_risk,
            available=avail,
            recent_rate=recent,
            spot_cost_per_work=per_work,
            move_h=batch.move_h,
        )
        act, site = rule(state, view)
        late = t_h >= job.deadline_h - EPS_H
        if late:
            act = np.full(n, ON_DEMAND, dtype=np.int64)
        site = np.where(act == ON_DEMAND, 0, site)
        act = np.where((act == SPOT) & ~avail[idx, site], IDLE, act)
        act = np.where(done, IDLE, act)
        running = act != IDLE
        start = running & ((act != state.mode) | (site != state.site))
        moved = start & (site != state.site)
        move = np.where(
            moved, np.maximum(batch.move_h[idx, site], batch.move_h[idx, state.site]), 0.0
        )
        overhead = np.where(start, job.restart_h + move, state.overhead_h)
        starts += start
        state.mode = act
        state.site = np.where(running, site, state.site)
        price = (
            np.where(act == SPOT, batch.spot_usd_per_hour[idx, site], job.on_demand_usd_per_hour)
            * chips
        )
        speed = np.where(act == SPOT, batch.speed[idx, site], 1.0)
        pay = np.minimum(overhead, gap_h)
        state.overhead_h = np.where(running, overhead - pay, 0.0)
        gain = (gap_h - pay) * speed
        need = job.compute_h - state.progress_h
        fin = running & (gain >= need - EPS_H)
        used = np.where(fin, pay + np.maximum(need, 0.0) / speed, gap_h)
        used = np.where(running, used, 0.0)
        state.progress_h = np.where(
            running, np.where(fin, job.compute_h, state.progress_h + gain), state.progress_h
        )
        cost += used * np.where(running, price, 0.0)
        spot_h += np.where(act == SPOT, used, 0.0)
        run_h += used
        finish = np.where(fin, t_h + used, finish)
        done |= fin
    share = np.divide(spot_h, run_h, out=np.zeros(n), where=run_h > 0)
    return cost, finish, share, np.maximum(starts - 1, 0)
