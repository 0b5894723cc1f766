"""The places a window may run: its own trace, then the job's options, aligned in time.

A window ``(trace index, start reading)`` always has site 0: its own trace at the job's spot
price, speed 1, no move. The arbiter policy also gets, for every option of the job, every
trace whose name matches the option's glob, in the same folder and with the same gap (a
folder's traces were read at the same instants, so reading ``i`` of one is the same time as
reading ``i`` of another), other than the window's own trace. Readings past a trace's end
count as spot unavailable.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.spotsim.job import SpotJob
from arbiter.spotsim.traces import Trace


@dataclass(frozen=True, slots=True)
class SiteBatch:
    """Windows of one gap, with every site's availability over the ticks simulated.

    ``available[w, s, lookback + k]`` is spot at site ``s`` of window ``w`` at tick ``k``
    (``k`` may be negative down to ``-lookback``: history before the window starts).
    Padding sites (windows with fewer sites) are never available. ``known[w, i]`` says
    whether the window's own trace has a reading at that position (before its first or
    after its last reading it has none).
    """

    rows: npt.NDArray[np.int64]
    gap_h: float
    lookback: int
    available: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]
    spot_usd_per_hour: npt.NDArray[np.float64]
    speed: npt.NDArray[np.float64]
    move_h: npt.NDArray[np.float64]


def option_sites(
    job: SpotJob, traces: Sequence[Trace], home: int
) -> list[tuple[int, float, float, float]]:
    """``(trace index, spot price, speed, move_h)`` of each option site of window trace
    ``home``, in option order then trace name, each trace once."""
    own = traces[home]
    seen = {home}
    out: list[tuple[int, float, float, float]] = []
    for option in job.options:
        for i, trace in enumerate(traces):
            if i in seen or trace.folder != own.folder or trace.gap_s != own.gap_s:
                continue
            stem = trace.name.rpartition("/")[2]
            if fnmatch.fnmatchcase(trace.name, option.traces) or fnmatch.fnmatchcase(
                stem, option.traces
            ):
                seen.add(i)
                out.append((i, option.spot_usd_per_hour, option.speed, option.move_h))
    return out


def site_batch(
    job: SpotJob,
    traces: Sequence[Trace],
    windows: Sequence[tuple[int, int]],
    rows: npt.NDArray[np.int64],
    *,
    ticks: int,
    lookback: int,
    with_options: bool,
) -> SiteBatch:
    """The sites of the windows ``rows`` (all of one gap) over ``ticks`` ticks."""
    gap_h = traces[windows[int(rows[0])][0]].gap_h
    per_window = []
    for r in rows:
        home, _ = windows[int(r)]
        sites = [(home, job.spot_usd_per_hour, 1.0, 0.0)]
        if with_options:
            sites += option_sites(job, traces, home)
        per_window.append(sites)
    n_sites = max(len(s) for s in per_window)
    n = len(rows)
    span = lookback + ticks
    available = np.zeros((n, n_sites, span), dtype=np.bool_)
    known = np.zeros((n, span), dtype=np.bool_)
    price = np.full((n, n_sites), np.inf)
    speed = np.ones((n, n_sites))
    move = np.zeros((n, n_sites))
    for w, (r, sites) in enumerate(zip(rows, per_window, strict=True)):
        start = windows[int(r)][1]
        for s, (ti, usd, spd, mv) in enumerate(sites):
            trace = traces[ti].available
            lo = start - lookback
            a, b = max(lo, 0), min(start + ticks, len(trace))
            if b > a:
                available[w, s, a - lo : b - lo] = trace[a:b]
                if s == 0:
                    known[w, a - lo : b - lo] = True
            price[w, s] = usd
            speed[w, s] = spd
            move[w, s] = mv
    return SiteBatch(
        rows=rows,
        gap_h=gap_h,
        lookback=lookback,
        available=available,
        known=known,
        spot_usd_per_hour=price,
        speed=speed,
        move_h=move,
    )
