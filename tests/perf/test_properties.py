"""Properties of the performance model that must hold for any chip, model and shape.

Each test's docstring states its property. Counts of examples are kept small so each test
runs in a few seconds; the grids inside every example are already exhaustive.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import FinetuneMethod, Precision
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import estimate_workload
from arbiter.perf.hardware import chip_arrays
from arbiter.perf.inference import InferenceResult, evaluate_inference, replica_grid
from arbiter.perf.predict import Question, Unpredictable, predict
from arbiter.perf.pricing import PriceBook
from arbiter.perf.training import evaluate_training, train_grid
from arbiter.workloads import model_names, parse_workloads, resolve_model

ACCS = default_accelerators()
EFF = default_efficiency()
PRICES = PriceBook(default_catalog())
ACC_NAMES = sorted(ACCS)
PRECISIONS = list(Precision)

accelerators = st.sampled_from(ACC_NAMES)
precisions = st.sampled_from(PRECISIONS)
registry_models = st.sampled_from(model_names()).map(resolve_model)
input_lengths = st.sampled_from([128, 512, 1024, 4096])
output_lengths = st.sampled_from([16, 128, 512, 2048])


def dense(n_layers: int, d_model: int) -> ModelArch:
    """A Llama-shaped dense model: 32 heads of 128 (8 KV heads), SwiGLU 3.5 d wide."""
    return ModelArch(
        name=f"dense-{n_layers}x{d_model}",
        n_layers=n_layers,
        d_model=d_model,
        n_heads=32,
        n_kv_heads=8,
        head_dim=128,
        ffn_dim=int(3.5 * d_model),
        vocab_size=32000,
    )


layer_counts = st.integers(2, 24).map(lambda n: 4 * n)
widths = st.sampled_from([2048, 3072, 4096, 5120, 6144, 8192])


def _inference(
    model: ModelArch,
    acc: Accelerator,
    precision: Precision,
    input_tokens: float,
    output_tokens: float,
    ttft_limit_s: float | None = None,
    tpot_limit_s: float | None = None,
) -> InferenceResult:
    chips = chip_arrays([acc], precision)
    return evaluate_inference(
        model,
        chips,
        replica_grid(chips),
        EFF,
        weight_bytes=np.array([p.weight_bytes for p in chips.precisions]),
        kv_bytes=np.array([p.kv_bytes for p in chips.precisions]),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        ttft_limit_s=ttft_limit_s,
        tpot_limit_s=tpot_limit_s,
    )


def _predict(q: Question) -> float | None:
    try:
        return predict(q, EFF)
    except Unpredictable:
        return None


def _infer_question(
    kind: str,
    model: ModelArch,
    acc_name: str,
    precision: Precision,
    chips: int,
    input_tokens: float,
    output_tokens: float,
) -> Question:
    limits = {"ttft_limit_s": 2.0, "tpot_limit_s": 0.1} if kind == "infer_server" else {}
    return Question(
        kind=kind,
        metric="output_tokens_per_s",
        model=model,
        accelerator=ACCS[acc_name],
        precision=precision,
        chips=chips,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **limits,
    )


def _train_rate(
    model: ModelArch,
    acc_name: str,
    precision: Precision,
    chips: int,
    seq_len: int,
    batch_tokens: float,
    method: FinetuneMethod,
) -> float | None:
    """Best training tokens/s of exactly ``chips`` chips at a fixed global batch."""
    arrays = chip_arrays([ACCS[acc_name]], precision)
    grid = train_grid(
        arrays, model, total_chips=chips, max_dp=batch_tokens / seq_len, seq_len=seq_len
    )
    if len(grid.chip) == 0:
        return None
    res = evaluate_training(
        model,
        arrays,
        grid,
        EFF,
        seq_len=seq_len,
        global_batch_tokens=batch_tokens,
        method=method,
        weight_bytes=np.array([p.weight_bytes for p in arrays.precisions]),
    )
    return float(res.tokens_per_s.max()) if res.feasible.any() else None


# --- bandwidth ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    model=registry_models,
    precision=precisions,
    factor=st.floats(1.05, 4.0),
    input_tokens=input_lengths,
    output_tokens=output_lengths,
    slo=st.sampled_from([None, (2.0, 0.1), (0.5, 0.03)]),
)
def test_more_hbm_bandwidth_never_slows_decode(
    acc_name, model, precision, factor, input_tokens, output_tokens, slo
):
    """Raising a chip's HBM bandwidth never raises any replica's batch-1 TPOT and never
    lowers its best throughput, offline or within an SLO."""
    slow_acc = ACCS[acc_name]
    fast_acc = dataclasses.replace(slow_acc, hbm_tbps=slow_acc.hbm_tbps * factor)
    limits = {} if slo is None else {"ttft_limit_s": slo[0], "tpot_limit_s": slo[1]}
    slow = _inference(model, slow_acc, precision, input_tokens, output_tokens, **limits)
    fast = _inference(model, fast_acc, precision, input_tokens, output_tokens, **limits)
    fits = np.isfinite(slow.min_tpot_s)
    # memory does not depend on bandwidth: the same replicas fit
    assert np.array_equal(fits, np.isfinite(fast.min_tpot_s))
    assert np.all(fast.min_tpot_s[fits] < slow.min_tpot_s[fits])
    assert np.all(fast.tokens_per_s >= slow.tokens_per_s * (1 - 1e-12))
    assert np.all(fast.feasible >= slow.feasible)


# --- bigger models ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    n_layers=layer_counts,
    d_model=widths,
    more_layers=st.integers(0, 8).map(lambda n: 4 * n),
    more_width=st.sampled_from([0, 256, 1024, 2048]),
    chips=st.sampled_from([1, 2, 4, 8, 16, 32]),
    precision=precisions,
    kind=st.sampled_from(["infer_offline", "infer_server"]),
    input_tokens=input_lengths,
    output_tokens=output_lengths,
)
def test_a_bigger_model_never_serves_faster(
    acc_name,
    n_layers,
    d_model,
    more_layers,
    more_width,
    chips,
    precision,
    kind,
    input_tokens,
    output_tokens,
):
    """On the same chips, a model with more layers or a wider d_model never generates
    more tokens/s, and never fits where the smaller one does not."""
    small = dense(n_layers, d_model)
    big = dense(n_layers + more_layers, d_model + more_width)
    args = (acc_name, precision, chips, input_tokens, output_tokens)
    small_rate = _predict(_infer_question(kind, small, *args))
    big_rate = _predict(_infer_question(kind, big, *args))
    if big_rate is None:
        event("the bigger model does not fit")
        return
    assert small_rate is not None
    assert big_rate <= small_rate * (1 + 1e-12)


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    n_layers=layer_counts,
    d_model=widths,
    more_layers=st.integers(0, 8).map(lambda n: 4 * n),
    more_width=st.sampled_from([0, 256, 1024, 2048]),
    chips=st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128, 256]),
    precision=precisions,
    method=st.sampled_from(list(FinetuneMethod)),
    seq_len=st.sampled_from([2048, 4096, 8192, 32768]),
    batch_sequences=st.sampled_from([128, 512, 2048]),
)
def test_a_bigger_model_never_trains_faster_at_the_same_batch(
    acc_name,
    n_layers,
    d_model,
    more_layers,
    more_width,
    chips,
    precision,
    method,
    seq_len,
    batch_sequences,
):
    """On the same chips and global batch, a model with more layers or a wider d_model
    never trains more tokens/s. (A deeper model may allow more pipeline stages, so it may
    find a layout where the shallower one has none; that is not "faster".)"""
    small = dense(n_layers, d_model)
    big = dense(n_layers + more_layers, d_model + more_width)
    batch = batch_sequences * seq_len
    args = (acc_name, precision, chips, seq_len, batch, method)
    big_rate = _train_rate(big, *args)
    small_rate = _train_rate(small, *args)
    if big_rate is None or small_rate is None:
        event("no layout of these chips for one of the models")
        return
    assert big_rate <= small_rate * (1 + 1e-12)


# --- adding replicas --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    model=registry_models,
    chips=st.integers(0, 7).map(lambda n: 2**n),
    precision=precisions,
    kind=st.sampled_from(["infer_offline", "infer_server"]),
    input_tokens=input_lengths,
    output_tokens=output_lengths,
)
def test_doubling_an_inference_system_at_least_doubles_its_throughput(
    acc_name, model, chips, precision, kind, input_tokens, output_tokens
):
    """Replicas are independent: 2N chips can run every replica N chips can, twice, so
    system tokens/s at 2N is at least twice that at N (hence never lower)."""
    args = (model, acc_name, precision)
    one = _predict(_infer_question(kind, *args, chips, input_tokens, output_tokens))
    two = _predict(_infer_question(kind, *args, 2 * chips, input_tokens, output_tokens))
    if one is None:
        event("the model does not fit N chips")
        return
    assert two is not None
    assert two >= 2 * one * (1 - 1e-12)


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    model=registry_models,
    chips=st.integers(0, 11).map(lambda n: 2**n),
    precision=precisions,
    kind=st.sampled_from(["train", "finetune_lora"]),
    seq_len=st.sampled_from([2048, 4096, 8192, 32768]),
)
# MoE experts sharded over data-parallel replicas on a slow network: 128 A10G ran slower
# than 64 until replicating the experts (no all-to-all) became a placement to choose
@example(
    acc_name="A10G",
    model=resolve_model("qwen3-30b-a3b"),
    chips=64,
    precision=Precision.BF16,
    kind="train",
    seq_len=2048,
)
@example(
    acc_name="A10G",
    model=resolve_model("qwen3-30b-a3b"),
    chips=256,
    precision=Precision.BF16,
    kind="train",
    seq_len=32768,
)
def test_more_training_chips_never_lower_system_throughput(
    acc_name, model, chips, precision, kind, seq_len
):
    """System tokens/s at 2x chips is at least that at x (when a layout of 2x chips exists:
    with one sequence per replica and the widest tp/pp, there may be none)."""

    def rate(n: int) -> float | None:
        q = Question(
            kind=kind,
            metric="train_tokens_per_s",
            model=model,
            accelerator=ACCS[acc_name],
            precision=precision,
            chips=n,
            seq_len=seq_len,
        )
        return _predict(q)

    one, two = rate(chips), rate(2 * chips)
    if one is None or two is None:
        event("no layout of x or 2x chips")
        return
    assert two >= one * (1 - 1e-12)


# --- number formats ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    model=registry_models,
    chips=st.sampled_from([1, 2, 8, 16, 64]),
    kind=st.sampled_from(["infer_offline", "infer_server", "train", "finetune_lora"]),
    wider_narrower=st.sampled_from(
        [(Precision.BF16, Precision.FP8), (Precision.FP8, Precision.FP4)]
    ),
)
def test_a_narrower_format_never_lowers_throughput(acc_name, model, chips, kind, wider_narrower):
    """FP8 weights are half the bytes of BF16 and run at least the BF16 peak (FP4 against
    FP8 likewise; a chip without the format falls back and is equal), so a narrower format
    never lowers throughput and fits wherever the wider one does."""
    wider, narrower = wider_narrower

    def rate(precision: Precision) -> float | None:
        if kind in ("train", "finetune_lora"):
            q = Question(
                kind=kind,
                metric="train_tokens_per_s",
                model=model,
                accelerator=ACCS[acc_name],
                precision=precision,
                chips=chips,
                seq_len=4096,
            )
            return _predict(q)
        return _predict(_infer_question(kind, model, acc_name, precision, chips, 1000, 200))

    wide = rate(wider)
    if wide is None:
        event("the wider format does not fit")
        return
    narrow = rate(narrower)
    assert narrow is not None
    assert narrow >= wide * (1 - 1e-12)


# --- latency limits and choice ----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    acc_name=accelerators,
    model=registry_models,
    precision=precisions,
    tpot=st.floats(0.01, 0.2),
    looser=st.floats(1.0, 3.0),
    input_tokens=input_lengths,
    output_tokens=output_lengths,
)
def test_a_looser_slo_never_lowers_throughput(
    acc_name, model, precision, tpot, looser, input_tokens, output_tokens
):
    """Every batch that meets a TPOT limit meets a looser one."""
    acc = ACCS[acc_name]
    tight = _inference(model, acc, precision, input_tokens, output_tokens, 10.0, tpot)
    loose = _inference(model, acc, precision, input_tokens, output_tokens, 10.0, tpot * looser)
    assert np.all(loose.tokens_per_s >= tight.tokens_per_s)
    assert np.all(loose.feasible >= tight.feasible)
    # and a feasible batch's latency is within the limit it was chosen under
    headroom = EFF["latency_headroom"]
    assert np.all(tight.tpot_s[tight.feasible] <= headroom * tpot * (1 + 1e-12))


@settings(max_examples=15, deadline=None)
@given(
    names=st.lists(accelerators, min_size=1, max_size=5, unique=True),
    extra=accelerators,
    kind=st.sampled_from(["batch", "serve", "train"]),
)
def test_adding_an_accelerator_never_raises_the_cheapest_cost(names, extra, kind):
    """The estimate is per accelerator: another chip can only add an option."""
    fields: dict[str, object] = {"name": "w", "kind": kind, "model": "llama-3.1-8b"}
    if kind == "batch":
        fields |= {"input_tokens": "10B", "output_tokens": "1B"}
    elif kind == "serve":
        fields |= {
            "requests_per_s": 10,
            "input_tokens": 500,
            "output_tokens": 200,
            "slo": {"ttft_s": 2.0, "tpot_s": 0.08},
        }
    else:
        fields |= {"tokens": "50B", "deadline_days": 20}
    w = parse_workloads(fields, file="t.yaml")[0]

    def cheapest(accs: list[str]) -> float:
        found = estimate_workload(w, [ACCS[a] for a in accs], EFF, PRICES)
        costs = [e.usd_per_million_tokens for e in found if e.usd_per_million_tokens is not None]
        return min(costs, default=float("inf"))

    before = cheapest(names)
    after = cheapest([*names, extra])
    assert after <= before
