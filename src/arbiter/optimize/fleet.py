"""Fleet placement: the cheapest plan for many workloads across chips, clouds and price
regimes, under capacity, budget, platform and diversification limits.

Sets: workloads ``w``; options ``o`` (``options.py``: a workload on one accelerator
configuration bought through one offer); platforms ``p`` not yet enabled; groups ``g`` of
options by vendor, provider or region; capacity limits ``k``.

Variables:

    y_o   in {0, 1}    train/finetune/batch option o is the workload's placement
    r_o   in Z+        serving replicas on option o
    n_o   in Z+        instances bought for serving option o
    z_p   in {0, 1}    platform p is enabled (one-off cost E_p)

Spend ``S = sum_o c_o y_o + sum_o c_o n_o`` (``c_o``: the option's whole cost, or per
instance for serving), and

    minimise    cost_weight (S + sum_p E_p z_p) + time_usd_per_hour sum_o hours_o y_o
    subject to
      assign[w]          sum_{o in w} y_o = 1                             (train/batch w)
      demand[w]          sum_{o in w} tput_o r_o >= rate_w                (serve w, tokens/s)
      pack[o]            chips_o r_o <= per_instance_o n_o                (serve o)
      no_idle[o]         per_instance_o n_o <= chips_o r_o + per_instance_o - 1
      enable[p/o]        y_o <= z_p ;  n_o <= U_o z_p                     (o on platform p)
      capacity[k]        sum_{o in k} instances_o y_o + n_o <= max_k
      vendor_share[v]    sum_{o in v} c_o x_o - cap_vendor S <= 0         (and provider, region)
      budget             S + sum_p E_p z_p <= budget

``x_o`` is ``y_o`` or ``n_o``. Share caps are linear because they bound spend against total
spend. Deadlines (with platform lead times) and SLOs are met by construction: options
that miss them are never built. Capacity counts every workload's instances at once (a
conservative reading: the fleet runs concurrently).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet
from arbiter.domain.workload import ServeJob
from arbiter.optimize.linear import LinearModel, Status
from arbiter.optimize.options import Option

GROUPS = ("vendor", "provider", "region")
HALF = 0.5  # integer variables come back as floats: above one half is one


@dataclass(frozen=True, slots=True)
class Placed:
    option: Option
    units: int  # 1 for train/batch; replicas for serve
    instances: int
    usd: float


@dataclass(frozen=True, slots=True)
class FleetSolution:
    status: Status
    placed: tuple[Placed, ...]
    compute_usd: float
    enabled: tuple[Platform, ...]
    enablement_usd: float
    mip_gap: float

    @property
    def total_usd(self) -> float:
        return self.compute_usd + self.enablement_usd


def group_of(option: Option, group: str) -> str:
    if group == "vendor":
        return option.estimate.vendor
    if group == "provider":
        return option.offer.provider
    return f"{option.offer.provider}/{option.offer.region}"


def solve_fleet(
    fleet: Fleet,
    options: Sequence[Option],
    *,
    caps: bool = True,
    capacity: bool = True,
    seed: int = 0,
    time_limit_s: float | None = 60.0,
    mip_gap: float = 1e-3,
) -> FleetSolution:
    """Solve the formulation above for ``options``; ``caps=False`` drops the share caps,
    ``capacity=False`` the capacity limits."""
    serve_w = {i for i, w in enumerate(fleet.workloads) if isinstance(w.job, ServeJob)}
    is_serve = np.array([o.serve for o in options], dtype=bool)
    cost = np.array([o.usd for o in options], dtype=np.float64)
    hours = np.array([o.hours for o in options], dtype=np.float64)
    labels = [_label(o) for o in options]
    model = LinearModel()
    time_weight = fleet.objective.time_usd_per_hour
    cost_weight = fleet.objective.cost_weight
    one = np.flatnonzero(~is_serve)
    rep = np.flatnonzero(is_serve)
    y = model.add_variables(
        "choose",
        [labels[i] for i in one.tolist()],
        cost=cost_weight * cost[one] + time_weight * hours[one],
        upper=1.0,
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
    wl = np.array([o.workload for o in options], dtype=np.int64)
    assign_w = [i for i in range(len(fleet.workloads)) if i not in serve_w]
    if assign_w:
        index = {w: k for k, w in enumerate(assign_w)}
        model.add_constraints(
            "assign",
            [names[i] for i in assign_w],
            np.array([index[w] for w in wl[one].tolist()], dtype=np.int64),
            y.columns,
            np.ones(len(one)),
            lower=1.0,
            upper=1.0,
        )
    serve_list = sorted(serve_w)
    if serve_list:
        index = {w: k for k, w in enumerate(serve_list)}
        rate = []
        for i in serve_list:
            job = fleet.workloads[i].job
            assert isinstance(job, ServeJob)
            rate.append(job.requests_per_s * job.output_tokens)
        tput = np.array([options[i].tokens_per_s for i in rep.tolist()], dtype=np.float64)
        model.add_constraints(
            "demand",
            [names[i] for i in serve_list],
            np.array([index[w] for w in wl[rep].tolist()], dtype=np.int64),
            r.columns,
            tput,
            lower=np.array(rate),
        )
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
        plat = np.array([o.estimate.platform for o in options])
        rows_: list[int] = []
        cols_: list[int] = []
        vals_: list[float] = []
        link_labels: list[str] = []
        for j, state in enumerate(pending):
            for i in np.flatnonzero(plat == state.platform.value).tolist():
                bound = 1.0 if not is_serve[i] else _instance_bound(fleet, options[i])
                row = len(link_labels)
                link_labels.append(f"{state.platform.value}/{labels[i]}")
                rows_ += [row, row]
                cols_ += [int(col[i]), int(z.columns[j])]
                vals_ += [1.0, -bound]
        if link_labels:
            model.add_constraints(
                "enable", link_labels, np.array(rows_), np.array(cols_), np.array(vals_), upper=0.0
            )

    # capacity: the file's limits and the offers' own
    cap_labels: list[str] = []
    cap_rows: list[int] = []
    cap_cols: list[int] = []
    cap_vals: list[float] = []
    cap_max: list[float] = []
    for limit in fleet.capacity if capacity else ():
        hits = [
            i
            for i, o in enumerate(options)
            if o.offer.provider == limit.provider
            and o.offer.accelerator == limit.accelerator
            and (
                limit.region is None
                or fnmatch.fnmatchcase(o.offer.region.lower(), limit.region.lower())
            )
            and (limit.price_regime is None or o.offer.price_regime is limit.price_regime)
        ]
        if hits:
            row = len(cap_labels)
            where = f"/{limit.region}" if limit.region else ""
            regime = f"/{limit.price_regime.value}" if limit.price_regime else ""
            cap_labels.append(f"{limit.provider}/{limit.accelerator}{where}{regime}")
            cap_rows += [row] * len(hits)
            cap_cols += [int(col[i]) for i in hits]
            cap_vals += [float(inst_coef[i]) for i in hits]
            cap_max.append(float(limit.max_instances))
    by_offer: dict[str, list[int]] = {}
    for i, o in enumerate(options):
        if capacity and o.offer.capacity_instances is not None:
            by_offer.setdefault(o.offer.offer_id, []).append(i)
    for hits in by_offer.values():
        off = options[hits[0]].offer
        row = len(cap_labels)
        cap_labels.append(
            f"{off.provider}/{off.instance_type}/{off.region}/{off.price_regime.value}"
        )
        cap_rows += [row] * len(hits)
        cap_cols += [int(col[i]) for i in hits]
        cap_vals += [float(inst_coef[i]) for i in hits]
        cap_max.append(float(off.capacity_instances or 0))
    if cap_labels:
        model.add_constraints(
            "capacity",
            cap_labels,
            np.array(cap_rows),
            np.array(cap_cols),
            np.array(cap_vals),
            upper=np.array(cap_max),
        )

    # share caps: spend in group - cap x total spend <= 0
    if caps:
        for group in GROUPS:
            cap = getattr(fleet.caps, group)
            if cap is None:
                continue
            keys = np.array([group_of(o, group) for o in options])
            values = sorted(set(keys.tolist()))
            share_rows, share_cols, share_vals = [], [], []
            for row, value in enumerate(values):
                inside = (keys == value).astype(np.float64)
                share_rows.append(np.full(len(options), row, dtype=np.int64))
                share_cols.append(col)
                share_vals.append((inside - cap) * cost)
            model.add_constraints(
                f"{group}_share",
                values,
                np.concatenate(share_rows),
                np.concatenate(share_cols),
                np.concatenate(share_vals),
                upper=0.0,
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

    solution = model.solve(time_limit_s=time_limit_s, mip_gap=mip_gap, seed=seed)
    if solution.status is Status.INFEASIBLE:
        raise InfeasibleError("no placement meets every constraint of the fleet")
    if solution.status is not Status.OPTIMAL and not solution.x.any():
        raise InfeasibleError(f"the solver found no plan ({solution.status.value})")

    placed = []
    yv, rv, nv = solution.values(y), solution.values(r), solution.values(n)
    for j, i in enumerate(one.tolist()):
        if yv[j] > HALF:
            o = options[i]
            placed.append(Placed(option=o, units=1, instances=o.instances, usd=o.usd))
    for j, i in enumerate(rep.tolist()):
        if nv[j] > HALF:
            o = options[i]
            count = round(float(nv[j]))
            units = round(float(rv[j]))
            placed.append(Placed(option=o, units=units, instances=count, usd=count * o.usd))
    zv = solution.values(z)
    enabled = tuple(s.platform for j, s in enumerate(pending) if zv[j] > HALF)
    enable_cost = sum(s.enable_usd for j, s in enumerate(pending) if zv[j] > HALF)
    compute = float(sum(p.usd for p in placed))
    return FleetSolution(
        status=solution.status,
        placed=tuple(placed),
        compute_usd=compute,
        enabled=enabled,
        enablement_usd=enable_cost,
        mip_gap=solution.mip_gap,
    )


def _label(o: Option) -> str:
    off = o.offer
    return f"{o.workload}/{off.provider}/{off.instance_type}/{off.region}/{off.price_regime.value}"


def _instance_bound(fleet: Fleet, o: Option) -> float:
    """Most instances a serving option could usefully buy: the whole demand on it."""
    job = fleet.workloads[o.workload].job
    assert isinstance(job, ServeJob)
    replicas = np.ceil(job.requests_per_s * job.output_tokens / max(o.tokens_per_s, 1e-9))
    return float(replicas * o.instances + 1)
