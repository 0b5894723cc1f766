"""Accelerators: chip models and their per-chip specs."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Platform(enum.StrEnum):
    """The software stack a chip needs; enabling a new one has a one-off porting cost."""

    CUDA = "cuda"
    ROCM = "rocm"
    XLA = "xla"
    NEURON = "neuron"
    GAUDI = "gaudi"


PLATFORM_BY_VENDOR: dict[str, Platform] = {
    "NVIDIA": Platform.CUDA,
    "AMD": Platform.ROCM,
    "Google": Platform.XLA,
    "AWS": Platform.NEURON,
    "Intel": Platform.GAUDI,
}


@dataclass(frozen=True, slots=True)
class Accelerator:
    """One chip model. All figures are per chip; dense (no sparsity) peaks.

    ``None`` means the vendor publishes no figure (for example FP8 on A100 or TDP on TPUs).
    """

    name: str
    vendor: str
    platform: Platform
    generation: str
    year: int
    bf16_tflops: float
    fp16_tflops: float | None
    fp8_tflops: float | None
    fp4_tflops: float | None
    int8_tops: float | None
    hbm_gb: float
    hbm_tbps: float
    interconnect_gbps: float | None
    tdp_w: float | None
    chips_per_node: int | None
    memory_type: str
    interconnect_type: str
    source: str
    verified: str
    notes: str = ""

    def __post_init__(self) -> None:
        if self.bf16_tflops <= 0 or self.hbm_gb <= 0 or self.hbm_tbps <= 0:
            raise ValueError(f"accelerator {self.name}: compute, memory and bandwidth must be > 0")
