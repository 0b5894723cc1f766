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
      used[o]            r_o <= R_o v_o,  v_o in {0, 1}   (R_o = ceil(rate_w / tput_o))
      least[o]           m_w <= T_w - (T_w - tput_o) v_o  (m_w: least tput of a used o)
      surplus[w]         sum_{o in w} tput_o r_o - m_w <= rate_w (1 - 1e-6)
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

Deadlines (with platform lead times) and SLOs are met by construction: options that
miss them are never built. Capacity counts every workload's instances at once (a
conservative reading: the fleet runs concurrently).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import Fleet, PlatformState
from arbiter.domain.workload import ServeJob
from arbiter.optimize.linear import (
    Block,
    FloatArray,
    IntArray,
    LinearModel,
    Status,
    Stop,
)
from arbiter.optimize.options import Option, share_capped
from arbiter.optimize.request_mix import class_demand, classes_of
from arbiter.optimize.share_caps import need_per_unit, share_caps

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
        # HiGHS's MIP presolve (1.16) can cut off the optimum of a service's trade between
        # replicas and unmet share when its LP replica count lies just beyond the
        # integrality tolerance of a whole number (2.9999985 replicas: it kept 2 and left a
        # third undone at a dearer penalty, reported optimal). These models are small
        # emergency re-plans; they are solved without presolve.
        model.presolve = False
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
    surplus: tuple[Block, IntArray, Block] | None = None
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
        surplus = _no_surplus(model, options, rep, r, single, index, rate, names, serve_list)
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
        offer_id = np.array([o.offer.offer_id for o in options])
        for limit in fleet.capacity:
            mask = (provider == limit.provider) & (accelerator == limit.accelerator)
            if limit.region is not None:
                glob = limit.region.lower()
                mask &= np.isin(
                    region, [r for r in set(region[mask].tolist()) if fnmatch.fnmatchcase(r, glob)]
                )
            if limit.price_regime is not None:
                mask &= regime == limit.price_regime.value
            if limit.offer_ids is not None:
                mask &= np.isin(offer_id, list(limit.offer_ids))
            hits = np.flatnonzero(mask)
            if len(hits):
                add_row(limit.label, hits, float(limit.max_instances))
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
    work_col = col.copy()
    work_col[rep] = r.columns  # a service's need counts replicas, its spend instances
    need = need_per_unit(fleet, options) if caps and share_capped(fleet) else None
    share_unit = (
        1.0 if need is None else share_caps(model, fleet, options, col, cost, (work_col, need))
    )

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
        used=None if surplus is None else surplus[0],
        used_rep=None if surplus is None else surplus[1],
        least=None if surplus is None else surplus[2],
        need=need,
    )


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


SURPLUS_TOL = 1e-6  # relative to the rate: "less than one replica" made a closed row


def _no_surplus(
    model: LinearModel,
    options: Sequence[Option],
    rep: IntArray,
    r: Block,
    single: npt.NDArray[np.bool_],
    index: dict[int, int],
    rate: list[float],
    names: list[str],
    serve_list: list[int],
) -> tuple[Block, IntArray, Block] | None:
    """The no-padding rows of a plain service (see the formulation): ``v_o`` marks an
    option with replicas, ``m_w`` is at most the throughput of every marked option, and
    the capacity above the rate stays below ``m_w``."""
    at = np.flatnonzero(single)
    if not len(at):
        return None
    opts = rep[at]
    wl = np.array([index[options[i].workload] for i in opts.tolist()], dtype=np.int64)
    tput = np.array([options[i].tokens_per_s for i in opts.tolist()], dtype=np.float64)
    need = np.asarray(rate, dtype=np.float64)
    most = np.zeros(len(need))
    np.maximum.at(most, wl, tput)
    replicas = np.ceil(need[wl] / np.maximum(tput, 1e-12) - 1e-9).clip(min=1.0)
    labels = [r.labels[k] for k in at.tolist()]
    # r_o <= R_o v_o <= R_o, also as the column's bound: the LP without these rows keeps it
    model.cap_columns(r.columns[at], replicas)
    v = model.add_variables("used", labels, upper=1.0, integer=True)
    m = model.add_variables("least", [names[i] for i in serve_list], upper=most)
    k = np.arange(len(at), dtype=np.int64)
    model.add_constraints(
        "used",
        labels,
        np.concatenate([k, k]),
        np.concatenate([r.columns[at], v.columns]),
        np.concatenate([np.ones(len(at)), -replicas]),
        upper=0.0,
    )
    model.add_constraints(
        "least",
        labels,
        np.concatenate([k, k]),
        np.concatenate([m.columns[wl], v.columns]),
        np.concatenate([np.ones(len(at)), most[wl] - tput]),
        upper=most[wl],
    )
    w_rows = np.arange(len(need), dtype=np.int64)
    model.add_constraints(
        "surplus",
        [names[i] for i in serve_list],
        np.concatenate([wl, w_rows]),
        np.concatenate([r.columns[at], m.columns]),
        np.concatenate([tput, -np.ones(len(need))]),
        upper=need * (1.0 - SURPLUS_TOL),
    )
    return v, at, m


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
