"""The workload file format as pydantic models: one model per kind, all ``extra="forbid"``.

These models check shape, types and ranges only. Names (models, providers, accelerators)
are resolved afterwards by :mod:`arbiter.workloads.convert`, which also turns a spec into
the domain :class:`~arbiter.domain.workload.Workload`.

Numbers are strict: ``true`` is not a number and ``8.0`` is not a chip count. Floats may
be written as strings, because YAML 1.1 (PyYAML) reads ``15.6e12`` and ``2e-1`` as strings;
token counts also take the suffixes K, M, B and T (``2T`` = 2e12, ``500B`` = 5e11).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from arbiter.domain.accelerator import PLATFORM_BY_VENDOR, Platform
from arbiter.domain.units import HOURS_PER_MONTH
from arbiter.domain.workload import FinetuneMethod, Precision, WorkloadKind

KINDS: tuple[str, ...] = tuple(k.value for k in WorkloadKind)
VENDORS: tuple[str, ...] = tuple(PLATFORM_BY_VENDOR)

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
_COUNT = re.compile(r"^(?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(?P<suffix>[kmbt])?$")


def _number_text(text: str, *, suffixes: bool) -> float:
    cleaned = text.strip().replace("_", "")
    if suffixes:
        match = _COUNT.match(cleaned.lower())
        if match:
            scale = _SUFFIX[match["suffix"]] if match["suffix"] else 1.0
            return float(match["num"]) * scale
        raise ValueError(f"must be a number such as 2e12 or 2T (K, M, B, T allowed), got {text!r}")
    if _NUMBER.match(cleaned):
        return float(cleaned)
    raise ValueError(f"must be a number, got {text!r}")


def _number(value: object, *, suffixes: bool) -> object:
    """Accept ints, floats and numeric strings; leave anything else for pydantic to reject."""
    if isinstance(value, bool):
        # pydantic turns ValueError, not TypeError, into a validation error
        raise ValueError(f"must be a number, not {str(value).lower()}")  # noqa: TRY004
    if isinstance(value, str):
        parsed = _number_text(value, suffixes=suffixes)
        if not math.isfinite(parsed):
            raise ValueError(f"must be a finite number, got {value!r}")
        return parsed
    return value


def plain_number(value: object) -> object:
    return _number(value, suffixes=False)


def _count(value: object) -> object:
    return _number(value, suffixes=True)


def lowered(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _vendor(value: object) -> object:
    if isinstance(value, str):
        by_lower = {v.lower(): v for v in VENDORS}
        return by_lower.get(value.strip().lower(), value)
    return value


def _model_ref(value: object) -> object:
    if isinstance(value, str | dict):
        return value
    raise ValueError(
        "must be a model name from the registry or a mapping with a custom architecture"
    )


# Every number has a finite upper bound (and the positive ones a lower bound above the
# denormals) far outside anything real, so a typo such as 1e308 or 1e-320 is reported here
# with its field instead of overflowing the performance model or the solver later.
PositiveFloat = Annotated[
    float,
    BeforeValidator(plain_number),
    Field(gt=0, ge=1e-9, le=1e12, strict=True, allow_inf_nan=False),
]
"""A positive finite number from 1e-9 to 1e12 (a string with one is accepted)."""

Seconds = Annotated[
    float,
    BeforeValidator(plain_number),
    Field(gt=0, ge=1e-6, le=1e6, strict=True, allow_inf_nan=False),
]
"""A latency in seconds, from a microsecond to a million seconds."""

TokenCount = Annotated[
    float, BeforeValidator(_count), Field(gt=0, ge=1, le=1e18, strict=True, allow_inf_nan=False)
]
"""A token total from 1 to 1e18: ``2000000000000``, ``"2e12"`` or ``"2T"``."""

RequestTokens = Annotated[
    float, BeforeValidator(_count), Field(gt=0, ge=1, le=1e9, strict=True, allow_inf_nan=False)
]
"""Mean tokens of one request, from 1 to 1e9."""

PositiveInt = Annotated[int, Field(gt=0, le=1_000_000_000, strict=True)]
Text = Annotated[str, Field(strict=True, min_length=1)]
Kind = Annotated[WorkloadKind, BeforeValidator(lowered)]
PrecisionName = Annotated[Precision, BeforeValidator(lowered)]
MethodName = Annotated[FinetuneMethod, BeforeValidator(lowered)]
PlatformName = Annotated[Platform, BeforeValidator(lowered)]
VendorName = Annotated[Literal["NVIDIA", "AMD", "Google", "AWS", "Intel"], BeforeValidator(_vendor)]
ModelRef = Annotated[str | dict[str, Any], BeforeValidator(_model_ref)]


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_strip_whitespace=True
    )


class SloSpec(_Spec):
    """Latency targets of a serving workload."""

    ttft_s: Seconds
    """Time to first token, seconds."""
    tpot_s: Seconds
    """Time per output token after the first, seconds."""


NonNegativeFloat = Annotated[
    float, BeforeValidator(plain_number), Field(ge=0, le=1e12, strict=True, allow_inf_nan=False)
]


class MeasuredSpec(_Spec):
    """A throughput the user measured on ``chips`` of ``accelerator``: ``tokens_per_s``,
    or, for a service, ``requests_per_s`` (one number, or one per class of its
    ``request_mix``, 0 where the replica cannot serve the class within the SLO)."""

    accelerator: Text
    chips: PositiveInt
    tokens_per_s: PositiveFloat | None = None
    requests_per_s: (
        PositiveFloat | Annotated[list[NonNegativeFloat], Field(min_length=1)] | None
    ) = None


class RequestClassSpec(_Spec):
    """One class of a service's request mix."""

    share: Annotated[float, BeforeValidator(plain_number), Field(gt=0, ge=1e-9, le=1, strict=True)]
    """Fraction of the service's requests; the shares of a mix sum to 1."""
    input_tokens: RequestTokens
    output_tokens: RequestTokens


class WorkloadSpec(_Spec):
    """Fields every kind shares: the model, precision and placement rules."""

    name: Text
    kind: Kind
    model: ModelRef
    precision: PrecisionName = Precision.BF16
    interruptible: Annotated[bool, Field(strict=True)] = False
    providers: Annotated[list[Text], Field(min_length=1)] | None = None
    forbidden_providers: list[Text] = Field(default_factory=list)
    regions: Annotated[list[Text], Field(min_length=1)] | None = None
    vendors: Annotated[list[VendorName], Field(min_length=1)] | None = None
    platforms: Annotated[list[PlatformName], Field(min_length=1)] | None = None
    measured: list[MeasuredSpec] = Field(default_factory=list)


class TrainSpec(WorkloadSpec):
    """Pre-training: ``tokens`` tokens in sequences of ``seq_len``."""

    tokens: TokenCount
    seq_len: PositiveInt = 4096
    deadline_days: PositiveFloat | None = None
    global_batch_tokens: TokenCount | None = None


class FinetuneSpec(TrainSpec):
    """Fine-tuning: as training, with a method (LoRA by default) and the LoRA rank."""

    method: MethodName = FinetuneMethod.LORA
    lora_rank: PositiveInt = 16


class ServeSpec(WorkloadSpec):
    """Online serving: mean request lengths, a request rate and an SLO, for ``hours``."""

    requests_per_s: PositiveFloat
    input_tokens: RequestTokens | None = None
    """Mean prompt tokens per request (required unless ``request_mix`` is given)."""
    output_tokens: RequestTokens | None = None
    """Mean generated tokens per request (required unless ``request_mix`` is given)."""
    request_mix: Annotated[list[RequestClassSpec], Field(min_length=1)] | None = None
    """Request classes whose replicas may share GPUs (Mélange); replaces the means."""
    slo: SloSpec
    hours: PositiveFloat = HOURS_PER_MONTH
    """How long the service runs; the default is one month (8760 h / 12)."""


class BatchSpec(WorkloadSpec):
    """Offline inference of token totals, in requests of the mean lengths given."""

    input_tokens: TokenCount
    """Total prompt tokens over the whole job."""
    output_tokens: TokenCount
    """Total generated tokens over the whole job."""
    request_input_tokens: RequestTokens = 1024.0
    """Mean prompt tokens per request (sets batch shapes and KV-cache size)."""
    request_output_tokens: RequestTokens = 256.0
    """Mean generated tokens per request."""
    deadline_hours: PositiveFloat | None = None


SPEC_BY_KIND: dict[WorkloadKind, type[WorkloadSpec]] = {
    WorkloadKind.TRAIN: TrainSpec,
    WorkloadKind.FINETUNE: FinetuneSpec,
    WorkloadKind.SERVE: ServeSpec,
    WorkloadKind.BATCH: BatchSpec,
}


def fields_of(kind: WorkloadKind) -> tuple[str, ...]:
    """Every field a workload of ``kind`` takes, in declaration order."""
    return tuple(SPEC_BY_KIND[kind].model_fields)


def kinds_with_field(name: str) -> tuple[WorkloadKind, ...]:
    """The kinds that take field ``name`` (empty if none does)."""
    return tuple(k for k, spec in SPEC_BY_KIND.items() if name in spec.model_fields)
