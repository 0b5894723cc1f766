"""The hindsight optimum: the cheapest way to finish a window by the deadline, knowing the
whole trace in advance: a lower bound no policy that runs on the window's own trace can
beat. It does not use the job's options, so the ``arbiter`` policy, which may move to
other regions or chips, can cost less than it.

Formulation, per window on its own trace (site 0: the job's prices, speed 1): time in ticks
``k = 0 .. ceil(D / g) - 1`` of ``g`` hours; progress on a grid of ``u = g / RESOLUTION``
hours. The state at a tick boundary is (mode, progress) with mode idle, spot or on-demand;
``V[mode, p]`` is the least cost to be there. Each tick one action, for the whole tick:

* idle: free, progress kept (a chosen stop checkpoints first, so nothing is lost);
* spot (only if spot is available at that reading) or on-demand: billed ``g`` hours at its
  price; progress ``+ RESOLUTION`` units, less ``r = floor(d / u)`` units when the action
  starts a run (from idle or from the other mode).

The job finishes in the tick where progress reaches ``T = floor(C / u)`` units, billed only
for the fraction of the tick it needs, and that moment must not be after ``D``. The answer is
the least finishing cost over all ticks, times ``chips``. A hindsight plan never runs on spot
at a reading where it is unavailable, so it is never preempted and checkpoints never cost it.

Rounding ``d`` and ``C`` down to the grid can only make the optimum cheaper, so it stays a
lower bound; it is exact when ``d``, ``C`` and ``g`` are whole multiples of ``u`` (and
``C >= u``). Each tick only the states from which the deadline can still be met are
updated, a band about ``(D - C) / u`` wide. A window that cannot finish by ``D`` even so
is a miss, priced as on-demand from the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from arbiter.spotsim.job import SpotJob
from arbiter.spotsim.traces import Trace

RESOLUTION = 2
"""Progress grid steps per tick."""

_TOL = 1e-9


def optimal_costs(
    job: SpotJob,
    traces: Sequence[Trace],
    windows: Sequence[tuple[int, int]],
    rows: npt.NDArray[np.int64],
    *,
    resolution: int = RESOLUTION,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    """Cost, finish hour, spot share (not tracked: NaN) and switches (not tracked: -1) of the
    hindsight optimum on the windows ``rows`` (all of one gap)."""
    gap_h = traces[windows[int(rows[0])][0]].gap_h
    ticks = max(1, math.ceil(job.deadline_h / gap_h - _TOL))
    n = len(rows)
    avail = np.zeros((n, ticks), dtype=np.bool_)
    for w, r in enumerate(rows):
        ti, start = windows[int(r)]
        seg = traces[ti].available[start : start + ticks]
        avail[w, : len(seg)] = seg
    unit_h = gap_h / resolution
    target = max(1, math.floor(job.compute_h / unit_h + _TOL))
    restart = math.floor(job.restart_h / unit_h + _TOL)
    step = resolution
    size = target + restart  # index = progress + restart, progress -restart .. target-1
    inf = np.inf
    idle = np.full((n, size), inf)
    spot = np.full((n, size), inf)
    od = np.full((n, size), inf)
    idle[:, restart] = 0.0
    spot_tick = gap_h * job.spot_usd_per_hour
    od_tick = gap_h * job.on_demand_usd_per_hour
    best = np.full(n, inf)
    best_finish = np.full(n, inf)
    levels = np.arange(size) - restart
    top = max(0, size - step)  # only these indices can finish within one tick
    for k in range(ticks):
        limit = min(1.0, (job.deadline_h - k * gap_h) / gap_h + _TOL)
        for price, cont, other, usable in (
            (spot_tick, spot, od, avail[:, k]),
            (od_tick, od, spot, None),
        ):
            fresh = np.minimum(idle[:, top:], other[:, top:])
            for src, base in ((cont[:, top:], levels[top:]), (fresh, levels[top:] - restart)):
                need = (target - base) / step
                ok = (need <= limit) & (need > -_TOL)
                if not ok.any():
                    continue
                cand = src[:, ok] + np.maximum(need[ok], 0.0) * price
                if usable is not None:
                    cand = np.where(usable[:, None], cand, inf)
                j = np.argmin(cand, axis=1)
                c = cand[np.arange(n), j]
                better = c < best - _TOL
                best = np.where(better, c, best)
                best_finish = np.where(
                    better, (k + np.maximum(need[ok][j], 0.0)) * gap_h, best_finish
                )
        # states after this tick from which the target is still reachable in the ticks
        # left, and no higher than (k + 1) ticks of progress: the rest is never read
        lo = max(0, restart + target - (ticks - k - 1) * step)
        hi = min(size, restart + (k + 1) * step + 1)
        if lo >= hi:
            continue
        new_idle = np.minimum(idle[:, lo:hi], np.minimum(spot[:, lo:hi], od[:, lo:hi]))
        new_spot = _shifted(spot, idle, od, lo, hi, step, restart) + spot_tick
        new_od = _shifted(od, idle, spot, lo, hi, step, restart) + od_tick
        new_spot[~avail[:, k]] = inf
        idle[:, lo:hi], spot[:, lo:hi], od[:, lo:hi] = new_idle, new_spot, new_od
    missed = ~np.isfinite(best)
    od_cost = (job.compute_h + job.restart_h) * job.on_demand_usd_per_hour
    cost = np.where(missed, od_cost, best) * job.chips
    finish = np.where(missed, job.compute_h + job.restart_h, best_finish)
    return cost, finish, np.full(n, np.nan), np.full(n, -1, dtype=np.int64)


def _shifted(
    cont: npt.NDArray[np.float64],
    idle: npt.NDArray[np.float64],
    other: npt.NDArray[np.float64],
    lo: int,
    hi: int,
    step: int,
    restart: int,
) -> npt.NDArray[np.float64]:
    """For ``j`` in ``lo .. hi - 1``: ``min(cont[j - step], min(idle, other)[j - step +
    restart])``, the cheapest way into index ``j`` by continuing a run or starting one
    (inf where the source index is out of range)."""
    n, size = cont.shape
    out = np.full((n, hi - lo), np.inf)
    for shift, fresh in ((step, False), (step - restart, True)):
        a, b = max(lo - shift, 0), min(hi - shift, size)
        if a >= b:
            continue
        src = np.minimum(idle[:, a:b], other[:, a:b]) if fresh else cont[:, a:b]
        dst = out[:, a + shift - lo : b + shift - lo]
        np.minimum(dst, src, out=dst)
    return out
