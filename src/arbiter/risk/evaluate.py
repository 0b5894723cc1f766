"""Monte Carlo stress test of plans: samples in fixed chunks, each chunk evaluated
wherever an executor sends it, results put back in chunk order.

Chunk ``i`` always holds the same samples (its own child seed of the run's seed, see
:func:`arbiter.scenarios.sampling.chunk_plan`) and every solve inside it is seeded, so
the result is identical for the same seed whatever the engine and the worker count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arbiter.domain.executor import Executor, map_items
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ScenarioSet
from arbiter.optimize.fleet import FleetSolution
from arbiter.optimize.options import Option
from arbiter.risk.impact import UNMET, FloatArray, perf_speed, plan_arrays, without_recourse
from arbiter.risk.recourse import locked_options, option_arrays, with_recourse
from arbiter.scenarios.sampling import chunk_plan, sample

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


@dataclass(frozen=True, slots=True)
class PlanSamples:
    """One plan over the samples: without re-planning, and with it when asked for."""

    cost_usd: FloatArray
    unmet_share: FloatArray
    missed_deadlines: np.ndarray
    recourse_cost_usd: FloatArray | None = None
    recourse_unmet_share: FloatArray | None = None
    recourse_missed_deadlines: np.ndarray | None = None


def evaluate_chunk(
    ctx: RiskContext, chunk: tuple[int, np.random.SeedSequence]
) -> dict[str, PlanSamples]:
    """Sample one chunk and evaluate every plan on it."""
    size, seed = chunk
    samples = sample(ctx.scenarios, size, seed)
    free = option_arrays(ctx.options, ctx.scenarios) if ctx.recourse else None
    out = {}
    for name, solution in ctx.plans:
        pa = plan_arrays(ctx.fleet, solution, ctx.scenarios)
        speed = perf_speed(pa, size, seed) if ctx.scenarios.perf_error else None
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
    """Every plan over ``n`` samples of ``ctx.scenarios`` with seed ``ctx.seed``."""
    chunks = chunk_plan(n, ctx.seed)
    parts = map_items(executor, evaluate_chunk, ctx, chunks, progress=progress)
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
    """Mean of the worst ``1 - level`` share of ``values`` (at least one value)."""
    k = max(1, math.ceil((1.0 - level) * len(values) - 1e-9))
    return float(np.sort(values)[-k:].mean())


def stats(cost: FloatArray, unmet: FloatArray, missed: np.ndarray | None = None) -> dict[str, Any]:
    """Mean, P50, P95 and CVaR95 of cost; probability and expected size of unmet work."""
    out: dict[str, Any] = {
        "mean_usd": float(cost.mean()),
        "p50_usd": float(np.quantile(cost, 0.5)),
        "p95_usd": float(np.quantile(cost, 0.95)),
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
        "p5_usd": float(np.quantile(saving, 0.05)),
        "p50_usd": float(np.quantile(saving, 0.5)),
        "p95_usd": float(np.quantile(saving, 0.95)),
        "cvar95_reduction_usd": cvar(b) - cvar(a),
        "probability_it_pays": float((saving > 0).mean()),
    }
