"""Small synthetic traces and jobs, and a brute-force optimum, for the spot simulator tests."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from arbiter.spotsim.job import SpotJob, SpotOption
from arbiter.spotsim.traces import Trace


def trace(bits: str, *, name: str = "synthetic/zone-a_v100_1", gap_s: float = 3600.0) -> Trace:
    """A trace from a string of 1 (spot available) and 0 readings."""
    region, _, rest = name.rpartition("/")[2].partition("_")
    return Trace(
        name=name,
        region=region,
        chip=rest.partition("_")[0].upper(),
        gap_s=gap_s,
        available=np.array([c == "1" for c in bits], dtype=np.bool_),
    )


def job(
    *,
    compute_h: float = 4.0,
    deadline_h: float = 10.0,
    restart_h: float = 0.5,
    checkpoint_h: float | None = None,
    spot: float = 1.0,
    od: float = 3.0,
    options: tuple[SpotOption, ...] = (),
) -> SpotJob:
    return SpotJob(
        name="test",
        compute_h=compute_h,
        deadline_h=deadline_h,
        restart_h=restart_h,
        checkpoint_h=checkpoint_h,
        chips=1,
        on_demand_usd_per_hour=od,
        spot_usd_per_hour=spot,
        options=options,
    )


def brute_force_optimum(j: SpotJob, avail: Sequence[bool], gap_h: float) -> float:
    """The least cost over every idle/spot/on-demand schedule, one action per tick, that
    finishes by the deadline (inf if none does), replayed in exact arithmetic: each run pays
    the restart first, the finishing tick is billed up to the moment the work is done."""
    ticks = math.ceil(j.deadline_h / gap_h - 1e-9)
    best = math.inf
    for plan in itertools.product((0, 1, 2), repeat=ticks):
        if any(a == 1 and not avail[k] for k, a in enumerate(plan)):
            continue
        progress, cost, overhead, mode = 0.0, 0.0, 0.0, 0
        for k, a in enumerate(plan):
            if a == 0:
                mode = 0
                continue
            if a != mode:
                overhead = j.restart_h
            mode = a
            price = j.spot_usd_per_hour if a == 1 else j.on_demand_usd_per_hour
            pay = min(overhead, gap_h)
            overhead -= pay
            gain = gap_h - pay
            need = j.compute_h - progress
            if gain >= need - 1e-12:
                used = pay + need
                if k * gap_h + used <= j.deadline_h + 1e-9:
                    best = min(best, cost + used * price)
                break
            progress += gain
            cost += gap_h * price
    return best
