"""Training and fine-tuning: step time and memory per chip, vectorised over layouts.

A layout is ``tp`` (tensor parallel, inside the scale-up domain) x ``cp`` (context
parallel: long sequences split into chunks of at least 8K tokens) x ``pp`` (pipeline
stages) x ``dp`` (data-parallel replicas), recomputing no activations, only element-wise
ones, or all, and ZeRO-1 or fully sharded (ZeRO-3/FSDP) optimizer state. One sequence
of ``s`` tokens is a micro-batch; ``m = G / dp`` micro-batches per replica and step
(``G`` sequences in the global batch). Per chip and step:

    FLOPs/token   full: 6 N + 3 A      LoRA: 4 N + 3 A      (+ 2 N + A with full recompute)
                  N = active matmul parameters, A = forward attention FLOPs at context s/2
                    F_eff = F_bf16 / ((1 - s) / r + s), r = F_p / F_bf16, s = train_bf16_share
    t_compute     = m s FLOPs/token / (tp cp pp) / (F_eff * train_matmul_efficiency)
    t_tp          = m (L/pp) (4 | 6) (alpha + 2 (tp-1)/tp * (s/cp) d 2 / (scale_up_bw / 2))
    bubble        = (pp - 1) / (m v)        interleaved 1F1B, v = min(4, L/pp) chunks
    t_dp          = 2 (dp cp-1)/(dp cp) * grad_bytes / link    (x 1.5 fully sharded), overlapped
                    with the backward pass: exposed = max(0, t_dp - 2/3 t_compute)
    t_step        = ((t_compute + t_tp)(1 + bubble) + exposed) * (1 + scale_loss * log2 dp)

Memory per chip (mixed-precision Adam, Rajbhandari et al. 2019):

    weights+grads = 4 B/param / (tp pp)  and optimizer 12 B/param / (tp pp dp)   (ZeRO-1)
                  = 16 B/param / (tp pp dp)                                         (ZeRO-3)
    LoRA          = frozen weights at the run's precision / (tp pp); adapters are negligible
    activations   = L s d (34 | 22 | 2) bytes / (tp cp): Korthikanti et al. 2022 with
                    flash attention and sequence parallelism; 1F1B keeps pp micro-batches
                    on the first stage; context parallelism's K/V exchange overlaps
                    attention and is not charged

MoE expert weights are further split over ``ep = min(dp, experts)`` replicas.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import FinetuneMethod
from arbiter.perf.efficiency import ALLREDUCE_LATENCY_S, HBM_USABLE_SHARE, Efficiency
from arbiter.perf.hardware import ChipArrays, FloatArray, IntArray
from arbiter.perf.inference import _platform_array, effective_flops

TP_OPTIONS = (1, 2, 4, 8, 16, 32, 64)
PP_OPTIONS = (1, 2, 4, 8, 16, 32)
CP_OPTIONS = (1, 2, 4, 8, 16)
MIN_LAYERS_PER_STAGE = 4  # thinner pipeline stages balance badly around embeddings and head
MIN_CP_TOKENS = 8192  # context parallelism only splits long sequences into >= 8K chunks
DP_POWERS = tuple(2**i for i in range(18))
DP_OPTIONS = tuple(sorted({*DP_POWERS, *(3 * 2**i for i in range(16))}))
# Activation bytes per token, hidden unit and layer, by recomputation level: none (34,
# Korthikanti et al. with flash attention), element-wise ops only (norms and activation
# functions are recomputed, no matmuls: 34 - 12 = 22), full (only the layer input: 2).
ACTIVATION_BYTES = np.array([34.0, 22.0, 2.0])
RECOMPUTE_LEVELS = ("none", "elementwise", "full")


@dataclass(frozen=True, slots=True)
class TrainGrid:
    chip: IntArray
    tp: IntArray
    cp: IntArray
    pp: IntArray
    dp: IntArray
    recompute: IntArray
    sharded: np.ndarray
    chips: IntArray


@functools.cache
def _layout_axes(n_chips: int, fixed: bool, cp_options: tuple[int, ...]) -> tuple[IntArray, ...]:
    axes = np.meshgrid(
        np.arange(n_chips),
        np.array(TP_OPTIONS),
        np.array(cp_options),
        np.array(PP_OPTIONS),
        np.array(DP_OPTIONS if fixed else DP_POWERS),
        np.arange(len(RECOMPUTE_LEVELS)),
        np.array([0, 1]),
        indexing="ij",
    )
    return tuple(a.ravel() for a in axes)


def train_grid(
    chips: ChipArrays,
    model: ModelArch,
    *,
    total_chips: int | None = None,
    max_chips: int = 2**17,
    max_dp: float = float("inf"),
    seq_len: int = 0,
) -> TrainGrid:
    """Every layout with tp inside the scale-up domain, at least four layers per stage and
    at least one sequence per data-parallel replica (``max_dp``)."""
    cp_options = tuple(x for x in CP_OPTIONS if x == 1 or seq_len / x >= MIN_CP_TOKENS)
    c, t, x, p, d, r, s = _layout_axes(len(chips), total_chips is not None, cp_options)
    keep = (
        (t <= np.maximum(chips.scale_up_chips[c], 1))
        & (p * MIN_LAYERS_PER_STAGE <= model.n_layers)
        & (d <= max_dp)
    )
    n = t * x * p * d
    keep &= n == total_chips if total_chips is not None else n <= max_chips
    return TrainGrid(
        chip=c[keep].astype(np.int64),
        tp=t[keep].astype(np.int64),
        cp=x[keep].astype(np.int64),
        pp=p[keep].astype(np.int64),
        dp=d[keep].astype(np.int64),
        recompute=r[keep].astype(np.int64),
        sharded=s[keep].astype(bool),
        chips=n[keep].astype(np.int64),
    )


@dataclass(frozen=True, slots=True)
class TrainResult:
    grid: TrainGrid
    feasible: np.ndarray
    memory_gb_per_chip: FloatArray
    tokens_per_s: FloatArray
    model_flops_per_token: float

    def mfu(self, peak_flops_per_chip: FloatArray) -> FloatArray:
        return (
            self.tokens_per_s * self.model_flops_per_token / (self.grid.chips * peak_flops_per_chip)
        )


def train_flops_per_token(model: ModelArch, seq_len: int, method: FinetuneMethod) -> float:
    """Model FLOPs per trained token (no recomputation): 6N + 3A, or 4N + 3A for LoRA."""
    attention = model.attention_flops_per_token(seq_len / 2.0)
    weights = 4.0 if method is FinetuneMethod.LORA else 6.0
    return weights * model.matmul_params_active + 3.0 * attention


def evaluate_training(
    model: ModelArch,
    chips: ChipArrays,
    grid: TrainGrid,
    eff: Efficiency,
    *,
    seq_len: int,
    global_batch_tokens: float,
    method: FinetuneMethod,
    weight_bytes: FloatArray,
) -> TrainResult:
    c = grid.chip
    tp, cp, pp, dp = (x.astype(np.float64) for x in (grid.tp, grid.cp, grid.pp, grid.dp))
    n = tp * cp * pp * dp
    mp = tp * cp * pp  # chips per model replica
    s, d, layers = float(seq_len), float(model.d_model), float(model.n_layers)
    lora = method is FinetuneMethod.LORA

    # memory per chip
    total, experts = (
        float(model.params_total),
        float(model.n_moe_layers * model.n_experts * model.expert_params),
    )
    ep = np.minimum(dp, max(model.n_experts, 1)) if model.is_moe else np.ones_like(dp)
    params_per_chip = (total - experts) / (tp * pp) + experts / (tp * pp * ep)
    if lora:
        state = params_per_chip * weight_bytes[c]
    else:
        state = np.where(
            grid.sharded, 16.0 * params_per_chip / dp, params_per_chip * (4.0 + 12.0 / dp)
        )
    act_bytes = ACTIVATION_BYTES[grid.recompute]
    full = grid.recompute == len(RECOMPUTE_LEVELS) - 1
    activations = layers * s * d * act_bytes / (tp * cp)
    memory = state + activations
    fits = memory <= chips.hbm_bytes[c] * HBM_USABLE_SHARE

    # step time per chip
    sequences = max(global_batch_tokens / s, 1.0)
    micro = sequences / dp
    fits &= micro >= 1.0
    model_flops = train_flops_per_token(model, seq_len, method)
    attention = model.attention_flops_per_token(s / 2.0)
    hw_flops = model_flops + np.where(full, 2.0 * model.matmul_params_active + attention, 0.0)
    eta = _platform_array(chips, eff, "train_matmul_efficiency")[c]
    flops = effective_flops(chips, eff, "train")[c] * eta
    t_compute = micro * s * hw_flops / mp / flops
    link_up = chips.scale_up_bytes_per_s[c] / 2.0
    collectives = np.where(full, 6.0, 4.0)
    t_tp = np.where(
        tp > 1,
        micro
        * (layers / pp)
        * collectives
        * (ALLREDUCE_LATENCY_S + 2.0 * (tp - 1.0) / tp * s / cp * d * 2.0 / link_up),
        0.0,
    )
    chunks = np.minimum(4.0, np.maximum(np.floor(layers / pp), 1.0))
    bubble = (pp - 1.0) / (np.maximum(micro, 1.0) * chunks)
    trainable = 0.0 if lora else 1.0
    grad_bytes = trainable * params_per_chip * 2.0  # context-parallel ranks hold copies
    in_domain = n <= chips.scale_up_chips[c]
    link_dp = np.where(in_domain, link_up, chips.scale_out_bytes_per_s[c])
    t_dp = (
        2.0 * (dp * cp - 1.0) / (dp * cp) * grad_bytes / link_dp * np.where(grid.sharded, 1.5, 1.0)
    )
    exposed = np.maximum(0.0, t_dp - (2.0 / 3.0) * t_compute)
    scale = 1.0 + eff["scale_loss_per_doubling"] * np.log2(dp)
    t_step = ((t_compute + t_tp) * (1.0 + bubble) + exposed) * scale
    tokens_per_s = np.where(fits, micro * dp * s / t_step, 0.0)
    return TrainResult(
        grid=grid,
        feasible=fits,
        memory_gb_per_chip=memory / 1e9,
        tokens_per_s=tokens_per_s,
        model_flops_per_token=model_flops,
    )


def default_global_batch_tokens(model: ModelArch, seq_len: int, method: FinetuneMethod) -> float:
    """Batch when the workload does not say: 128 sequences for fine-tuning; for
    pre-training 4M tokens, 16M from 100B parameters (Llama 3 405B's final batch)."""
    if method is FinetuneMethod.LORA:
        return 128.0 * seq_len
    return 16e6 if model.params_total >= 100e9 else 4e6
