"""Cost per unit of work: each workload's best configuration on every accelerator.

For every accelerator the model evaluates all layouts at once (arrays, no per-layout
objects) and keeps the one that does the job cheapest:

- train / finetune: of the layouts that finish by the deadline, the one with the most
  tokens/s per billed chip (whole nodes): the job costs chips x hours. The estimate also
  carries its ``frontier``, the fewest chips for each speed any feasible layout reaches:
  the fleet planner picks one of them per offer, billed in that offer's own whole
  instances and term (see ``docs/semantics-plan.md``);
- serve: the replica with the most SLO-feasible tokens/s per chip, and as many replicas
  as the request rate needs;
- batch: the replica with the most tokens/s per chip, and as many as the deadline needs.

The cheapest matching offer in the catalog (on-demand, and spot when the workload is
interruptible) prices the job in whole instances:
``usd = ceil(chips / per_instance) x per_instance x hours x usd_per_accelerator_hour``.
Throughputs the user measured replace the model for their accelerator. A calibration
profile (``calibration=``, :mod:`arbiter.perf.calibration`) divides every step time of the
model on a chip it covers by the chip's factor for the workload's regime; chips it does
not cover are estimated exactly as without it.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.units import HOURS_PER_DAY
from arbiter.domain.workload import (
    FinetuneMethod,
    Measured,
    ServeJob,
    TrainJob,
    Workload,
    WorkloadKind,
)
from arbiter.perf.bands import MEASURED, band_for, chip_cases
from arbiter.perf.calibration import CalibrationProfile, workload_regime
from arbiter.perf.efficiency import HBM_USABLE_SHARE, Efficiency
from arbiter.perf.hardware import ChipArrays, chip_arrays, precision_bytes
from arbiter.perf.pricing import PriceBook
from arbiter.perf.result import Estimate, Layout, base_fields, measured_on
from arbiter.perf.serving import batch_estimates, serve_estimates
from arbiter.perf.topology import Host
from arbiter.perf.training import (
    RECOMPUTE_LEVELS,
    LayoutPicks,
    TrainResult,
    default_global_batch_tokens,
    evaluate_training,
    pick_layouts,
    train_grid,
)

__all__ = ["DEFAULT_TRAIN_DAYS", "Estimate", "Layout", "allowed_accelerators", "estimate_workload"]

DEFAULT_TRAIN_DAYS = 90.0


def allowed_accelerators(
    workload: Workload, accelerators: Sequence[Accelerator]
) -> list[Accelerator]:
    rules = workload.placement
    keep = []
    for acc in accelerators:
        if rules.vendors is not None and acc.vendor.lower() not in {
            v.lower() for v in rules.vendors
        }:
            continue
        if rules.platforms is not None and acc.platform not in rules.platforms:
            continue
        keep.append(acc)
    return keep


def estimate_workload(
    workload: Workload,
    accelerators: Sequence[Accelerator],
    eff: Efficiency,
    prices: PriceBook | None = None,
    hosts: Sequence[Host | None] | None = None,
    calibration: CalibrationProfile | None = None,
) -> tuple[Estimate, ...]:
    """The best configuration of ``workload`` on each allowed accelerator, cheapest first.

    With ``hosts`` (parallel to ``accelerators``, which may then repeat a chip), one
    estimate per (accelerator, host): the layouts that host admits, at its fabric's
    speed (``perf/topology.py``). Without them but with ``prices``, each accelerator is
    estimated on the fabric of every instance type offering it, priced on those instance
    types only, and the cheapest kept; with neither, on the chip's best cluster. With
    ``calibration``, the model runs faster (or slower) by the profile's factor on the chips
    it covers for the workload's regime; None (the default) leaves every estimate as is."""
    if hosts is None and prices is not None:
        return _best_per_accelerator(workload, accelerators, eff, prices, calibration)
    on = list(hosts) if hosts is not None else [None] * len(accelerators)
    rules = {a.name for a in allowed_accelerators(workload, list(dict.fromkeys(accelerators)))}
    pairs = [(a, h) for a, h in zip(accelerators, on, strict=True) if a.name in rules]
    if not pairs:
        return ()
    accs = [a for a, _ in pairs]
    chips = chip_arrays(accs, workload.precision, [h for _, h in pairs])
    speed = None
    if calibration is not None:
        speed = calibration.speeds([a.name for a in accs], workload_regime(workload.kind))
    if isinstance(workload.job, TrainJob):
        found = _train(workload, workload.job, accs, chips, eff, speed)
    elif isinstance(workload.job, ServeJob):
        found = serve_estimates(workload, workload.job, accs, chips, eff, speed)
    else:
        found = batch_estimates(workload, workload.job, accs, chips, eff, speed)
    if speed is not None and calibration is not None:
        _note_calibration(found, speed, calibration)
    for e, (_, h) in zip(found, pairs, strict=True):
        e.host = h
        if h is not None and e.source == "measured":
            _measured_on_host(e, h, isinstance(workload.job, TrainJob))
        if h is not None and not e.feasible and not h.has_scale_out and e.reason:
            e.reason = f"{e.reason} (on {h.text})"
    priced = [_with_band(_price(e, workload, prices), workload) for e in found]
    return tuple(sorted(priced, key=lambda e: (e.sort_key, e.accelerator)))


def _note_calibration(
    found: list[Estimate], speed: np.ndarray, calibration: CalibrationProfile
) -> None:
    """Say on each model estimate of a calibrated chip by how much, and on what."""
    for e, f in zip(found, speed.tolist(), strict=True):
        if f != 1.0 and e.source == "model":
            note = (
                f"calibrated: the model's speed x{f:.3g} on {e.accelerator} (profile "
                f"{calibration.name!r}, {calibration.provenance.cases} cases of your runs)"
            )
            e.notes = (*e.notes, note)


def _with_band(est: Estimate, workload: Workload) -> Estimate:
    """Attach the model's error band for the platform and kind (a measured one has none)."""
    measured = est.source == "measured"
    band = MEASURED if measured else band_for(est.platform, workload.kind.value)
    est.error_band_share, est.band_cases, est.band_basis = band.share, band.cases, band.basis
    est.chip_cases = 0 if measured else chip_cases(est.accelerator, workload.kind.value)
    return est


def _measured_on_host(e: Estimate, h: Host, train: bool) -> None:
    """A measured throughput holds on ``h`` only where its chips that talk fit the host's
    span (``topology``): a training job's sizes up to it, a replica's chips within it."""
    if not e.feasible:
        return
    if train:
        e.frontier = tuple(f for f in e.frontier if f[0] <= h.span_chips)
        if e.chips <= h.span_chips:
            return
    else:
        replicas = max(e.layout.replicas if e.layout is not None else 1, 1)
        if e.chips // replicas <= h.span_chips:
            return
    e.feasible, e.frontier = False, ()
    e.reason = "the measured layout's chips that talk do not fit one instance"


def _best_per_accelerator(
    workload: Workload,
    accelerators: Sequence[Accelerator],
    eff: Efficiency,
    prices: PriceBook,
    calibration: CalibrationProfile | None = None,
) -> tuple[Estimate, ...]:
    """Per accelerator, the cheapest of its estimates on each fabric it is offered on
    within the placement rules (the chip's best cluster where it has no such offer)."""
    accs: list[Accelerator] = []
    on: list[Host | None] = []
    for a in accelerators:
        found: list[Host | None] = [*prices.hosts(a.name, workload.placement)] or [None]
        accs.extend([a] * len(found))
        on.extend(found)
    best: dict[str, Estimate] = {}
    for e in estimate_workload(workload, accs, eff, prices, on, calibration):
        kept = best.get(e.accelerator)
        # sorted cheapest first; of infeasible ones, the last: the roomiest fabric's reason
        if kept is None or (not kept.feasible and not e.feasible):
            best[e.accelerator] = e
    return tuple(best.values())


# --- pricing ---------------------------------------------------------------------------------


def _price(est: Estimate, workload: Workload, prices: PriceBook | None) -> Estimate:
    """Price ``est`` in place with the offer that bills its chips cheapest."""
    if not est.feasible or prices is None:
        return est
    offer = prices.cheapest(est.accelerator, workload.placement, est.chips, est.host)
    if offer is None:
        est.notes = (*est.notes, "no offer in the catalog matches the placement rules")
        return est
    per_instance = max(offer.accelerators_per_instance, 1)
    instances = math.ceil(est.chips / per_instance)
    usd = instances * per_instance * est.hours * offer.usd_per_accelerator_hour
    tokens = workload.work_tokens
    notes = est.notes
    if offer.spot_rate is not None:
        notes = (
            *notes,
            "spot price: preemption is not priced here (the fleet planner does); spot rate "
            + offer.spot_rate.describe(),
        )
    if instances * per_instance > est.chips:
        notes = (
            *notes,
            f"billed for {instances} x {offer.instance_type} ({instances * per_instance} chips)",
        )
    est.offer, est.instances, est.notes = offer, instances, notes
    est.usd_per_job = usd
    est.usd_per_million_tokens = usd / tokens * 1e6 if tokens > 0 else None
    return est


# --- training ----------------------------------------------------------------------------------


def _train(
    workload: Workload,
    job: TrainJob,
    accs: list[Accelerator],
    chips: ChipArrays,
    eff: Efficiency,
    speed: np.ndarray | None = None,
) -> list[Estimate]:
    model = workload.model
    method = job.method
    # fine-tuning of either method defaults to the fine-tuning batch
    default_method = FinetuneMethod.LORA if workload.kind is WorkloadKind.FINETUNE else method
    batch = job.global_batch_tokens or default_global_batch_tokens(
        model, job.seq_len, default_method
    )
    days = job.deadline_days or DEFAULT_TRAIN_DAYS
    needed = job.tokens / (days * HOURS_PER_DAY * 3600.0)
    grid = train_grid(chips, model, max_dp=batch / job.seq_len, seq_len=job.seq_len)
    weight_bytes, _ = precision_bytes(chips)
    res = evaluate_training(
        model,
        chips,
        grid,
        eff,
        seq_len=job.seq_len,
        global_batch_tokens=batch,
        method=method,
        weight_bytes=weight_bytes,
    )
    if speed is not None:  # a calibrated chip's steps take 1/f of the time (calibration.py)
        factor = speed[grid.chip]
        rate = np.where(factor != 1.0, res.tokens_per_s * factor, res.tokens_per_s)
        res = dataclasses.replace(res, tokens_per_s=rate)
    # whole nodes (a host without a fabric: whole instances of it)
    node = np.minimum(chips.chips_per_node, chips.span_chips)[grid.chip]
    billed = (np.ceil(grid.chips / node) * node).astype(np.float64)
    picks = pick_layouts(res, needed, len(accs), billed_chips=billed)
    frontiers = _frontiers(res, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = base_fields(workload, acc, chips, i)
        if job.deadline_days is None:
            base["notes"] = (*base["notes"], f"no deadline_days: sized to finish in {days:g} days")
        m = measured_on(workload, acc)
        if m is not None:
            out.append(_train_measured(base, m, job, needed))
        else:
            out.append(_train_best(base, res, picks, i, acc, job, days))
            if out[-1].feasible:
                out[-1].frontier = frontiers[i]
    return out


def _frontiers(res: TrainResult, n: int) -> list[tuple[tuple[int, float, Layout | None], ...]]:
    """Per chip ``i < n``, its feasible layouts that are the fewest chips for their speed:
    per chip count the fastest layout (the first on ties), kept where it is faster than
    every smaller one. Any price of chips and hours that does not fall with more chips or
    more time (whole instances, whole days, terms, deadlines) is least on this frontier.
    All chips at once: rows grouped by (chip, chip count) in one stable sort of an
    integer key, each group's fastest row (the first on ties), then per chip a running
    maximum over its groups."""
    g = res.grid
    out: list[tuple[tuple[int, float, Layout | None], ...]] = [()] * n
    rows = np.flatnonzero(res.feasible & (res.tokens_per_s > 0))
    if not len(rows):
        return out
    chips = g.chips[rows].astype(np.int64)
    key = g.chip[rows].astype(np.int64) * (int(chips.max()) + 1) + chips
    order = np.argsort(key, kind="stable")  # rows ascending within a group
    rows, key = rows[order], key[order]
    rate = res.tokens_per_s[rows]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    sizes = np.diff(np.append(starts, len(rows)))
    top = np.maximum.reduceat(rate, starts)
    hits = np.flatnonzero(rate == np.repeat(top, sizes))
    group = np.searchsorted(starts, hits, side="right") - 1
    winners = rows[hits[np.concatenate(([True], group[1:] != group[:-1]))]]
    chip = g.chip[winners]
    faster = np.ones(len(winners), dtype=bool)
    bounds = np.flatnonzero(np.concatenate(([True], chip[1:] != chip[:-1]))).tolist()
    for lo, hi in itertools.pairwise([*bounds, len(winners)]):
        best = np.maximum.accumulate(top[lo:hi])
        faster[lo + 1 : hi] = top[lo + 1 : hi] > best[:-1]
    keep = winners[faster]
    columns = zip(
        g.chip[keep].tolist(),
        g.tp[keep].tolist(),
        g.pp[keep].tolist(),
        g.dp[keep].tolist(),
        g.cp[keep].tolist(),
        g.recompute[keep].tolist(),
        g.sharded[keep].tolist(),
        g.chips[keep].tolist(),
        res.tokens_per_s[keep].tolist(),
        strict=True,
    )
    found: dict[int, list[tuple[int, float, Layout | None]]] = {}
    for i, tp, pp, dp, cp, recompute, sharded, count, speed in columns:
        found.setdefault(i, []).append(
            (count, speed, _layout(tp, pp, dp, cp, recompute, bool(sharded)))
        )
    for i, frontier in found.items():
        out[i] = tuple(frontier)
    return out


@functools.lru_cache(maxsize=65536)
def _layout(tp: int, pp: int, dp: int, cp: int, recompute: int, sharded: bool) -> Layout:
    """One frozen :class:`Layout` per distinct layout: frontiers of many workloads share
    them."""
    return Layout(
        tp=tp,
        pp=pp,
        replicas=dp,
        cp=cp,
        recompute=RECOMPUTE_LEVELS[recompute],
        sharded_optimizer=sharded,
    )


def _train_measured(base: dict[str, Any], m: Measured, job: TrainJob, needed: float) -> Estimate:
    per_chip = m.tokens_per_s / m.chips
    chips = max(m.chips, m.chips * math.ceil(needed / m.tokens_per_s))
    rate = per_chip * chips
    notes = (
        *base["notes"],
        f"measured {m.tokens_per_s:g} tokens/s on {m.chips} chips, scaled linearly",
    )
    # linear scaling: every multiple of the measured chips up to twice the need (and 16
    # more), so the planner can fill whole instances or outrun a platform's lead time
    most = 2 * math.ceil(needed / m.tokens_per_s) + 16
    frontier = tuple((m.chips * j, m.tokens_per_s * j, None) for j in range(1, most + 1))
    return Estimate(
        **{**base, "notes": notes},
        feasible=True,
        chips=chips,
        tokens_per_s=rate,
        hours=job.tokens / rate / 3600.0,
        source="measured",
        frontier=frontier,
    )


def _train_best(
    base: dict[str, Any],
    res: TrainResult,
    picks: LayoutPicks,
    i: int,
    acc: Accelerator,
    job: TrainJob,
    days: float,
) -> Estimate:
    g = res.grid
    if picks.fastest[i] < 0:
        return Estimate(
            **base,
            feasible=False,
            reason=(
                f"needs {picks.least_memory_gb[i]:.0f} GB per chip in its leanest layout; "
                f"{acc.name} has {acc.hbm_gb:.0f} GB ({HBM_USABLE_SHARE:.0%} usable)"
            ),
        )
    if picks.chosen[i] < 0:
        top = int(picks.fastest[i])
        took = job.tokens / res.tokens_per_s[top] / 86400.0
        return Estimate(
            **base,
            feasible=False,
            reason=(
                f"too slow: the fastest layout ({g.chips[top]} chips) needs {took:.0f} days; "
                f"deadline {days:g} days"
            ),
        )
    k = int(picks.chosen[i])
    rate = float(res.tokens_per_s[k])
    layout = Layout(
        tp=int(g.tp[k]),
        pp=int(g.pp[k]),
        replicas=int(g.dp[k]),
        cp=int(g.cp[k]),
        recompute=RECOMPUTE_LEVELS[int(g.recompute[k])],
        sharded_optimizer=bool(g.sharded[k]),
    )
    return Estimate(
        **base,
        feasible=True,
        chips=int(g.chips[k]),
        layout=layout,
        tokens_per_s=rate,
        hours=job.tokens / rate / 3600.0,
        hbm_gb_per_chip=float(res.memory_gb_per_chip[k]),
    )
