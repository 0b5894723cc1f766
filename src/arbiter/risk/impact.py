"""What sampled shocks do to a fixed plan, without re-planning: cost, work left undone
and missed deadlines, vectorised over samples.

Every placement runs from day 0 for its hours (a service for its period, a job until it
finishes). For shock ``s``, placement ``p`` and sample ``n`` the overlap ``ov`` is the share
of p's window the shock covers when it occurs and its selector matches p's offer. Then:

- capacity lost ``L_p = min(1, sum_s loss_s ov)``: ``1 - capacity_factor`` for a supply cut,
  1 for an outage and for a roadmap slip (the chip is missing from day 0 for the delay);
  a spot surge adds ``1 - (1 + r R) / (1 + m r R)`` on spot placements (r the offer's
  preemption rate, m the multiplier, R the restart hours of ``options.spot_factor``);
- price factor ``M_p = 1 + sum_s (price_factor - 1) ov`` on pay-as-you-go offers only:
  reserved, committed and capacity-block prices are fixed;
- a demand shift raises (or lowers) a workload's work by ``sum_s (demand_factor - 1) ov``
  over the workload's window; without re-planning only a rise matters.

A service loses ``u_w = min(1, sum_p share_p L_p + max(D_w, 0))`` of its work (share_p the
share of the rate p carries); its pay-as-you-go placements are not billed for capacity
they lost: ``usd_p M_p (1 - L_p)``. A train/finetune/batch job catches up afterwards on
the same placement, paying the hours it lost at the placement's hourly rate: it finishes
after ``h (1 + lost)`` hours and misses its deadline if that is later; the share of its
work done after the deadline is left undone. Work left undone costs ``penalty`` times
what the plan spends on that workload, per unit of work: a price for emergency capacity
or lost business. The plan's platform enablement is paid in every sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import FleetSolution, Placed
from arbiter.optimize.options import (
    DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR,
    PAY_AS_YOU_GO,
    RESTART_HOURS,
    deadline_hours,
)
from arbiter.risk.concentration import spend_weights, work_shares
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
    hourly_share: FloatArray  # P: hours / billed hours (the share of spend one hour is)
    hours: FloatArray  # P
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
    spot = np.array([o.price_regime is PriceRegime.SPOT for o in offers], dtype=bool)
    rate = np.array(
        [
            o.interruption_rate
            if o.interruption_rate is not None
            else DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR
            for o in offers
        ]
    )
    return PlanArrays(
        usd=usd,
        payg=np.array([o.price_regime in PAY_AS_YOU_GO for o in offers], dtype=bool),
        hourly_share=np.array(
            [p.option.hours / max(p.option.billed_hours, 1e-9) for p in placed], dtype=np.float64
        ),
        hours=np.array([p.option.hours for p in placed], dtype=np.float64),
        surge_base=np.where(spot, rate * RESTART_HOURS, 0.0),
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
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """One plan over ``n`` samples."""

    cost_usd: FloatArray  # n: compute + enablement + work left undone
    unmet_usd: FloatArray  # n
    unmet_share: FloatArray  # n: spend-weighted share of the plan's work left undone
    missed_deadlines: IntArray  # n
    unmet: FloatArray  # W x n: share of each workload's work left undone
    hit_day: FloatArray  # W x n: earliest day a shock hits the workload (inf: none)


def overlap(
    start_days: FloatArray, duration_days: FloatArray, window_days: FloatArray
) -> FloatArray:
    """Share of each window ``[0, window]`` (axis 1) a shock ``[start, start + duration]``
    (axis 0, samples on axis 2) covers: ``S x P x n``."""
    w = window_days[None, :, None]
    start = start_days[:, None, :]
    end = start + duration_days[:, None, :]
    covered = np.clip(np.minimum(end, w) - np.maximum(start, 0.0), 0.0, None)
    return np.where(w > 0, covered / np.where(w > 0, w, 1.0), 0.0)


def without_recourse(pa: PlanArrays, scenarios: ScenarioSet, samples: Samples) -> Outcome:
    """The module docstring's arithmetic for every sample at once."""
    kinds = [s.kind for s in scenarios.shocks]
    n_s, n = samples.occurred.shape
    on = samples.occurred[:, None, :] & pa.selects[:, :, None]  # S x P x n
    ov = np.where(on, overlap(samples.start_days, samples.duration_days, pa.hours / 24.0), 0.0)
    mag = samples.magnitude[:, None, :]
    loss = np.zeros((n_s, 1, n))
    price = np.zeros((n_s, 1, n))
    surge = np.zeros((n_s, 1, n))
    for s, kind in enumerate(kinds):
        if kind is ShockKind.SUPPLY_CUT:
            loss[s] = 1.0 - mag[s]
        elif kind in (ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP):
            loss[s] = 1.0
        elif kind is ShockKind.PRICE_SHIFT:
            price[s] = mag[s] - 1.0
        elif kind is ShockKind.SPOT_SURGE:
            surge[s] = mag[s]
    base = pa.surge_base[None, :, None]
    surge_loss = np.where(base > 0, 1.0 - (1.0 + base) / (1.0 + np.maximum(surge, 1.0) * base), 0.0)
    lost = np.minimum(1.0, (loss * ov).sum(axis=0) + (surge_loss * ov).sum(axis=0))  # P x n
    factor = 1.0 + np.where(pa.payg[:, None], (price * ov).sum(axis=0), 0.0)  # P x n

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

    n_w = len(pa.serve)
    lost_work = np.zeros((n_w, n))
    np.add.at(lost_work, pa.workload, pa.work_share[:, None] * lost)
    lost_work += extra
    serve = pa.serve[:, None]
    window = pa.window_hours[:, None]
    finish = window * (1.0 + lost_work)
    late = np.clip((finish - pa.deadline_hours[:, None]) / np.maximum(finish, 1e-9), 0.0, 1.0)
    unmet = np.where(serve, np.minimum(lost_work, 1.0), late)
    missed = (~serve & (finish > pa.deadline_hours[:, None] * (1 + 1e-9))).sum(axis=0)

    job = ~pa.serve[pa.workload][:, None]  # P x 1: train/batch placements catch up
    compute = pa.usd[:, None] * np.where(pa.payg[:, None], factor * (1.0 - lost), 1.0) + np.where(
        job, pa.usd[:, None] * pa.hourly_share[:, None] * lost, 0.0
    )
    unmet_usd = (scenarios.penalty * pa.spend_usd[:, None] * unmet).sum(axis=0)
    cost = compute.sum(axis=0) + unmet_usd + pa.enablement_usd

    hit = np.where(on, samples.start_days[:, None, :], np.inf).min(axis=0)  # P x n
    hit_day = np.full((n_w, n), np.inf)
    np.minimum.at(hit_day, pa.workload, hit)
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
