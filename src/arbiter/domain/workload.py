"""Workloads: what has to be computed, independent of where.

A :class:`Workload` is a model, a precision, one job (train, finetune, serve or batch) and
the placement rules it brings (providers, regions, vendors, platforms, spot allowed).
``measured`` throughputs from the user's own benchmarks override the performance model.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from arbiter.domain.accelerator import Platform
from arbiter.domain.model_arch import ModelArch


class Precision(enum.StrEnum):
    """Number format of weights and matmuls. FP4 carries one FP8 scale per 16 values."""

    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"
    FP4 = "fp4"

    @property
    def weight_bytes(self) -> float:
        return _WEIGHT_BYTES[self]

    @property
    def kv_bytes(self) -> float:
        """KV-cache bytes per element: FP4 runs keep their cache in FP8."""
        return max(1.0, _WEIGHT_BYTES[self])

    @property
    def fallback(self) -> Precision | None:
        """The next wider format, used on chips without this one."""
        return _FALLBACK[self]


_WEIGHT_BYTES = {
    Precision.BF16: 2.0,
    Precision.FP16: 2.0,
    Precision.FP8: 1.0,
    Precision.FP4: 0.5625,
}
_FALLBACK = {
    Precision.FP4: Precision.FP8,
    Precision.FP8: Precision.BF16,
    Precision.FP16: Precision.BF16,
    Precision.BF16: None,
}


class WorkloadKind(enum.StrEnum):
    TRAIN = "train"
    FINETUNE = "finetune"
    SERVE = "serve"
    BATCH = "batch"


class FinetuneMethod(enum.StrEnum):
    FULL = "full"
    LORA = "lora"


@dataclass(frozen=True, slots=True)
class TrainJob:
    """Pre-training (or full/LoRA fine-tuning) on ``tokens`` tokens of ``seq_len``."""

    tokens: float
    seq_len: int
    deadline_days: float | None = None
    global_batch_tokens: float | None = None
    method: FinetuneMethod = FinetuneMethod.FULL
    lora_rank: int = 16


@dataclass(frozen=True, slots=True)
class RequestClass:
    """One class of a service's request mix: its ``share`` of requests and their lengths."""

    share: float
    input_tokens: float
    output_tokens: float


@dataclass(frozen=True, slots=True)
class ServeJob:
    """Online inference: a request rate with mean lengths, under a latency SLO, for ``hours``.

    ``classes`` splits the requests into a mix (shares summing to 1) that replicas may
    divide their time between, as in Mélange; ``input_tokens`` and ``output_tokens`` are
    then the mix's means. Empty: one class of the mean lengths."""

    requests_per_s: float
    input_tokens: float
    output_tokens: float
    ttft_s: float
    tpot_s: float
    hours: float
    classes: tuple[RequestClass, ...] = ()

    def mix_tokens_per_s(self, class_requests_per_s: Sequence[float]) -> float:
        """Generated tokens/s one replica serves of the whole mix when it splits its time
        between classes in proportion to their load; 0 if it cannot serve some class."""
        if any(r <= 0 for r in class_requests_per_s):
            return 0.0
        seconds = sum(c.share / r for c, r in zip(self.classes, class_requests_per_s, strict=True))
        return self.output_tokens / seconds


@dataclass(frozen=True, slots=True)
class BatchJob:
    """Offline inference of total token counts; requests have the mean lengths given."""

    input_tokens: float
    output_tokens: float
    request_input_tokens: float
    request_output_tokens: float
    deadline_hours: float | None = None


@dataclass(frozen=True, slots=True)
class Measured:
    """A user's own benchmark: ``tokens_per_s`` on ``chips`` of ``accelerator``.

    Training tokens/s for train and finetune; generated tokens/s for serve (within the
    workload's SLO) and batch. For a service with a request mix, ``class_requests_per_s``
    holds what one replica of ``chips`` serves of each class alone (0: it cannot), and
    ``tokens_per_s`` is what it serves of the whole mix.
    """

    accelerator: str
    chips: int
    tokens_per_s: float
    class_requests_per_s: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a workload may run. ``None`` means no restriction."""

    providers: tuple[str, ...] | None = None
    forbidden_providers: tuple[str, ...] = ()
    regions: tuple[str, ...] | None = None
    vendors: tuple[str, ...] | None = None
    platforms: tuple[Platform, ...] | None = None
    interruptible: bool = False


Job = TrainJob | ServeJob | BatchJob


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    kind: WorkloadKind
    model: ModelArch
    precision: Precision
    job: Job
    placement: Placement = field(default_factory=Placement)
    measured: tuple[Measured, ...] = ()

    @property
    def total_output_tokens(self) -> float:
        """Generated tokens over the whole job (serve: rate x length x hours)."""
        job = self.job
        if isinstance(job, ServeJob):
            return job.requests_per_s * job.output_tokens * job.hours * 3600.0
        if isinstance(job, BatchJob):
            return job.output_tokens
        return 0.0

    @property
    def work_tokens(self) -> float:
        """The unit of work costs are quoted per: trained tokens, or generated tokens."""
        job = self.job
        return job.tokens if isinstance(job, TrainJob) else self.total_output_tokens
