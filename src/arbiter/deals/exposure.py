"""What a side's plan buys, year by year: spend and delivered compute per resource, the
effective price per delivered PFLOP-hour, and the lock-in it creates.

- **Spend** (undiscounted, per resource, scenario and period): committed chips while
  their term is active, at the price of the period they were bought in; on-demand
  chip-hours at the period's price.
- **Delivered compute**: the work each chip-hour does, in model FLOPs: tokens trained
  times ``6N + 3A`` (``4N + 3A`` for LoRA), a request's prompt and output through the
  forward pass (``2N + A``) for a service, and the same per generated token for batch
  work. The work per chip-hour comes from the performance model and the port's
  efficiency, so a PFLOP-hour here is dense BF16-equivalent work at the model's
  efficiency, not a chip's peak.
- **Lock-in per year** (expected over scenarios): the covered share of spend and of
  delivered compute, the counterparty's share of spend, the vendor HHI by spend, and the
  single points of failure: a vendor or provider that delivers all (at least
  :data:`~arbiter.risk.concentration.STOPPED`) of some class's work that year, so that
  losing it stops the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from arbiter.deals.model import covered_mask, spend_usd
from arbiter.domain.deal import Deal
from arbiter.domain.workload import BatchJob, ServeJob, TrainJob, Workload
from arbiter.optimize.linear import FloatArray
from arbiter.optimize.plan import hhi
from arbiter.perf.training import train_flops_per_token
from arbiter.procure.milp import ProcurementSolution, used_hours
from arbiter.procure.model import Data
from arbiter.risk.concentration import STOPPED

FLOPS_PER_PFLOP_HOUR = 1e15 * 3600.0


def flops_per_unit(w: Workload) -> float:
    """Model FLOPs in one unit of the workload's work (a token trained, a request
    served, a token generated)."""
    job, model = w.job, w.model
    if isinstance(job, TrainJob):
        return train_flops_per_token(model, job.seq_len, job.method)
    if isinstance(job, ServeJob):
        prompt = job.input_tokens * model.forward_flops_per_token(job.input_tokens / 2)
        output = job.output_tokens * model.forward_flops_per_token(
            job.input_tokens + job.output_tokens / 2
        )
        return prompt + output
    assert isinstance(job, BatchJob)
    i, o = job.request_input_tokens, job.request_output_tokens
    per_request = i * model.forward_flops_per_token(i / 2) + o * model.forward_flops_per_token(
        i + o / 2
    )
    return per_request / o


@dataclass(frozen=True, slots=True)
class Usage:
    """A side's spend and delivered compute, R x S x T, and which resources are covered."""

    data: Data
    spend_usd: FloatArray
    pflop_hours: FloatArray
    work: FloatArray  # J x R x S x T work units delivered
    covered: np.ndarray

    @property
    def probability(self) -> FloatArray:
        return np.array([s.probability for s in self.data.problem.scenarios])


def usage(data: Data, sol: ProcurementSolution, deal: Deal) -> Usage:
    """Money paid (every committed and on-demand hour bought) and work delivered (only
    the hours that did work, :func:`~arbiter.procure.milp.used_hours`: idle committed
    hours, or hours bought beyond a class's demand, deliver nothing)."""
    p = data.problem
    S = len(p.scenarios)
    committed, on_demand = used_hours(data, sol)
    hours = np.concatenate([committed, on_demand], axis=1)  # J x R x S x T
    rate = data.scenario_rate(list(range(S)))  # J x R x S
    work = hours * rate[:, :, :, None]
    flops = np.array([flops_per_unit(c.workload) for c in p.classes])
    pflop = np.einsum("jrst,j->rst", work, flops) / FLOPS_PER_PFLOP_HOUR
    return Usage(data, spend_usd(data, sol), pflop, work, covered_mask(data, deal))


def _price(spend: float, pflop: float) -> float | None:
    return spend / pflop if pflop > 0 else None


def effective_prices(with_deal: Usage, without: Usage) -> dict[str, Any]:
    """Expected USD per delivered PFLOP-hour: on the covered chips with the deal, on the
    chips the lab buys instead without it, and over each whole plan. The money is all
    that was paid (idle committed hours included), the PFLOP-hours only the work done."""

    def totals(u: Usage, mask: np.ndarray) -> tuple[float, float]:
        prob = u.probability
        return (
            float(np.einsum("rst,s->", u.spend_usd[mask], prob)),
            float(np.einsum("rst,s->", u.pflop_hours[mask], prob)),
        )

    cov = totals(with_deal, with_deal.covered)
    alt = totals(without, ~without.covered)
    every_with = totals(with_deal, np.ones_like(with_deal.covered))
    every_without = totals(without, np.ones_like(without.covered))
    return {
        "covered_with_deal_usd_per_pflop_hour": _price(*cov),
        "alternative_without_deal_usd_per_pflop_hour": _price(*alt),
        "plan_with_deal_usd_per_pflop_hour": _price(*every_with),
        "plan_without_deal_usd_per_pflop_hour": _price(*every_without),
        "covered_pflop_hours": cov[1],
        "covered_spend_usd": cov[0],
    }


def lock_in(u: Usage, deal: Deal) -> list[dict[str, Any]]:
    """Per year of the procurement horizon: shares, HHI and single points of failure."""
    data, prob = u.data, u.probability
    p = data.problem
    ppy = deal.periods_per_year
    years = -(-p.periods // ppy)
    out = []
    for y in range(years):
        span = slice(y * ppy, min(p.periods, (y + 1) * ppy))
        spend = np.einsum("rst,s->r", u.spend_usd[:, :, span], prob)
        pflop = np.einsum("rst,s->r", u.pflop_hours[:, :, span], prob)
        work = np.einsum("jrst,s->jr", u.work[:, :, :, span], prob)
        total, compute = float(spend.sum()), float(pflop.sum())
        vendors: dict[str, float] = {}
        for r, res in enumerate(data.resources):
            vendors[res.vendor] = vendors.get(res.vendor, 0.0) + float(spend[r])
        shares = {v: s / total for v, s in sorted(vendors.items()) if s > 0} if total else {}
        counterparty = sum(
            float(spend[r]) for r, res in enumerate(data.resources)
            if res.provider == deal.counterparty
        )  # fmt: skip
        out.append(
            {
                "year": y,
                "in_deal": y < deal.horizon_years,
                "spend_usd": total,
                "covered_spend_share": float(spend[u.covered].sum() / total) if total else 0.0,
                "covered_compute_share": float(pflop[u.covered].sum() / compute)
                if compute
                else 0.0,
                "counterparty_spend_share": counterparty / total if total else 0.0,
                "vendor_shares": shares,
                "vendor_hhi": hhi(shares),
                "single_points_of_failure": _single_points(data, work, spend),
            }
        )
    return out


def _single_points(data: Data, work: FloatArray, spend: FloatArray) -> list[dict[str, Any]]:
    """Vendors and providers carrying (nearly) all of some class's work in the year."""
    out = []
    classes = data.problem.classes
    done = work.sum(axis=1)  # J
    total = float(spend.sum())
    for group in ("vendor", "provider"):
        names = sorted({getattr(r, group) for r in data.resources})
        for name in names:
            mine = np.array([getattr(r, group) == name for r in data.resources])
            stopped = [
                c.name for j, c in enumerate(classes)
                if done[j] > 0 and work[j, mine].sum() / done[j] >= STOPPED
            ]  # fmt: skip
            if stopped:
                out.append(
                    {
                        "group": group,
                        "name": name,
                        "classes_stopped": stopped,
                        "spend_share": float(spend[mine].sum() / total) if total else 0.0,
                    }
                )
    return out
