"""The audit that ends every plan: what a buyer checks before money moves.

- **Surplus**: per service, the rate it is bought for against its demand, the surplus in
  tokens/s and whether it is within the rounding of one replica (the no-padding rows make
  it so); idle instances (instances holding no replica) and jobs placed more than once,
  both zero by construction, counted from the plan itself.
- **Capacity**: every obtainable-capacity assumption the plan relies on, with its basis
  (the fleet's word, a capacity file, or a sourced rule), and those that need a quota
  request or a contract, with the lead time that implies.
- **Prices**: the age and source of every price used; older than
  ``STALE_PRICE_DAYS`` is flagged.
- **Bands**: the assignments whose performance estimate is thin: a band of
  ``WIDE_BAND_SHARE`` or more, or fewer than ``FEW_CASES`` published cases behind it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer
from arbiter.domain.price_age import price_age
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet_model import FleetSolution
from arbiter.results.base import Rows
from arbiter.results.plan import CapacityUsed, PlanAudit, PriceUsed, ServiceSurplus, ThinEstimate

STALE_PRICE_DAYS = 180
WIDE_BAND_SHARE = 0.40  # +/- 40% or more
FEW_CASES = 3


def thin_band(share: float, cases: int, chip_cases: int) -> bool:
    """An estimate whose band is wide, or rests on few published cases of its platform
    or of its chip itself."""
    return share >= WIDE_BAND_SHARE or cases < FEW_CASES or chip_cases < FEW_CASES


def plan_audit(
    fleet: Fleet,
    solution: FleetSolution,
    assumptions: Sequence[Mapping[str, Any]],
    *,
    today: date,
) -> PlanAudit:
    """The audit of ``solution``, a plan of ``fleet`` (one workload per member, not
    folded), with the capacity assumptions it relies on (``optimize.capacity.
    assumptions_used``), prices aged at ``today``."""
    idle = 0
    placements: dict[int, int] = {}
    for p in solution.placed:
        o = p.option
        if o.serve:
            per = o.offer.accelerators_per_instance
            needed = math.ceil(p.units * o.chips / per - 1e-9)
            idle += max(p.instances - needed, 0)
        else:
            placements[o.workload] = placements.get(o.workload, 0) + 1
    surplus = _surplus(fleet, solution)
    seen: dict[str, PriceUsed] = {}
    thin: dict[tuple[str, str], ThinEstimate] = {}
    for p in solution.placed:
        off, e = p.option.offer, p.option.estimate
        if off.offer_id not in seen:
            seen[off.offer_id] = _price_used(p.option.offer, today)
        wide = thin_band(e.error_band_share, e.band_cases, e.chip_cases)
        measured = e.source == "measured"
        name = fleet.workloads[p.option.workload].name
        if wide and not measured and (name, e.accelerator) not in thin:
            thin[(name, e.accelerator)] = ThinEstimate(
                workload=name,
                accelerator=e.accelerator,
                platform=e.platform,
                error_band_share=e.error_band_share,
                band_cases=e.band_cases,
                chip_cases=e.chip_cases,
            )
    prices = tuple(sorted(seen.values(), key=lambda x: (-x.age_days, x.provider, x.region)))
    extra = sum(max(n - 1, 0) for n in placements.values())
    used = [CapacityUsed.model_validate(a) for a in assumptions]
    return PlanAudit(
        surplus=Rows(surplus),
        idle_instances=idle,
        extra_placements=extra,
        capacity_assumptions=Rows(used),
        quotas_and_contracts=Rows(a for a in used if a.needs != "none"),
        prices=Rows(prices),
        stale_prices=sum(1 for x in prices if x.stale),
        thin_estimates=Rows(sorted(thin.values(), key=lambda t: (t.workload, t.accelerator))),
        # whether the plan pays for anything that does no work
        padded=idle > 0 or extra > 0 or not all(s.within_one_replica for s in surplus),
    )


def _surplus(fleet: Fleet, solution: FleetSolution) -> list[ServiceSurplus]:
    """Per service the plan serves, its rate bought against its demand."""
    out = []
    for wi, w in enumerate(fleet.workloads):
        if not isinstance(w.job, ServeJob):
            continue
        mine = [p for p in solution.placed if p.option.workload == wi and p.units > 0]
        if not mine:
            continue
        demand = w.job.requests_per_s * w.job.output_tokens
        bought = sum(p.units * p.option.tokens_per_s for p in mine)
        smallest = min(p.option.tokens_per_s for p in mine)
        out.append(
            ServiceSurplus(
                workload=w.name,
                demand_tokens_per_s=demand,
                bought_tokens_per_s=bought,
                surplus_tokens_per_s=bought - demand,
                smallest_replica_tokens_per_s=smallest,
                within_one_replica=bought - smallest < demand * (1 - 1e-9) or bought <= demand,
            )
        )
    return out


def _price_used(off: Offer, today: date) -> PriceUsed:
    age = price_age(off, today)
    return PriceUsed(
        provider=off.provider,
        region=off.region,
        instance_type=off.instance_type,
        price_regime=off.price_regime.value,
        usd_per_hour=off.usd_per_hour,
        source=off.source,
        as_of=off.as_of.text,
        age_days=age.age_days,
        stale=age.age_days > STALE_PRICE_DAYS,
    )
