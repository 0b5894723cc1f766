"""Inference: throughput per replica within a latency SLO, vectorised over configurations.

A replica is ``tp`` chips of tensor parallelism (inside the scale-up domain) times ``pp``
pipeline stages. Continuous batching keeps ``B`` sequences in flight; every iteration
each of them gets one token, and the prefill of ``B / O`` new requests is mixed in. For a
configuration and batch ``B`` (per chip, all in seconds and bytes):

    weights read  = (dense + MoE layers * E_touched(B'/pp) * expert) * w_bytes / tp
                    E_touched(b) = E * (1 - (1 - k/E) ** b): experts hit by b tokens
    KV read       = B' * (I + O/2) * kv_bytes_per_token_per_chip
                    B' = max(B, pp): a round is pp stage-steps even with fewer sequences
    bw            = HBM_bw * decode_bandwidth_utilisation;  F = F_eff * decode_compute_efficiency
    t_gemm        = weights read / bw + B' * 2 N_active / (tp pp) / F
    t_attention   = KV read / bw + B' * attention(I + O/2) / (tp pp) / F
    t_tp          = 2 L * (alpha + 2 (tp-1)/tp * (B'/pp) d * 2 / (scale_up_bw / 2))   (tp > 1)
    t_layers      = L * layer_overhead        fixed time per layer and pass (launches, syncs)
    t_round       = t_gemm + t_attention + t_tp + t_layers   (the two phases run in turn)
    t_prefill     = I * (2 N_active + attention(I/2)) / (tp pp F_eff prefill_efficiency)
                    + TP comm + t_layers
    t_iteration   = t_round + (B / O) * t_prefill
    throughput    = B / t_iteration          TPOT = t_iteration     TTFT = t_prefill + t_iteration

where ``F_eff = F_bf16 / ((1 - s) / r + s)``, ``r = F_p / F_bf16`` and
``s = inference_bf16_share``. Pipeline stages re-read their weights once per
micro-batch, so ``pp`` buys memory, not decode speed.

KV memory caps ``B``: ``B * (I + O/2) * kv_per_chip <= HBM * usable - weights / (tp pp)``
(paged attention holds, on average, half of each sequence's output). Offline runs take the
best ``B`` (or, when the source fixed the sequences in flight, that many per replica,
capped by the KV memory as a scheduler would, ``evaluate_inference(batch=...)``); online
serving takes the largest ``B`` whose TPOT and TTFT stay within
``latency_headroom`` of the p99 limits and runs at ``server_utilisation`` of that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arbiter.domain.model_arch import Attention, ModelArch
from arbiter.perf.efficiency import (
    ALLREDUCE_LATENCY_S,
    HBM_USABLE_SHARE,
    MAX_BATCH_SEQUENCES,
    STATIC_KV_PLATFORMS,
    Efficiency,
)
from arbiter.perf.hardware import ChipArrays, FloatArray, IntArray
from arbiter.perf.topology import layouts_fit

BATCH_GRID = np.unique(np.round(np.geomspace(1, MAX_BATCH_SEQUENCES, 48))).astype(np.float64)
TP_OPTIONS = (1, 2, 4, 8, 16, 32, 64)
PP_OPTIONS = (1, 2, 4, 8)


@dataclass(frozen=True, slots=True)
class Grid:
    """Candidate replica layouts: ``chip[k]`` runs ``tp[k] x pp[k]`` chips."""

    chip: IntArray
    tp: IntArray
    pp: IntArray

    @property
    def chips(self) -> IntArray:
        return self.tp * self.pp


def replica_grid(chips: ChipArrays, *, total_chips: int | None = None) -> Grid:
    """Every (chip, tp, pp) the chip's host admits (``topology.layouts_fit``: tp inside
    the scale-up domain, the replica within the span); for a fixed system size, only
    replicas that divide it. Tensor parallelism is a power of two, or the whole scale-up
    domain of a chip whose domain is not one (12 Inferentia2 chips of an inf2.48xlarge
    run one model at TP 24 NeuronCores)."""
    whole = np.unique(chips.scale_up_chips[chips.scale_up_chips <= max(TP_OPTIONS)])
    tps = np.union1d(np.array(TP_OPTIONS), whole)
    c, t, p = np.meshgrid(np.arange(len(chips)), tps, np.array(PP_OPTIONS), indexing="ij")
    c, t, p = c.ravel(), t.ravel(), p.ravel()
    keep = layouts_fit(t, t * p, chips.scale_up_chips[c], chips.span_chips[c])
    power_of_two = (t & (t - 1)) == 0
    keep &= power_of_two | (t == chips.scale_up_chips[c])
    if total_chips is not None:
        keep &= (total_chips % (t * p)) == 0
    return Grid(
        chip=c[keep].astype(np.int64), tp=t[keep].astype(np.int64), pp=p[keep].astype(np.int64)
    )


@dataclass(frozen=True, slots=True)
class InferenceResult:
    """Per configuration: best batch, throughput per replica and the latencies at it."""

    grid: Grid
    feasible: np.ndarray
    batch: FloatArray
    tokens_per_s: FloatArray
    tpot_s: FloatArray
    ttft_s: FloatArray
    weights_gb_per_chip: FloatArray
    kv_gb_per_chip: FloatArray
    kv_gb_per_sequence: FloatArray
    min_tpot_s: FloatArray
    min_ttft_s: FloatArray


def memory_reason(res: InferenceResult, rows: np.ndarray, name: str, hbm_gb: float) -> str:
    """Why no configuration in ``rows`` holds one request: the weights, or its KV cache."""
    need = res.weights_gb_per_chip[rows] + res.kv_gb_per_sequence[rows]
    k = int(np.argmin(need))
    weights, kv = float(res.weights_gb_per_chip[rows][k]), float(res.kv_gb_per_sequence[rows][k])
    usable = hbm_gb * HBM_USABLE_SHARE
    if weights > usable:
        return (
            f"weights need {weights:.0f} GB per chip even on the largest replica; "
            f"{name} has {hbm_gb:.0f} GB"
        )
    return (
        f"one request's KV cache needs {kv:.0f} GB per chip on top of {weights:.0f} GB of "
        f"weights; {name} has {hbm_gb:.0f} GB ({HBM_USABLE_SHARE:.0%} usable)"
    )


def effective_flops(chips: ChipArrays, eff: Efficiency, regime: str = "inference") -> FloatArray:
    """Peak FLOP/s for the run's format, with Amdahl's law for the work left at BF16."""
    share = eff[f"{regime}_bf16_share"]
    ratio: FloatArray = np.maximum(chips.peak_flops / chips.bf16_flops, 1.0)
    return chips.bf16_flops / ((1.0 - share) / ratio + share)


def _platform_array(chips: ChipArrays, eff: Efficiency, parameter: str) -> FloatArray:
    return np.array([eff.of(p, parameter) for p in chips.platforms], dtype=np.float64)


def kv_elements_per_token_per_chip(
    model: ModelArch, tp: IntArray, pp: IntArray, units: IntArray | int = 1
) -> FloatArray:
    """KV values one chip stores per token: its layers, its share of the KV heads.

    Tensor parallelism splits the KV heads over ``tp * units`` ranks (``units`` ranks per
    chip: NeuronCores on Neuron, else 1). A rank holds whole heads: with more ranks than
    KV heads each rank keeps a copy of one (GQA replication), and a head count the ranks
    do not divide is padded up to one they do (Transformers NeuronX pads 32 heads over 24
    ranks to 48), so a chip holds ``units * ceil(kv_heads / min(ranks, kv_heads))``."""
    layers = model.n_layers / pp
    if model.attention is Attention.MLA:  # the latent is not split by heads: replicated
        return layers * (model.kv_lora_rank + model.rope_head_dim) + 0.0 * tp
    ranks = np.minimum(tp * units, model.n_kv_heads)
    heads: FloatArray = units * np.ceil(model.n_kv_heads / ranks)
    return 2.0 * layers * heads * model.head_dim


def evaluate_inference(
    model: ModelArch,
    chips: ChipArrays,
    grid: Grid,
    eff: Efficiency,
    *,
    weight_bytes: FloatArray,
    kv_bytes: FloatArray,
    input_tokens: float,
    output_tokens: float,
    ttft_limit_s: float | None = None,
    tpot_limit_s: float | None = None,
    batch: FloatArray | None = None,
) -> InferenceResult:
    """Evaluate every configuration of ``grid``. ``weight_bytes``/``kv_bytes`` are per chip
    type (the precision after any fallback). Without limits, the offline optimum; with
    ``batch`` (sequences per replica, one per configuration, >= 1), that batch, or as many
    as the KV memory holds when it holds fewer."""
    c, tp, pp = grid.chip, grid.tp.astype(np.float64), grid.pp.astype(np.float64)
    n = tp * pp
    wb, kvb = weight_bytes[c], kv_bytes[c]
    flops = effective_flops(chips, eff)[c]
    eta_c = _platform_array(chips, eff, "prefill_efficiency")[c]
    eta_d = _platform_array(chips, eff, "decode_compute_efficiency")[c]
    mbu = _platform_array(chips, eff, "decode_bandwidth_utilisation")[c]
    bw = chips.hbm_bytes_per_s[c] * mbu
    t_layers = model.n_layers * 1e-6 * _platform_array(chips, eff, "layer_overhead_us")[c]
    link = chips.scale_up_bytes_per_s[c] / 2.0  # one direction
    i_tok, o_tok = float(input_tokens), float(output_tokens)
    # The context a decode step reads: paged attention holds each sequence's tokens so
    # far (I + O/2 on average); a static cache (STATIC_KV_PLATFORMS) is allocated for the
    # whole sequence and attended over in full (I + O).
    static = np.array([p in STATIC_KV_PLATFORMS for p in chips.platforms], dtype=bool)[c]
    ctx = np.where(static, i_tok + o_tok, i_tok + o_tok / 2.0)

    weights_per_chip = model.params_total * wb / n
    kv_per_token = kv_elements_per_token_per_chip(model, grid.tp, grid.pp, chips.tp_units[c]) * kvb
    free = chips.hbm_bytes[c] * HBM_USABLE_SHARE - weights_per_chip
    b_mem = np.floor(np.maximum(free, 0.0) / (kv_per_token * ctx))

    if batch is None:  # configs x batches: the grid, and the most the memory holds
        most = np.clip(b_mem, 1.0, MAX_BATCH_SEQUENCES)[:, None]
        b = np.concatenate([np.broadcast_to(BATCH_GRID, (len(c), len(BATCH_GRID))), most], 1)
    else:  # the source's batch, as far as the memory holds it (a scheduler queues the rest)
        b = np.maximum(np.minimum(batch, np.maximum(b_mem, 1.0)), 1.0)[:, None]
    # A pipeline round is pp stage-steps even with fewer sequences than stages: each chip
    # then works (in time) as if it had pp sequences, one micro-batch of one.
    b_eff = np.maximum(b, pp[:, None])
    n_active = float(model.matmul_params_active)
    attention_flops = model.attention_flops_per_token(1.0) * ctx[:, None]
    prefill_flops = i_tok * (2.0 * n_active + model.attention_flops_per_token(i_tok / 2.0))

    if model.is_moe:
        k_over_e = model.n_active_experts / model.n_experts
        touched = model.n_experts * (1.0 - (1.0 - k_over_e) ** (b_eff / pp[:, None]))
        dense = model.params_total - model.n_moe_layers * model.n_experts * model.expert_params
        weight_read = (dense + model.n_moe_layers * touched * model.expert_params) * wb[:, None]
    else:
        weight_read = np.broadcast_to((model.params_total * wb)[:, None], (len(c), b.shape[1]))
    weight_read = weight_read / tp[:, None]
    kv_read = b_eff * (ctx * kv_per_token)[:, None]
    # GEMMs stream the weights; attention kernels then stream the KV cache: two phases.
    decode_flops = (flops * eta_d)[:, None]
    t_gemm = weight_read / bw[:, None] + b_eff * 2.0 * n_active / n[:, None] / decode_flops
    t_attention = kv_read / bw[:, None] + b_eff * attention_flops / n[:, None] / decode_flops
    tp_bytes = 2.0 * (tp - 1.0) / tp * model.d_model * 2.0
    t_tp = np.where(
        tp[:, None] > 1,
        2.0
        * model.n_layers
        * (ALLREDUCE_LATENCY_S + (b_eff / pp[:, None]) * tp_bytes[:, None] / link[:, None]),
        0.0,
    )
    t_round = t_gemm + t_attention + t_tp + t_layers[:, None]
    t_prefill = (
        prefill_flops / (n * flops * eta_c)
        + np.where(
            tp > 1, 2.0 * model.n_layers * (ALLREDUCE_LATENCY_S + i_tok * tp_bytes / link), 0.0
        )
        + t_layers
    )
    t_iter = t_round + (b / o_tok) * t_prefill[:, None]
    tpot = t_iter
    ttft = t_prefill[:, None] + t_iter
    ok = b <= b_mem[:, None]
    utilisation = 1.0
    if ttft_limit_s is not None or tpot_limit_s is not None:
        headroom = eff["latency_headroom"]
        if tpot_limit_s is not None:
            ok &= tpot <= headroom * tpot_limit_s
        if ttft_limit_s is not None:
            ok &= ttft <= headroom * ttft_limit_s
        utilisation = eff["server_utilisation"]
    throughput = np.where(ok, b / t_iter, 0.0)
    best = np.argmax(throughput, axis=1)
    rows = np.arange(len(c))
    feasible = throughput[rows, best] > 0.0
    chosen = np.broadcast_to(b, throughput.shape)[rows, best]
    return InferenceResult(
        grid=grid,
        feasible=feasible,
        batch=np.where(feasible, chosen, 0.0),
        tokens_per_s=throughput[rows, best] * utilisation,
        tpot_s=tpot[rows, best],
        ttft_s=ttft[rows, best],
        weights_gb_per_chip=weights_per_chip / 1e9,
        kv_gb_per_chip=np.where(feasible, chosen * ctx * kv_per_token, 0.0) / 1e9,
        kv_gb_per_sequence=ctx * kv_per_token / 1e9,
        min_tpot_s=np.where(b_mem >= 1, t_round[:, 0], np.inf),
        min_ttft_s=np.where(b_mem >= 1, t_prefill + t_iter[:, 0], np.inf),
    )
