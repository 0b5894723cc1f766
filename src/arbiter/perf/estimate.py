"""Cost per unit of work: each workload's best configuration on every accelerator.

For every accelerator the model evaluates all layouts at once (arrays, no per-layout
objects) and keeps the one that does the job cheapest:

- train / finetune: of the layouts that finish by the deadline, the one with the most
  tokens/s per billed chip (whole nodes): the job costs chips x hours;
- serve: the replica with the most SLO-feasible tokens/s per chip, and as many replicas
  as the request rate needs;
- batch: the replica with the most tokens/s per chip, and as many as the deadline needs.

The cheapest matching offer in the catalog (on-demand, and spot when the workload is
interruptible) prices the job in whole instances:
``usd = ceil(chips / per_instance) x per_instance x hours x usd_per_accelerator_hour``.
Throughputs the user measured replace the model for their accelerator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.workload import (
    BatchJob,
    FinetuneMethod,
    Measured,
    ServeJob,
    TrainJob,
    Workload,
    WorkloadKind,
)
from arbiter.perf.efficiency import HBM_USABLE_SHARE, Efficiency
from arbiter.perf.hardware import ChipArrays, chip_arrays, first_best_per_chip, precision_bytes
from arbiter.perf.inference import InferenceResult, evaluate_inference, memory_reason, replica_grid
from arbiter.perf.pricing import OfferChoice, PriceBook
from arbiter.perf.training import (
    RECOMPUTE_LEVELS,
    LayoutPicks,
    TrainResult,
    default_global_batch_tokens,
    evaluate_training,
    pick_layouts,
    train_grid,
)

DEFAULT_TRAIN_DAYS = 90.0
HOURS_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class Layout:
    """How the chips are used: ``replicas`` x (``tp`` x ``pp``)."""

    tp: int
    pp: int
    replicas: int
    cp: int = 1
    recompute: str | None = None
    sharded_optimizer: bool | None = None
    batch: float | None = None

    @property
    def text(self) -> str:
        parts = [f"TP{self.tp}", f"PP{self.pp}", f"x{self.replicas}"]
        if self.cp > 1:
            parts.insert(1, f"CP{self.cp}")
        if self.recompute is not None and self.recompute != "none":
            parts.append(f"recompute={self.recompute}")
        if self.sharded_optimizer:
            parts.append("FSDP")
        if self.batch is not None:
            parts.append(f"batch={self.batch:g}")
        return " ".join(parts)


@dataclass(slots=True)
class Estimate:
    """One workload on one accelerator. Built, then priced in place, by this module."""

    workload: str
    accelerator: str
    vendor: str
    platform: str
    feasible: bool
    reason: str = ""
    precision: str = ""
    chips: int = 0
    layout: Layout | None = None
    tokens_per_s: float = 0.0
    hours: float = 0.0
    hbm_gb_per_chip: float = 0.0
    ttft_s: float | None = None
    tpot_s: float | None = None
    source: str = "model"
    offer: OfferChoice | None = None
    instances: int = 0
    usd_per_job: float | None = None
    usd_per_million_tokens: float | None = None
    notes: tuple[str, ...] = field(default=())
    best_ttft_s: float | None = None
    best_tpot_s: float | None = None

    @property
    def sort_key(self) -> tuple[int, float, float]:
        if not self.feasible:
            return (2, 0.0, 0.0)
        if self.usd_per_million_tokens is None:
            return (1, -self.tokens_per_s / max(self.chips, 1), 0.0)
        return (0, self.usd_per_million_tokens, self.hours)


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
) -> tuple[Estimate, ...]:
    """The best configuration of ``workload`` on each allowed accelerator, cheapest first."""
    accs = allowed_accelerators(workload, accelerators)
    if not accs:
        return ()
    chips = chip_arrays(accs, workload.precision)
    if isinstance(workload.job, TrainJob):
        found = _train(workload, workload.job, accs, chips, eff)
    elif isinstance(workload.job, ServeJob):
        found = _serve(workload, workload.job, accs, chips, eff)
    else:
        found = _batch(workload, workload.job, accs, chips, eff)
    priced = [_price(e, workload, prices) for e in found]
    return tuple(sorted(priced, key=lambda e: (e.sort_key, e.accelerator)))


# --- pricing ---------------------------------------------------------------------------------


def _price(est: Estimate, workload: Workload, prices: PriceBook | None) -> Estimate:
    """Price ``est`` in place with the offer that bills its chips cheapest."""
    if not est.feasible or prices is None:
        return est
    offer = prices.cheapest(est.accelerator, workload.placement, est.chips)
    if offer is None:
        est.notes = (*est.notes, "no offer in the catalog matches the placement rules")
        return est
    per_instance = max(offer.accelerators_per_instance, 1)
    instances = math.ceil(est.chips / per_instance)
    usd = instances * per_instance * est.hours * offer.usd_per_accelerator_hour
    tokens = workload.work_tokens
    notes = est.notes
    if offer.price_regime == "spot":
        notes = (*notes, "spot price: preemption is not priced here (the fleet planner does)")
    if instances * per_instance > est.chips:
        notes = (
            *notes,
            f"billed for {instances} x {offer.instance_type} ({instances * per_instance} chips)",
        )
    est.offer, est.instances, est.notes = offer, instances, notes
    est.usd_per_job = usd
    est.usd_per_million_tokens = usd / tokens * 1e6 if tokens > 0 else None
    return est


def _base(workload: Workload, acc: Accelerator, chips: ChipArrays, i: int) -> dict[str, Any]:
    notes: list[str] = []
    used = chips.precisions[i]
    if used != workload.precision:
        notes.append(f"{acc.name} has no {workload.precision.value}; runs at {used.value}")
    return {
        "workload": workload.name,
        "accelerator": acc.name,
        "vendor": acc.vendor,
        "platform": acc.platform.value,
        "precision": used.value,
        "notes": tuple(notes),
    }


def _measured(workload: Workload, acc: Accelerator) -> Measured | None:
    for m in workload.measured:
        if m.accelerator == acc.name:
            return m
    return None


# --- training ----------------------------------------------------------------------------------


def _train(
    workload: Workload, job: TrainJob, accs: list[Accelerator], chips: ChipArrays, eff: Efficiency
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
    node = chips.chips_per_node[grid.chip]
    billed = (np.ceil(grid.chips / node) * node).astype(np.float64)  # whole nodes
    picks = pick_layouts(res, needed, len(accs), billed_chips=billed)
    out = []
    for i, acc in enumerate(accs):
        base = _base(workload, acc, chips, i)
        if job.deadline_days is None:
            base["notes"] = (*base["notes"], f"no deadline_days: sized to finish in {days:g} days")
        m = _measured(workload, acc)
        if m is not None:
            out.append(_train_measured(base, m, job, needed))
        else:
            out.append(_train_best(base, res, picks, i, acc, job, days))
    return out


def _train_measured(base: dict[str, Any], m: Measured, job: TrainJob, needed: float) -> Estimate:
    per_chip = m.tokens_per_s / m.chips
    chips = max(m.chips, m.chips * math.ceil(needed / m.tokens_per_s))
    rate = per_chip * chips
    notes = (
        *base["notes"],
        f"measured {m.tokens_per_s:g} tokens/s on {m.chips} chips, scaled linearly",
    )
    return Estimate(
        **{**base, "notes": notes},
        feasible=True,
        chips=chips,
        tokens_per_s=rate,
        hours=job.tokens / rate / 3600.0,
        source="measured",
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


# --- inference ---------------------------------------------------------------------------------


def _inference(
    workload: Workload,
    chips: ChipArrays,
    eff: Efficiency,
    i_tok: float,
    o_tok: float,
    ttft: float | None,
    tpot: float | None,
) -> InferenceResult:
    weight_bytes, kv_bytes = precision_bytes(chips)
    return evaluate_inference(
        workload.model,
        chips,
        replica_grid(chips),
        eff,
        weight_bytes=weight_bytes,
        kv_bytes=kv_bytes,
        input_tokens=i_tok,
        output_tokens=o_tok,
        ttft_limit_s=ttft,
        tpot_limit_s=tpot,
    )


def _best_replicas(res: InferenceResult, n: int) -> list[int | None]:
    """Per accelerator, the feasible replica with the most tokens/s per chip (the first
    on ties); None where none is feasible."""
    g = res.grid
    best = first_best_per_chip(res.tokens_per_s / g.chips, res.feasible, g.chip, n)
    return [None if k < 0 else k for k in best.tolist()]


def _inference_infeasible(
    base: dict[str, Any], res: InferenceResult, i: int, acc: Accelerator
) -> Estimate:
    g = res.grid
    mine = g.chip == i
    fits = mine & np.isfinite(res.min_tpot_s)
    if not fits.any():
        reason = memory_reason(res, mine, acc.name, acc.hbm_gb)
    else:
        k_tpot = int(np.flatnonzero(fits)[np.argmin(res.min_tpot_s[fits])])
        k_ttft = int(np.flatnonzero(fits)[np.argmin(res.min_ttft_s[fits])])
        best_tpot, best_ttft = float(res.min_tpot_s[k_tpot]), float(res.min_ttft_s[k_ttft])
        reason = (
            f"cannot meet the SLO: best TPOT {best_tpot:.3f} s "
            f"(TP{g.tp[k_tpot]} PP{g.pp[k_tpot]}), best TTFT {best_ttft:.2f} s"
        )
        return Estimate(
            **base,
            feasible=False,
            reason=reason,
            best_tpot_s=best_tpot,
            best_ttft_s=best_ttft,
        )
    return Estimate(**base, feasible=False, reason=reason)


def _serve(
    workload: Workload, job: ServeJob, accs: list[Accelerator], chips: ChipArrays, eff: Efficiency
) -> list[Estimate]:
    res = _inference(
        workload, chips, eff, job.input_tokens, job.output_tokens, job.ttft_s, job.tpot_s
    )
    demand = job.requests_per_s * job.output_tokens
    best = _best_replicas(res, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = _base(workload, acc, chips, i)
        m = _measured(workload, acc)
        if m is not None:
            replicas = math.ceil(demand / m.tokens_per_s)
            notes = (
                *base["notes"],
                f"measured {m.tokens_per_s:g} tokens/s per {m.chips}-chip replica",
            )
            out.append(
                Estimate(
                    **{**base, "notes": notes},
                    feasible=True,
                    chips=replicas * m.chips,
                    tokens_per_s=replicas * m.tokens_per_s,
                    hours=job.hours,
                    source="measured",
                    layout=Layout(tp=m.chips, pp=1, replicas=replicas),
                )
            )
            continue
        k = best[i]
        if k is None:
            out.append(_inference_infeasible(base, res, i, acc))
            continue
        g = res.grid
        replicas = max(1, math.ceil(demand / res.tokens_per_s[k]))
        out.append(
            Estimate(
                **base,
                feasible=True,
                chips=int(replicas * g.chips[k]),
                layout=Layout(
                    tp=int(g.tp[k]), pp=int(g.pp[k]), replicas=replicas, batch=float(res.batch[k])
                ),
                tokens_per_s=float(replicas * res.tokens_per_s[k]),
                hours=job.hours,
                hbm_gb_per_chip=float(res.weights_gb_per_chip[k] + res.kv_gb_per_chip[k]),
                ttft_s=float(res.ttft_s[k]),
                tpot_s=float(res.tpot_s[k]),
            )
        )
    return out


def _batch(
    workload: Workload, job: BatchJob, accs: list[Accelerator], chips: ChipArrays, eff: Efficiency
) -> list[Estimate]:
    res = _inference(
        workload, chips, eff, job.request_input_tokens, job.request_output_tokens, None, None
    )
    best = _best_replicas(res, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = _base(workload, acc, chips, i)
        m = _measured(workload, acc)
        k = None if m is not None else best[i]
        if m is None and k is None:
            out.append(_inference_infeasible(base, res, i, acc))
            continue
        if m is not None:
            per_replica, size, source = m.tokens_per_s, m.chips, "measured"
            layout = Layout(tp=m.chips, pp=1, replicas=1)
        else:
            assert k is not None
            g = res.grid
            per_replica, size, source = float(res.tokens_per_s[k]), int(g.chips[k]), "model"
            layout = Layout(tp=int(g.tp[k]), pp=int(g.pp[k]), replicas=1, batch=float(res.batch[k]))
        replicas = 1
        if job.deadline_hours:
            replicas = max(
                1, math.ceil(job.output_tokens / (per_replica * job.deadline_hours * 3600.0))
            )
        rate = per_replica * replicas
        out.append(
            Estimate(
                **base,
                feasible=True,
                chips=replicas * size,
                layout=replace(layout, replicas=replicas),
                tokens_per_s=rate,
                hours=job.output_tokens / rate / 3600.0,
                source=source,
                hbm_gb_per_chip=0.0
                if k is None
                else float(res.weights_gb_per_chip[k] + res.kv_gb_per_chip[k]),
            )
        )
    return out
