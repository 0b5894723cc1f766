"""What an estimate says: how the chips are used (:class:`Layout`) and the workload's best
configuration on one accelerator (:class:`Estimate`), with the fields every estimate on a
chip starts from. Built by :mod:`arbiter.perf.estimate` (training, pricing) and
:mod:`arbiter.perf.serving` (services and batch generation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.workload import Measured, Workload
from arbiter.perf.hardware import ChipArrays
from arbiter.perf.pricing import OfferChoice
from arbiter.perf.topology import Host
from arbiter.results.estimate import layout_text


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
        return layout_text(
            tp=self.tp,
            pp=self.pp,
            replicas=self.replicas,
            cp=self.cp,
            recompute=self.recompute,
            sharded_optimizer=self.sharded_optimizer,
            batch=self.batch,
        )


@dataclass(slots=True)
class Estimate:
    """One workload on one accelerator. Built, then priced in place, by
    :func:`arbiter.perf.estimate.estimate_workload`."""

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
    # train/finetune: every layout worth buying on some offer, as (chips, tokens/s, layout)
    # with chips rising and tokens/s strictly rising (the fewest chips for each speed);
    # the fleet planner picks one per offer, billed in that offer's whole instances
    frontier: tuple[tuple[int, float, Layout | None], ...] = ()
    # how far the model's throughput may be off here (arbiter.perf.bands): the 80% band as
    # a share (0.38: +/- 38%), the published cases it was measured on, and how it was set
    error_band_share: float = 0.0
    band_cases: int = 0
    band_basis: str = ""
    chip_cases: int = 0  # of band_cases, those on this accelerator
    # the instance type's fabric the estimate was made for (None: the chip's best cluster)
    host: Host | None = None

    @property
    def sort_key(self) -> tuple[int, float, float]:
        if not self.feasible:
            return (2, 0.0, 0.0)
        if self.usd_per_million_tokens is None:
            return (1, -self.tokens_per_s / max(self.chips, 1), 0.0)
        return (0, self.usd_per_million_tokens, self.hours)


def base_fields(workload: Workload, acc: Accelerator, chips: ChipArrays, i: int) -> dict[str, Any]:
    """The fields every estimate of ``workload`` on chip ``i`` (``acc``) starts from."""
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


def measured_on(workload: Workload, acc: Accelerator) -> Measured | None:
    """The throughput the user measured for ``workload`` on ``acc``, if any."""
    for m in workload.measured:
        if m.accelerator == acc.name:
            return m
    return None
