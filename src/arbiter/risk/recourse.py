"""Re-planning under a sampled shock: the work a fixed plan leaves undone is placed again
on what is still available, or left undone at the same penalty.

For each sample with work left undone, a residual fleet holds each hit workload's undone
share: a service's rate times ``u_w`` for its period, or a job's remaining ``u_w`` of its
work, which must finish by its deadline counting from the day the first shock that can
take work away hit it (a price shift cannot). The plan's own placements go on as in
:mod:`arbiter.risk.impact`: the residual replaces exactly the work they leave undone,
which they are not billed for. Its options are the workload's own (for a locked-in plan,
only on the providers and vendors it uses: see :func:`locked_options`), less any offer a
capacity shock of the sample selects (no new capacity is bought into a shortage), with
pay-as-you-go prices shifted by the mean price factor over the window the option would
run in (a service's period; a job's ``u_w`` share of its hours from the hit, after any
platform lead time) and a job's hours and cost scaled by ``u_w``; reserved and committed
terms are not bought in an emergency. Platforms the plan enabled (or that
were enabled) are free; another may be enabled at its cost only by a job with the
platform's lead time to spare before its deadline (a service cannot wait for a port).
The fleet's capacity limits hold what the plan leaves of them. Share caps are not
imposed on an emergency. The residual MILP
(:func:`arbiter.optimize.fleet.solve_fleet` with ``unmet_usd``, on each workload's dozen
cheapest options per unit of work) may leave work undone at the penalty of the plan
without recourse, so doing nothing is always one of its answers, and the cost with
recourse is never above the cost without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState
from arbiter.domain.offer import PAY_AS_YOU_GO, PriceRegime
from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.domain.units import HOURS_PER_DAY, HOURS_PER_WEEK
from arbiter.domain.workload import ServeJob, Workload
from arbiter.optimize.fleet import FleetSolution, solve_fleet
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune
from arbiter.risk.impact import CAPACITY_SHOCKS, UNMET, Outcome
from arbiter.risk.plan_arrays import FloatArray, IntArray, PlanArrays
from arbiter.risk.timeline import timeline
from arbiter.scenarios.sampling import Samples

RECOURSE_REGIMES = (*PAY_AS_YOU_GO, PriceRegime.CAPACITY_BLOCK)
RECOURSE_TIME_LIMIT_S = 10.0
RECOURSE_GAP = 5e-3  # an emergency re-plan within 0.5% of its optimum
RECOURSE_OPTIONS = 12  # per workload: the cheapest per unit of work after pruning


@dataclass(frozen=True, slots=True)
class OptionArrays:
    """The fleet's options as arrays for one scenario set: which shock selects which."""

    options: tuple[Option, ...]
    selects: np.ndarray  # S x O
    hours: FloatArray  # O
    payg: np.ndarray  # O
    serve: np.ndarray  # O
    by_workload: dict[int, list[int]]


def locked_options(options: Sequence[Option], solution: FleetSolution) -> list[Option]:
    """The options a locked-in plan may re-plan on: those of a (provider, vendor) pair the
    plan already uses. A plan locked into one provider's NVIDIA capacity stays there in an
    emergency too; only a plan that is not locked in may move."""
    used = {(p.option.offer.provider, p.option.estimate.vendor) for p in solution.placed}
    return [o for o in options if (o.offer.provider, o.estimate.vendor) in used]


def option_arrays(options: Sequence[Option], scenarios: ScenarioSet) -> OptionArrays:
    by_workload: dict[int, list[int]] = {}
    for i, o in enumerate(options):
        if o.offer.price_regime in RECOURSE_REGIMES:
            by_workload.setdefault(o.workload, []).append(i)
    selects = np.array(
        [
            [
                not s.kind.acts_on_workloads
                and s.selector.matches_offer(
                    o.estimate.vendor, o.offer.provider, o.offer.region, o.offer.accelerator
                )
                for o in options
            ]
            for s in scenarios.shocks
        ],
        dtype=bool,
    ).reshape(len(scenarios.shocks), len(options))
    return OptionArrays(
        options=tuple(options),
        selects=selects,
        hours=np.array([o.hours for o in options], dtype=np.float64),
        payg=np.array([o.offer.price_regime in PAY_AS_YOU_GO for o in options], dtype=bool),
        serve=np.array([o.serve for o in options], dtype=bool),
        by_workload=by_workload,
    )


def with_recourse(
    fleet: Fleet,
    solution: FleetSolution,
    pa: PlanArrays,
    oa: OptionArrays,
    scenarios: ScenarioSet,
    samples: Samples,
    outcome: Outcome,
    *,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Cost, unmet share and missed deadlines of every sample with re-planning (see the
    module docstring)."""
    cost = outcome.cost_usd.copy()
    unmet_share = outcome.unmet_share.copy()
    missed = outcome.missed_deadlines.copy()
    hit = np.flatnonzero((outcome.unmet_by_type > UNMET).any(axis=0))
    if not len(hit):
        return cost, unmet_share, missed
    undone, hit_day = outcome.unmet, outcome.hit_day  # W x n
    kinds = [s.kind for s in scenarios.shocks]
    cut = np.array([k in CAPACITY_SHOCKS for k in kinds], dtype=bool)
    priced = np.array([k is ShockKind.PRICE_SHIFT for k in kinds], dtype=bool)
    enabled = {s.platform for s in fleet.platforms if s.enabled} | set(solution.enabled)
    pending = {s.platform.value: s for s in fleet.platforms if s.platform not in enabled}
    remaining = _remaining_capacity(fleet, solution)
    lead = np.array(
        [
            pending[o.estimate.platform].lead_weeks * HOURS_PER_WEEK
            if o.estimate.platform in pending
            else 0.0
            for o in oa.options
        ]
    )
    workload = np.array([o.workload for o in oa.options], dtype=np.int64)
    for n in hit.tolist():
        occurred = samples.occurred[:, n]
        blocked = (oa.selects & (occurred & cut)[:, None]).any(axis=0)
        shift = occurred & priced
        factor = np.ones(len(oa.options))
        if shift.any():
            # the mean price over a service's whole period, or over a job's undone share
            # from the hit, after its lead time
            lo = np.where(oa.serve, 0.0, HOURS_PER_DAY * hit_day[workload, n] + lead)
            hi = lo + np.where(oa.serve, oa.hours, oa.hours * undone[workload, n])
            lo, hi = np.where(hi > lo, lo, 0.0)[:, None], np.where(hi > lo, hi, 1.0)[:, None]
            one = Samples(
                occurred=samples.occurred[:, n : n + 1] & shift[:, None],
                magnitude=samples.magnitude[:, n : n + 1],
                start_days=samples.start_days[:, n : n + 1],
                duration_days=samples.duration_days[:, n : n + 1],
            )
            tl = timeline(kinds, one, oa.selects, oa.payg, np.zeros(len(oa.options)))
            factor = (tl.integral(tl.price, lo, hi) / (hi - lo))[:, 0]
        found = _replan(
            fleet,
            pa,
            oa,
            (undone[:, n], hit_day[:, n]),
            blocked,
            factor,
            pending,
            remaining,
            scenarios.penalty,
            seed,
        )
        if found is None:
            continue
        penalty_usd, replanned_usd, left = found
        better = outcome.cost_usd[n] - penalty_usd + replanned_usd
        if better < cost[n]:
            cost[n] = better
            unmet_share[n] = float((pa.weight * left).sum())
            # a job misses its deadline only if some of its work is still undone
            late = undone[:, n] > UNMET
            missed[n] = int((~pa.serve & late & (left > UNMET)).sum())
    return cost, unmet_share, missed


def _replan(
    fleet: Fleet,
    pa: PlanArrays,
    oa: OptionArrays,
    sample: tuple[FloatArray, FloatArray],
    blocked: np.ndarray,
    factor: FloatArray,
    pending: dict[str, PlatformState],
    remaining: tuple[CapacityLimit, ...],
    penalty: float,
    seed: int,
) -> tuple[float, float, FloatArray] | None:
    """(penalty of the undone work, cost of the residual plan, share of each workload
    still undone after it); None if the residual MILP fails. ``sample`` is one sample's
    share of each workload left undone and the day each was first hit."""
    undone, hit_day = sample
    hit = [w for w in range(len(undone)) if undone[w] > UNMET]
    workloads: list[Workload] = []
    residual: list[Option] = []
    unmet_usd: list[float] = []
    for k, w in enumerate(hit):
        u = float(undone[w])
        wl = fleet.workloads[w]
        job = wl.job
        unmet_usd.append(penalty * float(pa.spend_usd[w]) * u)
        if isinstance(job, ServeJob):
            workloads.append(replace(wl, job=replace(job, requests_per_s=job.requests_per_s * u)))
        else:
            workloads.append(wl)
        avail = pa.deadline_hours[w] - HOURS_PER_DAY * float(hit_day[w])
        for i in oa.by_workload.get(w, []):
            if blocked[i]:
                continue
            o = oa.options[i]
            lead = (
                pending[o.estimate.platform].lead_weeks * HOURS_PER_WEEK
                if o.estimate.platform in pending
                else 0.0
            )
            if o.serve:
                if o.estimate.platform in pending:
                    continue
                residual.append(replace(o, workload=k, usd=o.usd * factor[i]))
            elif o.hours * u + lead <= avail:
                residual.append(
                    replace(o, workload=k, hours=o.hours * u, usd=o.usd * u * factor[i])
                )
    platforms = tuple(
        s if s.platform.value in pending else PlatformState(s.platform, enabled=True)
        for s in fleet.platforms
    )
    sub = Fleet(workloads=tuple(workloads), platforms=platforms, capacity=remaining)
    try:
        sol = solve_fleet(
            sub,
            _cheapest(prune(residual, sub), RECOURSE_OPTIONS),
            caps=False,
            unmet_usd=unmet_usd,
            explain=False,
            time_limit_s=RECOURSE_TIME_LIMIT_S,
            mip_gap=RECOURSE_GAP,
            seed=seed,
        )
    except (InfeasibleError, SolverError):
        return None
    left = np.zeros(len(undone))
    for k, w in enumerate(hit):
        left[w] = undone[w] * sol.unmet[k]
    return float(sum(unmet_usd)), sol.total_usd, left


def _cheapest(options: Sequence[Option], k: int) -> list[Option]:
    """Per workload the ``k`` options cheapest per unit of work (per token/s of a replica
    for a service, per job otherwise), in their original order: an emergency re-plan
    looks at the best few, which keeps thousands of re-plans fast."""
    ranked: dict[int, list[tuple[float, int]]] = {}
    for i, o in enumerate(options):
        unit = o.usd / max(o.tokens_per_s / max(o.instances, 1), 1e-12) if o.serve else o.usd
        ranked.setdefault(o.workload, []).append((unit, i))
    keep = sorted(i for pairs in ranked.values() for _, i in sorted(pairs)[:k])
    return [options[i] for i in keep]


def _remaining_capacity(fleet: Fleet, solution: FleetSolution) -> tuple[CapacityLimit, ...]:
    out = []
    for limit in fleet.capacity:
        used = sum(p.instances for p in solution.placed if limit.covers(p.option.offer))
        out.append(replace(limit, max_instances=max(limit.max_instances - used, 0)))
    return tuple(out)
