"""The baselines a plan is compared with, solved on the same inputs.

Baselines (each priced with the same performance model and options):

- ``locked_in``: NVIDIA chips, on-demand, on one provider (the cheapest single one): the
  status quo of a lab tied to one roadmap and one cloud; no caps.
- ``cheapest_per_hour``: each workload on the pay-as-you-go offer (on-demand, or spot
  where allowed) with the lowest price per accelerator-hour it may use, whatever the chip
  does per hour (what a per-hour broker does); no caps.
- ``greedy_per_job``: each workload on its own cheapest compute, ignoring caps, shared
  capacity and the cost of enabling a platform, which is then paid for every platform
  used.

A baseline is ``feasible`` when its placement also meets the fleet's share caps, budget and
capacity limits. Each baseline is solved on its own options, pruned after its filter (a
pruned option set for the plan may have dropped an on-demand offer that a spot or
capacity-block offer in the same region beats, which ``locked_in`` would need).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet, PlatformState
from arbiter.domain.offer import PAY_AS_YOU_GO, PriceRegime
from arbiter.optimize.fleet import (
    DEFAULT_MIP_GAP,
    DEFAULT_TIME_LIMIT_S,
    FleetSolution,
    Placed,
    solve_fleet,
)
from arbiter.optimize.fleet_model import TIE_BREAK_COST_WEIGHT
from arbiter.optimize.linear import Status
from arbiter.optimize.options import Option
from arbiter.optimize.pruning import prune
from arbiter.optimize.share_caps import cap_shares


def meets_fleet(fleet: Fleet, placed: Sequence[Placed], options: Sequence[Option]) -> bool:
    """Whether ``placed`` meets the fleet's rows: every purchase among ``options`` (the
    plan's, built within obtainable capacity, whole units and lead times), share caps as
    the plan's model reads them (``fleet_model.cap_shares``, the need measured on
    ``options``), the budget and the capacity limits."""
    buyable = {_buy_key(o) for o in options}
    if any(_buy_key(p.option) not in buyable for p in placed):
        return False  # a purchase beyond what can be obtained (options built without it)
    shares = cap_shares(fleet, placed, options)
    for group in GROUPS:
        cap = getattr(fleet.caps, group)
        if cap is not None and any(s > cap + 1e-9 for s in shares[group].values()):
            return False
    total = sum(p.usd for p in placed)
    if fleet.budget_usd is not None and total > fleet.budget_usd + 1e-6:
        return False
    for limit in fleet.capacity:
        used = sum(p.instances for p in placed if limit.covers(p.option.offer))
        if used > limit.max_instances:
            return False
    return True


def _buy_key(o: Option) -> tuple[object, ...]:
    return (o.workload, o.offer.offer_id, o.chips, o.instances, o.serve)


def solve_or_none(
    fleet: Fleet,
    options: Sequence[Option],
    *,
    caps: bool = True,
    capacity: bool = True,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    start: FleetSolution | None = None,
) -> FleetSolution | None:
    try:
        return solve_fleet(
            fleet,
            options,
            caps=caps,
            capacity=capacity,
            explain=False,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            start=start,
        )
    except (InfeasibleError, SolverError):
        return None


def _uncapped(fleet: Fleet) -> Fleet:
    """``fleet`` without caps, budget, region rule or capacity limits (its copies kept)."""
    return Fleet(
        workloads=fleet.workloads,
        platforms=fleet.platforms,
        objective=fleet.objective,
        copies=fleet.copies,
    )


def locked_in(
    fleet: Fleet, options: Sequence[Option], *, time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
) -> FleetSolution | None:
    """NVIDIA on-demand on the one provider where that is cheapest, without caps (None if
    no single provider can take the whole fleet)."""
    free = _uncapped(fleet)
    nvidia = [
        o
        for o in options
        if o.estimate.vendor == "NVIDIA" and o.offer.price_regime is PriceRegime.ON_DEMAND
    ]
    locked: FleetSolution | None = None
    for provider in sorted({o.offer.provider for o in nvidia}):
        mine = prune([o for o in nvidia if o.offer.provider == provider], free)
        found = solve_or_none(free, mine, caps=False, capacity=False, time_limit_s=time_limit_s)
        if found is not None and (locked is None or found.total_usd < locked.total_usd):
            locked = found
    return locked


NOT_COMPUTED = "not computed within the time limit"


def baselines(
    fleet: Fleet, options: Sequence[Option], *, time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
) -> dict[str, FleetSolution | str | None]:
    """The three baselines of the module docstring, from the same (unpruned) options,
    within ``time_limit_s`` together (in the order above; one the time did not reach is
    :data:`NOT_COMPUTED`, one with no placement ``None``)."""
    clock_end = None if time_limit_s is None else time.monotonic() + time_limit_s

    def left() -> float | None:
        return None if clock_end is None else clock_end - time.monotonic()

    def reached() -> bool:
        rest = left()
        return rest is None or rest > 0

    free = _uncapped(fleet)
    out: dict[str, FleetSolution | str | None] = {}
    out["locked_in"] = locked_in(fleet, options, time_limit_s=left()) if reached() else NOT_COMPUTED
    hourly = [o for o in options if o.offer.price_regime in PAY_AS_YOU_GO]
    lowest: dict[int, float] = {}
    for o in hourly:
        price = o.offer.usd_per_accelerator_hour
        lowest[o.workload] = min(lowest.get(o.workload, price), price)
    per_hour = [o for o in hourly if o.offer.usd_per_accelerator_hour <= lowest[o.workload]]
    out["cheapest_per_hour"] = (
        solve_or_none(free, prune(per_hour, free), caps=False, capacity=False, time_limit_s=left())
        if reached()
        else NOT_COMPUTED
    )
    out["greedy_per_job"] = (
        _greedy(fleet, options, time_limit_s=left()) if reached() else NOT_COMPUTED
    )
    return out


ALONE_MIP_GAP = 1e-6  # a service solved alone (greedy_per_job): small, so solved to the end


def _greedy(
    fleet: Fleet, options: Sequence[Option], *, time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
) -> FleetSolution | None:
    """Each workload on its own cheapest compute, as if every platform were free and no
    cap, capacity limit or budget held; then the platforms it used are enabled at their
    cost. Without the shared rows the fleet falls apart into one problem per workload: a
    train/finetune/batch workload takes its option of least objective, a service is solved
    alone (identical services once)."""
    everything = tuple(PlatformState(platform=s.platform, enabled=True) for s in fleet.platforms)
    clock_end = None if time_limit_s is None else time.monotonic() + time_limit_s
    cost_weight = fleet.objective.cost_weight or TIE_BREAK_COST_WEIGHT
    time_weight = fleet.objective.time_usd_per_hour
    mine: dict[int, list[Option]] = defaultdict(list)
    for o in options:
        mine[o.workload].append(o)
    if len(mine) < len(fleet.workloads):
        return None  # a workload with no option: no greedy plan
    placed: list[Placed] = []
    worst_gap = 0.0
    alone: dict[object, FleetSolution | None] = {}
    for w, work in enumerate(fleet.workloads):
        own = mine[w]
        if not own[0].serve:
            best = min(own, key=lambda o: cost_weight * o.usd + time_weight * o.hours)
            copies = fleet.copies[w] if fleet.copies else 1
            placed += [Placed(best, 1, best.instances, best.usd)] * copies
            continue
        signature = tuple(_same(o) for o in own)
        key = (replace(work, name=""), signature)
        if key not in alone:
            left = None if clock_end is None else max(clock_end - time.monotonic(), 0.01)
            one = Fleet(workloads=(work,), platforms=everything, objective=fleet.objective)
            alone[key] = solve_or_none(
                one,
                prune([replace(o, workload=0) for o in own], one),  # exact: same optimum
                caps=False,
                capacity=False,
                time_limit_s=left,
                # its own cheapest compute, not one within the plan's gap: near-ties
                # otherwise flip which platforms the baseline then pays to enable
                mip_gap=ALONE_MIP_GAP,
            )
        found = alone[key]
        if found is None:
            return None
        worst_gap = max(worst_gap, found.mip_gap)
        # a twin's options line up with the first's, one for one
        at = {s: k for k, s in enumerate(signature)}
        placed += [replace(p, option=own[at[_same(p.option)]]) for p in found.placed]
    used = {Platform(p.option.estimate.platform) for p in placed}
    pending = [s for s in fleet.platforms if not s.enabled and s.platform in used]
    return FleetSolution(
        status=Status.OPTIMAL,
        placed=tuple(placed),
        compute_usd=float(sum(p.usd for p in placed)),
        enabled=tuple(s.platform for s in pending),
        enablement_usd=sum(s.enable_usd for s in pending),
        mip_gap=worst_gap,
    )


def _same(o: Option) -> tuple[object, ...]:
    """What makes two serving options interchangeable in a service's own problem."""
    return (
        o.offer.offer_id,
        o.estimate.accelerator,
        o.chips,
        o.instances,
        o.usd,
        o.tokens_per_s,
        o.class_requests_per_s,
    )
