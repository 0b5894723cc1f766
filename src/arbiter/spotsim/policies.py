"""The online policies: each tick, what every window runs on next (idle, spot or on-demand).

Notation, per window at the start of tick ``k`` (time ``t = k g`` hours, ``g`` the trace's
gap): ``C`` the job's work, ``D`` its deadline, ``d`` its restart hours, ``cp`` the progress
(hours of reference work done), ``rem_risk`` the work left should a spot run be preempted
at the next tick (``C`` minus the last checkpoint; ``C - cp`` without checkpoints: every
check assumes the job may be on spot during the tick it decides), ``R = D - t`` the time
left. A decision holds for one tick, so every
safety check looks one tick ahead: it asks whether the deadline can still be met from
``t + g`` on.

All policies run on-demand at the window's own site (the job's on-demand price, speed 1) and,
past the deadline, run on-demand until the work is done (the window counts as missed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IDLE, SPOT, ON_DEMAND = 0, 1, 2
"""The three things a window can run on during a tick."""

EPS_H = 1e-9
"""Tolerance on times and work, in hours."""

RECENT_H = 24.0
"""Hours of history the arbiter policy reads its availability rate from."""


@dataclass(slots=True)
class WindowState:
    """The state of every window of a batch at the start of a tick (arrays over windows)."""

    mode: npt.NDArray[np.int64]
    site: npt.NDArray[np.int64]
    progress_h: npt.NDArray[np.float64]
    locked: npt.NDArray[np.bool_]
    overhead_h: npt.NDArray[np.float64]
    """Restart hours the current run still owes (a restart may outlast a tick)."""


@dataclass(frozen=True, slots=True)
class TickView:
    """What a policy may see at tick ``k``: the present and the past, never the future."""

    t_h: float
    gap_h: float
    compute_h: float
    deadline_h: float
    restart_h: float
    rem_risk_h: npt.NDArray[np.float64]
    available: npt.NDArray[np.bool_]
    """``[window, site]``: spot available now."""
    recent_rate: npt.NDArray[np.float64]
    """``[window]``: share of the readings of the last :data:`RECENT_H` hours (those the
    window's trace has) with spot at some site; 1 when the trace has none yet."""
    spot_cost_per_work: npt.NDArray[np.float64]
    """``[window, site]``: spot USD per hour of reference work (inf on padding sites)."""
    move_h: npt.NDArray[np.float64]


def on_demand(
    state: WindowState, view: TickView
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``od``: on-demand from the start to the end, at the window's own site."""
    del view  # the rule needs nothing of the present
    n = state.mode.shape[0]
    return np.full(n, ON_DEMAND, dtype=np.int64), np.zeros(n, dtype=np.int64)


def _lock(state: WindowState, view: TickView, margin_h: npt.NDArray[np.float64] | float) -> None:
    """Switch to on-demand for good where waiting one more tick would leave less than
    ``rem_risk + d + margin`` before the deadline. The restart ``d`` is counted even on
    on-demand: a window not yet locked may leave on-demand for spot during the tick."""
    left = view.deadline_h - view.t_h - view.gap_h
    state.locked |= left < view.rem_risk_h + view.restart_h + margin_h - EPS_H


def greedy(
    state: WindowState, view: TickView
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``greedy``: spot whenever it is available at the window's own site, idle while it is
    not, and on-demand for good from the first tick at which the slack left after one more
    tick, ``D - (t + g) - rem_risk - d``, would be negative.

    Never misses when ``D >= C + d``: the check holds at every tick, so on-demand started
    when it fires still finishes by ``D``.
    """
    _lock(state, view, 0.0)
    act = np.where(view.available[:, 0], SPOT, IDLE)
    act = np.where(state.locked, ON_DEMAND, act)
    return act.astype(np.int64), np.zeros_like(act, dtype=np.int64)


def uniform_progress(
    state: WindowState, view: TickView
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``up``: Uniform Progress as published in Can't Be Late (Wu et al., NSDI 2024, §5.2),
    with its hysteresis and Safety Net, on the window's own site. With the expected progress
    ``ep(x) = C x / D``:

    1. Uniform Progress: idle and ``cp < ep(t)``: run on-demand.
    2. Taking Risks: spot whenever it is available, even behind the line; stay on spot
       until it is preempted.
    3. Hysteresis: on on-demand, stay on it until ``cp >= ep(t + 2d)``.
    4. Safety Net: when ``R < C(t) + 2d`` (``C(t)`` the work left), switch to on-demand and
       stay on it to the end.

    This is the paper's rule set, reimplemented in this simulator's ticks: the Safety Net is
    checked one tick ahead, ``D - (t + g) < rem_risk + 2d``, while idle or on-demand; on
    spot the exploitation rule keeps the job there unless even one restart would no longer
    fit (``D - (t + g) < rem_risk + d``), which only checkpoint loss or a tick longer than
    ``d`` can bring about. On-demand after the hysteresis with no spot available falls
    back to rule 1 (stay while behind ``ep(t)``, else idle).
    """
    on_spot = state.mode == SPOT
    left = view.deadline_h - view.t_h - view.gap_h
    net = left < view.rem_risk_h + 2 * view.restart_h - EPS_H
    hard = left < view.rem_risk_h + view.restart_h - EPS_H
    state.locked |= np.where(on_spot, hard, net)
    cp = state.progress_h
    ep_now = view.compute_h * view.t_h / view.deadline_h
    ep_ahead = view.compute_h * (view.t_h + 2 * view.restart_h) / view.deadline_h
    avail = view.available[:, 0]
    act = np.where(avail, SPOT, np.where(cp < ep_now - EPS_H, ON_DEMAND, IDLE))
    act = np.where((state.mode == ON_DEMAND) & (cp < ep_ahead - EPS_H), ON_DEMAND, act)
    act = np.where(state.locked, ON_DEMAND, act)
    return act.astype(np.int64), np.zeros_like(act, dtype=np.int64)


def arbiter(
    state: WindowState, view: TickView
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``arbiter``: Uniform Progress over every site the job may use (its own trace and the
    options' traces), with a reserve sized from the availability seen so far.

    * **Safety**: on-demand for good (at the window's own site) when
      ``D - (t + g) < rem_risk + d + move + reserve``, ``move`` being the longest move of
      any of its sites (the job may be on any of them when preempted) and ``reserve =
      2d (1 - rate)``, where ``rate`` is the share of the last 24 hours (of trace history,
      before or inside the window) with spot available at some site (1 with no history
      yet): the more reliable spot has been, the later the job gives up on it.
    * **Stay**: on spot while the current site's spot stays available.
    * **Hysteresis**: on on-demand, stay on it until ``cp >= ep(t + 2d)``.
    * **Move**: otherwise, when spot is available at some site, start there, choosing the
      lowest spot price per hour of reference work (``price / speed``), the current site on
      a tie, then the lowest site index; the start pays ``d`` plus the move.
    * **Catch up**: with spot available nowhere, run on-demand while ``cp < ep(t)``
      (``ep(x) = C x / D``), else wait idle.
    """
    n = view.available.shape[0]
    rows = np.arange(n)
    move_any = np.max(view.move_h, axis=1)
    reserve = 2.0 * view.restart_h * (1.0 - view.recent_rate)
    _lock(state, view, move_any + reserve)
    cost = np.where(view.available, view.spot_cost_per_work, np.inf)
    # the current site wins a tie: shave it by a hair
    cost[rows, state.site] -= 1e-12
    best = np.argmin(cost, axis=1)
    any_spot = np.isfinite(cost[rows, best])
    stay = (state.mode == SPOT) & view.available[rows, state.site]
    cp = state.progress_h
    ep_now = view.compute_h * view.t_h / view.deadline_h
    ep_ahead = view.compute_h * (view.t_h + 2 * view.restart_h) / view.deadline_h
    act = np.where(any_spot, SPOT, np.where(cp < ep_now - EPS_H, ON_DEMAND, IDLE))
    site = np.where(any_spot, best, 0)
    hold_od = (state.mode == ON_DEMAND) & (cp < ep_ahead - EPS_H)
    act = np.where(hold_od, ON_DEMAND, act)
    site = np.where(hold_od, 0, site)
    act = np.where(stay, SPOT, act)
    site = np.where(stay, state.site, site)
    act = np.where(state.locked, ON_DEMAND, act)
    site = np.where(state.locked, 0, site)
    return act.astype(np.int64), site.astype(np.int64)


RULES = {"od": on_demand, "greedy": greedy, "up": uniform_progress, "arbiter": arbiter}
"""The online policies by name."""
