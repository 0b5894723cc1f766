"""Per-chip figures the performance model needs, as arrays over accelerators.

Compute peaks come from the accelerator table; the fabric (how many chips share the fast
scale-up link, and the scale-out bandwidth per chip) from ``data/fabric.csv``, whose
``basis`` column says where each figure comes from: the chip in its best cluster. Given
a :class:`~arbiter.perf.topology.Host` per chip (an instance type's fabric), the host's
scale-up domain, scale-out bandwidth and span replace those (``perf/topology.py``).

A chip without the requested number format falls back to the next wider one it has
(FP4 -> FP8 -> BF16, FP16 -> BF16), and the estimate says so.

**Power limits.** A card that puts a die in a lower power budget than the die's own
reference part (an H100 PCIe or NVL card against the H100 SXM) lists peaks at boost clock
that dense matrix work, which runs at the power limit, cannot hold: its peaks are scaled
to at most the reference part's FLOPs per watt, ``min(1, F_ref P / (P_ref F))`` of them
(``data/power_limits.csv``, with the basis of each row).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.workload import Precision
from arbiter.perf.topology import UNLIMITED_CHIPS, Host

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TERA = 1e12
GIGA = 1e9


@dataclass(frozen=True, slots=True)
class Fabric:
    """How chips talk: ``scale_up_chips`` share the fast link; beyond that, the NIC."""

    scale_up_chips: int
    scale_up_gbytes_per_s: float | None
    scale_out_gbytes_per_s: float
    basis: str
    tp_units_per_chip: int = 1  # what tensor parallelism shards over: NeuronCores on Neuron


@functools.cache
def default_fabric() -> dict[str, Fabric]:
    text = resources.files("arbiter.perf.data").joinpath("fabric.csv").read_text("utf-8")
    fabric = {}
    for row in csv.DictReader(io.StringIO(text)):
        up = row["scale_up_gbytes_per_s"]
        fabric[row["accelerator"]] = Fabric(
            scale_up_chips=int(row["scale_up_chips"]),
            scale_up_gbytes_per_s=float(up) if up else None,
            scale_out_gbytes_per_s=float(row["scale_out_gbytes_per_s"]),
            basis=row["basis"],
            tp_units_per_chip=int(row["tp_units_per_chip"]),
        )
    return fabric


def peak_tflops(acc: Accelerator, precision: Precision) -> tuple[float, Precision]:
    """The chip's dense peak for ``precision``, or for the format it falls back to."""
    wanted: Precision | None = precision
    while wanted is not None:
        value = {
            Precision.BF16: acc.bf16_tflops,
            Precision.FP16: acc.fp16_tflops,
            Precision.FP8: acc.fp8_tflops,
            Precision.FP4: acc.fp4_tflops,
        }[wanted]
        # A "FP8" figure equal to the BF16 one (Gaudi3, Trainium1, Inferentia2) is a format
        # the chip accepts without a speed-up; it still counts as supported.
        if value:
            return value, wanted
        wanted = wanted.fallback
    return acc.bf16_tflops, Precision.BF16


@functools.cache
def power_limits() -> dict[str, tuple[float, float]]:
    """The reference part's (dense BF16 TFLOP/s, TDP in W) of each power-limited card."""
    text = resources.files("arbiter.perf.data").joinpath("power_limits.csv").read_text("utf-8")
    return {
        row["accelerator"]: (float(row["reference_bf16_tflops"]), float(row["reference_tdp_w"]))
        for row in csv.DictReader(io.StringIO(text))
    }


def sustained_share(acc: Accelerator) -> float:
    """The share of its listed peaks a chip sustains in dense matrix work: 1, or for a
    card power-limited against its die's reference part, ``min(1, F_ref P / (P_ref F))``."""
    ref = power_limits().get(acc.name)
    if ref is None or not acc.tdp_w:
        return 1.0
    ref_tflops, ref_tdp_w = ref
    return min(1.0, ref_tflops * acc.tdp_w / (ref_tdp_w * acc.bf16_tflops))


@dataclass(frozen=True, slots=True)
class ChipArrays:
    """Accelerators as parallel arrays, for one precision. Index ``i`` is ``names[i]``."""

    names: tuple[str, ...]
    platforms: tuple[str, ...]
    precisions: tuple[Precision, ...]
    peak_flops: FloatArray  # what the chip sustains at the precision (power limits applied)
    bf16_flops: FloatArray  # the same at BF16
    listed_flops: FloatArray  # the listed peak at the precision (what MFU is measured on)
    hbm_bytes: FloatArray
    hbm_bytes_per_s: FloatArray
    scale_up_chips: IntArray
    scale_up_bytes_per_s: FloatArray
    scale_out_bytes_per_s: FloatArray
    chips_per_node: IntArray
    span_chips: IntArray  # the most chips that may talk (topology.Host.span_chips)
    tp_units: IntArray  # tensor-parallel ranks per chip (NeuronCores on Neuron, else 1)

    def __len__(self) -> int:
        return len(self.names)


def chip_arrays(
    accelerators: Sequence[Accelerator],
    precision: Precision,
    hosts: Sequence[Host | None] | None = None,
) -> ChipArrays:
    """The accelerators' figures at ``precision`` (cached; the arrays are read-only), on
    ``hosts[i]`` where given (else the chip's best cluster, without a span limit)."""
    on = tuple(hosts) if hosts is not None else (None,) * len(accelerators)
    return _chip_arrays(tuple(accelerators), precision, on)


@functools.lru_cache(maxsize=64)
def _chip_arrays(
    accelerators: tuple[Accelerator, ...], precision: Precision, hosts: tuple[Host | None, ...]
) -> ChipArrays:
    fabric = default_fabric()
    peaks = [peak_tflops(a, precision) for a in accelerators]
    sustained = np.array([sustained_share(a) for a in accelerators], dtype=np.float64)
    fab = [fabric.get(a.name) for a in accelerators]

    def scale_up(a: Accelerator, f: Fabric | None) -> float:
        if f is not None and f.scale_up_gbytes_per_s:
            return f.scale_up_gbytes_per_s
        return a.interconnect_gbps or 64.0  # PCIe Gen4 x16 when nothing better is known

    chips = ChipArrays(
        names=tuple(a.name for a in accelerators),
        platforms=tuple(a.platform.value for a in accelerators),
        precisions=tuple(p for _, p in peaks),
        peak_flops=np.array([v for v, _ in peaks], dtype=np.float64) * TERA * sustained,
        listed_flops=np.array([v for v, _ in peaks], dtype=np.float64) * TERA,
        bf16_flops=np.array([a.bf16_tflops for a in accelerators], dtype=np.float64)
        * TERA
        * sustained,
        hbm_bytes=np.array([a.hbm_gb for a in accelerators], dtype=np.float64) * GIGA,
        hbm_bytes_per_s=np.array([a.hbm_tbps for a in accelerators], dtype=np.float64) * TERA,
        scale_up_chips=np.array(
            [
                h.scale_up_chips if h else f.scale_up_chips if f else (a.chips_per_node or 1)
                for a, f, h in zip(accelerators, fab, hosts, strict=True)
            ],
            dtype=np.int64,
        ),
        scale_up_bytes_per_s=np.array(
            [scale_up(a, f) for a, f in zip(accelerators, fab, strict=True)], dtype=np.float64
        )
        * GIGA,
        scale_out_bytes_per_s=np.array(
            [
                h.scale_out_bytes_per_s if h else (f.scale_out_gbytes_per_s if f else 12.5) * GIGA
                for f, h in zip(fab, hosts, strict=True)
            ],
            dtype=np.float64,
        ),
        chips_per_node=np.array([a.chips_per_node or 1 for a in accelerators], dtype=np.int64),
        span_chips=np.array(
            [h.span_chips if h else UNLIMITED_CHIPS for h in hosts], dtype=np.int64
        ),
        tp_units=np.array([f.tp_units_per_chip if f else 1 for f in fab], dtype=np.int64),
    )
    for array in (
        chips.peak_flops,
        chips.bf16_flops,
        chips.hbm_bytes,
        chips.hbm_bytes_per_s,
        chips.scale_up_chips,
        chips.scale_up_bytes_per_s,
        chips.scale_out_bytes_per_s,
        chips.chips_per_node,
        chips.span_chips,
        chips.tp_units,
    ):
        array.flags.writeable = False
    return chips


def group_starts(groups: npt.NDArray[np.integer]) -> IntArray:
    """Where each run of equal values of ``groups`` begins."""
    return np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))


def first_best_per_chip(
    values: FloatArray, eligible: npt.NDArray[np.bool_], chip: IntArray, n: int
) -> IntArray:
    """Per chip, the first eligible row with the largest value; -1 where none is
    eligible: the rows a stable sort by (chip, -value) puts first, without the sort when
    the rows are grouped by chip in chip order (as grids are)."""
    if len(chip) > 1 and bool((chip[1:] < chip[:-1]).any()):
        order = np.argsort(chip, kind="stable")  # keeps each chip's rows in their order
        best = first_best_per_chip(values[order], eligible[order], chip[order], n)
        return np.where(best >= 0, order[np.maximum(best, 0)], -1)
    return first_best_in_runs(values, eligible, np.searchsorted(chip, np.arange(n + 1)))


def first_best_in_runs(
    values: FloatArray, eligible: npt.NDArray[np.bool_], bounds: IntArray
) -> IntArray:
    """``first_best_per_chip`` for rows grouped by chip in chip order, chip ``i`` being rows
    ``bounds[i]:bounds[i + 1]``."""
    starts, ends = bounds[:-1], bounds[1:]
    out = np.full(len(starts), -1, dtype=np.int64)
    present = starts < ends
    if not present.any():
        return out
    masked = np.where(eligible, values, -np.inf)
    best = np.maximum.reduceat(masked, starts[present])
    hits = np.flatnonzero(eligible & (masked == np.repeat(best, (ends - starts)[present])))
    if len(hits) == 0:
        return out
    first = hits[np.minimum(np.searchsorted(hits, starts), len(hits) - 1)]
    mine = (first >= starts) & (first < ends)
    out[mine] = first[mine]
    return out


def precision_bytes(chips: ChipArrays) -> tuple[FloatArray, FloatArray]:
    """Weight and KV-cache bytes per value on each chip, after any precision fallback."""
    weight = np.array([p.weight_bytes for p in chips.precisions], dtype=np.float64)
    kv = np.array([p.kv_bytes for p in chips.precisions], dtype=np.float64)
    return weight, kv
