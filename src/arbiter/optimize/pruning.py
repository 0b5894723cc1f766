"""Pruning the options of a fleet, exactly: an option goes only when another does its job
at no more cost in every row of the model it is in, or, under share caps, when the LP
bound proves no plan with it beats a plan already found (:func:`prune`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.optimize  # type: ignore[import-untyped]
import scipy.sparse  # type: ignore[import-untyped]

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.optimize.dominance import FloatArray, serve_shape, undominated
from arbiter.optimize.options import (
    EXACT_CAPS_WORKLOADS,
    TIE_BREAK_COST_WEIGHT,
    Option,
    share_capped,
)
from arbiter.optimize.share_caps import group_of, outside_premium, unit_rate

EXACT_CAPS_OPTIONS = 30_000  # under caps, the LP bound prunes up to this many options
BOUND_TOL = 1e-7  # relative: an option is cut by the LP bound only this far above the plan
# the plan whose cost the LP bound is held against needs only to be feasible: a loose gap
# and a short limit find it in a fraction of the time the plan itself takes
BOUND_PLAN_GAP = 1e-2
BOUND_PLAN_S = 5.0


def prune(options: Sequence[Option], fleet: Fleet, *, caps: bool = True) -> list[Option]:
    """The options a plan may need, in their order: exact (the optimum over what is kept
    is the optimum over ``options``).

    An option B goes when another option A of the same workload beats it in every row of
    the model (options of a request mix are all kept):

    - every capacity limit A is in, B is in too, with at least A's instances (for a
      service: A fills its instances, one replica per instance or more);
    - A's platform is enabled, or is B's;
    - train/batch: A costs no more, and under the time objective takes no more of it;
      serve: a whole purchase of A (an instance, or the instances one of its replicas
      spans) costs no more than an instance of B and serves at least what one of B's
      instances can.

    Share caps (``caps``, when the fleet has any below 1) bound spend against total spend,
    so a dearer option elsewhere can be what meets a cap: then A must also be in B's
    vendor, provider and region (a dearer option there could only pad total spend, which
    no plan does). Up to ``EXACT_CAPS_OPTIONS`` options a plan is then found on what is
    kept, and every option whose LP reduced cost, added to the LP bound of the whole
    model, exceeds that plan's objective is dropped too (no plan with it can be better).
    Above ``EXACT_CAPS_WORKLOADS`` workloads a capped fleet is compared across places, as
    without caps (fast; a plan only a dearer option elsewhere lets meet a cap can be
    missed)."""
    capped = caps and share_capped(fleet)
    small = len({o.workload for o in options}) <= EXACT_CAPS_WORKLOADS
    kept = [options[i] for i in _dominance(options, fleet, by_place=capped and small)]
    if not capped or not small or len(kept) > EXACT_CAPS_OPTIONS:
        return kept
    return _bounded(kept, kept, fleet)


def _rows_of(options: Sequence[Option], fleet: Fleet) -> list[frozenset[object]]:
    """The capacity rows each option is in: the fleet's limits (by position) and its
    offer's own (by offer id)."""
    memo: dict[str, frozenset[object]] = {}
    out = []
    for o in options:
        off = o.offer
        rows = memo.get(off.offer_id)
        if rows is None:
            found: set[object] = {k for k, c in enumerate(fleet.capacity) if c.covers(off)}
            if off.capacity_instances is not None:
                found.add(f"offer/{off.offer_id}")
            rows = memo[off.offer_id] = frozenset(found)
        out.append(rows)
    return out


def _dominance(options: Sequence[Option], fleet: Fleet, *, by_place: bool = False) -> list[int]:
    """Positions of the options :func:`prune`'s dominance rules keep, sorted (``by_place``:
    comparing only options in the same vendor, provider and region)."""
    if not options:
        return []
    n = len(options)
    cw = fleet.objective.cost_weight or TIE_BREAK_COST_WEIGHT
    tw = fleet.objective.time_usd_per_hour
    usd = np.array([o.usd for o in options], dtype=np.float64)
    serve = np.array([o.serve for o in options], dtype=bool)
    tokens = np.array([o.tokens_per_s for o in options], dtype=np.float64)
    chips = np.array([max(o.chips, 1) for o in options], dtype=np.float64)
    per = np.array([o.offer.accelerators_per_instance for o in options], dtype=np.float64)
    hours = np.array([o.hours for o in options], dtype=np.float64)
    inst = np.array([o.instances for o in options], dtype=np.float64)
    block_usd, block_tokens = serve_shape(usd, tokens, chips, per)
    objective = cw * usd + tw * hours
    # A beats B when dom_cost[A] <= sub_cost[B] and dom_work[A] >= sub_work[B]
    dom_cost = np.where(serve, block_usd, usd)
    sub_cost = usd
    dom_work = np.where(serve, block_tokens, -objective)
    sub_work = np.where(serve, tokens * per / chips, -objective)
    rows = _rows_of(options, fleet)
    pending = {s.platform.value for s in fleet.platforms if not s.enabled}
    platform = [o.estimate.platform if o.estimate.platform in pending else "" for o in options]
    # one A of a capacity limit must fill its instances: train/batch compare instances
    fills = np.where(serve, chips <= per, True)
    by_workload: dict[tuple[object, ...], list[int]] = {}
    keep = np.ones(n, dtype=bool)
    for i, o in enumerate(options):
        if o.class_requests_per_s:
            continue  # kept whole: chips differ in what they serve of each class
        place = (o.estimate.vendor, o.offer.provider, o.offer.region) if by_place else ()
        by_workload.setdefault((o.workload, o.serve, *place), []).append(i)
    # capacity rows as ids of distinct row sets, with their subset relation
    kinds = sorted(set(rows), key=lambda r: sorted(map(str, r)))
    at = {r: k for k, r in enumerate(kinds)}
    rid = np.array([at[r] for r in rows], dtype=np.int64) if len(kinds) > 1 else None
    subset = np.array([[x <= y for y in kinds] for x in kinds], dtype=bool)
    free_all = np.array([not r for r in rows], dtype=bool)
    codes = {name: k for k, name in enumerate(sorted(set(platform)))}  # "" (enabled) is 0
    pcode = np.array([codes[x] for x in platform], dtype=np.int64)
    for (_, is_serve, *_place), members in by_workload.items():
        idx = np.array(members, dtype=np.int64)
        free = free_all[idx]
        mine = pcode[idx]
        for p in np.unique(mine).tolist():
            # dominators: free options on an enabled platform or on p; targets: options on p
            in_pool = free & ((mine == 0) | (mine == p))
            is_target = mine == p
            if not in_pool.any():
                continue
            both = in_pool | is_target
            d_cost = np.where(in_pool[both], dom_cost[idx[both]], np.inf)
            d_work = np.where(in_pool[both], dom_work[idx[both]], -np.inf)
            alive = undominated(d_cost, sub_cost[idx[both]], d_work, sub_work[idx[both]])
            keep[idx[both][is_target[both] & ~alive]] = False
        # dominators in capacity limits: pairwise, over the workload's options
        lim = np.flatnonzero(~free)
        if len(lim) and len(idx) > 1:
            a, b = idx[lim][:, None], idx[None, :]
            row = np.ones((len(lim), len(idx)), dtype=bool)
            if rid is not None:
                row &= subset[rid[a], rid[b]]
            row &= (pcode[a] == 0) | (pcode[a] == pcode[b])
            row &= fills[a] & (dom_cost[a] <= sub_cost[b]) & (dom_work[a] >= sub_work[b])
            if not is_serve:
                row &= inst[a] <= inst[b]
            beats = np.zeros((len(idx), len(idx)), dtype=bool)
            beats[lim] = row
            np.fill_diagonal(beats, False)
            # equals beat each other: the first stays
            beats &= ~(beats.T & (idx[:, None] > idx[None, :]))
            keep[idx[beats.any(axis=0)]] = False
    return np.flatnonzero(keep).tolist()


def _bounded(options: Sequence[Option], kept: Sequence[Option], fleet: Fleet) -> list[Option]:
    """Under share caps: a plan on ``kept`` (a subset, so its objective bounds the optimum
    from above; found within ``BOUND_PLAN_GAP``, since any feasible plan is a valid upper
    bound), then LP reduced-cost fixing on every option (see :func:`prune`)."""
    from arbiter.optimize.fleet import build_fleet_model, solve_fleet  # noqa: PLC0415 (cycle)

    try:
        found = solve_fleet(
            fleet, kept, explain=False, mip_gap=BOUND_PLAN_GAP, time_limit_s=BOUND_PLAN_S
        )
    except (InfeasibleError, SolverError):
        return list(options)
    cw = fleet.objective.cost_weight or TIE_BREAK_COST_WEIGHT
    tw = fleet.objective.time_usd_per_hour
    upper = cw * (found.compute_usd + found.enablement_usd) + tw * sum(
        p.option.hours for p in found.placed if not p.option.serve
    )
    built = build_fleet_model(fleet, options)
    bound = _lp_bound(built.model)
    if bound is None:
        return list(options)
    lower, reduced = bound
    col = np.empty(len(options), dtype=np.int64)
    col[built.one] = built.choose.columns
    col[built.rep] = built.instances.columns
    floor = lower + reduced[col]  # the least objective of any plan that uses the option
    cut = floor > upper + BOUND_TOL * max(abs(upper), 1.0)
    cut &= ~_cheapest(fleet, options)  # what share caps measure need by stays
    return [o for o, c in zip(options, cut.tolist(), strict=True) if not c]


def _lp_bound(model: object) -> tuple[float, FloatArray] | None:
    """The LP relaxation's optimum and each column's reduced cost (at its lower bound),
    by SciPy's HiGHS; None when the LP does not solve to optimality."""
    from arbiter.optimize.linear import LinearModel  # noqa: PLC0415 (cycle)

    assert isinstance(model, LinearModel)
    cost, col_lower, col_upper, start, index, value = model.arrays()
    row_lower, row_upper = model.row_bounds()
    a = scipy.sparse.csc_matrix((value, index, start), shape=(model.n_rows, model.n_cols)).tocsr()
    eq = row_lower == row_upper
    up = ~eq & np.isfinite(row_upper)
    lo = ~eq & np.isfinite(row_lower)
    a_ub = scipy.sparse.vstack([a[up], -a[lo]]).tocsr()
    b_ub = np.concatenate([row_upper[up], -row_lower[lo]])
    res = scipy.optimize.linprog(
        cost,
        A_ub=a_ub if a_ub.shape[0] else None,
        b_ub=b_ub if a_ub.shape[0] else None,
        A_eq=a[eq] if eq.any() else None,
        b_eq=row_lower[eq] if eq.any() else None,
        bounds=np.column_stack([col_lower, col_upper]),
        method="highs",
    )
    if res.status != 0:
        return None
    return float(res.fun), np.maximum(np.asarray(res.lower.marginals, dtype=np.float64), 0.0)


def _cheapest(fleet: Fleet, options: Sequence[Option]) -> npt.NDArray[np.bool_]:
    """The options that set what share caps measure need by (``share_caps.py``): each
    workload's cheapest per unit of work, and, per capped family, its cheapest outside
    the group that holds its cheapest."""
    rate = unit_rate(fleet, options)
    work = np.array([o.workload for o in options], dtype=np.int64)
    least = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least, work, rate)
    keep = rate <= least[work] * (1.0 + 1e-12)
    for family in GROUPS:
        if getattr(fleet.caps, family) is None:
            continue
        _, group = np.unique(np.array([group_of(o, family) for o in options]), return_inverse=True)
        at, _extra = outside_premium(fleet, options, group.astype(np.int64))
        out = np.full(len(fleet.workloads), np.inf)
        np.minimum.at(out, work[at], rate[at])
        keep[at] |= rate[at] <= out[work[at]] * (1.0 + 1e-12)
    return np.asarray(keep, dtype=bool)
