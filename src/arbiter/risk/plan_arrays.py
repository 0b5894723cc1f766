"""A plan as arrays for the Monte Carlo: its placements and workloads, which shock selects
which (:class:`PlanArrays`), and the draws of the performance model's error on them
(:class:`Speed`, the ``perf_error`` shock)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.spot import RESTART_HOURS, restart_load
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PAY_AS_YOU_GO, PriceRegime
from arbiter.domain.scenario import ScenarioSet
from arbiter.domain.units import HOURS_PER_WEEK
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet import FleetSolution, Placed
from arbiter.optimize.options import Option, deadline_hours
from arbiter.perf.bands import sigma_of
from arbiter.risk.concentration import spend_weights, work_shares
from arbiter.scenarios.perf_error import platform_normals

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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
        surge_base=np.array([surge_base(p.option) for p in placed], dtype=np.float64),
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


@dataclass(frozen=True, slots=True)
class Speed:
    """Draws of the ``perf_error`` shock: placement ``p`` runs at ``table[row[p]]`` (``n``)
    of its estimate; one row per platform and band (``U x n``), which every placement on
    that platform with that band shares."""

    table: FloatArray  # U x n
    row: IntArray  # P

    def of(self, placements: IntArray) -> FloatArray:
        """``len(placements) x n``: the throughput of each as a share of its estimate."""
        return np.asarray(self.table[self.row[placements]], dtype=np.float64)

    @classmethod
    def concatenate(cls, parts: Sequence[Speed]) -> Speed:
        """The draws of ``parts`` (of the same plan) side by side, in order."""
        return cls(np.concatenate([p.table for p in parts], axis=1), parts[0].row)


def perf_speed(pa: PlanArrays, n: int, seed: np.random.SeedSequence) -> Speed | None:
    """The ``perf_error`` shock: each placement's throughput as a share of its estimate,
    ``exp(sigma_p Z_k)`` with one standard normal ``Z_k`` per platform ``k`` per sample
    (:func:`arbiter.scenarios.perf_error.platform_normals`), shared by every placement on
    it. None when no placement has a band (nothing to sample)."""
    return perf_speeds(pa, [(n, seed)])


def perf_speeds(
    pa: PlanArrays, chunks: Sequence[tuple[int, np.random.SeedSequence]]
) -> Speed | None:
    """:func:`perf_speed` of each chunk (its size and seed), side by side."""
    sigma = pa.perf_sigma
    if sigma is None or not len(sigma) or not (sigma > 0).any():
        return None
    names, platform = np.unique(np.array(pa.platform, dtype=str), return_inverse=True)
    pairs, row = np.unique(
        np.column_stack([np.ravel(platform), sigma]), axis=0, return_inverse=True
    )
    z = np.concatenate([platform_normals(names.tolist(), n, seed) for n, seed in chunks], axis=1)
    table = np.exp(pairs[:, 1][:, None] * z[pairs[:, 0].astype(np.int64)])
    return Speed(np.asarray(table, dtype=np.float64), np.asarray(row, dtype=np.int64).ravel())


def surge_base(option: Option) -> float:
    """``r R`` of a placement: its spot rate times the restart hours, 0 off spot. A job the
    plan priced on spot under the outlook (``spotsim/outlook.py``) takes the rate it was
    priced on (measured on traces where the fleet names them), so the surge scales the
    rate the plan used."""
    if option.spot is not None:
        return option.spot.availability.interruptions_per_hour * RESTART_HOURS
    return restart_load(option.offer)
