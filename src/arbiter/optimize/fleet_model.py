"""Fleet placement: the cheapest plan for many workloads across chips, clouds and price
regimes, under capacity, budget, platform and diversification limits.

Sets: workloads ``w``; options ``o`` (``options.py``: a workload on one accelerator
configuration bought through one offer); platforms ``p`` not yet enabled; groups ``g`` of
options by vendor, provider or region; capacity limits ``k``.

Variables (the model's blocks, labelled ``workload: provider/instance/region/regime``):

    y_o   in {0, 1}    choose[o]: train/finetune/batch option o is the workload's placement
    r_o   in Z+        replicas[o]: serving replicas on option o
    n_o   in Z+        instances[o]: instances bought for serving option o
    x_oc  >= 0         class_load[o/class c]: requests/s of class c a request-mix option serves
    z_p   in {0, 1}    enable[p]: platform p is enabled (one-off cost E_p)
    used[o] in {0, 1}, least[w] >= 0, need[total] >= 0: see the rows of the same names

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
      used[o]            r_o <= R_o v_o,  v_o in {0, 1}   (R_o = ceil(rate_w / tput_o))
      least[o]           m_w <= T_w - (T_w - tput_o) v_o  (m_w: least tput of a used o)
      surplus[w]         sum_{o in w} tput_o r_o - m_w <= rate_w (1 - 1e-6)
      min_replicas[w]    sum_{o in w} r_o >= ceil(rate_w / max_o tput_o)    (valid cuts,
      min_instances[w]   sum_{o in w} n_o >= ceil(rate_w min_o chips_o / (per_o tput_o)))
      load[o] >= -(1 - 1e-6)  (request mix: at most one replica short of full per option)
      enable[p/w]        sum_{o in w on p} y_o <= z_p                     (train/batch w)
      enable[p/o]        n_o <= U_o z_p                                   (serve o on p)
      capacity[k]        sum_{o in k} instances_o y_o + n_o <= max_k
      need               sum_o v_o w_o - N = 0                            (with share caps)
      vendor_share[v]    (1 - cap) sum_{o in v} c_o x_o + cap sum_{o in v} v_o w_o - cap N
                         - cap premium_v <= 0
                                                                         (and provider, region)
      budget             S + sum_p E_p z_p <= budget

``x_o`` is ``y_o`` or ``n_o``; ``w_o`` is ``y_o`` or ``r_o``, ``v_o`` what that work would
cost on the workload's cheapest option (its need, :func:`share_caps.need_per_unit`), and
``premium_g`` what work outside ``g`` needs beyond that when its workload's cheapest option
is in ``g`` (:func:`share_caps.outside_premium`). A share cap bounds a group's spend against
itself plus the need of everything outside it, each workload's work there at its cheapest
outside ``g``: ``spend_g <= cap (spend_g + need outside g)``: linear, and, since spending
more outside a group than the work needs there never raises it, no plan can buy capacity or
a dearer option to dilute a share (the plan's actual spend shares meet the caps a fortiori).
No plan pads: ``used``, ``least`` and ``surplus`` say a service's capacity exceeds its rate
by less than one replica of any option it uses (so removing any replica leaves the rate
unmet), ``no_idle`` that every instance holds a replica, and a request-mix option carries at
most one replica beyond its load; a dearer train/batch option in the same vendor, provider
and region as a cheaper one is pruned (``options.prune``), since it could only raise total
spend. Without these, buying idle capacity in one group would dilute another group's share
of spend and meet a cap.

Each family is added by one step of :func:`build_fleet_model` (``define_placements``,
``define_assignment``, ``define_demand``, ``define_packing``, ``define_enablement_rows``,
``define_capacity``, ``define_fleet_share_caps``, ``define_budget``); the share caps and
enablement rows are the ones procurement uses too (:mod:`arbiter.optimize.share_caps`,
:mod:`arbiter.optimize.enablement`).

Deadlines (with platform lead times) and SLOs are met by construction: options that
miss them are never built. Capacity counts every workload's instances at once (a
conservative reading: the fleet runs concurrently).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState
from arbiter.domain.workload import ServeJob
from arbiter.optimize.enablement import define_enablement, define_platform_switches
from arbiter.optimize.linear import (
    Block,
    FloatArray,
    IntArray,
    LinearModel,
    Status,
    Stop,
    Terms,
)
from arbiter.optimize.options import Option, share_capped
from arbiter.optimize.request_mix import class_demand, classes_of
from arbiter.optimize.service_rows import define_no_surplus, define_whole_units
from arbiter.optimize.share_caps import need_per_unit, service_rate, share_caps

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
    used: Block | None = None  # v, one per plain serving option (``used_rep``)
    used_rep: IntArray | None = None  # position in ``rep`` of each v
    least: Block | None = None  # m, one per plain service
    need: FloatArray | None = None  # with share caps: per option, its need v_o (USD)


@dataclass
class FleetDraft:
    """What the steps of :func:`build_fleet_model` share while they add to ``model``:
    the options as arrays and the blocks defined so far."""

    fleet: Fleet
    options: Sequence[Option]
    model: LinearModel
    many: FloatArray  # copies each workload stands for (1 unless folded)
    cost_weight: float
    names: list[str]  # workload names
    labels: list[str]  # option labels
    is_serve: npt.NDArray[np.bool_]
    cost: FloatArray
    one: IntArray  # train/finetune/batch options
    rep: IntArray  # serving options
    workload: IntArray  # each option's workload
    col: IntArray  # each option's spend-carrying column (y or n)
    choose: Block
    replicas: Block
    instances: Block
    unmet: Block | None = None
    enable: Block | None = None
    pending: tuple[PlatformState, ...] = ()
    serve_list: list[int] = field(default_factory=list)  # plain services
    rates: list[float] = field(default_factory=list)  # their tokens/s
    single: npt.NDArray[np.bool_] | None = None  # per serving option: a plain service's
    surplus: tuple[Block, IntArray, Block] | None = None
    loads: tuple[Block, IntArray, IntArray] | None = None
    share_unit: float = 1.0
    need: FloatArray | None = None


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
    d = define_placements(fleet, options, copies, unmet_usd)
    define_assignment(d)
    define_demand(d)
    define_packing(d)
    define_enablement_rows(d)
    if capacity:
        define_capacity(d)
    if caps and share_capped(fleet):
        define_fleet_share_caps(d)
    define_budget(d)
    surplus, loads = d.surplus, d.loads
    assert d.enable is not None
    return FleetModel(
        model=d.model,
        choose=d.choose,
        replicas=d.replicas,
        instances=d.instances,
        enable=d.enable,
        one=d.one,
        rep=d.rep,
        pending=d.pending,
        class_load=None if loads is None else loads[0],
        load_rep=None if loads is None else loads[1],
        load_class=None if loads is None else loads[2],
        unmet=d.unmet,
        share_unit=d.share_unit,
        unmet_usd=() if unmet_usd is None else tuple(float(x) for x in unmet_usd),
        serve_rates=tuple(zip(d.serve_list, d.rates, strict=True)),
        copies=() if copies is None else tuple(int(c) for c in copies),
        used=None if surplus is None else surplus[0],
        used_rep=None if surplus is None else surplus[1],
        least=None if surplus is None else surplus[2],
        need=d.need,
    )


def define_placements(
    fleet: Fleet,
    options: Sequence[Option],
    copies: Sequence[int] | None,
    unmet_usd: Sequence[float] | None,
) -> FleetDraft:
    """The variables of every option: ``choose[o]`` (y, train/finetune/batch),
    ``replicas[o]`` (r) and ``instances[o]`` (n, serving), and with ``unmet_usd``
    ``unmet[w]`` (u). The objective weighs spend by ``cost_weight`` and hours by
    ``time_usd_per_hour``."""
    many = np.ones(len(fleet.workloads)) if copies is None else np.asarray(copies, dtype=float)
    is_serve = np.array([o.serve for o in options], dtype=bool)
    cost = np.array([o.usd for o in options], dtype=np.float64)
    hours = np.array([o.hours for o in options], dtype=np.float64)
    names = [w.name for w in fleet.workloads]
    labels = [option_label(o, names) for o in options]
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
    col = np.empty(len(options), dtype=np.int64)
    col[one] = y.columns
    col[rep] = n.columns
    d = FleetDraft(
        fleet=fleet, options=options, model=model, many=many, cost_weight=cost_weight,
        names=names, labels=labels, is_serve=is_serve, cost=cost, one=one, rep=rep,
        workload=np.array([o.workload for o in options], dtype=np.int64), col=col,
        choose=y, replicas=r, instances=n,
    )  # fmt: skip
    if unmet_usd is not None:
        # HiGHS's MIP presolve (1.16) can cut off the optimum of a service's trade between
        # replicas and unmet share when its LP replica count lies just beyond the
        # integrality tolerance of a whole number (2.9999985 replicas: it kept 2 and left a
        # third undone at a dearer penalty, reported optimal). These models are small
        # emergency re-plans; they are solved without presolve.
        model.presolve = False
        d.unmet = model.add_variables(
            "unmet", names, cost=cost_weight * np.asarray(unmet_usd, dtype=np.float64), upper=1.0
        )
    return d


def define_assignment(d: FleetDraft) -> None:
    """``assign[w]``: every train/finetune/batch workload placed (``copies_w`` times),
    or, with ``unmet``, left undone in part."""
    serve_w = {i for i, w in enumerate(d.fleet.workloads) if isinstance(w.job, ServeJob)}
    assign_w = [i for i in range(len(d.fleet.workloads)) if i not in serve_w]
    if not assign_w:
        return
    index = {w: k for k, w in enumerate(assign_w)}
    rows = np.array([index[w] for w in d.workload[d.one].tolist()], dtype=np.int64)
    terms = Terms(rows, d.choose.columns, np.ones(len(d.one)))
    if d.unmet is not None:
        undone = Terms(np.arange(len(assign_w)), d.unmet.columns[assign_w], np.ones(len(assign_w)))
        terms = Terms.join(terms, undone)
    many = d.many[assign_w]
    d.model.add_rows("assign", [d.names[i] for i in assign_w], terms, lower=many, upper=many)


def define_demand(d: FleetDraft) -> None:
    """``demand[w]``: each plain service's tokens/s covered, with the whole-unit floors
    (``min_replicas``, ``min_instances``) and the no-padding rows (``used``, ``least``,
    ``surplus``); a request mix's ``class_demand`` and ``load`` rows."""
    fleet, options = d.fleet, d.options
    serve_w = {i for i, w in enumerate(fleet.workloads) if isinstance(w.job, ServeJob)}
    mixed_w = {i for i in serve_w if classes_of(fleet, i)}
    d.serve_list = sorted(serve_w - mixed_w)
    d.single = np.array([d.workload[i] not in mixed_w for i in d.rep.tolist()], dtype=bool)
    if d.serve_list:
        index = {w: k for k, w in enumerate(d.serve_list)}
        d.rates = [service_rate(fleet, i) for i in d.serve_list]
        tput = np.array([options[i].tokens_per_s for i in d.rep.tolist()], dtype=np.float64)
        rows = np.array([index[w] for w in d.workload[d.rep[d.single]].tolist()], dtype=np.int64)
        terms = Terms(rows, d.replicas.columns[d.single], tput[d.single])
        if d.unmet is not None:
            undone = Terms(
                np.arange(len(d.serve_list)), d.unmet.columns[d.serve_list], np.array(d.rates)
            )
            terms = Terms.join(terms, undone)
        labels = [d.names[i] for i in d.serve_list]
        d.model.add_rows("demand", labels, terms, lower=np.array(d.rates))
        if d.unmet is None:
            define_whole_units(d, index)
        d.surplus = define_no_surplus(d, index)
    if mixed_w:
        mixed = np.flatnonzero(~d.single)
        x, at, klass = class_demand(
            d.model, fleet, options, d.rep[mixed], d.replicas.columns[mixed], d.labels, d.unmet
        )
        d.loads = (x, mixed[at], klass)


def define_packing(d: FleetDraft) -> None:
    """``pack[o]``: a serving option's replicas fit its instances; ``no_idle[o]``: every
    instance holds a replica (idle instances would only pad spend to dodge a share cap)."""
    rep = d.rep.tolist()
    if not rep:
        return
    chips = np.array([d.options[i].chips for i in rep], dtype=np.float64)
    per = np.array([d.options[i].offer.accelerators_per_instance for i in rep], dtype=np.float64)
    k = np.arange(len(rep))
    labels = [d.labels[i] for i in rep]
    rows = np.concatenate([k, k])
    cols = np.concatenate([d.replicas.columns, d.instances.columns])
    d.model.add_rows("pack", labels, Terms(rows, cols, np.concatenate([chips, -per])), upper=0.0)
    d.model.add_rows(
        "no_idle", labels, Terms(rows, cols, np.concatenate([-chips, per])), upper=per - 1.0
    )


def define_enablement_rows(d: FleetDraft) -> None:
    """``enable[p]`` switches for the platforms not yet enabled, and their rows
    (:mod:`arbiter.optimize.enablement`): per train/batch workload,
    ``sum_{o in w on p} y_o <= copies_w z_p`` (at most one y of a workload is 1, so this
    is the tighter form of ``y_o <= z_p``); per serving option, ``n_o <= U_o z_p``, ``U_o``
    the most instances the option could take."""
    fleet, options = d.fleet, d.options
    d.pending = tuple(s for s in fleet.platforms if not s.enabled)
    d.enable = define_platform_switches(d.model, d.pending, usd_weight=d.cost_weight)
    if not d.pending:
        return
    spend_bound = _spend_bound(fleet, options, d.many)
    plat = np.array([o.estimate.platform for o in options])
    parts: list[Terms] = []
    labels: list[str] = []
    platform: list[int] = []
    bound: list[float] = []
    for j, state in enumerate(d.pending):
        name = state.platform.value
        placed = np.flatnonzero((plat == name) & ~d.is_serve)
        works, at = np.unique(d.workload[placed], return_inverse=True)
        parts.append(Terms(len(labels) + at.astype(np.int64), d.col[placed], np.ones(len(placed))))
        labels += [f"{name}/{d.names[w]}" for w in works.tolist()]
        bound += d.many[works].tolist()
        on = np.flatnonzero((plat == name) & d.is_serve)
        parts.append(Terms(len(labels) + np.arange(len(on)), d.col[on], np.ones(len(on))))
        labels += [f"{name}/{d.labels[i]}" for i in on.tolist()]
        bound += [_instance_bound(fleet, options[i], spend_bound) for i in on.tolist()]
        platform += [j] * (len(works) + len(on))
    usage = Terms.join(*parts)
    define_enablement(
        d.model, d.enable, labels, usage, np.array(platform, dtype=np.int64), np.array(bound)
    )


def define_capacity(d: FleetDraft) -> None:
    """``capacity[k]``: instances of the options under each of the file's limits and each
    offer's own, ``sum_{o in k} instances_o y_o + n_o <= max_k``."""
    options = d.options
    instances = np.array([o.instances for o in options], dtype=np.float64)
    per_unit = np.where(d.is_serve, 1.0, instances)
    hits_of: list[IntArray] = []
    labels: list[str] = []
    most: list[float] = []
    for limit in d.fleet.capacity:
        hits = np.flatnonzero(_under_limit(options, limit))
        if len(hits):
            hits_of.append(hits)
            labels.append(limit.label)
            most.append(float(limit.max_instances))
    by_offer: dict[str, list[int]] = {}
    for i, o in enumerate(options):
        if o.offer.capacity_instances is not None:
            by_offer.setdefault(o.offer.offer_id, []).append(i)
    for offer_hits in by_offer.values():
        off = options[offer_hits[0]].offer
        hits_of.append(np.array(offer_hits, dtype=np.int64))
        labels.append(f"{off.provider}/{off.instance_type}/{off.region}/{off.price_regime.value}")
        most.append(float(off.capacity_instances or 0))
    if not labels:
        return
    rows = np.concatenate([np.full(len(h), k, dtype=np.int64) for k, h in enumerate(hits_of)])
    hits = np.concatenate(hits_of)
    d.model.add_rows(
        "capacity", labels, Terms(rows, d.col[hits], per_unit[hits]), upper=np.array(most)
    )


def _under_limit(options: Sequence[Option], limit: CapacityLimit) -> npt.NDArray[np.bool_]:
    """Which options a capacity limit counts (its region a glob)."""
    mask = np.array(
        [o.offer.provider == limit.provider and o.offer.accelerator == limit.accelerator
         for o in options], dtype=bool,
    )  # fmt: skip
    if limit.region is not None:
        glob = limit.region.lower()
        mask &= np.array(
            [fnmatch.fnmatchcase(o.offer.region.lower(), glob) for o in options], dtype=bool
        )
    if limit.price_regime is not None:
        mask &= np.array([o.offer.price_regime is limit.price_regime for o in options], dtype=bool)
    if limit.offer_ids is not None:
        mask &= np.array([o.offer.offer_id in limit.offer_ids for o in options], dtype=bool)
    return mask


def define_fleet_share_caps(d: FleetDraft) -> None:
    """``need`` and ``{vendor,provider,region}_share[g]`` (:func:`share_caps.share_caps`):
    spend in a group against itself plus the need of the work outside it."""
    work_col = d.col.copy()
    work_col[d.rep] = d.replicas.columns  # a service's need counts replicas, its spend instances
    d.need = need_per_unit(d.fleet, d.options)
    d.share_unit = share_caps(d.model, d.fleet, d.options, d.col, d.cost, (work_col, d.need))


def define_budget(d: FleetDraft) -> None:
    """``budget``: spend plus enablement within the fleet's budget."""
    budget = d.fleet.budget_usd
    if budget is None or d.enable is None:
        return
    enable_usd = np.array([s.enable_usd for s in d.pending])
    terms = Terms(
        np.zeros(len(d.options) + len(d.pending), dtype=np.int64),
        np.concatenate([d.col, d.enable.columns]),
        np.concatenate([d.cost, enable_usd]),
    )
    d.model.add_rows("budget", ["total"], terms, upper=budget)


def option_label(o: Option, names: Sequence[str]) -> str:
    """An option in words: its workload, then where it runs and how it is bought."""
    off = o.offer
    return (
        f"{names[o.workload]}: {off.provider}/{off.instance_type}/{off.region}/"
        f"{off.price_regime.value}"
    )


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


def mark_used(built: FleetModel, options: Sequence[Option], x: FloatArray) -> None:
    """Set, in a point ``x`` of ``built`` whose replicas are given, each plain serving
    option's ``v`` (1 where it has replicas) and each service's ``m`` (the least
    throughput of its options in use): the values the no-padding rows need."""
    if built.used is None or built.used_rep is None or built.least is None:
        return
    at = built.used_rep
    r = x[built.replicas.columns[at]]
    on = r > HALF
    x[built.used.columns] = on.astype(np.float64)
    names = list(built.least.labels)
    row = {w: k for k, (w, _) in enumerate(built.serve_rates)}
    least = np.full(len(names), np.inf)
    for j, i in enumerate(built.rep[at].tolist()):
        if on[j]:
            k = row[options[i].workload]
            least[k] = min(least[k], options[i].tokens_per_s)
    x[built.least.columns] = np.where(np.isfinite(least), least, 0.0)
