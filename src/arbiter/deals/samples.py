"""The distribution of a deal's worth over sampled futures.

Each side keeps what it decided up front (its commitment blocks and the platforms it
ports to, from the headline :class:`~arbiter.deals.evaluate.Evaluation`) and re-plans the
rest in each sampled future; the deal's worth in the sample is the no-deal side's cost
minus the deal side's net cost. A future draws:

- one demand scenario of the procurement file, by its probability;
- the port's efficiency from its distribution (both sides run on the same chips);
- each tranche paid or not with its probability (a usage tranche also needs its
  threshold reached in the sample);
- with a scenario file (the risk engine's format, :mod:`arbiter.scenarios`), its shocks,
  applied to the periods their windows overlap (``o_t``, the share of period t inside
  the window):

  - ``demand_shift`` g: the class's demand times ``1 + (g - 1) o_t``;
  - ``price_shift`` g: on-demand prices times ``1 + (g - 1) o_t`` (commitments keep
    their price);
  - ``supply_cut`` f and ``outage`` (f = 0): ``u_t = 1 - (1 - f) o_t`` of committed
    chip-hours stay usable (the rest is paid for and lost); procurement has no capacity
    limit on on-demand offers, so there the cut shows as scarcity: the price divided by
    ``u_t``, and no offer at all when ``u_t < 5%``;
  - ``roadmap_slip`` of d days: the chips come d days after they would have (after
    their ``available_from``), and periods mostly inside the delay lose them, committed
    or not;
  - ``spot_surge`` has no counterpart here and is ignored.

Samples are drawn in fixed chunks, each from its own child of the seed, so the result
does not depend on the executor or its workers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from arbiter.deals.evaluate import Evaluation, Settings, prepared
from arbiter.deals.model import DealTerms, discounted, fixed_inflow_usd, usage_tranches
from arbiter.domain.deal import Deal
from arbiter.domain.executor import Executor, ProgressFn, map_items
from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.domain.units import HOURS_PER_DAY
from arbiter.measures import quantile
from arbiter.optimize.linear import FloatArray
from arbiter.procure.milp import solve
from arbiter.procure.model import Data, Resource
from arbiter.scenarios.distributions import ppf
from arbiter.scenarios.sampling import CHUNK_SIZE, Samples, chunk_plan, sample

SAMPLES_PER_ITEM = 10
SCARCE = 0.05


@dataclass(frozen=True, slots=True)
class Draw:
    """One sampled future: the demand scenario, the port's efficiency, each tranche
    paid (1) or not (0), and the shocks (columns of the risk engine's samples)."""

    scenario: int
    efficiency: float
    paid: FloatArray
    occurred: FloatArray | None = None
    magnitude: FloatArray | None = None
    start_days: FloatArray | None = None
    duration_days: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class Context:
    deal: Deal
    base: Data
    blocks_without: FloatArray
    blocks_with: FloatArray
    enabled_without: tuple[str, ...]
    enabled_with: tuple[str, ...]
    shocks: ScenarioSet | None


@dataclass(frozen=True, slots=True)
class ValueDistribution:
    value_usd: FloatArray  # per sample
    seed: int
    scenarios_file: str | None

    def as_dict(self) -> dict[str, Any]:
        v = self.value_usd
        return {
            "samples": int(v.size),
            "seed": self.seed,
            "shocks_file": self.scenarios_file,
            "mean_usd": float(v.mean()),
            "p5_usd": quantile(v, 0.05),
            "p50_usd": quantile(v, 0.5),
            "p95_usd": quantile(v, 0.95),
            "probability_destroys_value": float((v < 0).mean()),
            "values_usd": [float(x) for x in v],
        }


def draws(deal: Deal, base: Data, shocks: ScenarioSet | None, n: int, seed: int) -> list[Draw]:
    """``n`` futures, chunk by chunk (module docstring)."""
    prob = np.array([s.probability for s in base.problem.scenarios])
    out: list[Draw] = []
    for size, child in chunk_plan(n, seed):
        mine, theirs = child.spawn(2)
        rng = np.random.default_rng(mine)
        scen = rng.choice(len(prob), size=size, p=prob / prob.sum())
        u = rng.random(size)
        eff = np.ones(size) if deal.porting is None else ppf(deal.porting.efficiency, u)
        chance = np.array([t.probability for t in deal.tranches])
        paid = (rng.random((size, len(chance))) < chance).astype(np.float64)
        shock: Samples | None = None if shocks is None else sample(shocks, size, theirs)
        out.extend(
            Draw(
                scenario=int(scen[i]),
                efficiency=float(eff[i]),
                paid=paid[i],
                occurred=None if shock is None else shock.occurred[:, i].astype(np.float64),
                magnitude=None if shock is None else shock.magnitude[:, i],
                start_days=None if shock is None else shock.start_days[:, i],
                duration_days=None if shock is None else shock.duration_days[:, i],
            )
            for i in range(size)
        )
    return out


def _region(r: Resource) -> str:
    if r.product is not None:
        return r.product.region
    return "" if r.offer is None else r.offer.region


def overlap(data: Data, start_days: float, duration_days: float) -> FloatArray:
    """T: the share of each period inside the window [start, start + duration)."""
    days = data.problem.period_hours / HOURS_PER_DAY
    lo = np.arange(data.problem.periods) * days
    hi = lo + days
    end = start_days + duration_days
    share: FloatArray = np.clip((np.minimum(hi, end) - np.maximum(lo, start_days)) / days, 0.0, 1.0)
    return share


def shocked(data: Data, scenario: int, draw: Draw, shocks: ScenarioSet) -> Data:
    """``data`` with the draw's shocks applied to ``scenario`` (module docstring)."""
    assert draw.occurred is not None
    assert draw.magnitude is not None
    assert draw.start_days is not None
    assert draw.duration_days is not None
    K, T = data.n_products, data.problem.periods
    demand = data.demand.copy()
    price = data.price.copy()
    available = data.available.copy()
    usable = np.ones((K, T)) if data.usable is None else data.usable.copy()
    for i, shock in enumerate(shocks.shocks):
        if not draw.occurred[i]:
            continue
        g = float(draw.magnitude[i])
        if shock.kind is ShockKind.DEMAND_SHIFT:
            o = overlap(data, float(draw.start_days[i]), float(draw.duration_days[i]))
            for j, c in enumerate(data.problem.classes):
                if shock.selector.matches_workload(c.name, c.workload.kind):
                    demand[j, scenario] *= 1.0 + (g - 1.0) * o
            continue
        hit = [
            r
            for r, res in enumerate(data.resources)
            if shock.selector.matches_offer(res.vendor, res.provider, _region(res), res.accelerator)
        ]
        for r in hit:
            if shock.kind is ShockKind.PRICE_SHIFT:
                o = overlap(data, float(draw.start_days[i]), float(draw.duration_days[i]))
                if r >= K:
                    price[r] *= 1.0 + (g - 1.0) * o
            elif shock.kind in (ShockKind.SUPPLY_CUT, ShockKind.OUTAGE):
                o = overlap(data, float(draw.start_days[i]), float(draw.duration_days[i]))
                left = 1.0 - (1.0 - g) * o
                if r < K:
                    usable[r] *= left
                else:
                    gone = left < SCARCE
                    available[r] &= ~gone
                    price[r] /= np.where(gone, 1.0, left)
            elif shock.kind is ShockKind.ROADMAP_SLIP:
                first = int(np.argmax(data.available[r])) if data.available[r].any() else 0
                days = data.problem.period_hours / HOURS_PER_DAY
                lost = overlap(data, first * days, g) > 0.5
                if r < K:
                    usable[r] *= ~lost
                else:
                    available[r] &= ~lost
    return replace(data, demand=demand, price=price, available=available, usable=usable)


def _one(ctx: Context, draw: Draw) -> float:
    deal = ctx.deal
    data = prepared(ctx.base, deal, Settings(efficiency=draw.efficiency))
    if ctx.shocks is not None:
        data = shocked(data, draw.scenario, draw, ctx.shocks)
    kwargs: dict[str, Any] = {"scenarios": [draw.scenario], "mip_gap": 1e-3}
    plain = solve(
        data, fixed_blocks=ctx.blocks_without, fixed_enabled=ctx.enabled_without, **kwargs
    )
    priced = discounted(data, deal)
    mine = solve(
        priced,
        fixed_blocks=ctx.blocks_with,
        fixed_enabled=ctx.enabled_with,
        extension=DealTerms(deal, draws=draw.paid),
        **kwargs,
    )
    counted, earned = usage_tranches(deal, priced, mine, draw.paid)
    net = mine.cost[0] - fixed_inflow_usd(deal, draw.paid) + counted[0] - earned[0]
    return float(plain.cost[0] - net)


def run_item(ctx: Context, item: list[Draw]) -> list[float]:
    """The deal's worth in each future of ``item`` (an executor's item function)."""
    return [_one(ctx, d) for d in item]


def value_distribution(
    evaluation: Evaluation,
    base: Data,
    *,
    samples: int,
    seed: int,
    shocks: ScenarioSet | None = None,
    shocks_file: str | None = None,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> ValueDistribution:
    """The deal's worth over ``samples`` futures (module docstring)."""
    deal = evaluation.deal
    ctx = Context(
        deal=deal,
        base=base,
        blocks_without=evaluation.without.solution.blocks,
        blocks_with=evaluation.with_deal.solution.blocks,
        enabled_without=evaluation.without.solution.enabled,
        enabled_with=evaluation.with_deal.solution.enabled,
        shocks=shocks,
    )
    futures = draws(deal, base, shocks, samples, seed)
    items = [futures[i : i + SAMPLES_PER_ITEM] for i in range(0, len(futures), SAMPLES_PER_ITEM)]
    parts = map_items(executor, run_item, ctx, items, progress=progress)
    values = np.array([v for part in parts for v in part])
    return ValueDistribution(value_usd=values, seed=seed, scenarios_file=shocks_file)


assert CHUNK_SIZE % SAMPLES_PER_ITEM == 0
