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
                    + m s (L/pp) d train_activation_bytes / (tp cp) / HBM_bw
                    (the memory-bound ops: norms, activations, residuals, casts)
    t_tp          = m (L/pp) (4 | 6) (alpha + 2 (tp-1)/tp * (s/cp) d 2 / (scale_up_bw / 2))
    bubble        = (pp - 1) / (m v)        interleaved 1F1B, v = min(4, L/pp) chunks
    t_dp          = 2 (dp cp-1)/(dp cp) * grad_bytes / link    (x 1.5 fully sharded), overlapped
                    with the backward pass: exposed = max(0, t_dp - 2/3 t_compute)
    t_ep          = m (s/(tp cp)) (L_moe/pp) (4 | 6) k d 2 (ep-1)/ep / link     (MoE only)
                    expert parallelism's all-to-alls (dispatch and combine, forward and
                    backward): each token's hidden state to its k experts and back, over
                    the scale-up link when the ep x tp x cp x pp chips fit its domain, else
                    the NIC; not overlapped (it sits between the router and the experts)
    t_step        = ((t_compute + t_tp + t_ep)(1 + bubble) + exposed) * (1 + scale_loss * log2 dp)

Memory per chip (mixed-precision Adam, Rajbhandari et al. 2019):

    weights+grads = 4 B/param / (tp pp)  and optimizer 12 B/param / (tp pp dp)   (ZeRO-1)
                  = 16 B/param / (tp pp dp)                                         (ZeRO-3)
    LoRA          = frozen weights at the run's precision / (tp pp); adapters are negligible
    activations   = L s d (34 | 22 | 2) bytes / (tp cp): Korthikanti et al. 2022 with
                    flash attention and sequence parallelism; 1F1B keeps pp micro-batches
                    on the first stage; context parallelism's K/V exchange overlaps
                    attention and is not charged

MoE expert weights are placed one of two ways, whichever is faster where both fit:
sharded over ``ep = min(dp, experts)`` data-parallel replicas (expert weights / ep per
chip, and the all-to-all above), or replicated in every replica (``ep = 1``: no
all-to-all, every replica holds all its experts). A framework does either; sharding
across a slow scale-out network can cost more than it saves, and more chips never have to
run slower than fewer with the experts replicated.

Evaluation: grids are cached by what shapes them (scale-up domains, pipeline depth, batch
and context limits, system size). Every chip's layouts are a prefix of one list, so the
terms that depend on the layout alone are computed once per layout, each in its formula's
own order, and finished per chip: the numbers are those of evaluating every row in full.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import FinetuneMethod
from arbiter.perf.efficiency import ALLREDUCE_LATENCY_S, HBM_USABLE_SHARE, Efficiency
from arbiter.perf.hardware import (
    ChipArrays,
    FloatArray,
    IntArray,
    first_best_in_runs,
    group_starts,
)
from arbiter.perf.inference import _platform_array, effective_flops
from arbiter.perf.topology import layouts_fit

TP_OPTIONS = (1, 2, 4, 8, 16, 32, 64)
PP_OPTIONS = (1, 2, 4, 8, 16, 32)
CP_OPTIONS = (1, 2, 4, 8, 16)
MIN_LAYERS_PER_STAGE = 4  # thinner pipeline stages balance badly around embeddings and head
MIN_CP_TOKENS = 8192  # context parallelism only splits long sequences into >= 8K chunks
DP_POWERS = tuple(2**i for i in range(18))


def _dp_options(total_chips: int | None) -> tuple[int, ...]:
    """Data-parallel sizes to try: powers of two, or every divisor of a fixed system size
    (72-GPU NVL72 racks and 6,144-chip pods are not powers of two)."""
    if total_chips is None:
        return DP_POWERS
    return tuple(d for d in range(1, total_chips + 1) if total_chips % d == 0)


# Activation bytes per token, hidden unit and layer, by recomputation level: none (34,
# Korthikanti et al. with flash attention), element-wise ops only (norms and activation
# functions are recomputed, no matmuls: 34 - 12 = 22), full (only the layer input: 2).
ACTIVATION_BYTES = np.array([34.0, 22.0, 2.0])
RECOMPUTE_LEVELS = ("none", "elementwise", "full")
CACHED_GRIDS = 32  # layout grids kept (a few MB each): per fabric, depth and batch limits


@dataclass(frozen=True, slots=True)
class TrainGrid:
    """Candidate layouts: row ``k`` runs on chip type ``chip[k]``.

    Grids from :func:`train_grid` are grouped by chip in chip order and repeat one chip
    type's ``layouts`` (a prefix of them per chip): row ``k`` is ``layouts`` row
    ``layout[k]``. The model then works out what depends on the layout alone once per
    layout, not once per chip.
    """

    chip: IntArray
    tp: IntArray
    cp: IntArray
    pp: IntArray
    dp: IntArray
    recompute: IntArray
    sharded: np.ndarray
    chips: IntArray
    # Set by train_grid only (not init fields: a grid rebuilt with dataclasses.replace or
    # by hand has none, and is evaluated row by row).
    layouts: TrainGrid | None = field(default=None, init=False, repr=False, compare=False)
    layout: IntArray | None = field(default=None, init=False, repr=False, compare=False)


def train_grid(
    chips: ChipArrays,
    model: ModelArch,
    *,
    total_chips: int | None = None,
    max_chips: int = 2**17,
    max_dp: float = float("inf"),
    seq_len: int = 0,
) -> TrainGrid:
    """Every layout the chip's host admits (``topology.layouts_fit``: tp inside the
    scale-up domain, all the job's chips within the span), with at least four layers per
    stage and at least one sequence per data-parallel replica (``max_dp``)."""
    cp_options = tuple(x for x in CP_OPTIONS if x == 1 or seq_len / x >= MIN_CP_TOKENS)
    dp_options = _dp_options(total_chips)
    # The grid depends on the model and batch only through the largest pipeline depth and
    # data parallelism they allow: grids are cached under those.
    return _grid(
        tuple(chips.scale_up_chips.tolist()),
        tuple(chips.span_chips.tolist()),
        max((p for p in PP_OPTIONS if p * MIN_LAYERS_PER_STAGE <= model.n_layers), default=0),
        max((d for d in dp_options if d <= max_dp), default=0),
        cp_options,
        total_chips,
        max_chips,
    )


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@functools.lru_cache(maxsize=4 * CACHED_GRIDS)
def _one_chip_layouts(
    max_pp: int,
    max_dp: int,
    cp_options: tuple[int, ...],
    total_chips: int | None,
    max_chips: int,
) -> TrainGrid:
    """The layouts of one chip type with any tp, in (tp, cp, pp, dp, recompute, sharded)
    order: a chip whose scale-up domain allows tp <= k gets the prefix with those."""
    dp_options = _dp_options(total_chips)
    axes = np.meshgrid(
        np.array(TP_OPTIONS),
        np.array(cp_options),
        np.array(PP_OPTIONS),
        np.array(dp_options),
        np.arange(len(RECOMPUTE_LEVELS)),
        np.array([0, 1]),
        indexing="ij",
    )
    t, x, p, d, r, s = (a.ravel() for a in axes)
    n = t * x * p * d
    keep = (p <= max_pp) & (d <= max_dp)
    keep &= n == total_chips if total_chips is not None else n <= max_chips
    return TrainGrid(
        chip=_frozen(np.zeros(int(keep.sum()), dtype=np.int64)),
        tp=_frozen(t[keep].astype(np.int64)),
        cp=_frozen(x[keep].astype(np.int64)),
        pp=_frozen(p[keep].astype(np.int64)),
        dp=_frozen(d[keep].astype(np.int64)),
        recompute=_frozen(r[keep].astype(np.int64)),
        sharded=_frozen(s[keep].astype(bool)),
        chips=_frozen(n[keep].astype(np.int64)),
    )


@functools.lru_cache(maxsize=CACHED_GRIDS)
def _grid(
    scale_up: tuple[int, ...],
    span: tuple[int, ...],
    max_pp: int,
    max_dp: int,
    cp_options: tuple[int, ...],
    total_chips: int | None,
    max_chips: int,
) -> TrainGrid:
    one = _one_chip_layouts(max_pp, max_dp, cp_options, total_chips, max_chips)
    tp_limit = np.maximum(np.array(scale_up, dtype=np.int64), 1)
    counts = np.searchsorted(one.tp, tp_limit, side="right")  # tp is sorted: a prefix
    row = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    chip = np.repeat(np.arange(len(scale_up), dtype=np.int64), counts)
    spans = np.array(span, dtype=np.int64)
    if len(spans) and int(spans.min()) < int(one.chips.max(initial=0)):
        fit = layouts_fit(one.tp[row], one.chips[row], tp_limit[chip], spans[chip])
        row, chip = row[fit], chip[fit]  # a chip's layouts: no longer one run of ``one``
    grid = TrainGrid(
        chip=_frozen(chip),
        tp=_frozen(one.tp[row]),
        cp=_frozen(one.cp[row]),
        pp=_frozen(one.pp[row]),
        dp=_frozen(one.dp[row]),
        recompute=_frozen(one.recompute[row]),
        sharded=_frozen(one.sharded[row]),
        chips=_frozen(one.chips[row]),
    )
    object.__setattr__(grid, "layouts", one)  # frozen dataclass: set once, here
    object.__setattr__(grid, "layout", _frozen(row))
    return grid


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


@dataclass(frozen=True, slots=True)
class _LayoutTerms:
    """The parts of the formulas that depend on the layout but not on the chip, each
    evaluated in the formula's own order, so that finishing them per chip gives the
    same numbers as the whole formula."""

    params_per_chip: FloatArray
    activations: FloatArray
    micro_ok: np.ndarray
    # full training (LoRA's frozen weights depend on the chip's format); NaN never fits
    memory_if_micro_ok: FloatArray
    memory_gb: FloatArray
    compute: FloatArray  # micro s hw_flops / mp: divided by the chip's FLOP/s
    traffic: FloatArray  # bytes the memory-bound ops move per chip: divided by HBM bytes/s
    tp_outer: FloatArray  # micro (L / pp) collectives
    tp_bytes: FloatArray  # 2 (tp - 1) / tp * s / cp * d * 2: divided by the link
    multi_tp: np.ndarray
    chips: FloatArray
    bubble: FloatArray  # 1 + bubble
    dp_bytes: FloatArray  # 2 (dp cp - 1) / (dp cp) * gradient bytes: divided by the link
    ep_bytes: FloatArray  # expert parallelism's all-to-all bytes per chip: divided by the link
    ep_chips: FloatArray  # chips an expert-parallel group spans (ep x tp x cp x pp)
    sharded: FloatArray
    scale: FloatArray
    tokens: FloatArray  # tokens per step: divided by the step time


def _layout_terms(
    model: ModelArch,
    grid: TrainGrid,
    eff: Efficiency,
    *,
    seq_len: int,
    global_batch_tokens: float,
    method: FinetuneMethod,
    experts_sharded: bool = True,
) -> _LayoutTerms:
    """The layout terms; MoE experts sharded over the data-parallel replicas
    (``experts_sharded``) or replicated in each (module docstring)."""
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
    sharded_ep = model.is_moe and experts_sharded
    ep = np.minimum(dp, max(model.n_experts, 1)) if sharded_ep else np.ones_like(dp)
    params_per_chip = (total - experts) / (tp * pp) + experts / (tp * pp * ep)
    state = np.where(grid.sharded, 16.0 * params_per_chip / dp, params_per_chip * (4.0 + 12.0 / dp))
    act_bytes = ACTIVATION_BYTES[grid.recompute]
    full = grid.recompute == len(RECOMPUTE_LEVELS) - 1
    activations = layers * s * d * act_bytes / (tp * cp)
    memory = state + activations

    # step time per chip
    sequences = max(global_batch_tokens / s, 1.0)
    micro = sequences / dp
    model_flops = train_flops_per_token(model, seq_len, method)
    attention = model.attention_flops_per_token(s / 2.0)
    hw_flops = model_flops + np.where(full, 2.0 * model.matmul_params_active + attention, 0.0)
    collectives = np.where(full, 6.0, 4.0)
    chunks = np.minimum(4.0, np.maximum(np.floor(layers / pp), 1.0))
    bubble = (pp - 1.0) / (np.maximum(micro, 1.0) * chunks)
    trainable = 0.0 if lora else 1.0
    # each token's hidden state (BF16) to its k experts and back, the share off the chip
    ep_bytes = (
        micro
        * s
        / (tp * cp)
        * (model.n_moe_layers / pp)
        * collectives
        * float(model.n_active_experts if model.is_moe else 0)
        * d
        * 2.0
        * (ep - 1.0)
        / ep
    )
    grad_bytes = trainable * params_per_chip * 2.0  # context-parallel ranks hold copies
    return _LayoutTerms(
        params_per_chip=params_per_chip,
        activations=activations,
        micro_ok=micro >= 1.0,
        memory_if_micro_ok=np.where(micro >= 1.0, memory, np.nan),
        memory_gb=memory / 1e9,
        compute=micro * s * hw_flops / mp,
        traffic=micro * s * (layers / pp) * d / (tp * cp) * eff["train_activation_bytes"],
        tp_outer=micro * (layers / pp) * collectives,
        tp_bytes=2.0 * (tp - 1.0) / tp * s / cp * d * 2.0,
        multi_tp=tp > 1,
        chips=n,
        bubble=1.0 + bubble,
        dp_bytes=2.0 * (dp * cp - 1.0) / (dp * cp) * grad_bytes,
        ep_bytes=ep_bytes,
        ep_chips=ep * mp,
        sharded=np.where(grid.sharded, 1.5, 1.0),
        scale=1.0 + eff["scale_loss_per_doubling"] * np.log2(dp),
        tokens=micro * dp * s,
    )


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
    """Memory, feasibility and tokens/s of every layout of ``grid`` (formulas above)."""
    if grid.layouts is None or grid.layout is None:
        layouts, layout = grid, np.arange(len(grid.chip))
    else:
        layouts, layout = grid.layouts, grid.layout
    variants = [
        _layout_terms(
            model,
            layouts,
            eff,
            seq_len=seq_len,
            global_batch_tokens=global_batch_tokens,
            method=method,
            experts_sharded=sharded,
        )
        for sharded in ((True, False) if model.is_moe else (True,))
    ]
    lora = method is FinetuneMethod.LORA
    usable_hbm = chips.hbm_bytes * HBM_USABLE_SHARE
    chip_flops = effective_flops(chips, eff, "train") * _platform_array(
        chips, eff, "train_matmul_efficiency"
    )
    n = len(grid.chip)
    feasible = np.zeros(n, dtype=bool)
    memory_gb = np.full(n, np.inf)
    tokens_per_s = np.zeros(n)
    # One run of rows on the same chip at a time: its layouts are consecutive rows of
    # ``layouts`` and its figures are scalars, so nothing is gathered.
    bounds = [*group_starts(grid.chip).tolist(), n] if n else [0]
    for lo, hi in itertools.pairwise(bounds):
        c, first = int(grid.chip[lo]), int(layout[lo])
        rows = slice(lo, hi)
        k: slice | IntArray = slice(first, first + hi - lo)
        if int(layout[hi - 1]) - first != hi - lo - 1:  # a host's span left gaps
            k = layout[lo:hi]
        for terms in variants:  # the faster expert placement that fits (MoE)
            if lora:
                memory = terms.params_per_chip[k] * weight_bytes[c] + terms.activations[k]
                fits = (memory <= usable_hbm[c]) & terms.micro_ok[k]
                gb = memory / 1e9
            else:
                fits = terms.memory_if_micro_ok[k] <= usable_hbm[c]
                gb = terms.memory_gb[k]
            tokens = np.where(fits, terms.tokens[k] / _step_s(terms, k, chips, c, chip_flops), 0.0)
            better = tokens > tokens_per_s[rows]
            # the memory shown: the chosen placement's, else the least any needs
            memory_gb[rows] = np.where(
                better | (~feasible[rows] & ~fits),
                np.where(better, gb, np.minimum(memory_gb[rows], gb)),
                memory_gb[rows],
            )
            tokens_per_s[rows] = np.maximum(tokens_per_s[rows], tokens)
            feasible[rows] |= fits
    return TrainResult(
        grid=grid,
        feasible=feasible,
        memory_gb_per_chip=memory_gb,
        tokens_per_s=tokens_per_s,
        model_flops_per_token=train_flops_per_token(model, seq_len, method),
    )


def _step_s(
    terms: _LayoutTerms, k: slice | IntArray, chips: ChipArrays, c: int, chip_flops: FloatArray
) -> FloatArray:
    """Seconds per optimizer step of layouts ``k`` on chip ``c`` (module docstring)."""
    t_compute = terms.compute[k] / chip_flops[c] + terms.traffic[k] / chips.hbm_bytes_per_s[c]
    link_up = chips.scale_up_bytes_per_s[c] / 2.0  # one direction
    t_tp = np.where(
        terms.multi_tp[k],
        terms.tp_outer[k] * (ALLREDUCE_LATENCY_S + terms.tp_bytes[k] / link_up),
        0.0,
    )
    scale_out = chips.scale_out_bytes_per_s[c]
    in_domain = terms.chips[k] <= chips.scale_up_chips[c]
    t_dp = terms.dp_bytes[k] / np.where(in_domain, link_up, scale_out) * terms.sharded[k]
    link_ep = np.where(terms.ep_chips[k] <= chips.scale_up_chips[c], link_up, scale_out)
    t_ep = terms.ep_bytes[k] / link_ep
    exposed = np.maximum(0.0, t_dp - (2.0 / 3.0) * t_compute)
    step: FloatArray = ((t_compute + t_tp + t_ep) * terms.bubble[k] + exposed) * terms.scale[k]
    return step


@dataclass(frozen=True, slots=True)
class LayoutPicks:
    """Per accelerator: the chosen layout (-1: none fast enough), the fastest feasible
    layout (-1: nothing fits) and the least memory any layout needs."""

    chosen: IntArray
    fastest: IntArray
    least_memory_gb: FloatArray


def pick_layouts(
    res: TrainResult, needed: float, n: int, *, billed_chips: FloatArray | None = None
) -> LayoutPicks:
    """Per chip, the cheapest layout that reaches ``needed`` tokens/s (the most tokens/s
    per chip: the job costs chips x time), and the fastest layout that fits; ties to the
    first row. ``billed_chips`` (default: the layout's chips) is what the cost counts,
    e.g. rounded up to whole nodes."""
    g = res.grid
    billed = g.chips.astype(np.float64) if billed_chips is None else billed_chips
    if len(g.chip) > 1 and bool((g.chip[1:] < g.chip[:-1]).any()):
        order = np.argsort(g.chip, kind="stable")  # keeps each chip's rows in their order
        picks = _pick_in_runs(
            g.chip[order],
            billed[order],
            res.feasible[order],
            res.tokens_per_s[order],
            res.memory_gb_per_chip[order],
            needed,
            n,
        )
        return LayoutPicks(
            chosen=np.where(picks.chosen >= 0, order[np.maximum(picks.chosen, 0)], -1),
            fastest=np.where(picks.fastest >= 0, order[np.maximum(picks.fastest, 0)], -1),
            least_memory_gb=picks.least_memory_gb,
        )
    return _pick_in_runs(
        g.chip, billed, res.feasible, res.tokens_per_s, res.memory_gb_per_chip, needed, n
    )


def _pick_in_runs(
    chip: IntArray,
    chips: FloatArray,
    feasible: np.ndarray,
    rate: FloatArray,
    memory_gb: FloatArray,
    needed: float,
    n: int,
) -> LayoutPicks:
    bounds = np.searchsorted(chip, np.arange(n + 1))  # chip i: rows bounds[i]:bounds[i + 1]
    starts, counts = bounds[:-1], np.diff(bounds)
    present = counts > 0
    least = np.full(n, np.inf)
    if present.any():
        least[present] = np.minimum.reduceat(memory_gb, starts[present])
    # fast enough, then the most tokens/s per chip: the lowest cost per token
    fast = feasible & (rate >= needed)
    chosen = first_best_in_runs(rate / chips, fast, bounds)
    nan = np.isnan(rate)
    if not nan.any():
        fastest = first_best_in_runs(rate, feasible, bounds)
    else:  # a sort puts NaN last: where every feasible rate is NaN, the first feasible row
        fastest = first_best_in_runs(rate, feasible & ~nan, bounds)
        first_feasible = first_best_in_runs(np.zeros_like(rate), feasible, bounds)
        fastest = np.where(fastest >= 0, fastest, first_feasible)
    return LayoutPicks(chosen=chosen, fastest=fastest, least_memory_gb=least)


def default_global_batch_tokens(model: ModelArch, seq_len: int, method: FinetuneMethod) -> float:
    """Batch when the workload does not say: 128 sequences for fine-tuning; for
    pre-training 4M tokens up to 25B parameters, growing with the square root of size to
    16M at 400B (Llama 3 405B's final batch; DeepSeek-V3 used 15M), never more."""
    if method is FinetuneMethod.LORA:
        return 128.0 * seq_len
    return min(16e6, 4e6 * math.sqrt(max(1.0, model.params_total / 25e9)))
