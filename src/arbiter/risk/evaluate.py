"""Monte Carlo stress test of plans: samples in fixed chunks, batches of chunks evaluated
wherever an executor sends them, results put back in chunk order.

Chunk ``i`` always holds the same samples (its own child seed of the run's seed, see
:func:`arbiter.scenarios.sampling.chunk_plan`), every sample is evaluated on its own and
every solve inside it is seeded, so the result is identical for the same seed whatever
the engine, the worker count and the batches. Without re-planning a batch holds about
:data:`BATCH_PLACEMENT_SAMPLES` placements times samples (the arithmetic is vectorised
over a batch's samples, and one call per chunk of 250 would cost more than the
arithmetic), and at least one batch per worker; with it, one chunk (the re-plans
dominate, and spread over the workers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from arbiter.domain.executor import Executor, map_items
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ScenarioSet
from arbiter.measures import cvar as tail_cvar
from arbiter.measures import quantile
from arbiter.optimize.fleet import FleetSolution
from arbiter.optimize.options import Option
from arbiter.risk.impact import UNMET, without_recourse
from arbiter.risk.plan_arrays import FloatArray, PlanArrays, perf_speeds, plan_arrays
from arbiter.risk.recourse import locked_options, option_arrays, with_recourse
from arbiter.scenarios.sampling import CHUNK_SIZE, Samples, chunk_plan, sample

BATCH_PLACEMENT_SAMPLES = 10_000_000
CVAR_LEVEL = 0.95
HISTOGRAM_BINS = 20
LOCKED_IN = "locked_in"
"""The name of the locked-in status quo among the plans (``arbiter risk`` uses it)."""


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Everything a chunk needs; shipped once to each worker. The plans named in
    ``locked`` re-plan only where they already are (:func:`locked_options`)."""

    fleet: Fleet
    plans: tuple[tuple[str, FleetSolution], ...]
    options: tuple[Option, ...]
    scenarios: ScenarioSet
    recourse: bool
    seed: int
    locked: tuple[str, ...] = (LOCKED_IN,)
    arrays: tuple[PlanArrays, ...] = ()
    """Each plan as arrays (:func:`plan_arrays`); :func:`run` fills them in once."""


@dataclass(frozen=True, slots=True)
class PlanSamples:
    """One plan over the samples: without re-planning, and with it when asked for."""

    cost_usd: FloatArray
    unmet_share: FloatArray
    missed_deadlines: np.ndarray
    recourse_cost_usd: FloatArray | None = None
    recourse_unmet_share: FloatArray | None = None
    recourse_missed_deadlines: np.ndarray | None = None


Chunk = tuple[int, np.random.SeedSequence]


def evaluate_batch(ctx: RiskContext, chunks: Sequence[Chunk]) -> dict[str, PlanSamples]:
    """Sample a batch of chunks and evaluate every plan on their samples, side by side."""
    samples = Samples.concatenate([sample(ctx.scenarios, size, seed) for size, seed in chunks])
    free = option_arrays(ctx.options, ctx.scenarios) if ctx.recourse else None
    out = {}
    for i, (name, solution) in enumerate(ctx.plans):
        pa = ctx.arrays[i] if ctx.arrays else plan_arrays(ctx.fleet, solution, ctx.scenarios)
        speed = perf_speeds(pa, chunks) if ctx.scenarios.perf_error else None
        fixed = without_recourse(pa, ctx.scenarios, samples, speed)
        rec_cost = rec_unmet = rec_missed = None
        oa = free
        if free is not None and name in ctx.locked:
            oa = option_arrays(locked_options(ctx.options, solution), ctx.scenarios)
        if oa is not None:
            rec_cost, rec_unmet, rec_missed = with_recourse(
                ctx.fleet, solution, pa, oa, ctx.scenarios, samples, fixed, seed=ctx.seed
            )
        out[name] = PlanSamples(
            cost_usd=fixed.cost_usd,
            unmet_share=fixed.unmet_share,
            missed_deadlines=fixed.missed_deadlines,
            recourse_cost_usd=rec_cost,
            recourse_unmet_share=rec_unmet,
            recourse_missed_deadlines=rec_missed,
        )
    return out


def run(
    ctx: RiskContext,
    n: int,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, PlanSamples]:
    """Every plan over ``n`` samples of ``ctx.scenarios`` with seed ``ctx.seed``;
    ``progress`` counts batches."""
    if not ctx.arrays:
        arrays = tuple(plan_arrays(ctx.fleet, sol, ctx.scenarios) for _, sol in ctx.plans)
        ctx = replace(ctx, arrays=arrays)
    chunks = chunk_plan(n, ctx.seed)
    workers = 1 if executor is None else max(executor.workers, 1)
    placed = max((len(sol.placed) for _, sol in ctx.plans), default=1)
    most = BATCH_PLACEMENT_SAMPLES // max(placed * CHUNK_SIZE, 1)
    per = 1 if ctx.recourse else max(1, min(most, math.ceil(len(chunks) / workers)))
    batches = [tuple(chunks[i : i + per]) for i in range(0, len(chunks), per)]
    parts = map_items(executor, evaluate_batch, ctx, batches, progress=progress)
    return {name: _join([p[name] for p in parts]) for name, _ in ctx.plans}


def _join(parts: Sequence[PlanSamples]) -> PlanSamples:
    def cat(values: Sequence[Any]) -> Any:
        return None if values[0] is None else np.concatenate(values)

    return PlanSamples(
        cost_usd=cat([p.cost_usd for p in parts]),
        unmet_share=cat([p.unmet_share for p in parts]),
        missed_deadlines=cat([p.missed_deadlines for p in parts]),
        recourse_cost_usd=cat([p.recourse_cost_usd for p in parts]),
        recourse_unmet_share=cat([p.recourse_unmet_share for p in parts]),
        recourse_missed_deadlines=cat([p.recourse_missed_deadlines for p in parts]),
    )


def cvar(values: FloatArray, level: float = CVAR_LEVEL) -> float:
    """CVaR of equally likely samples (:func:`arbiter.measures.cvar`)."""
    return tail_cvar(values, level)


def stats(cost: FloatArray, unmet: FloatArray, missed: np.ndarray | None = None) -> dict[str, Any]:
    """Mean, P50, P95 and CVaR95 of cost; probability and expected size of unmet work."""
    out: dict[str, Any] = {
        "mean_usd": float(cost.mean()),
        "p50_usd": quantile(cost, 0.5),
        "p95_usd": quantile(cost, 0.95),
        "cvar95_usd": cvar(cost),
        "unmet_demand_probability": float((unmet > UNMET).mean()),
        "expected_unmet_share": float(unmet.mean()),
    }
    if missed is not None:
        out["missed_deadline_probability"] = float((missed > 0).mean())
    return out


def headline(s: PlanSamples) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """The cost, unmet share and missed deadlines a summary reads: with re-planning when
    it was run."""
    if (
        s.recourse_cost_usd is not None
        and s.recourse_unmet_share is not None
        and s.recourse_missed_deadlines is not None
    ):
        return s.recourse_cost_usd, s.recourse_unmet_share, s.recourse_missed_deadlines
    return s.cost_usd, s.unmet_share, s.missed_deadlines


def summarise(results: Mapping[str, PlanSamples], plan_usd: Mapping[str, float]) -> dict[str, Any]:
    """Per plan: the plan's own cost, the statistics of the headline cost, and (with
    re-planning) those without it; a shared histogram."""
    plans: dict[str, Any] = {}
    for name, s in results.items():
        cost, unmet, missed = headline(s)
        entry = {"plan_usd": plan_usd[name], **stats(cost, unmet, missed)}
        if s.recourse_cost_usd is not None:
            entry["without_recourse"] = stats(s.cost_usd, s.unmet_share, s.missed_deadlines)
        plans[name] = entry
    everything = np.concatenate([headline(s)[0] for s in results.values()])
    lo, hi = float(everything.min()), float(everything.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, HISTOGRAM_BINS + 1)
    histogram = {
        "edges_usd": edges.tolist(),
        "counts": {
            name: np.histogram(headline(s)[0], bins=edges)[0].tolist()
            for name, s in results.items()
        },
    }
    return {"plans": plans, "histogram": histogram}


def optionality(
    results: Mapping[str, PlanSamples],
    diversified: str,
    reference: str,
    plan_usd: Mapping[str, float],
) -> dict[str, float]:
    """What the diversified plan saves against the reference on the same samples:
    expected total cost (enablement included), the part of it the shocks add to the
    plans' own difference, and the spread of the per-sample saving."""
    a, b = headline(results[diversified])[0], headline(results[reference])[0]
    saving = b - a
    return {
        "value_usd": float(saving.mean()),
        "plan_difference_usd": plan_usd[reference] - plan_usd[diversified],
        "from_shocks_usd": float(saving.mean()) - (plan_usd[reference] - plan_usd[diversified]),
        "p5_usd": quantile(saving, 0.05),
        "p50_usd": quantile(saving, 0.5),
        "p95_usd": quantile(saving, 0.95),
        "cvar95_reduction_usd": cvar(b) - cvar(a),
        "probability_it_pays": float((saving > 0).mean()),
    }
