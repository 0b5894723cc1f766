"""Predict one published result: the bridge between benchmark cases and the model.

A case fixes the system (accelerator, total chip count), the model, precision and lengths;
the model chooses the layout inside that system, as the submitters did, and predicts the
case's metric for the whole system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import FinetuneMethod, Precision
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.hardware import ChipArrays, FloatArray, chip_arrays, precision_bytes
from arbiter.perf.inference import (
    Grid,
    InferenceResult,
    evaluate_inference,
    memory_reason,
    replica_grid,
)
from arbiter.perf.training import default_global_batch_tokens, evaluate_training, train_grid

INFERENCE_KINDS = ("infer_offline", "infer_server", "infer_interactive", "infer_latency")
TRAINING_KINDS = ("train", "finetune_lora")


@dataclass(frozen=True, slots=True)
class Question:
    """What a benchmark case asks, in model terms."""

    kind: str
    metric: str
    model: ModelArch
    accelerator: Accelerator
    precision: Precision
    chips: int
    input_tokens: float | None = None
    output_tokens: float | None = None
    seq_len: int | None = None
    ttft_limit_s: float | None = None
    tpot_limit_s: float | None = None
    in_flight: int | None = None  # sequences in flight over the system, when fixed
    global_batch: int | None = None  # training: sequences per optimizer step, when stated
    layout: tuple[int, int] | None = None  # (tp, pp) of one replica, when the source states it


class Unpredictable(Exception):  # noqa: N818 - a reason, not a failure
    """The model cannot answer this question; ``str()`` says why."""


def predict(q: Question, eff: Efficiency) -> float:
    chips = chip_arrays([q.accelerator], q.precision)
    weight_bytes, kv_bytes = precision_bytes(chips)
    if q.kind in TRAINING_KINDS:
        return _predict_training(q, chips, eff, weight_bytes)
    if q.input_tokens is None or q.output_tokens is None:
        raise Unpredictable("inference cases need input_tokens and output_tokens")
    grid = replica_grid(chips, total_chips=q.chips)
    if q.layout is not None:  # the source's layout, not the model's best
        keep = (grid.tp == q.layout[0]) & (grid.pp == q.layout[1])
        if not keep.any():
            raise Unpredictable(_no_layout(q))
        grid = Grid(chip=grid.chip[keep], tp=grid.tp[keep], pp=grid.pp[keep])
    if q.in_flight is not None and (grid.chips == q.chips).any():
        # a fixed batch or concurrency is one engine's: one replica over the whole system
        keep = grid.chips == q.chips
        grid = Grid(chip=grid.chip[keep], tp=grid.tp[keep], pp=grid.pp[keep])
    if q.kind == "infer_latency":
        keep = grid.chips == q.chips
        res = evaluate_inference(
            q.model,
            chips,
            grid,
            eff,
            weight_bytes=weight_bytes,
            kv_bytes=kv_bytes,
            input_tokens=q.input_tokens,
            output_tokens=q.output_tokens,
        )
        tpot = np.where(keep, res.min_tpot_s, np.inf)
        best = float(tpot.min()) if len(tpot) else float("inf")
        if not np.isfinite(best):
            raise Unpredictable(f"{q.model.name} does not fit on {q.chips} x {q.accelerator.name}")
        if q.metric == "tpot_s":
            return best
        return 1.0 / best
    limits = q.kind in ("infer_server", "infer_interactive")
    replicas = q.chips / grid.chips
    busy = replicas.astype(np.float64)
    per_replica = None
    if q.in_flight is not None:
        # fewer sequences than replicas: that many replicas at one sequence each
        busy = np.minimum(replicas, float(q.in_flight))
        per_replica = np.maximum(q.in_flight / replicas, 1.0)
    res = evaluate_inference(
        q.model,
        chips,
        grid,
        eff,
        weight_bytes=weight_bytes,
        kv_bytes=kv_bytes,
        input_tokens=q.input_tokens,
        output_tokens=q.output_tokens,
        ttft_limit_s=q.ttft_limit_s if limits else None,
        tpot_limit_s=q.tpot_limit_s if limits else None,
        batch=per_replica,
    )
    system = res.tokens_per_s * busy
    if not res.feasible.any():
        raise Unpredictable(_why_not_inference(q, res))
    if q.metric == "tpot_s":
        return float(res.tpot_s[np.argmax(system)])
    return float(system.max())


def _why_not_inference(q: Question, res: InferenceResult) -> str:
    fits = np.isfinite(res.min_tpot_s)
    if not fits.any():
        rows = np.ones(len(fits), dtype=bool)
        return memory_reason(res, rows, q.accelerator.name, q.accelerator.hbm_gb)
    return f"no layout of {q.chips} x {q.accelerator.name} meets the latency limits"


def _no_layout(q: Question) -> str:
    assert q.layout is not None
    return (
        f"the stated layout (tp {q.layout[0]}, pp {q.layout[1]}) is not one the model "
        f"runs on {q.chips} x {q.accelerator.name}"
    )


def _predict_training(
    q: Question, chips: ChipArrays, eff: Efficiency, weight_bytes: FloatArray
) -> float:
    if q.seq_len is None:
        raise Unpredictable("training cases need seq_len")
    method = FinetuneMethod.LORA if q.kind == "finetune_lora" else FinetuneMethod.FULL
    batch = default_global_batch_tokens(q.model, q.seq_len, method)
    if q.global_batch is not None:
        batch = float(q.global_batch * q.seq_len)
    grid = train_grid(
        chips, q.model, total_chips=q.chips, max_dp=batch / q.seq_len, seq_len=q.seq_len
    )
    if len(grid.chip) == 0:
        raise Unpredictable(
            f"no parallel layout uses exactly {q.chips} chips (need a power of two)"
        )
    res = evaluate_training(
        q.model,
        chips,
        grid,
        eff,
        seq_len=q.seq_len,
        global_batch_tokens=batch,
        method=method,
        weight_bytes=weight_bytes,
    )
    stated = np.ones(len(grid.chip), dtype=bool)
    if q.layout is not None:  # the source's layout, not the model's best
        stated = (grid.tp == q.layout[0]) & (grid.pp == q.layout[1])
        if not stated.any():
            raise Unpredictable(_no_layout(q))
    if not (res.feasible & stated).any():
        raise Unpredictable(
            f"{q.model.name} does not fit in {q.chips} x {q.accelerator.name} "
            + ("in the stated layout " if q.layout is not None else "")
            + f"(least memory {res.memory_gb_per_chip[stated].min():.0f} GB per chip)"
        )
    tokens = float(np.where(stated, res.tokens_per_s, 0.0).max())
    if q.metric == "train_tokens_per_s":
        return tokens
    per_chip_flops = tokens * res.model_flops_per_token / q.chips
    if q.metric == "achieved_tflops_per_chip":
        return per_chip_flops / 1e12
    if q.metric == "mfu":
        return per_chip_flops / float(chips.listed_flops[0])
    raise Unpredictable(f"metric {q.metric} does not apply to {q.kind}")
