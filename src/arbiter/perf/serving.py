"""Estimates of inference work: a service (one request shape, or a request mix split
across replicas as in Mélange) and batch generation. For every accelerator the replica
layouts are evaluated as arrays (:mod:`arbiter.perf.inference`); a service keeps the
replica with the most SLO-feasible tokens/s per chip and as many replicas as the request
rate needs, batch work the fastest replica per chip and as many as the deadline needs.

``speed`` (one factor per accelerator, from a calibration profile) makes every step
time of a chip ``1 / f`` of the model's: its throughput ``f`` times, its latencies ``1 / f``
times, and the SLO checked on those (:func:`_inference`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.workload import BatchJob, Measured, ServeJob, Workload
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.hardware import ChipArrays, first_best_per_chip, precision_bytes
from arbiter.perf.inference import InferenceResult, evaluate_inference, memory_reason, replica_grid
from arbiter.perf.result import Estimate, Layout, base_fields, measured_on


def _inference(
    workload: Workload,
    chips: ChipArrays,
    eff: Efficiency,
    i_tok: float,
    o_tok: float,
    ttft: float | None,
    tpot: float | None,
    speed: np.ndarray | None = None,
) -> InferenceResult:
    """Every replica layout of every chip; with ``speed``, a chip with factor ``f`` has
    every time divided by ``f``. That is the model run against limits ``f`` times as
    loose (a time ``t / f`` meets a limit ``L`` exactly when ``t`` meets ``f L``), then
    its throughput times ``f`` and latencies over ``f``; rows of chips at 1 are the
    uncorrected run's, bit for bit."""
    weight_bytes, kv_bytes = precision_bytes(chips)
    grid = replica_grid(chips)

    def run(f: float) -> InferenceResult:
        return evaluate_inference(
            workload.model,
            chips,
            grid,
            eff,
            weight_bytes=weight_bytes,
            kv_bytes=kv_bytes,
            input_tokens=i_tok,
            output_tokens=o_tok,
            ttft_limit_s=None if ttft is None else ttft * f,
            tpot_limit_s=None if tpot is None else tpot * f,
        )

    res = run(1.0)
    if speed is None:
        return res
    limited = ttft is not None or tpot is not None
    row_speed = speed[grid.chip]
    for f in sorted(set(speed.tolist()) - {1.0}):
        fast = _faster(run(f) if limited else res, f)
        rows = row_speed == f
        res = replace(
            res,
            **{
                k.name: np.where(rows, getattr(fast, k.name), getattr(res, k.name))
                for k in fields(res)
                if k.name != "grid"
            },
        )
    return res


def _faster(res: InferenceResult, f: float) -> InferenceResult:
    """``res`` on a chip ``f`` times as fast: throughput times ``f``, latencies over ``f``."""
    return replace(
        res,
        tokens_per_s=res.tokens_per_s * f,
        tpot_s=res.tpot_s / f,
        ttft_s=res.ttft_s / f,
        min_tpot_s=res.min_tpot_s / f,
        min_ttft_s=res.min_ttft_s / f,
    )


# More replicas than this is no deployment (a million replicas of even one chip is beyond any
# fleet): such a layout is reported infeasible instead of overflowing the chip count.
MAX_REPLICAS = 1_000_000


def _replicas(needed: float) -> int | None:
    """``ceil(needed)`` (at least 1), or None when it is not finite or above MAX_REPLICAS."""
    if not math.isfinite(needed) or needed > MAX_REPLICAS:
        return None
    return max(1, math.ceil(needed))


def _too_many(base: dict[str, Any], needed: float) -> Estimate:
    shown = f"{needed:,.0f}" if math.isfinite(needed) else "unbounded"
    return Estimate(
        **base,
        feasible=False,
        reason=f"would need {shown} replicas (more than {MAX_REPLICAS:,})",
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


def serve_estimates(
    workload: Workload,
    job: ServeJob,
    accs: list[Accelerator],
    chips: ChipArrays,
    eff: Efficiency,
    speed: np.ndarray | None = None,
) -> list[Estimate]:
    """A service on each accelerator: one request shape, or a request mix."""
    if job.classes:
        return _serve_mix(workload, job, accs, chips, eff, speed)
    res = _inference(
        workload, chips, eff, job.input_tokens, job.output_tokens, job.ttft_s, job.tpot_s, speed
    )
    demand = job.requests_per_s * job.output_tokens
    best = _best_replicas(res, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = base_fields(workload, acc, chips, i)
        m = measured_on(workload, acc)
        if m is not None:
            out.append(_serve_measured(base, m, job))
            continue
        k = best[i]
        if k is None:
            out.append(_inference_infeasible(base, res, i, acc, (job, eff)))
            continue
        g = res.grid
        needed = float(demand) / float(res.tokens_per_s[k])
        replicas = _replicas(needed)
        if replicas is None:
            out.append(_too_many(base, needed))
            continue
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
    workload: Workload,
    job: ServeJob,
    accs: list[Accelerator],
    chips: ChipArrays,
    eff: Efficiency,
    speed: np.ndarray | None = None,
) -> list[Estimate]:
    """A request mix: each class alone on every replica layout, then per chip the layout
    that serves the most of the whole mix per chip among those that meet the SLO for
    every class. A replica splits its time between classes (Mélange), so it serves
    ``1 / sum_c share_c / rps_c`` requests/s of the mix; the planner may also split the
    classes unevenly across chips."""
    runs = [
        _inference(
            workload, chips, eff, c.input_tokens, c.output_tokens, job.ttft_s, job.tpot_s, speed
        )
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
        base = base_fields(workload, acc, chips, i)
        m = measured_on(workload, acc)
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
        needed = float(job.requests_per_s) / float(mix_rps[k])
        replicas = _replicas(needed)
        if replicas is None:
            out.append(_too_many(base, needed))
            continue
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


def batch_estimates(
    workload: Workload,
    job: BatchJob,
    accs: list[Accelerator],
    chips: ChipArrays,
    eff: Efficiency,
    speed: np.ndarray | None = None,
) -> list[Estimate]:
    """Batch generation on each accelerator, with as many replicas as the deadline needs."""
    res = _inference(
        workload, chips, eff, job.request_input_tokens, job.request_output_tokens, None, None,
        speed,
    )  # fmt: skip
    best = _best_replicas(res, len(accs))
    out = []
    for i, acc in enumerate(accs):
        base = base_fields(workload, acc, chips, i)
        m = measured_on(workload, acc)
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
        replicas: int | None = 1
        if job.deadline_hours:
            needed = job.output_tokens / (float(per_replica) * job.deadline_hours * 3600.0)
            replicas = _replicas(needed)
            if replicas is None:
                out.append(_too_many(base, needed))
                continue
        assert replicas is not None
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
