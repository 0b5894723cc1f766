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
import numpy.typing as npt

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
    class_requests_per_s: tuple[float, ...] = ()  # per replica, per class of a request mix

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
    base: dict[str, Any],
    res: InferenceResult,
    i: int,
    acc: Accelerator,
    slo: tuple[ServeJob, Efficiency] | None = None,
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
        if slo is not None:
            job, eff = slo
            headroom = eff["latency_headroom"]
            reason += (
                f", against TPOT <= {headroom * job.tpot_s:.3f} s and TTFT <= "
                f"{headroom * job.ttft_s:.2f} s ({headroom:.0%} of the SLO, for p99 headroom)"
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
    if job.classes:
        return _serve_mix(workload, job, accs, chips, eff)
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
            out.append(_serve_measured(base, m, job))
            continue
        k = best[i]
        if k is None:
            out.append(_inference_infeasible(base, res, i, acc, (job, eff)))
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


def _serve_measured(base: dict[str, Any], m: Measured, job: ServeJob) -> Estimate:
    """Replicas of the user's measured throughput (of the whole mix, for a request mix)
    that cover the request rate."""
    replicas = math.ceil(job.requests_per_s * job.output_tokens / m.tokens_per_s)
    what = "of the mix " if job.classes else ""
    note = f"measured {m.tokens_per_s:g} tokens/s {what}per {m.chips}-chip replica"
    return Estimate(
        **{**base, "notes": (*base["notes"], note)},
        feasible=True,
        chips=replicas * m.chips,
        tokens_per_s=replicas * m.tokens_per_s,
        hours=job.hours,
        source="measured",
        layout=Layout(tp=m.chips, pp=1, replicas=replicas),
        class_requests_per_s=m.class_requests_per_s,
    )


def _serve_mix(
    workload: Workload, job: ServeJob, accs: list[Accelerator], chips: ChipArrays, eff: Efficiency
) -> list[Estimate]:
    """A request mix: each class alone on every replica layout, then per chip the layout
    that serves the most of the whole mix per chip among those that meet the SLO for
    every class. A replica splits its time between classes (Mélange), so it serves
    ``1 / sum_c share_c / rps_c`` requests/s of the mix; the planner may also split the
    classes unevenly across chips."""
    runs = [
        _inference(workload, chips, eff, c.input_tokens, c.output_tokens, job.ttft_s, job.tpot_s)
        for c in job.classes
    ]
    g = runs[0].grid
    rps = np.stack(
        [
            np.where(r.feasible, r.tokens_per_s / c.output_tokens, 0.0)
            for r, c in zip(runs, job.classes, strict=True)
        ]
    )
    share = np.array([c.share for c in job.classes])[:, None]
    servable = np.asarray((rps > 0).all(axis=0), dtype=bool)
    mix_rps = np.where(servable, 1.0 / np.sum(share / np.where(rps > 0, rps, 1.0), axis=0), 0.0)
    best = first_best_per_chip(mix_rps / g.chips, servable, g.chip, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = _base(workload, acc, chips, i)
        m = _measured(workload, acc)
        if m is not None:
            if m.tokens_per_s <= 0:
                out.append(
                    _partial(
                        Estimate(**base, feasible=False, source="measured"),
                        m.chips,
                        Layout(tp=m.chips, pp=1, replicas=1),
                        m.class_requests_per_s,
                    )
                )
                continue
            out.append(_serve_measured(base, m, job))
            continue
        k = int(best[i])
        if k < 0:
            out.append(_mix_infeasible(base, runs, job, i, acc, rps, eff))
            continue
        replicas = max(1, math.ceil(job.requests_per_s / mix_rps[k]))
        out.append(
            Estimate(
                **base,
                feasible=True,
                chips=int(replicas * g.chips[k]),
                layout=Layout(tp=int(g.tp[k]), pp=int(g.pp[k]), replicas=replicas),
                tokens_per_s=float(replicas * mix_rps[k] * job.output_tokens),
                hours=job.hours,
                hbm_gb_per_chip=max(
                    float(r.weights_gb_per_chip[k] + r.kv_gb_per_chip[k]) for r in runs
                ),
                ttft_s=max(float(r.ttft_s[k]) for r in runs),
                tpot_s=max(float(r.tpot_s[k]) for r in runs),
                class_requests_per_s=tuple(float(v) for v in rps[:, k]),
            )
        )
    return out


def _mix_infeasible(
    base: dict[str, Any],
    runs: list[InferenceResult],
    job: ServeJob,
    i: int,
    acc: Accelerator,
    rps: npt.NDArray[np.float64],
    eff: Efficiency,
) -> Estimate:
    """No layout of chip ``i`` serves every class. If one serves some, the estimate
    carries the layout that serves the largest share of the mix (then the most per chip),
    so the planner can give it those classes; the reason names what it cannot serve."""
    g = runs[0].grid
    mine = np.flatnonzero(g.chip == i)
    share = np.array([c.share for c in job.classes])
    covered = ((rps[:, mine] > 0) * share[:, None]).sum(axis=0)
    if covered.max(initial=0.0) <= 0:  # no class at all: why the first one fails
        alone = _inference_infeasible(base, runs[0], i, acc, (job, eff))
        c = job.classes[0]
        lengths = f"{c.input_tokens:,.0f} in / {c.output_tokens:,.0f} out"
        alone.reason = f"request class 0 ({lengths}): {alone.reason}"
        return alone
    served = np.where(
        rps[:, mine] > 0, share[:, None] / np.where(rps[:, mine] > 0, rps[:, mine], 1), 0
    )
    per_chip = covered / np.maximum(served.sum(axis=0), 1e-12) / g.chips[mine]
    k = int(mine[np.lexsort((-per_chip, -covered))[0]])
    layout = Layout(tp=int(g.tp[k]), pp=int(g.pp[k]), replicas=1)
    return _partial(
        Estimate(**base, feasible=False), int(g.chips[k]), layout, tuple(rps[:, k].tolist())
    )


def _partial(e: Estimate, chips: int, layout: Layout, class_rps: Sequence[float]) -> Estimate:
    """One replica that serves only some classes of a mix: infeasible alone, usable by the
    planner for the classes it serves."""
    e.chips, e.layout = chips, layout
    e.class_requests_per_s = tuple(float(r) for r in class_rps)
    served = [str(j) for j, r in enumerate(class_rps) if r > 0]
    missing = [str(j) for j, r in enumerate(class_rps) if r <= 0]
    e.reason = (
        f"serves request class {', '.join(served)} only, not {', '.join(missing)}; "
        "arbiter plan may give it those classes"
    )
    return e


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
