"""Share caps, in any model: a group's spend at most ``cap`` of what it is measured
against (:func:`define_share_caps`, the rows both the fleet model and procurement add).

The fleet measures a group against itself plus what the work outside it needs there, each
workload's work at its cheapest option outside the group, so no purchase can dilute a
share (``docs/semantics-plan.md``, "Share caps"): its rows (:func:`share_caps`), the need
they measure (:func:`need_per_unit`, :func:`outside_premium`), and the same shares read
from a plan (:func:`cap_shares`). Procurement measures a group against the period's
whole spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.workload import ServeJob
from arbiter.optimize.linear import Family, FloatArray, IntArray, LinearModel, Terms
from arbiter.optimize.options import Option

if TYPE_CHECKING:
    from arbiter.optimize.fleet_model import Placed


def group_of(option: Option, group: str) -> str:
    if group == "vendor":
        return option.estimate.vendor
    if group == "provider":
        return option.offer.provider
    return f"{option.offer.provider}/{option.offer.region}"


def share_caps(
    model: LinearModel,
    fleet: Fleet,
    options: Sequence[Option],
    col: IntArray,
    cost: FloatArray,
    work: tuple[IntArray, FloatArray],
) -> float:
    """Share caps that no purchase can dilute: ``need: sum_o v_o w_o - N = 0`` and, per
    group, ``(1 - cap) spend_g + cap need_g - cap N - cap premium_g <= 0``, i.e.
    ``spend_g <= cap (spend_g + need outside g)``. The need of work outside ``g`` is what it
    would cost on its workload's cheapest option outside ``g``: ``v_o w_o`` (``v_o`` from
    the workload's cheapest option overall, :func:`need_per_unit`; ``w_o`` is ``y_o``, or
    ``r_o`` for a service) plus, where that cheapest option lies in ``g``, the premium of
    the cheapest outside it (:func:`outside_premium`). Spending more outside a group than
    its work needs there never raises what the group is measured against, so no plan buys
    capacity or a dearer option to meet a cap; the plan's spend shares meet the caps a
    fortiori. Each option sits in its group's row, in ``need``, and, when its workload's
    cheapest lies in another group, in that group's row."""
    active = [g for g in GROUPS if getattr(fleet.caps, g) is not None]
    if not active:
        return 1.0
    total = model.add_variables("need", ["total"])
    s_col = total.columns[0]
    n = len(options)
    work_col, per_unit = work
    # rows in units of the least the plan can spend (a power of ten: the sum of each
    # workload's cheapest option), which keeps HiGHS's simplex well conditioned and a
    # row's feasibility tolerance (1e-7) a negligible share of the plan
    copies = np.asarray(fleet.copies, dtype=float) if fleet.copies else 1.0
    least = workload_least(fleet, options)
    floor = float(np.sum(least * copies))
    unit = 10.0 ** np.floor(np.log10(max(floor, 1.0)))
    cost = cost / unit
    need = per_unit / unit
    model.add_constraints(
        "need",
        ["total"],
        np.zeros(n + 1, dtype=np.int64),
        np.append(work_col, s_col),
        np.append(need, -1.0),
        lower=0.0,
        upper=0.0,
    )
    for group in active:
        cap = float(getattr(fleet.caps, group))
        values, member = np.unique(
            np.array([group_of(o, group) for o in options]), return_inverse=True
        )
        k = np.arange(len(values), dtype=np.int64)
        rows = member.astype(np.int64)
        at, extra = outside_premium(fleet, options, rows)
        spend = Terms(rows, col, cost)
        # the need outside the group: the whole need, less its own, plus the premium of
        # work whose least is inside it
        outside = Terms.join(
            Terms(k, np.full(len(values), s_col), np.ones(len(values))),
            Terms(rows, work_col, -need),
            Terms(extra[0], work_col[at], extra[1] / unit),
        )
        define_share_caps(model, group, cap, values.tolist(), spend, outside=outside)
    return float(unit)


def define_share_caps(
    model: LinearModel,
    group: str,
    cap: float,
    labels: list[str],
    spend: Terms,
    *,
    outside: Terms | None = None,
    total: Terms | None = None,
) -> Family:
    """``{group}_share[g]``, one row per group value (``labels``): its ``spend`` at most
    ``cap`` of what it is measured against, either itself plus ``outside`` it,
    ``(1 - cap) spend_g - cap outside_g <= 0`` (the fleet's), or a ``total``,
    ``spend_g - cap total_g <= 0`` (procurement's, the period's whole spend); terms by
    local row."""
    if outside is not None:
        terms = Terms.join(spend.times(1.0 - cap), outside.times(-cap))
    elif total is not None:
        terms = Terms.join(spend, total.times(-cap))
    else:
        raise ValueError("a share cap is measured against what is outside it or a total")
    return model.add_rows(f"{group}_share", labels, terms, upper=0.0)


def outside_premium(
    fleet: Fleet, options: Sequence[Option], group: IntArray
) -> tuple[IntArray, tuple[IntArray, FloatArray]]:
    """What the work outside a group needs beyond the workload's least, where the least
    is inside it: for each workload whose cheapest options (:func:`need_per_unit`) all
    lie in one group ``g*``, its work outside ``g*`` would cost at least its cheapest
    option outside ``g*``, dearer by ``delta`` per unit. Returns the options outside their
    workload's ``g*`` (positions), with ``g*`` and ``delta`` times the option's unit of
    work (1, or a replica's tokens/s): the entries that raise ``g*``'s need outside to
    the least it can be. (``group``: each option's group, as row positions.)"""
    rate = unit_rate(fleet, options)
    work = np.array([o.workload for o in options], dtype=np.int64)
    least = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least, work, rate)
    is_min = rate <= least[work] * (1.0 + 1e-12)
    pairs = np.unique(np.stack([work[is_min], group[is_min]]), axis=1)
    count = np.bincount(pairs[0], minlength=len(fleet.workloads))
    gstar = np.full(len(fleet.workloads), -1, dtype=np.int64)
    single = count[pairs[0]] == 1
    gstar[pairs[0][single]] = pairs[1][single]
    outside = (gstar[work] >= 0) & (group != gstar[work])
    least_out = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least_out, work[outside], rate[outside])
    at = np.flatnonzero(outside)
    unit_of_work = np.array([o.tokens_per_s if o.serve else 1.0 for o in options])
    own = own_cost(options)[at]
    u = unit_of_work[at]
    delta = np.minimum(least_out[work[at]] * u, own) - np.minimum(least[work[at]] * u, own)
    return at, (gstar[work[at]], delta)


def cap_shares(
    fleet: Fleet, placed: Sequence[Placed], options: Sequence[Option]
) -> dict[str, dict[str, float]]:
    """Each group's share as the share caps bound it (the rows of :func:`share_caps`):
    ``spend_g / (spend_g + need outside g)``, the need of work placed outside ``g`` at its
    workload's least cost per unit of work among ``options`` outside ``g``."""
    rate = unit_rate(fleet, options)
    owns = own_cost([p.option for p in placed]).tolist() if placed else []
    out: dict[str, dict[str, float]] = {}
    for family in GROUPS:
        # per workload: its least rate and that option's group, and its least elsewhere
        best: dict[int, tuple[float, str]] = {}
        second: dict[int, float] = {}
        for o, v in zip(options, rate.tolist(), strict=True):
            g, w = group_of(o, family), o.workload
            top = best.get(w)
            if top is None or v < top[0]:
                if top is not None and top[1] != g:
                    second[w] = min(second.get(w, np.inf), top[0])
                best[w] = (v, g)
            elif g != top[1]:
                second[w] = min(second.get(w, np.inf), v)

        spend: dict[str, float] = {}
        for p in placed:
            g = group_of(p.option, family)
            spend[g] = spend.get(g, 0.0) + p.usd
        shares: dict[str, float] = {}
        for g, usd in sorted(spend.items()):
            outside = 0.0
            for p, own in zip(placed, owns, strict=True):
                if group_of(p.option, family) == g:
                    continue
                top = best.get(p.option.workload, (np.inf, ""))
                v = top[0] if top[1] != g else second.get(p.option.workload, np.inf)
                o = p.option
                outside += p.units * min(v * o.tokens_per_s, own) if o.serve else min(v, own)
            shares[g] = usd / (usd + outside) if usd > 0 else 0.0
        out[family] = shares
    return out


def workload_least(fleet: Fleet, options: Sequence[Option]) -> FloatArray:
    """Per workload, the least its whole work costs on one of ``options`` (its cheapest
    per :func:`unit_rate`, times its rate for a service; 0 with no option)."""
    rate = unit_rate(fleet, options)
    work = np.array([o.workload for o in options], dtype=np.int64)
    least = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least, work, rate)
    scale = np.array([service_rate(fleet, w) or 1.0 for w in range(len(fleet.workloads))])
    return np.where(np.isfinite(least), least * scale, 0.0)


def need_per_unit(fleet: Fleet, options: Sequence[Option]) -> FloatArray:
    """Per option, what its work would cost on its workload's cheapest option: the least
    ``usd`` of the workload's options (train/batch, per placement), or a replica's
    tokens/s at the workload's least cost per token/s (serve, per replica; see
    :func:`unit_rate`), never more than the option's own cost (:func:`own_cost`). Share
    caps measure spend against it; the options ``pruning.prune`` drops never include the
    cheapest, so it is the same on pruned and unpruned options."""
    rate = unit_rate(fleet, options)
    tokens = np.array([o.tokens_per_s for o in options], dtype=np.float64)
    serve = np.array([o.serve for o in options], dtype=bool)
    work = np.array([o.workload for o in options], dtype=np.int64)
    least = np.full(len(fleet.workloads), np.inf)
    np.minimum.at(least, work, rate)
    return np.minimum(np.where(serve, least[work] * tokens, least[work]), own_cost(options))


def own_cost(options: Sequence[Option]) -> FloatArray:
    """What a unit of each option's work costs itself, at least: ``usd`` (train/batch),
    or a replica's share of its instances (serve: ``usd x chips / per``, or the
    instances one replica spans). Need never exceeds it, so the spend a plan shows
    outside a group is never below the need the caps count there."""
    usd = np.array([o.usd for o in options], dtype=np.float64)
    serve = np.array([o.serve for o in options], dtype=bool)
    chips = np.array([max(o.chips, 1) for o in options], dtype=np.float64)
    per = np.array([o.offer.accelerators_per_instance for o in options], dtype=np.float64)
    replica = np.where(chips <= per, usd * chips / per, usd * np.ceil(chips / per))
    return np.where(serve, replica, usd)


def unit_rate(fleet: Fleet, options: Sequence[Option]) -> FloatArray:
    """Per option, its cost per unit of work: ``usd`` (train/batch, per placement), or,
    for a service, what serving its whole rate on the option alone costs per token/s
    (whole replicas in whole instances: ``usd x instances(ceil(rate / tput)) / rate``,
    so a large instance a small service cannot fill is not counted as if it could)."""
    usd = np.array([o.usd for o in options], dtype=np.float64)
    serve = np.array([o.serve for o in options], dtype=bool)
    tokens = np.maximum(np.array([o.tokens_per_s for o in options], dtype=np.float64), 1e-300)
    chips = np.array([max(o.chips, 1) for o in options], dtype=np.float64)
    per = np.array([o.offer.accelerators_per_instance for o in options], dtype=np.float64)
    rates = np.array([service_rate(fleet, o.workload) for o in options], dtype=np.float64)
    replicas = np.ceil(rates / tokens - 1e-9)
    instances = np.where(
        chips <= per, np.ceil(replicas * chips / per - 1e-9), replicas * np.ceil(chips / per)
    )
    whole = usd * instances / np.maximum(rates, 1e-300)
    return np.where(serve, whole, usd)


def service_rate(fleet: Fleet, workload: int) -> float:
    """A service's rate in generated tokens/s (0 for a job)."""
    job = fleet.workloads[workload].job
    return job.requests_per_s * job.output_tokens if isinstance(job, ServeJob) else 0.0
