"""Fleet placement: the cheapest plan for many workloads across chips, clouds and price
regimes, under capacity, budget, platform and diversification limits.

Sets: workloads ``w``; options ``o`` (``options.py``: a workload on one accelerator
configuration bought through one offer); platforms ``p`` not yet enabled; groups ``g`` of
options by vendor, provider or region; capacity limits ``k``.

Variables:

    y_o   in {0, 1}    train/finetune/batch option o is the workload's placement
    r_o   in Z+        serving replicas on option o
    n_o   in Z+        instances bought for serving option o
    x_oc  >= 0         requests/s of class c a request-mix option o serves
    z_p   in {0, 1}    platform p is enabled (one-off cost E_p)

Spend ``S = sum_o c_o y_o + sum_o c_o n_o`` (``c_o``: the option's whole cost, or per
instance for serving), and

    minimise    cost_weight (S + sum_p E_p z_p) + time_usd_per_hour sum_o hours_o y_o
    subject to
      assign[w]          sum_{o in w} y_o = 1                             (train/batch w)
      demand[w]          sum_{o in w} tput_o r_o >= rate_w                (serve w, tokens/s)
      class_demand[w/c]  sum_{o in w} x_oc >= share_c rate_w       (request mix, requests/s)
      load[o]            sum_c x_oc / rps_oc <= r_o       (a replica splits its time: Mélange)
      pack[o]            chips_o r_o <= per_instance_o n_o                (serve o)
      no_idle[o]         per_instance_o n_o <= chips_o r_o + per_instance_o - 1
      enable[p/w]        sum_{o in w on p} y_o <= z_p                     (train/batch w)
      enable[p/o]        n_o <= U_o z_p                                   (serve o on p)
      capacity[k]        sum_{o in k} instances_o y_o + n_o <= max_k
      spend              sum_o c_o x_o - S = 0                            (with share caps)
      vendor_share[v]    sum_{o in v} c_o x_o - cap_vendor S <= 0         (and provider, region)
      budget             S + sum_p E_p z_p <= budget

``x_o`` is ``y_o`` or ``n_o``. Share caps are linear because they bound spend against total
spend. Deadlines (with platform lead times) and SLOs are met by construction: options
that miss them are never built. Capacity counts every workload's instances at once (a
conservative reading: the fleet runs concurrently).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet, PlatformState
from arbiter.domain.workload import ServeJob
from arbiter.optimize.diagnosis import explain_infeasible
from arbiter.optimize.linear import (
    Block,
    FloatArray,
    IntArray,
    LinearModel,
    Solution,
    Status,
    Stop,
)
from arbiter.optimize.options import Option
from arbiter.optimize.request_mix import class_demand, classes_of

TIE_BREAK_COST_WEIGHT = 1e-6
HALF = 0.5  # integer variables come back as floats: above one half is one


@dataclass(frozen=True, slots=True)
class Placed:
    option: Option
    units: int  # 1 for train/batch; replicas for serve
    instances: int
    usd: float
    class_requests_per_s: tuple[float, ...] = ()  # a request mix: what it serves per class


@dataclass(frozen=True, slots=True)
class FleetSolution:
    status: Status
    placed: tuple[Placed, ...]
    compute_usd: float
    enabled: tuple[Platform, ...]
    enablement_usd: float
    mip_gap: float
    unmet: tuple[float, ...] = ()  # with ``unmet_usd``: share of each workload left undone
    unmet_usd: float = 0.0  # what leaving it undone costs
    stop: Stop | None = None  # with status ``feasible``: the limit the solve stopped at

    @property
    def total_usd(self) -> float:
        return self.compute_usd + self.enablement_usd + self.unmet_usd


def group_of(option: Option, group: str) -> str:
    if group == "vendor":
        return option.estimate.vendor
    if group == "provider":
        return option.offer.provider
    return f"{option.offer.provider}/{option.offer.region}"


@dataclass(frozen=True, slots=True)
class FleetModel:
    """The MILP of ``options`` as arrays, with the blocks a solution is read from."""

    model: LinearModel
    choose: Block  # y, one per train/finetune/batch option (``one``)
    replicas: Block  # r, one per serving option (``rep``)
    instances: Block  # n, one per serving option
    enable: Block  # z, one per platform not yet enabled (``pending``)
    one: IntArray
    rep: IntArray
    pending: tuple[PlatformState, ...]
    class_load: Block | None = None  # x, one per (mix serving option, class it can serve)
    unmet: Block | None = None  # u, one per workload, with ``unmet_usd``
    share_unit: float = 1.0  # USD per unit of the share-cap rows
    unmet_usd: tuple[float, ...] = ()
    load_rep: IntArray | None = None  # position in ``rep`` of each x
    load_class: IntArray | None = None  # class of each x
    serve_rates: tuple[tuple[int, float], ...] = ()  # (workload, tokens/s) of plain services
    copies: tuple[int, ...] = ()  # with ``copies``: identical workloads each one stands for


def build_fleet_model(
    fleet: Fleet,
    options: Sequence[Option],
    *,
    caps: bool = True,
    capacity: bool = True,
    unmet_usd: Sequence[float] | None = None,
    copies: Sequence[int] | None = None,
) -> FleetModel:
    """The formulation above for ``options``; ``caps=False`` drops the share caps,
    ``capacity=False`` the capacity limits. With ``unmet_usd`` (one per workload) each
    workload may instead be left undone in part, ``u_w in [0, 1]`` at ``unmet_usd[w] u_w``:
    ``assign`` becomes ``sum y + u = 1`` and ``demand`` ``sum tput r + rate u >= rate``.
    With ``copies`` (one per workload, not with ``unmet_usd``) a train/finetune/batch
    workload stands for that many identical ones: ``y_o`` counts how many of them take
    option o (``assign``: ``sum y = copies_w``; ``enable``: ``sum y <= copies_w z_p``),
    which is exact, since identical workloads have identical options."""
    if copies is None and fleet.copies:
        copies = fleet.copies  # a folded fleet (arbiter.optimize.folding)
    many = np.ones(len(fleet.workloads)) if copies is None else np.asarray(copies, dtype=float)
    serve_w = {i for i, w in enumerate(fleet.workloads) if isinstance(w.job, ServeJob)}
    is_serve = np.array([o.serve for o in options], dtype=bool)
    cost = np.array([o.usd for o in options], dtype=np.float64)
    hours = np.array([o.hours for o in options], dtype=np.float64)
    labels = [_label(o) for o in options]
    model = LinearModel()
    time_weight = fleet.objective.time_usd_per_hour
    # "time" (cost weight 0) still breaks ties on cost: a weight far below any hour's
    cost_weight = fleet.objective.cost_weight or TIE_BREAK_COST_WEIGHT
    one = np.flatnonzero(~is_serve)
    rep = np.flatnonzero(is_serve)
    y = model.add_variables(
        "choose",
        [labels[i] for i in one.tolist()],
        cost=cost_weight * cost[one] + time_weight * hours[one],
        upper=many[[options[i].workload for i in one.tolist()]] if len(one) else 1.0,
        integer=True,
    )
    r = model.add_variables("replicas", [labels[i] for i in rep.tolist()], integer=True)
    n = model.add_variables(
        "instances", [labels[i] for i in rep.tolist()], cost=cost_weight * cost[rep], integer=True
    )
    # column of each option's spend-carrying variable
    col = np.empty(len(options), dtype=np.int64)
    col[one] = y.columns
    col[rep] = n.columns
    instances_per_unit = np.array([o.instances for o in options], dtype=np.float64)
    inst_coef = np.where(is_serve, 1.0, instances_per_unit)

    # every train/finetune/batch workload placed once; every service's rate covered
    names = [w.name for w in fleet.workloads]
    u: Block | None = None
    if unmet_usd is not None:
        u = model.add_variables(
            "unmet", names, cost=cost_weight * np.asarray(unmet_usd, dtype=np.float64), upper=1.0
        )
    wl = np.array([o.workload for o in options], dtype=np.int64)
    assign_w = [i for i in range(len(fleet.workloads)) if i not in serve_w]
    if assign_w:
        index = {w: k for k, w in enumerate(assign_w)}
        rows = np.array([index[w] for w in wl[one].tolist()], dtype=np.int64)
        cols, vals = y.columns, np.ones(len(one))
        if u is not None:
            rows = np.append(rows, np.arange(len(assign_w)))
            cols = np.append(cols, u.columns[assign_w])
            vals = np.append(vals, np.ones(len(assign_w)))
        model.add_constraints(
            "assign",
            [names[i] for i in assign_w],
            rows,
            cols,
            vals,
            lower=many[assign_w],
            upper=many[assign_w],
        )
    mixed_w = {i for i in serve_w if classes_of(fleet, i)}
    serve_list = sorted(serve_w - mixed_w)
    single = np.array([wl[i] not in mixed_w for i in rep.tolist()], dtype=bool)
    rates: list[float] = []
    if serve_list:
        index = {w: k for k, w in enumerate(serve_list)}
        rate = []
        for i in serve_list:
            job = fleet.workloads[i].job
            assert isinstance(job, ServeJob)
            rate.append(job.requests_per_s * job.output_tokens)
        rates = rate
        tput = np.array([options[i].tokens_per_s for i in rep.tolist()], dtype=np.float64)
        rows = np.array([index[w] for w in wl[rep[single]].tolist()], dtype=np.int64)
        cols, vals = r.columns[single], tput[single]
        if u is not None:
            rows = np.append(rows, np.arange(len(serve_list)))
            cols = np.append(cols, u.columns[serve_list])
            vals = np.append(vals, rate)
        model.add_constraints(
            "demand", [names[i] for i in serve_list], rows, cols, vals, lower=np.array(rate)
        )
        if u is None:
            _whole_units(model, options, rep[single], r, n, single, index, rate, names, serve_list)
    loads: tuple[Block, IntArray, IntArray] | None = None
    if mixed_w:
        mixed = np.flatnonzero(~single)
        x, at, klass = class_demand(model, fleet, options, rep[mixed], r.columns[mixed], labels, u)
        loads = (x, mixed[at], klass)
    if len(rep):
        chips = np.array([options[i].chips for i in rep.tolist()], dtype=np.float64)
        per = np.array(
            [options[i].offer.accelerators_per_instance for i in rep.tolist()], dtype=np.float64
        )
        k = np.arange(len(rep))
        model.add_constraints(
            "pack",
            [labels[i] for i in rep.tolist()],
            np.concatenate([k, k]),
            np.concatenate([r.columns, n.columns]),
            np.concatenate([chips, -per]),
            upper=0.0,
        )
        # and no idle instances: per n <= chips r + per - 1 (instances that hold no replica
        # would only pad spend to dodge a share cap)
        model.add_constraints(
            "no_idle",
            [labels[i] for i in rep.tolist()],
            np.concatenate([k, k]),
            np.concatenate([r.columns, n.columns]),
            np.concatenate([-chips, per]),
            upper=per - 1.0,
        )

    # platforms not yet enabled
    pending = [s for s in fleet.platforms if not s.enabled]
    z = model.add_variables(
        "enable",
        [s.platform.value for s in pending],
        cost=np.array([cost_weight * s.enable_usd for s in pending]),
        upper=1.0,
        integer=True,
    )
    if pending:
        spend_bound = _spend_bound(fleet, options, many)
        plat = np.array([o.estimate.platform for o in options])
        link_rows: list[IntArray] = []
        link_cols: list[IntArray] = []
        link_vals: list[FloatArray] = []
        link_labels: list[str] = []
        for j, state in enumerate(pending):
            name = state.platform.value
            # train/batch: one row per workload, sum_{o in w on p} y_o <= z_p (at most one
            # y of a workload is 1, so this is the tighter form of y_o <= z_p)
            placed = np.flatnonzero((plat == name) & ~is_serve)
            works, at = np.unique(wl[placed], return_inverse=True)
            row = len(link_labels) + at.astype(np.int64)
            link_labels += [f"{name}/{names[w]}" for w in works.tolist()]
            link_rows.append(
                np.concatenate([row, len(link_labels) - len(works) + np.arange(len(works))])
            )
            link_cols.append(np.concatenate([col[placed], np.full(len(works), z.columns[j])]))
            link_vals.append(np.concatenate([np.ones(len(placed)), -many[works]]))
            # serving: n_o <= U_o z_p, U_o the most instances the option could take
            on = np.flatnonzero((plat == name) & is_serve)
            bound = np.array([_instance_bound(fleet, options[i], spend_bound) for i in on.tolist()])
            row = len(link_labels) + np.arange(len(on), dtype=np.int64)
            link_labels += [f"{name}/{labels[i]}" for i in on.tolist()]
            link_rows.append(np.stack([row, row], axis=1).ravel())
            link_cols.append(np.stack([col[on], np.full(len(on), z.columns[j])], axis=1).ravel())
            link_vals.append(np.stack([np.ones(len(on)), -bound], axis=1).ravel())
        if link_labels:
            model.add_constraints(
                "enable",
                link_labels,
                np.concatenate(link_rows),
                np.concatenate(link_cols),
                np.concatenate(link_vals),
                upper=0.0,
            )

    # capacity: the file's limits and the offers' own
    cap_labels: list[str] = []
    cap_rows: list[IntArray] = []
    cap_cols: list[IntArray] = []
    cap_vals: list[FloatArray] = []
    cap_max: list[float] = []

    def add_row(label: str, hits: IntArray, most: float) -> None:
        cap_rows.append(np.full(len(hits), len(cap_labels), dtype=np.int64))
        cap_labels.append(label)
        cap_cols.append(col[hits])
        cap_vals.append(inst_coef[hits])
        cap_max.append(most)

    if capacity and fleet.capacity:
        provider = np.array([o.offer.provider for o in options])
        accelerator = np.array([o.offer.accelerator for o in options])
        region = np.array([o.offer.region.lower() for o in options])
        regime = np.array([o.offer.price_regime.value for o in options])
        for limit in fleet.capacity:
            mask = (provider == limit.provider) & (accelerator == limit.accelerator)
            if limit.region is not None:
                glob = limit.region.lower()
                mask &= np.isin(
                    region, [r for r in set(region[mask].tolist()) if fnmatch.fnmatchcase(r, glob)]
                )
            if limit.price_regime is not None:
                mask &= regime == limit.price_regime.value
            hits = np.flatnonzero(mask)
            if len(hits):
                where = f"/{limit.region}" if limit.region else ""
                kind = f"/{limit.price_regime.value}" if limit.price_regime else ""
                label = f"{limit.provider}/{limit.accelerator}{where}{kind}"
                add_row(label, hits, float(limit.max_instances))
    by_offer: dict[str, list[int]] = {}
    for i, o in enumerate(options):
        if capacity and o.offer.capacity_instances is not None:
            by_offer.setdefault(o.offer.offer_id, []).append(i)
    for offer_hits in by_offer.values():
        off = options[offer_hits[0]].offer
        label = f"{off.provider}/{off.instance_type}/{off.region}/{off.price_regime.value}"
        add_row(label, np.array(offer_hits, dtype=np.int64), float(off.capacity_instances or 0))
    if cap_labels:
        model.add_constraints(
            "capacity",
            cap_labels,
            np.concatenate(cap_rows),
            np.concatenate(cap_cols),
            np.concatenate(cap_vals),
            upper=np.array(cap_max),
        )

    # share caps: spend in group - cap x total spend <= 0
    share_unit = _share_caps(model, fleet, options, col, cost) if caps else 1.0

    if fleet.budget_usd is not None:
        model.add_constraints(
            "budget",
            ["total"],
            np.zeros(len(options) + len(pending), dtype=np.int64),
            np.concatenate([col, z.columns]),
            np.concatenate([cost, np.array([s.enable_usd for s in pending])]),
            upper=fleet.budget_usd,
        )

    return FleetModel(
        model=model,
        choose=y,
        replicas=r,
        instances=n,
        enable=z,
        one=one,
        rep=rep,
        pending=tuple(pending),
        class_load=None if loads is None else loads[0],
        load_rep=None if loads is None else loads[1],
        load_class=None if loads is None else loads[2],
        unmet=u,
        share_unit=share_unit,
        unmet_usd=() if unmet_usd is None else tuple(float(x) for x in unmet_usd),
        serve_rates=tuple(zip(serve_list, rates, strict=True)),
        copies=() if copies is None else tuple(int(c) for c in copies),
    )


DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_GAP = 1e-3
DECOMPOSE_ABOVE = 20_000  # integer columns: above this, LP bound then relax-and-fix first
DIAGNOSIS_SHARE = 0.25  # of the time limit, set aside to explain an infeasible fleet
DIAGNOSIS_MIN_S = 2.0
EPS = 1e-6


def solve_fleet(
    fleet: Fleet,
    options: Sequence[Option],
    *,
    caps: bool = True,
    capacity: bool = True,
    seed: int = 0,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    explain: bool = True,
    unmet_usd: Sequence[float] | None = None,
    node_limit: int | None = None,
    decompose: bool | None = None,
    start: FleetSolution | None = None,
) -> FleetSolution:
    """Solve the formulation above for ``options``; ``caps=False`` drops the share caps,
    ``capacity=False`` the capacity limits, ``unmet_usd`` prices leaving work undone (see
    :func:`build_fleet_model`). ``time_limit_s`` bounds the whole solve (options are
    not counted), ``mip_gap`` is the relative gap that counts as optimal. Stopped at a
    limit with a plan, the best plan found comes back with status ``feasible`` and its
    proven gap (:func:`limit_sentence` says so in words). An infeasible fleet raises
    :class:`InfeasibleError`, with what must give when ``explain`` (a bounded share of
    the limit); nothing feasible found within the limit raises :class:`SolverError`.
    ``start``, a plan of the same fleet (say, before one row was relaxed), seeds the
    search when it is feasible."""
    if not options and unmet_usd is None:
        raise InfeasibleError("no workload of the fleet has an option to place it on")
    large = len(options) > DECOMPOSE_ABOVE if decompose is None else decompose
    if large and unmet_usd is None and not fleet.copies:
        grouped = group_identical(fleet, options)
        if grouped is not None:
            built = build_fleet_model(
                grouped.fleet, grouped.options, caps=caps, capacity=capacity, copies=grouped.copies
            )
            found = solve_model(
                built,
                grouped.options,
                seed=seed,
                time_limit_s=time_limit_s,
                mip_gap=mip_gap,
                explain=explain,
                node_limit=node_limit,
                decompose=True,
            )
            return grouped.expand(found, options)
    built = build_fleet_model(fleet, options, caps=caps, capacity=capacity, unmet_usd=unmet_usd)
    return solve_model(
        built,
        options,
        seed=seed,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        explain=explain,
        node_limit=node_limit,
        decompose=decompose,
        start=None if start is None else plan_start(built, options, start),
    )


@dataclass(frozen=True, slots=True)
class Grouped:
    """A fleet with its identical train/finetune/batch workloads (the same but for the
    name, with the same options) folded into one that stands for ``copies`` of them."""

    fleet: Fleet
    options: list[Option]  # of the folded fleet
    copies: tuple[int, ...]  # per workload of the folded fleet
    members: tuple[tuple[int, ...], ...]  # the original workloads each one stands for
    member_options: tuple[tuple[int, ...], ...]  # per original workload, its options
    position: tuple[int, ...]  # per folded option, its place in its workload's options

    def expand(self, solution: FleetSolution, options: Sequence[Option]) -> FleetSolution:
        """The folded plan per original workload, on the original options: the copies of
        a folded workload placed on an option are its members, in order."""
        index = {id(o): k for k, o in enumerate(self.options)}
        taken = [0] * len(self.members)
        placed = []
        for p in solution.placed:
            k = index[id(p.option)]
            folded = p.option.workload
            # a service (never folded) may be placed on several options: one member
            member = self.members[folded][0 if p.option.serve else taken[folded]]
            taken[folded] += 0 if p.option.serve else 1
            original = options[self.member_options[member][self.position[k]]]
            placed.append(dataclasses.replace(p, option=original))
        return dataclasses.replace(solution, placed=tuple(placed))


def group_identical(fleet: Fleet, options: Sequence[Option]) -> Grouped | None:
    """:class:`Grouped` of ``fleet``, or ``None`` when no two workloads fold together.
    Two workloads fold when they are equal but for the name and their options match one
    for one (offer, chips, instances, hours, cost, chip); services never fold (whole
    replicas are bought per service)."""
    own: list[list[int]] = [[] for _ in fleet.workloads]
    for i, o in enumerate(options):
        own[o.workload].append(i)

    def same(a: int, b: int) -> bool:
        if len(own[a]) != len(own[b]):
            return False
        for i, j in zip(own[a], own[b], strict=True):
            p, q = options[i], options[j]
            if (p.offer.offer_id, p.usd, p.hours, p.instances, p.chips, p.estimate.accelerator) != (
                q.offer.offer_id, q.usd, q.hours, q.instances, q.chips, q.estimate.accelerator
            ):  # fmt: skip
                return False
        return True

    heads: dict[object, list[int]] = {}  # spec: the first workload of each fold of it
    fold_of: list[int] = []
    members: list[list[int]] = []
    for w, work in enumerate(fleet.workloads):
        target = None
        if not isinstance(work.job, ServeJob):
            try:
                spec: object = dataclasses.replace(work, name="")
                hash(spec)
            except TypeError:
                spec = None
            if spec is not None:
                for head in heads.get(spec, []):
                    if same(members[fold_of[head]][0], w):
                        target = fold_of[head]
                        break
                if target is None:
                    heads.setdefault(spec, []).append(w)
        if target is None:
            target = len(members)
            members.append([])
        fold_of.append(target)
        members[target].append(w)
    if len(members) == len(fleet.workloads):
        return None
    folded_options: list[Option] = []
    position: list[int] = []
    for k, group in enumerate(members):
        for q, i in enumerate(own[group[0]]):
            folded_options.append(dataclasses.replace(options[i], workload=k))
            position.append(q)
    return Grouped(
        fleet=dataclasses.replace(fleet, workloads=tuple(fleet.workloads[g[0]] for g in members)),
        options=folded_options,
        copies=tuple(len(g) for g in members),
        members=tuple(tuple(g) for g in members),
        member_options=tuple(tuple(o) for o in own),
        position=tuple(position),
    )


class _Clock:
    """Seconds left of a time limit (``None``: no limit)."""

    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.start = time.monotonic()

    def left(self, share: float = 1.0, reserve: float = 0.0) -> float | None:
        if self.limit_s is None:
            return None
        rest = self.limit_s - (time.monotonic() - self.start) - reserve
        return max(rest * share, 0.01)


def solve_model(
    built: FleetModel,
    options: Sequence[Option],
    *,
    seed: int = 0,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    explain: bool = True,
    node_limit: int | None = None,
    decompose: bool | None = None,
    start: FloatArray | None = None,
) -> FleetSolution:
    """Solve a model of :func:`build_fleet_model` and read the placement from it.

    Large models (``decompose``; by default above ``DECOMPOSE_ABOVE`` integer columns)
    are solved in steps: the LP relaxation (a valid lower bound), then the MILP over the
    options the LP uses, everything else fixed at zero (relax-and-fix): its plan is
    feasible for the whole model, and its gap against the LP bound is proven. Only when
    that gap is above ``mip_gap`` does the whole MILP run, in the time left, seeded with
    that plan (or, without one, the greedy plan: each workload on its cheapest option,
    which HiGHS keeps when it meets every constraint). Smaller models go straight to the
    MILP, seeded with ``start`` when one is given."""
    model = built.model
    given = start
    clock = _Clock(time_limit_s)
    # an infeasible fleet is explained within its own share of the limit, kept back
    reserve = 0.0 if not explain or time_limit_s is None else _diagnosis_s(time_limit_s)
    if decompose is None:
        decompose = len(model.integer_columns()) > DECOMPOSE_ABOVE
    # a small model goes straight to HiGHS, unseeded (a seed can change which of several
    # equally good plans comes back); a large one is seeded with the greedy plan, or
    # better, the relax-and-fix plan
    start = greedy_start(built, options) if decompose and given is None else given
    bound = -float("inf")
    best: Solution | None = None
    if decompose:
        # the LP relaxation, tightened by each service's own least whole-instance cost
        tight = model.copy()
        _serve_floors(tight, built, options, clock.left(0.1, reserve))
        lp = tight.solve(relax=True, time_limit_s=clock.left(0.4, reserve), seed=seed)
        if lp.status is Status.INFEASIBLE:
            _infeasible(built, explain, seed, clock)
        if lp.status is Status.OPTIMAL:
            bound = lp.objective
            best = _relax_and_fix(built, options, lp, seed, mip_gap, clock.left(0.3, reserve))
            if best is not None and _gap(best.objective, bound) > mip_gap and len(built.pending):
                # the LP opens a platform by a sliver: bound each set of platforms apart
                floor, lp_of_best_set = _enablement_bound(
                    tight, built, lp, best.objective * (1.0 - mip_gap), clock.left(0.5, reserve)
                )
                bound = max(bound, floor)
                if lp_of_best_set is not None and _gap(best.objective, bound) > mip_gap:
                    again = _relax_and_fix(
                        built, options, lp_of_best_set, seed, mip_gap, clock.left(0.3, reserve)
                    )
                    if again is not None and again.objective < best.objective:
                        best = again
            if best is not None:
                start = best.x
                if _gap(best.objective, bound) <= mip_gap:
                    return _read(built, options, best, Status.OPTIMAL, bound, None)
    solution = model.solve(
        time_limit_s=clock.left(1.0, reserve),
        mip_gap=mip_gap,
        seed=seed,
        node_limit=node_limit,
        start=start,
    )
    if solution.status is Status.INFEASIBLE:
        _infeasible(built, explain, seed, clock)
    if solution.found and (best is None or solution.objective <= best.objective):
        best = solution
    if best is None:
        within = ""
        if solution.stop is Stop.TIME and time_limit_s is not None:
            within = f" within the {time_limit_s:g} s time limit"
        elif solution.stop is not None:
            within = " within the solver's limit"
        raise SolverError(
            f"HiGHS found no plan{within} and could not prove there is none "
            f"({solution.status.value}); a longer --time-limit, a looser cap or fewer "
            "options may help"
        )
    bound = max(bound, solution.bound if solution.found else bound)
    proven = best is solution and solution.status is Status.OPTIMAL
    status = Status.OPTIMAL if proven or _gap(best.objective, bound) <= mip_gap else Status.FEASIBLE
    stop = None if status is Status.OPTIMAL else (solution.stop or Stop.TIME)
    return _read(built, options, best, status, bound, stop)


def _diagnosis_s(time_limit_s: float) -> float:
    return min(max(time_limit_s * DIAGNOSIS_SHARE, DIAGNOSIS_MIN_S), time_limit_s / 2)


def _infeasible(built: FleetModel, explain: bool, seed: int, clock: _Clock) -> NoReturn:
    if not explain:
        raise InfeasibleError("no placement meets every constraint of the fleet")
    left = clock.left()
    budget = (
        None if clock.limit_s is None or left is None else max(left, _diagnosis_s(clock.limit_s))
    )
    raise InfeasibleError(
        explain_infeasible(built.model, seed=seed, time_limit_s=budget, share_unit=built.share_unit)
    )


def _gap(objective: float, bound: float) -> float:
    """HiGHS's relative gap: (objective - bound) / |objective|."""
    if not np.isfinite(bound):
        return float("inf")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def _serve_floors(
    model: LinearModel, built: FleetModel, options: Sequence[Option], time_limit_s: float | None
) -> None:
    """Rows ``serve_floor[w]: sum_o usd_o n_o >= L_w``: a plain service's spend is at least
    the least it could cost alone in whole replicas and instances (``L_w``: the proven
    bound of that small MILP, one per distinct service, so never above the true least).
    Valid for every plan, since the fleet's other rows only add to what a service must
    meet; they lift the LP bound by the rounding the relaxation otherwise ignores."""
    clock = _Clock(time_limit_s)
    rates = dict(built.serve_rates)
    by_workload: dict[int, list[int]] = {}
    for j, i in enumerate(built.rep.tolist()):
        if options[i].workload in rates and not options[i].class_requests_per_s:
            by_workload.setdefault(options[i].workload, []).append(j)
    known: dict[tuple[object, ...], float] = {}
    rows: list[int] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    floors: list[float] = []
    labels: list[str] = []
    for w, js in by_workload.items():
        at = built.rep[np.array(js)]
        usd = np.array([options[i].usd for i in at.tolist()])
        tput = np.array([options[i].tokens_per_s for i in at.tolist()])
        chips = np.array([float(options[i].chips) for i in at.tolist()])
        per = np.array([float(options[i].offer.accelerators_per_instance) for i in at.tolist()])
        key = (rates[w], usd.tobytes(), tput.tobytes(), chips.tobytes(), per.tobytes())
        if key not in known:
            left = clock.left()
            if left is not None and left <= 0.05:
                break
            known[key] = _alone(rates[w], usd, tput, chips, per, left)
        if known[key] <= 0:
            continue
        rows.append(len(labels))
        labels.append(str(w))
        cols.append(built.instances.columns[np.array(js)])
        vals.append(usd)
        floors.append(known[key])
    if labels:
        model.add_constraints(
            "serve_floor",
            labels,
            np.repeat(np.array(rows, dtype=np.int64), [len(c) for c in cols]),
            np.concatenate(cols),
            np.concatenate(vals),
            lower=np.array(floors),
        )


def _alone(
    rate: float,
    usd: FloatArray,
    tput: FloatArray,
    chips: FloatArray,
    per: FloatArray,
    time_limit_s: float | None,
) -> float:
    """A proven lower bound on the least spend serving ``rate`` tokens/s on these
    options alone, in whole replicas and instances (0 when none is proven)."""
    m = LinearModel()
    k = len(usd)
    r = m.add_variables("replicas", [str(i) for i in range(k)], integer=True)
    n = m.add_variables("instances", [str(i) for i in range(k)], cost=usd, integer=True)
    m.add_constraints("demand", ["w"], np.zeros(k, dtype=np.int64), r.columns, tput, lower=rate)
    ks = np.arange(k)
    m.add_constraints(
        "pack",
        [str(i) for i in range(k)],
        np.concatenate([ks, ks]),
        np.concatenate([r.columns, n.columns]),
        np.concatenate([chips, -per]),
        upper=0.0,
    )
    found = m.solve(time_limit_s=time_limit_s, mip_gap=1e-6)
    bound = found.bound if found.found else 0.0
    return float(bound) * (1.0 - 1e-9) if np.isfinite(bound) else 0.0


def _enablement_bound(
    tight: LinearModel,
    built: FleetModel,
    lp: Solution,
    enough: float,
    time_limit_s: float | None,
) -> tuple[float, Solution | None]:
    """A lower bound on the MILP far above the LP's when platforms wait to be enabled,
    and the LP of the set of platforms that attains it.

    The enablement links ``n_o <= U_o z_p`` have a large ``U_o`` (a share cap may ask
    for many instances), so the LP opens a platform for a sliver of its cost. Fixing
    ``z`` at each set ``P`` of pending platforms and solving the LP gives a bound
    ``b(P) = LP(P)`` for the plans enabling exactly ``P``; the MILP's optimum is at
    least ``min_P b(P)``. ``LP(P)`` only falls as ``P`` grows, so ``LP(all) - E(all) +
    E(P)`` (``E``: enablement cost) bounds ``b(P)`` without a solve; a set whose cheap
    bound already reaches ``enough`` is not solved (it cannot lower the bound below
    ``enough``), and sets are taken cheapest first. A set not solved within
    ``time_limit_s`` keeps its cheap bound, so the result is always valid."""
    z = built.enable.columns
    k = len(z)
    if k > 10:  # 1,024 sets: the plain LP bound
        return lp.objective, None
    clock = _Clock(time_limit_s)
    lower, upper = tight.col_bounds()
    enable_cost = tight.arrays()[0][z]

    def solve(bits: tuple[int, ...]) -> Solution:
        lo, up = lower.copy(), upper.copy()
        lo[z] = up[z] = np.array(bits, dtype=np.float64)
        return tight.solve(relax=True, bounds=(lo, up), time_limit_s=clock.left())

    every = solve(tuple([1] * k))
    if every.status is not Status.OPTIMAL:
        return lp.objective, None
    compute_floor = every.objective - float(enable_cost.sum())
    sets = sorted(itertools.product((0, 1), repeat=k), key=lambda b: float(enable_cost @ b))
    bound = float("inf")
    best: Solution | None = None
    for bits in sets:
        cheap = compute_floor + float(enable_cost @ np.array(bits))
        if all(bits):
            found: Solution | None = every
        elif cheap >= enough or (clock.limit_s is not None and (clock.left() or 0) <= 0.01):
            found = None
        else:
            found = solve(bits)
        if found is None or found.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            bound = min(bound, cheap)  # not solved (or stopped): the cheap bound stands
        elif found.status is Status.OPTIMAL and found.objective < bound:
            bound, best = found.objective, found
    return max(bound, lp.objective), best


def _relax_and_fix(
    built: FleetModel,
    options: Sequence[Option],
    lp: Solution,
    seed: int,
    mip_gap: float,
    time_limit_s: float | None,
) -> Solution | None:
    """The MILP restricted by the LP relaxation: each pending platform the LP uses at all
    enabled (the enablement link is a big-M, so the LP opens a platform by a sliver), the
    others closed; a train/batch workload the LP
    places whole is fixed there; every other workload keeps the options the LP uses on
    open platforms (all its open options when the LP uses none of them). Replicas and
    instances stay whole numbers to choose; class loads, spend and unmet work stay free.
    Its plan (if any) is feasible for the whole model."""
    model = built.model
    lower, upper = model.col_bounds()
    x = lp.x
    y, r, n, z = built.choose, built.replicas, built.instances, built.enable
    zv = (x[z.columns] > EPS).astype(np.float64)  # every platform the LP uses at all
    lower[z.columns] = upper[z.columns] = zv
    closed = {s.platform.value for s, v in zip(built.pending, zv.tolist(), strict=True) if v < HALF}
    # one row per option: its workload, its value in the LP, whether its platform is open
    at = np.concatenate([built.one, built.rep])
    cols = np.concatenate([y.columns, n.columns])
    used = np.concatenate([x[y.columns], np.maximum(x[n.columns], x[r.columns])]) > EPS
    is_open = np.array([options[i].estimate.platform not in closed for i in at.tolist()])
    work = np.array([options[i].workload for i in at.tolist()], dtype=np.int64)
    keep = used & is_open
    covered = np.zeros(int(work.max(initial=-1)) + 1, dtype=bool)
    covered[work[keep]] = True
    keep |= is_open & ~covered[work]
    # a count the LP gives whole (one for a single workload) is fixed at that count
    yv = x[y.columns]
    whole = np.zeros(len(at), dtype=bool)
    whole[: len(built.one)] = (yv >= 1.0 - EPS) & (np.abs(yv - np.round(yv)) <= EPS)
    counts = np.zeros(len(at))
    counts[: len(built.one)] = np.round(yv)
    upper[cols[~keep]] = 0.0
    lower[cols[whole & keep]] = upper[cols[whole & keep]] = counts[whole & keep]
    # replicas follow their option's instances
    serve_cols = n.columns
    upper[r.columns[upper[serve_cols] == 0.0]] = 0.0
    found = model.solve(
        bounds=(lower, upper), time_limit_s=time_limit_s, mip_gap=mip_gap / 2, seed=seed
    )
    return found if found.found else None


def greedy_start(built: FleetModel, options: Sequence[Option]) -> FloatArray | None:
    """Each workload on its own cheapest option (serving: the fewest dollars per token/s,
    whole replicas and instances), its platform enabled: a starting plan for the search
    when it meets the caps and limits (HiGHS checks, and drops it otherwise). ``None``
    for a fleet with a request mix or priced unmet work."""
    if built.class_load is not None or built.unmet is not None:
        return None
    model = built.model
    x = np.zeros(model.n_cols)
    best: dict[int, tuple[float, int]] = {}
    for j, i in enumerate(built.one.tolist()):
        o = options[i]
        if o.workload not in best or o.usd < best[o.workload][0]:
            best[o.workload] = (o.usd, j)
    for w, (_, j) in best.items():
        x[built.choose.start + j] = built.copies[w] if built.copies else 1.0
    cheapest: dict[int, tuple[float, int]] = {}
    for j, i in enumerate(built.rep.tolist()):
        o = options[i]
        per = o.offer.accelerators_per_instance
        replicas_per_usd = (per // o.chips) if o.chips <= per else 1.0 / math.ceil(o.chips / per)
        unit = o.usd / max(o.tokens_per_s * replicas_per_usd, 1e-12)
        if o.workload not in cheapest or unit < cheapest[o.workload][0]:
            cheapest[o.workload] = (unit, j)
    rate = dict(built.serve_rates)
    for w, (_, j) in cheapest.items():
        o = options[int(built.rep[j])]
        replicas = math.ceil(rate.get(w, 0.0) / max(o.tokens_per_s, 1e-12) - 1e-9)
        per = o.offer.accelerators_per_instance
        x[built.replicas.start + j] = replicas
        x[built.instances.start + j] = math.ceil(o.chips * replicas / per - 1e-9)
    used = {options[int(built.one[j])].estimate.platform for _, j in best.values()}
    used |= {options[int(built.rep[j])].estimate.platform for _, j in cheapest.values()}
    for k, state in enumerate(built.pending):
        if state.platform.value in used:
            x[built.enable.start + k] = 1.0
    spend = next((b for b in model.blocks if b.name == "spend"), None)
    if spend is not None:  # the share caps' total, in units of their rows
        usd = np.array([o.usd for o in options], dtype=np.float64)
        total = (
            usd[built.one] @ x[built.choose.columns] + usd[built.rep] @ x[built.instances.columns]
        )
        x[spend.start] = total / built.share_unit
    return x


def plan_start(
    built: FleetModel, options: Sequence[Option], plan: FleetSolution
) -> FloatArray | None:
    """``plan`` as a point of ``built`` (a model of the same fleet, perhaps one row
    looser, over options that include the plan's own objects): a seed for its search.
    ``None`` when an option of the plan is not among ``options`` or the fleet has a
    request mix or priced unmet work."""
    if built.class_load is not None or built.unmet is not None:
        return None
    model = built.model
    x = np.zeros(model.n_cols)
    one = {id(options[i]): j for j, i in enumerate(built.one.tolist())}
    rep = {id(options[i]): j for j, i in enumerate(built.rep.tolist())}
    for p in plan.placed:
        o = p.option
        if id(o) in one:
            x[built.choose.start + one[id(o)]] += 1.0
        elif id(o) in rep:
            x[built.replicas.start + rep[id(o)]] += p.units
            x[built.instances.start + rep[id(o)]] += p.instances
        else:
            return None
    enabled = {platform.value for platform in plan.enabled}
    for k, state in enumerate(built.pending):
        if state.platform.value in enabled:
            x[built.enable.start + k] = 1.0
    spend = next((b for b in model.blocks if b.name == "spend"), None)
    if spend is not None:
        x[spend.start] = plan.compute_usd / built.share_unit
    return x


def _read(
    built: FleetModel,
    options: Sequence[Option],
    solution: Solution,
    status: Status,
    bound: float,
    stop: Stop | None,
) -> FleetSolution:
    """The placement of ``solution``, with ``status`` and the gap against ``bound``."""
    y, r, n, z = built.choose, built.replicas, built.instances, built.enable
    one, rep, pending = built.one, built.rep, built.pending
    placed: list[Placed] = []
    yv, rv, nv = solution.values(y), solution.values(r), solution.values(n)
    for j, i in enumerate(one.tolist()):
        if yv[j] > HALF:
            o = options[i]
            count = round(float(yv[j])) if built.copies else 1
            placed.extend(
                Placed(option=o, units=1, instances=o.instances, usd=o.usd) for _ in range(count)
            )
    served = _class_loads(built, solution, options)
    for j, i in enumerate(rep.tolist()):
        if nv[j] > HALF:
            o = options[i]
            count = round(float(nv[j]))
            units = round(float(rv[j]))
            placed.append(
                Placed(
                    option=o,
                    units=units,
                    instances=count,
                    usd=count * o.usd,
                    class_requests_per_s=served.get(j, ()),
                )
            )
    zv = solution.values(z)
    enabled = tuple(s.platform for j, s in enumerate(pending) if zv[j] > HALF)
    enable_cost = sum(s.enable_usd for j, s in enumerate(pending) if zv[j] > HALF)
    compute = float(sum(p.usd for p in placed))
    unmet: tuple[float, ...] = ()
    if built.unmet is not None:
        unmet = tuple(min(max(float(v), 0.0), 1.0) for v in solution.values(built.unmet))
    gap = solution.mip_gap if solution.status is status and bound == solution.bound else None
    return FleetSolution(
        status=status,
        placed=tuple(placed),
        compute_usd=compute,
        enabled=enabled,
        enablement_usd=enable_cost,
        mip_gap=_gap(solution.objective, bound) if gap is None else gap,
        unmet=unmet,
        unmet_usd=sum(f * c for f, c in zip(unmet, built.unmet_usd, strict=True)),
        stop=stop,
    )


def limit_sentence(solution: FleetSolution, time_limit_s: float | None) -> str | None:
    """What a plan stopped at a limit is, in one sentence (``None`` for an optimal one)."""
    if solution.status is not Status.FEASIBLE:
        return None
    gap = solution.mip_gap
    within = (
        f"within {gap:.1%} of the best possible"
        if np.isfinite(gap)
        else "with no bound on how far it is from the best possible"
    )
    if solution.stop is Stop.NODES:
        return f"Stopped at the node limit with the best plan found, {within}."
    if solution.stop is Stop.TIME and time_limit_s is not None:
        return f"Stopped at the {time_limit_s:g} s time limit with the best plan found, {within}."
    return f"Stopped at a solver limit with the best plan found, {within}."


def _class_loads(
    built: FleetModel, solution: Solution, options: Sequence[Option]
) -> dict[int, tuple[float, ...]]:
    """Requests/s of each class served, per position in ``rep`` of a mix serving option."""
    if built.class_load is None or built.load_rep is None or built.load_class is None:
        return {}
    out: dict[int, list[float]] = {}
    for j, c, v in zip(
        built.load_rep.tolist(),
        built.load_class.tolist(),
        solution.values(built.class_load).tolist(),
        strict=True,
    ):
        width = len(options[int(built.rep[j])].class_requests_per_s)
        out.setdefault(j, [0.0] * width)[c] = max(float(v), 0.0)
    return {j: tuple(v) for j, v in out.items()}


def _share_caps(
    model: LinearModel, fleet: Fleet, options: Sequence[Option], col: IntArray, cost: FloatArray
) -> float:
    """Share caps through a total-spend variable: ``spend: sum_o c_o x_o - S = 0`` and
    ``spend in group - cap S <= 0``, so each option sits once in each group's rows (one
    dense row instead of one per group member)."""
    active = [g for g in GROUPS if getattr(fleet.caps, g) is not None]
    if not active:
        return 1.0
    total = model.add_variables("spend", ["total"])
    s_col = total.columns[0]
    n = len(options)
    # rows in units of the least the plan can spend (a power of ten: the sum of each
    # workload's cheapest option): S then stays at 1 or more rather than at 1e9, which
    # keeps HiGHS's simplex well conditioned, and a row's feasibility tolerance (1e-7)
    # stays a negligible share of the plan. (In units of the dearest option, a $2,000
    # plan sat at S = 2e-4 and a cap was overrun by 0.3% within the tolerance.)
    work = np.array([o.workload for o in options], dtype=np.int64)
    least = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least, work, cost)
    least[~np.isfinite(least)] = 0.0
    copies = np.asarray(fleet.copies, dtype=float) if fleet.copies else 1.0
    floor = float(np.sum(least * copies))
    unit = 10.0 ** np.floor(np.log10(max(floor, 1.0)))
    cost = cost / unit
    model.add_constraints(
        "spend",
        ["total"],
        np.zeros(n + 1, dtype=np.int64),
        np.append(col, s_col),
        np.append(cost, -1.0),
        lower=0.0,
        upper=0.0,
    )
    for group in active:
        cap = float(getattr(fleet.caps, group))
        values, member = np.unique(
            np.array([group_of(o, group) for o in options]), return_inverse=True
        )
        k = np.arange(len(values), dtype=np.int64)
        model.add_constraints(
            f"{group}_share",
            values.tolist(),
            np.concatenate([member.astype(np.int64), k]),
            np.concatenate([col, np.full(len(values), s_col)]),
            np.concatenate([cost, np.full(len(values), -cap)]),
            upper=0.0,
        )
    return float(unit)


def _label(o: Option) -> str:
    off = o.offer
    return f"{o.workload}/{off.provider}/{off.instance_type}/{off.region}/{off.price_regime.value}"


def _spend_bound(fleet: Fleet, options: Sequence[Option], many: FloatArray) -> float:
    """Twice the spend of every workload (times its ``many`` copies) on its dearest
    option: more than any group of an optimal plan spends, even when share caps push
    spend around."""
    dearest: dict[int, float] = {}
    for o in options:
        job = fleet.workloads[o.workload].job
        usd = o.usd
        if isinstance(job, ServeJob):
            usd = _replicas_alone(job, o) * o.instances * o.usd
        dearest[o.workload] = max(dearest.get(o.workload, 0.0), usd * many[o.workload])
    return 2.0 * sum(dearest.values())


def _replicas_alone(job: ServeJob, o: Option) -> float:
    """Replicas of serving option ``o`` that carry all the demand it can serve alone."""
    if o.class_requests_per_s:
        load = sum(
            job.requests_per_s * c.share / r
            for c, r in zip(job.classes, o.class_requests_per_s, strict=True)
            if r > 0
        )
        return float(np.ceil(load))
    return float(np.ceil(job.requests_per_s * job.output_tokens / max(o.tokens_per_s, 1e-9)))


def _instance_bound(fleet: Fleet, o: Option, spend_bound: float) -> float:
    """Most instances a serving option could be bought in: enough for its whole demand,
    or for as much spend as the whole plan could need (a share cap may ask for more
    instances in a group than its demand alone)."""
    job = fleet.workloads[o.workload].job
    assert isinstance(job, ServeJob)
    replicas = _replicas_alone(job, o)
    return float(max(replicas * o.instances, np.ceil(spend_bound / max(o.usd, 1e-9))) + 1)


def _whole_units(
    model: LinearModel,
    options: Sequence[Option],
    at: IntArray,
    r: Block,
    n: Block,
    single: npt.NDArray[np.bool_],
    index: dict[int, int],
    rate: list[float],
    names: list[str],
    serve_list: list[int],
) -> None:
    """Valid inequalities that tighten the LP relaxation of whole replicas and instances
    (they cut off no whole-number plan, so the optimum is unchanged):

        min_replicas[w]   sum_{o in w} r_o >= ceil(rate_w / max_o tput_o)
        min_instances[w]  sum_{o in w} n_o >= ceil(rate_w min_o chips_o / (per_o tput_o))

    the second because ``pack`` gives ``n_o >= chips_o r_o / per_o`` and ``demand``
    ``sum tput_o r_o >= rate_w``. Without them the relaxation serves a small service with
    a sliver of an instance, and its bound says little about a plan of whole ones."""
    if not len(at):
        return
    wl = np.array([index[options[i].workload] for i in at.tolist()], dtype=np.int64)
    tput = np.array([options[i].tokens_per_s for i in at.tolist()], dtype=np.float64)
    chips = np.array([options[i].chips for i in at.tolist()], dtype=np.float64)
    per = np.array(
        [options[i].offer.accelerators_per_instance for i in at.tolist()], dtype=np.float64
    )
    need = np.asarray(rate, dtype=np.float64)
    most = np.zeros(len(need))
    np.maximum.at(most, wl, tput)
    fewest = np.full(len(need), np.inf)
    np.minimum.at(fewest, wl, chips / (per * np.maximum(tput, 1e-12)))
    placeable = most > 0
    replicas = np.where(placeable, np.ceil(need / np.maximum(most, 1e-12) - 1e-9), 0.0)
    instances = np.where(placeable, np.ceil(need * np.where(placeable, fewest, 0.0) - 1e-9), 0.0)
    labels = [names[i] for i in serve_list]
    model.add_constraints(
        "min_replicas", labels, wl, r.columns[single], np.ones(len(wl)), lower=replicas
    )
    model.add_constraints(
        "min_instances", labels, wl, n.columns[single], np.ones(len(wl)), lower=instances
    )
