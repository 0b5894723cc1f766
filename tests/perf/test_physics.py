"""The performance model against physics that can be checked by hand.

Every expected number is worked out in a comment from the architecture in
``src/arbiter/workloads/data/models.yaml`` and the accelerator table, not copied from a
run of the model.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from importlib import resources

import numpy as np
import pytest

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import FinetuneMethod, Precision
from arbiter.perf.efficiency import HBM_USABLE_SHARE, PRIOR, Efficiency, default_efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.perf.hardware import (
    ChipArrays,
    chip_arrays,
    peak_tflops,
    power_limits,
    precision_bytes,
    sustained_share,
)
from arbiter.perf.inference import (
    InferenceResult,
    effective_flops,
    evaluate_inference,
    kv_elements_per_token_per_chip,
    replica_grid,
)
from arbiter.perf.predict import Question, Unpredictable, predict
from arbiter.perf.pricing import PriceBook
from arbiter.perf.training import (
    TrainGrid,
    _layout_terms,
    default_global_batch_tokens,
    evaluate_training,
    train_flops_per_token,
    train_grid,
)
from arbiter.workloads import parse_workloads, resolve_model

ACCS = default_accelerators()
EFF = default_efficiency()
PRICES = PriceBook(default_catalog())


def _offline(
    model: ModelArch,
    acc_name: str,
    precision: Precision,
    *,
    input_tokens: float = 1000.0,
    output_tokens: float = 200.0,
) -> tuple[ChipArrays, InferenceResult]:
    chips = chip_arrays([ACCS[acc_name]], precision)
    weight = np.array([p.weight_bytes for p in chips.precisions])
    kv = np.array([p.kv_bytes for p in chips.precisions])
    res = evaluate_inference(
        model,
        chips,
        replica_grid(chips),
        EFF,
        weight_bytes=weight,
        kv_bytes=kv,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
    return chips, res


def _workload(**fields: object):
    return parse_workloads({"name": "w", **fields}, file="test.yaml")[0]


def _only(found: tuple[Estimate, ...], acc_name: str) -> Estimate:
    (hit,) = [e for e in found if e.accelerator == acc_name]
    return hit


def _gb_in(reason: str) -> float:
    match = re.search(r"needs? (\d+) GB per chip", reason)
    assert match, reason
    return float(match.group(1))


# --- training FLOPs -----------------------------------------------------------------------


# Llama 3.1 405B: L = 126, d = 16384, H = 128, KV = 8, hd = 128, ffn = 53248, V = 128256.
#   attention per layer  2 d H hd + 2 d KV hd = 536,870,912 + 33,554,432 =   570,425,344
#   SwiGLU per layer     3 d ffn               = 3 x 872,415,232          = 2,617,245,696
#   per layer                                                             = 3,187,671,040
#   x 126 layers                                                          = 401,646,551,040
#   embeddings (input + separate head)  2 V d = 2 x 2,101,346,304         =   4,202,692,608
#   total params                                                          = 405,849,243,648
#   matmul params (all but the input lookup) = total - V d                = 403,747,897,344
LLAMA_405B_TOTAL = 405_849_243_648
LLAMA_405B_MATMUL = 403_747_897_344
# Forward attention FLOPs per token at context c: 2 L H (d_qk + d_v) c = 2*126*128*256 c
# = 8,257,536 c; the mean causal context of an 8192 sequence is 4096, so A = 33,822,867,456
# and training charges 3 A (forward + backward) = 101,468,602,368 FLOPs per token.
LLAMA_405B_3A_AT_8192 = 101_468_602_368


def test_llama_405b_parameter_counts_by_hand():
    model = resolve_model("llama-3.1-405b")
    assert model.params_total == LLAMA_405B_TOTAL
    assert model.matmul_params_active == LLAMA_405B_MATMUL


def test_llama_405b_pretraining_is_about_3_8e25_flops():
    model = resolve_model("llama-3.1-405b")
    tokens = 15.6e12
    six_n_t = 6 * LLAMA_405B_MATMUL * tokens  # 6 x 4.0375e11 x 1.56e13 = 3.779e25
    assert six_n_t == pytest.approx(3.8e25, rel=0.03)  # Meta reports 3.8e25 FLOPs

    per_token = train_flops_per_token(model, 8192, FinetuneMethod.FULL)
    assert per_token == pytest.approx(6 * LLAMA_405B_MATMUL + LLAMA_405B_3A_AT_8192, rel=1e-12)
    # attention at 8K: 1.0147e11 / 2.4225e12 = 4.19% on top of 6N
    excess = per_token * tokens / six_n_t - 1.0
    assert 0.02 <= excess <= 0.06
    assert per_token * tokens == pytest.approx(3.8e25, rel=0.05)  # 3.94e25 with attention


def test_lora_drops_the_weight_gradient_pass():
    model = resolve_model("llama-3.1-405b")
    full = train_flops_per_token(model, 8192, FinetuneMethod.FULL)
    lora = train_flops_per_token(model, 8192, FinetuneMethod.LORA)
    # 6N + 3A against 4N + 3A: exactly 2N apart
    assert full - lora == pytest.approx(2 * LLAMA_405B_MATMUL, rel=1e-12)


def test_attention_flops_grow_with_the_sequence():
    model = resolve_model("llama-3.1-405b")
    short = train_flops_per_token(model, 2048, FinetuneMethod.FULL)
    long = train_flops_per_token(model, 131072, FinetuneMethod.FULL)
    # 3 x 8,257,536 x (65536 - 1024) = 1.598e12 more per token at 128K than at 2K
    assert long - short == pytest.approx(3 * 8_257_536 * (65536 - 1024), rel=1e-12)


# --- KV cache ---------------------------------------------------------------------------------


def test_llama2_70b_fp16_kv_cache_is_320_kib_per_token():
    model = resolve_model("llama-2-70b")
    # 2 (K and V) x 80 layers x 8 KV heads x 128 x 2 bytes = 327,680 B = 320 KiB
    assert model.kv_cache_bytes_per_token(Precision.FP16.kv_bytes) == 320 * 1024
    # FP8 halves it; an FP4 run keeps its cache in FP8
    assert model.kv_cache_bytes_per_token(Precision.FP8.kv_bytes) == 160 * 1024
    assert model.kv_cache_bytes_per_token(Precision.FP4.kv_bytes) == 160 * 1024


def test_kv_heads_split_over_tensor_ranks_until_each_rank_has_one():
    model = resolve_model("llama-2-70b")
    tp = np.array([1, 2, 8, 16])
    pp = np.array([1, 1, 1, 2])
    per_chip = kv_elements_per_token_per_chip(model, tp, pp)
    # 2 x 80 x 128 x KV heads on the chip: 8, 4, 1, and 1 again at tp 16 (a KV head cannot
    # be split: ranks 9-16 hold copies), over 40 layers with 2 pipeline stages
    assert per_chip.tolist() == [2 * 80 * 8 * 128, 2 * 80 * 4 * 128, 2 * 80 * 128, 2 * 40 * 128]


def test_kv_heads_split_over_neuron_cores_and_pad_to_whole_heads():
    """Neuron shards tensor parallelism over NeuronCores (two per Inferentia2 chip): a
    12-chip inf2.48xlarge is 24 ranks. Llama-3-8B (8 KV heads): each core keeps a copy of
    one head, 2 per chip, not 8 / 12. Llama-2-7B (32 heads): 24 ranks do not divide 32,
    so the heads are padded to 48, 2 per core, 4 per chip."""
    tp, pp = np.array([12]), np.array([1])
    llama3 = resolve_model("llama-3-8b")
    assert llama3.n_kv_heads == 8
    per_chip = kv_elements_per_token_per_chip(llama3, tp, pp, np.array([2]))
    assert per_chip.tolist() == [2 * llama3.n_layers * 2 * llama3.head_dim]
    llama2 = resolve_model("llama-2-7b")
    assert llama2.n_kv_heads == 32
    per_chip = kv_elements_per_token_per_chip(llama2, tp, pp, np.array([2]))
    assert per_chip.tolist() == [2 * llama2.n_layers * 4 * llama2.head_dim]
    # one rank per chip: 32 heads over 12 ranks pad to 36, 3 per chip (not 2.67)
    assert kv_elements_per_token_per_chip(llama2, tp, pp).tolist() == [
        2 * llama2.n_layers * 3 * llama2.head_dim
    ]
    # the fabric table says which chips shard over cores
    chips = chip_arrays([ACCS["Inferentia2"], ACCS["Trainium1"], ACCS["H100-SXM"]], Precision.BF16)
    assert chips.tp_units.tolist() == [2, 2, 1]


def _fixed_batch_tpot(acc_name: str, input_tokens: float, output_tokens: float) -> float:
    model = resolve_model("llama-3-8b")
    chips = chip_arrays([ACCS[acc_name]], Precision.BF16)
    weight = np.array([p.weight_bytes for p in chips.precisions])
    kv = np.array([p.kv_bytes for p in chips.precisions])
    grid = replica_grid(chips, total_chips=8)
    res = evaluate_inference(
        model,
        chips,
        grid,
        EFF,
        weight_bytes=weight,
        kv_bytes=kv,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        batch=np.full(len(grid.chip), 8.0),
    )
    k = int(np.flatnonzero((grid.tp == 8) & (grid.pp == 1))[0])
    return float(res.min_tpot_s[k])  # the decode round of the batch, prefill not mixed in


def test_a_static_kv_cache_costs_its_whole_length_a_paged_one_its_mean_context():
    """Transformers NeuronX allocates each sequence's cache for input + output and attends
    over all of it: 128 in + 3968 out and 2048 + 2048 decode at the same speed (the Neuron
    tables: 10.45 ms and 10.5 ms for Llama-3-8B at batch 8). Paged attention reads the
    tokens so far, I + O/2 on average: 2048 + 2048 reads more (3072 against 2112)."""
    neuron = [_fixed_batch_tpot("Trainium1", i, o) for i, o in ((128, 3968), (2048, 2048))]
    assert neuron[0] == pytest.approx(neuron[1], rel=1e-12)
    gpu = [_fixed_batch_tpot("H100-SXM", i, o) for i, o in ((128, 3968), (2048, 2048))]
    assert gpu[0] < gpu[1]


def test_mla_latent_is_replicated_not_split():
    model = resolve_model("deepseek-v3")
    tp = np.array([1, 8])
    per_chip = kv_elements_per_token_per_chip(model, tp, np.array([1, 1]))
    # 61 layers x (kv_lora_rank 512 + rope 64) = 35,136 values on every tensor rank
    assert per_chip.tolist() == [61 * 576, 61 * 576]


def test_kv_memory_the_offline_optimum_holds_is_the_cache_of_its_batch():
    model = resolve_model("llama-2-70b")
    _, res = _offline(model, "H100-SXM", Precision.FP16, input_tokens=1000, output_tokens=400)
    g = res.grid
    k = int(np.flatnonzero((g.tp == 8) & (g.pp == 1))[0])
    assert res.feasible[k]
    # TP8 holds one KV head per chip: 320 KiB / 8 = 40 KiB per token; a sequence holds on
    # average I + O/2 = 1200 tokens.
    per_sequence = 40 * 1024 * 1200
    assert res.kv_gb_per_chip[k] * 1e9 == pytest.approx(res.batch[k] * per_sequence, rel=1e-9)
    # and the cache plus the weights (69e9 x 2 B / 8 = 17.2 GB) fit in 90% of 80 GB
    used = res.kv_gb_per_chip[k] + res.weights_gb_per_chip[k]
    assert res.weights_gb_per_chip[k] == pytest.approx(model.params_total * 2 / 8 / 1e9)
    assert used <= 80 * HBM_USABLE_SHARE + 1e-9


# --- a decode step cannot beat reading the weights -------------------------------------------

DENSE = ("llama-3.1-8b", "llama-2-70b", "qwen2.5-72b", "llama-3.1-405b", "gpt-3-175b")
CHIPS = ("H100-SXM", "H200-SXM", "B200", "MI300X", "TPU-v6e", "Trainium2", "Gaudi3", "L40S")


@pytest.mark.parametrize("precision", [Precision.BF16, Precision.FP8])
@pytest.mark.parametrize("acc_name", CHIPS)
@pytest.mark.parametrize("model_name", DENSE)
def test_batch_one_decode_never_beats_weights_over_bandwidth(model_name, acc_name, precision):
    """A batch-1 step streams every weight of the replica once: pipeline stages run one
    after the other for a single sequence, so each chip's share is W / tp per token."""
    model = resolve_model(model_name)
    chips, res = _offline(model, acc_name, precision)
    g = res.grid
    weight_bytes = model.params_total * chips.precisions[0].weight_bytes
    hbm = ACCS[acc_name].hbm_tbps * 1e12
    mbu = EFF.of(ACCS[acc_name].platform.value, "decode_bandwidth_utilisation")
    fits = np.isfinite(res.min_tpot_s)
    assert fits.any(), "no replica fits: the bound would be checked on nothing"
    tp, pp, tpot = g.tp[fits], g.pp[fits], res.min_tpot_s[fits]
    # the bound (each chip's own weights at full bandwidth) ...
    assert np.all(tpot >= weight_bytes / (tp * pp) / hbm)
    # ... the docstring's (W / tp per chip at the fitted bandwidth utilisation) ...
    assert np.all(tpot >= weight_bytes / tp / (hbm * mbu) * (1 - 1e-12))
    # ... and raw HBM bandwidth without the utilisation factor is a strict lower bound
    assert np.all(tpot > weight_bytes / tp / hbm)
    # replicas that do not fit are the ones whose weights or one sequence's KV overflow HBM
    usable = ACCS[acc_name].hbm_gb * HBM_USABLE_SHARE
    overflow = res.weights_gb_per_chip[~fits] >= usable * (1 - 1e-9)
    kv_one = (
        kv_elements_per_token_per_chip(model, g.tp[~fits], g.pp[~fits])
        * chips.precisions[0].kv_bytes
        * (1000 + 200 / 2)
        / 1e9
    )
    assert np.all(overflow | (res.weights_gb_per_chip[~fits] + kv_one > usable))


def test_short_context_batch_one_decode_is_the_weight_read_plus_the_layers_fixed_time():
    # Llama 3.1 8B bf16 on one H100-SXM: 8.03e9 x 2 B = 16.06 GB of weights at 3.35 TB/s x
    # MBU; compute is 2 x 7.5e9 FLOPs at ~600 TFLOP/s (25 us) and the KV of ~130 tokens is
    # 17 MB, so the step is the weight read plus 32 layers' fixed time (launches, syncs),
    # to within a few percent.
    model = resolve_model("llama-3.1-8b")
    _, res = _offline(model, "H100-SXM", Precision.BF16, input_tokens=128, output_tokens=16)
    g = res.grid
    k = int(np.flatnonzero((g.tp == 1) & (g.pp == 1))[0])
    mbu = EFF.of("cuda", "decode_bandwidth_utilisation")
    read = model.params_total * 2 / (3.35e12 * mbu)
    layers = model.n_layers * EFF.of("cuda", "layer_overhead_us") * 1e-6
    assert read + layers < res.min_tpot_s[k] < 1.05 * (read + layers)


def test_the_fixed_time_per_layer_weighs_most_on_small_models():
    # Removing the per-layer time speeds a batch-1 token of an 8B model (32 layers, 16 GB)
    # up by a larger share than one of a 70B model (80 layers, 141 GB) on the same chips.
    no_overhead = Efficiency(
        platform={p: {**v, "layer_overhead_us": 1e-3} for p, v in EFF.platform.items()},
        globals_=EFF.globals_,
    )
    gains = []
    for name in ("llama-3.1-8b", "llama-3.1-70b"):
        model = resolve_model(name)
        chips = chip_arrays([ACCS["H100-SXM"]], Precision.BF16)
        weight = np.array([p.weight_bytes for p in chips.precisions])
        kv = np.array([p.kv_bytes for p in chips.precisions])
        grid = replica_grid(chips)
        tpot = [
            evaluate_inference(
                model,
                chips,
                grid,
                eff,
                weight_bytes=weight,
                kv_bytes=kv,
                input_tokens=128,
                output_tokens=16,
            ).min_tpot_s
            for eff in (EFF, no_overhead)
        ]
        one = int(np.flatnonzero(np.isfinite(tpot[0]) & (grid.pp == 1))[0])
        with_fixed, without = tpot[0][one], tpot[1][one]
        assert with_fixed - without == pytest.approx(
            model.n_layers * (EFF.of("cuda", "layer_overhead_us") - 1e-3) * 1e-6, rel=1e-6
        )
        gains.append(with_fixed / without)
    assert gains[0] > gains[1] > 1.0


MOE = ("mixtral-8x7b", "mixtral-8x22b", "deepseek-v3")


def _active_weight_bytes(model: ModelArch, weight_bytes: float) -> float:
    """Bytes a batch-1 token must read: all but the input-embedding lookup, with the
    routed experts it uses (k of E per MoE layer)."""
    return model.matmul_params_active * weight_bytes


@pytest.mark.parametrize(
    ("model_name", "acc_name"),
    [
        *((m, a) for m in ("mixtral-8x7b", "mixtral-8x22b") for a in ("H100-SXM", "MI300X")),
        # 671 GB at FP8 needs more than 8 x 80 GB on one pipeline stage
        *(("deepseek-v3", a) for a in ("H200-SXM", "MI300X", "B200")),
    ],
)
def test_moe_batch_one_decode_reads_the_active_experts_without_pipelining(model_name, acc_name):
    model = resolve_model(model_name)
    chips, res = _offline(model, acc_name, Precision.FP8)
    g = res.grid
    one_stage = np.isfinite(res.min_tpot_s) & (g.pp == 1)
    assert one_stage.any()
    hbm = ACCS[acc_name].hbm_tbps * 1e12
    bound = _active_weight_bytes(model, chips.precisions[0].weight_bytes) / g.tp / hbm
    assert np.all(res.min_tpot_s[one_stage] > bound[one_stage])


@pytest.mark.parametrize("model_name", MOE)
def test_moe_batch_one_decode_reads_the_active_experts_with_pipelining(model_name):
    model = resolve_model(model_name)
    chips, res = _offline(model, "H100-SXM", Precision.FP8)
    g = res.grid
    fits = np.isfinite(res.min_tpot_s)
    hbm = ACCS["H100-SXM"].hbm_tbps * 1e12
    bound = _active_weight_bytes(model, chips.precisions[0].weight_bytes) / g.tp / hbm
    # one token through pp stages in turn: every layer still reads its k routed experts
    assert np.all(res.min_tpot_s[fits] > bound[fits])


# --- memory infeasibility in words -------------------------------------------------------


def test_405b_on_one_l40s_does_not_fit_inference_says_why():
    q = Question(
        kind="infer_offline",
        metric="output_tokens_per_s",
        model=resolve_model("llama-3.1-405b"),
        accelerator=ACCS["L40S"],
        precision=Precision.BF16,
        chips=1,
        input_tokens=1000,
        output_tokens=200,
    )
    with pytest.raises(Unpredictable) as info:
        predict(q, EFF)
    # 405,849,243,648 x 2 B = 811.7 GB of weights on one chip
    assert "812 GB per chip" in str(info.value)
    assert "L40S has 48 GB" in str(info.value)


def test_405b_training_on_one_l40s_does_not_fit_says_how_much():
    q = Question(
        kind="train",
        metric="train_tokens_per_s",
        model=resolve_model("llama-3.1-405b"),
        accelerator=ACCS["L40S"],
        precision=Precision.BF16,
        chips=1,
        seq_len=8192,
    )
    with pytest.raises(Unpredictable) as info:
        predict(q, EFF)
    message = str(info.value)
    assert "1 x L40S" in message
    # one chip: 16 B/param of Adam state = 6,493.6 GB, plus full-recompute activations
    # 126 x 8192 x 16384 x 2 B = 33.8 GB: 6,527 GB
    match = re.search(r"least memory (\d+) GB", message)
    assert match, message
    assert float(match.group(1)) == pytest.approx(6527, abs=1)


def test_405b_training_on_l40s_names_the_leanest_layout_and_the_chip():
    # One sequence per step (global batch = seq_len) allows no data parallelism, so the
    # leanest layout is TP8 (the 8-card PCIe domain) x PP16 (126 layers, >= 4 per stage):
    #   state 16 B x 405.85e9 / 128 = 50.73 GB; activations 126 x 4096 x 16384 x 2 B / 8
    #   = 2.11 GB (full recompute)  ->  52.85 GB, above 48 GB x 90%
    w = _workload(
        kind="train", model="llama-3.1-405b", tokens="1T", seq_len=4096, global_batch_tokens=4096
    )
    found = estimate_workload(w, [ACCS["L40S"], ACCS["A10"]], EFF)  # the best cluster
    l40s = _only(found, "L40S")
    assert not l40s.feasible
    assert "L40S has 48 GB" in l40s.reason
    assert _gb_in(l40s.reason) == 53
    # A10: TP4 x PP16: 16 x 405.85e9 / 64 = 101.46 GB + 4.23 GB of activations = 105.7 GB
    a10 = _only(found, "A10")
    assert "A10 has 24 GB" in a10.reason
    assert _gb_in(a10.reason) == 106
    # priced, on the instance types that sell A10s: no scale-out fabric (OCI BM.GPU.A10.4,
    # Lambda gpu_1x_a10), so the leanest layout is one 4-card instance, TP4:
    # 16 x 405.85e9 / 4 = 1,623.4 GB + 126 x 4096 x 16384 x 2 B / 4 = 4.2 GB -> 1,628 GB
    a10 = _only(estimate_workload(w, [ACCS["A10"]], EFF, PRICES), "A10")
    assert _gb_in(a10.reason) == 1628
    assert "4-chip instances without a scale-out fabric" in a10.reason


def test_405b_serving_on_a10_does_not_fit_the_largest_replica():
    # A10: TP4 (PCIe domain of 4) x PP8 = 32 chips; 811.7 GB / 32 = 25.4 GB > 24 x 90%
    w = _workload(
        kind="serve",
        model="llama-3.1-405b",
        requests_per_s=1,
        input_tokens=1000,
        output_tokens=200,
        slo={"ttft_s": 5, "tpot_s": 0.5},
    )
    a10 = _only(estimate_workload(w, [ACCS["A10"]], EFF), "A10")  # the best cluster
    assert not a10.feasible
    assert "weights need 25 GB per chip" in a10.reason
    assert "A10 has 24 GB" in a10.reason
    # on the instance types that sell A10s (no scale-out fabric): one 4-card instance,
    # 811.7 GB / 4 = 203 GB per chip
    a10 = _only(estimate_workload(w, [ACCS["A10"]], EFF, PRICES), "A10")
    assert not a10.feasible
    assert "weights need 203 GB per chip" in a10.reason


# A GPT-3-shaped MHA model without a context limit, asked for 1M-token prompts. Its KV cache
# is 2 x 96 layers x 96 heads x 128 x 2 B = 4.5 MiB per token; on the largest H100 replica
# (TP8 x PP8) a chip holds 1/64 of it, 73,728 B/token, so one 1,000,020-token request needs
# 73.7 GB. The weights, 175.18e9 x 2 B / 64 = 5.5 GB, leave 72 - 5.5 = 66.5 GB: the KV cache
# of a single request, not the weights, is what does not fit.
LONG_MHA = {
    "name": "mha-long",
    "n_layers": 96,
    "d_model": 12288,
    "n_heads": 96,
    "ffn_dim": 49152,
    "vocab_size": 50257,
    "gated_ffn": False,
}


def test_a_kv_cache_that_does_not_fit_is_not_blamed_on_the_weights():
    w = _workload(
        kind="batch",
        model=LONG_MHA,
        input_tokens="1B",
        output_tokens="1M",
        request_input_tokens=1_000_000,
        request_output_tokens=40,
    )
    h100 = _only(estimate_workload(w, [ACCS["H100-SXM"]], EFF, PRICES), "H100-SXM")
    assert not h100.feasible
    assert "KV" in h100.reason or "cache" in h100.reason, h100.reason


def test_an_offline_case_that_does_not_fit_does_not_blame_latency_limits():
    model = parse_workloads(
        {"name": "w", "kind": "batch", "model": LONG_MHA, "input_tokens": 1, "output_tokens": 1},
        file="test.yaml",
    )[0].model
    q = Question(
        kind="infer_offline",
        metric="output_tokens_per_s",
        model=model,
        accelerator=ACCS["H100-SXM"],
        precision=Precision.BF16,
        chips=8,
        input_tokens=1_000_000,
        output_tokens=40,
    )
    with pytest.raises(Unpredictable) as info:
        predict(q, EFF)
    assert "latency" not in str(info.value)


# --- precision -------------------------------------------------------------------------------


def test_peaks_fall_back_to_the_next_wider_format():
    assert peak_tflops(ACCS["A100-SXM-80GB"], Precision.FP8) == (312.0, Precision.BF16)
    assert peak_tflops(ACCS["H100-SXM"], Precision.FP4) == (1978.9, Precision.FP8)
    assert peak_tflops(ACCS["B200"], Precision.FP4) == (9000.0, Precision.FP4)
    assert peak_tflops(ACCS["TPU-v5e"], Precision.FP8) == (197.0, Precision.BF16)
    # Gaudi3's FP8 figure equals its BF16 one: accepted without speed-up, not a fallback
    assert peak_tflops(ACCS["Gaudi3"], Precision.FP8) == (1835.0, Precision.FP8)
    # FP4: 4 bits plus one FP8 scale per 16 values = 0.5 + 1/16 bytes
    assert Precision.FP4.weight_bytes == 0.5625


def test_fp8_on_a100_runs_at_bf16_and_the_estimate_says_so():
    w = _workload(
        kind="batch",
        model="llama-3.1-70b",
        precision="fp8",
        input_tokens="1B",
        output_tokens="100M",
    )
    found = estimate_workload(w, [ACCS["A100-SXM-80GB"], ACCS["H100-SXM"]], EFF, PRICES)
    a100, h100 = _only(found, "A100-SXM-80GB"), _only(found, "H100-SXM")
    assert a100.precision == "bf16"
    assert "A100-SXM-80GB has no fp8; runs at bf16" in a100.notes
    assert h100.precision == "fp8"
    assert not any("runs at" in n for n in h100.notes)
    # the fallback also costs memory: BF16 weights, 70.55e9 x 2 B over the replica's chips
    assert a100.layout is not None
    replica = a100.layout.tp * a100.layout.pp
    model = resolve_model("llama-3.1-70b")
    assert a100.hbm_gb_per_chip >= model.params_total * 2 / replica / 1e9


def test_fp4_on_h100_falls_back_to_fp8():
    w = _workload(
        kind="batch",
        model="llama-3.1-70b",
        precision="fp4",
        input_tokens="1B",
        output_tokens="100M",
    )
    found = estimate_workload(w, [ACCS["H100-SXM"], ACCS["B200"]], EFF, PRICES)
    h100, b200 = _only(found, "H100-SXM"), _only(found, "B200")
    assert h100.precision == "fp8"
    assert "H100-SXM has no fp4; runs at fp8" in h100.notes
    assert b200.precision == "fp4"
    assert not any("runs at" in n for n in b200.notes)


def test_amdahl_share_limits():
    chips = chip_arrays([ACCS["H100-SXM"], ACCS["A100-SXM-80GB"]], Precision.FP8)

    def with_share(share: float) -> Efficiency:
        return Efficiency(PRIOR.platform, {**PRIOR.globals_, "inference_bf16_share": share})

    # nothing left at BF16: the FP8 peak; everything at BF16: the BF16 peak
    assert effective_flops(chips, with_share(0.0)).tolist() == pytest.approx([1978.9e12, 312e12])
    assert effective_flops(chips, with_share(1.0)).tolist() == pytest.approx([989.4e12, 312e12])
    # half: r = 1978.9 / 989.4 = 2.0001; 989.4 / (0.5 / 2.0001 + 0.5) = 1319.2 TFLOP/s
    assert effective_flops(chips, with_share(0.5))[0] == pytest.approx(1319.2e12, rel=1e-4)


# --- the memory-bound work of a training step -------------------------------------------------


def _train_tokens_per_s(acc: Accelerator, eff: Efficiency) -> float:
    """Llama 3.1 8B, 8K sequences, 24 per step on 8 chips (the MaxText v6e-8 recipe)."""
    model = resolve_model("llama-3.1-8b")
    arrays = chip_arrays([acc], Precision.BF16)
    grid = train_grid(arrays, model, total_chips=8, max_dp=24, seq_len=8192)
    res = evaluate_training(
        model,
        arrays,
        grid,
        eff,
        seq_len=8192,
        global_batch_tokens=24 * 8192,
        method=FinetuneMethod.FULL,
        weight_bytes=np.array([p.weight_bytes for p in arrays.precisions]),
    )
    assert res.feasible.any()
    return float(res.tokens_per_s.max())


def _one_layout(dp: int) -> TrainGrid:
    one = np.array([1])
    return TrainGrid(
        chip=np.array([0]),
        tp=one,
        cp=one,
        pp=one,
        dp=np.array([dp]),
        recompute=np.array([0]),
        sharded=np.array([False]),
        chips=np.array([dp]),
    )


def test_expert_parallel_all_to_all_bytes_by_hand():
    """DeepSeek-V3 on 8 chips, one 4096-token sequence each (tp = cp = pp = 1, dp = ep =
    8): per step each chip sends every token's hidden state (7168 x 2 B) to its 8 experts
    in 4 all-to-alls (dispatch and combine, forward and backward) on each of 58 MoE layers
    (61 layers, the first 3 dense), 7/8 of it off the chip."""
    model = resolve_model("deepseek-v3")
    assert (model.n_moe_layers, model.n_active_experts, model.d_model) == (58, 8, 7168)
    terms = _layout_terms(
        model,
        _one_layout(8),
        EFF,
        seq_len=4096,
        global_batch_tokens=8 * 4096,
        method=FinetuneMethod.FULL,
    )
    by_hand = 4096 * 58 * 4 * 8 * 7168 * 2 * 7 / 8
    assert terms.ep_bytes.tolist() == [pytest.approx(by_hand, rel=1e-12)]
    assert terms.ep_chips.tolist() == [8]
    dense = _layout_terms(
        resolve_model("llama-3.1-8b"),
        _one_layout(8),
        EFF,
        seq_len=4096,
        global_batch_tokens=8 * 4096,
        method=FinetuneMethod.FULL,
    )
    assert dense.ep_bytes.tolist() == [0.0]


def test_replicated_experts_send_nothing_and_hold_every_expert():
    """Experts replicated in each data-parallel replica (ep = 1): no all-to-all, and each
    chip holds all of its layers' expert weights; sharded over dp = 8, an eighth."""
    model = resolve_model("qwen3-30b-a3b")
    kwargs = {"seq_len": 4096, "global_batch_tokens": 8 * 4096, "method": FinetuneMethod.FULL}
    sharded = _layout_terms(model, _one_layout(8), EFF, **kwargs)
    replicated = _layout_terms(model, _one_layout(8), EFF, experts_sharded=False, **kwargs)
    experts = model.n_moe_layers * model.n_experts * model.expert_params
    assert replicated.ep_bytes.tolist() == [0.0] and replicated.ep_chips.tolist() == [1]
    assert sharded.ep_bytes[0] > 0
    assert replicated.params_per_chip[0] - sharded.params_per_chip[0] == pytest.approx(
        experts * (1 - 1 / 8), rel=1e-12
    )


def test_a_moe_job_takes_the_faster_expert_placement():
    """On A10G (PCIe cards, 1.6 GB/s of network per chip) sharding Qwen3-30B-A3B's
    experts over 2 data-parallel replicas costs more all-to-all than it saves; with the
    replicated placement to choose, 128 chips train at least as fast as 64 (sharded
    only, 128 ran 40% slower)."""
    model = resolve_model("qwen3-30b-a3b")
    chips = chip_arrays([ACCS["A10G"]], Precision.BF16)
    weight_bytes, _ = precision_bytes(chips)
    rates = []
    for n in (64, 128):
        batch = default_global_batch_tokens(model, 2048, FinetuneMethod.FULL)
        grid = train_grid(chips, model, total_chips=n, max_dp=batch / 2048, seq_len=2048)
        res = evaluate_training(
            model, chips, grid, EFF, seq_len=2048, global_batch_tokens=batch,
            method=FinetuneMethod.FULL, weight_bytes=weight_bytes,
        )  # fmt: skip
        rates.append(float(res.tokens_per_s.max()))
    assert rates[1] >= rates[0]


def test_training_speed_depends_on_hbm_bandwidth_through_the_memory_bound_work_only():
    v6e = ACCS["TPU-v6e"]
    wide = dataclasses.replace(v6e, hbm_tbps=2 * v6e.hbm_tbps)
    assert _train_tokens_per_s(wide, EFF) > 1.05 * _train_tokens_per_s(v6e, EFF)
    # with no bytes moved by the memory-bound operations, bandwidth does not matter
    matmuls_only = Efficiency(
        platform=EFF.platform, globals_={**EFF.globals_, "train_activation_bytes": 0.0}
    )
    assert _train_tokens_per_s(wide, matmuls_only) == _train_tokens_per_s(v6e, matmuls_only)


def test_the_memory_bound_work_costs_a_chip_with_more_flops_per_byte_a_larger_share():
    # TPU v6e: 918 TFLOP/s over 1.64 TB/s (560 FLOP/B); TPU v5p: 459 over 2.76 (166 FLOP/B).
    # The share of step time the memory-bound work takes is larger on v6e.
    matmuls_only = Efficiency(
        platform=EFF.platform, globals_={**EFF.globals_, "train_activation_bytes": 0.0}
    )
    loss = {
        name: 1
        - _train_tokens_per_s(ACCS[name], EFF) / _train_tokens_per_s(ACCS[name], matmuls_only)
        for name in ("TPU-v6e", "TPU-v5p")
    }
    assert loss["TPU-v6e"] > 1.5 * loss["TPU-v5p"] > 0


def test_a_power_limited_card_sustains_its_reference_parts_flops_per_watt():
    """H100 PCIe: the GH100 die at 350 W against the SXM part's 989.4 TFLOP/s at 700 W
    sustains at most 989.4 x 350 / 700 = 494.7 TFLOP/s dense BF16, 494.7 / 756.5 = 0.654
    of its listed 756.5; FP8 by the same share. MFU is still measured on the listed peak."""
    pcie = ACCS["H100-PCIe"]
    assert sustained_share(pcie) == pytest.approx(494.7 / 756.5, rel=1e-3)
    chips = chip_arrays([pcie], Precision.FP8)
    assert chips.listed_flops[0] == pytest.approx(1513.0e12)
    assert chips.peak_flops[0] == pytest.approx(1513.0e12 * 494.7 / 756.5, rel=1e-3)
    assert chips.bf16_flops[0] == pytest.approx(494.7e12, rel=1e-3)
    # the reference part itself, and a card whose budget covers its peak, are not limited
    assert sustained_share(ACCS["H100-SXM"]) == 1.0
    assert sustained_share(ACCS["H200-NVL"]) == 1.0  # 989.4 x 600 / 700 = 848 > 835


def test_power_limits_name_real_chips_and_their_reference_parts_figures():
    """Every row of ``data/power_limits.csv``: a chip of the table in a lower power budget
    than its reference part, a chip of the table whose BF16 peak and TDP the row states,
    from the same vendor and die (the generation's die code)."""
    text = resources.files("arbiter.perf.data").joinpath("power_limits.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and len(rows) == len(power_limits())
    for row in rows:
        card, ref = ACCS[row["accelerator"]], ACCS[row["reference"]]
        assert (ref.bf16_tflops, ref.tdp_w) == (
            float(row["reference_bf16_tflops"]),
            float(row["reference_tdp_w"]),
        )
        assert card.vendor == ref.vendor and card.tdp_w is not None and ref.tdp_w is not None
        assert card.tdp_w < ref.tdp_w
        die = re.search(r"G[A-Z]\d{3}", ref.generation)
        assert die is not None and die.group(0) in card.generation, row
        assert row["basis"].strip()
