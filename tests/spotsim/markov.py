"""Synthetic availability traces with exponential spells: the process the planner's closed
form (``spotsim/outlook.py``) assumes, to hold it to the replay."""

from __future__ import annotations

import numpy as np

from arbiter.spotsim.traces import Trace


def markov_trace(
    interruptions_per_hour: float, outage_h: float, hours: float, gap_h: float, seed: int
) -> Trace:
    """``hours`` of readings every ``gap_h``: spells with spot of mean
    ``1 / interruptions_per_hour`` hours and outages of mean ``outage_h``, the first spell
    drawn from the long-run shares."""
    rng = np.random.default_rng(seed)
    n = int(hours / gap_h)
    out = np.empty(n, dtype=np.bool_)
    up = rng.random() < 1.0 / (1.0 + interruptions_per_hour * outage_h)
    at = 0
    while at < n:
        mean = 1.0 / interruptions_per_hour if up else outage_h
        length = max(1, round(rng.exponential(mean) / gap_h))
        out[at : at + length] = up
        at += length
        up = not up
    return Trace(
        name=f"markov/s{seed}_x_1", region="s", chip="X", gap_s=gap_h * 3600.0, available=out
    )
