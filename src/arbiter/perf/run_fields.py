"""What every format of the user's runs shares (:mod:`.user_runs`, :mod:`.train_log`):
the formats, the command line's options, the result, and typed values read with errors
that name the file and field."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arbiter.catalog.names import canonical_accelerator
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.limits import shown
from arbiter.domain.workload import Precision
from arbiter.perf.cases import BenchmarkCase
from arbiter.workloads.registry import resolve_model

MAX_FILE_BYTES = 50_000_000  # a vLLM result with --save-detailed is a few MB
MAX_RUNS = 100_000

# the bounds of cases.py, with its reasons: beyond them a value is a typo or a broken file
BOUNDS = {
    "chips": (1, 1_000_000, "a whole number >= 1 (chips of the whole system), at most 1,000,000"),
    "tokens": (1e-3, 1e7, "a number > 0 (tokens per request, at most 10,000,000)"),
    "throughput": (1e-12, 1e15, "a number > 0 (tokens/s of the whole system, at most 1e15)"),
    "seq_len": (1, 1e7, "a whole number >= 1 (tokens, at most 10,000,000)"),
    "count": (1, 1e12, "a whole number >= 1"),
    "seconds": (1e-9, 1e9, "a number > 0 (seconds)"),
    "rate": (1e-12, 1e12, 'a number > 0 (requests/s), or "inf"'),
}
PRECISIONS = ", ".join(p.value for p in Precision)


class RunFormat(enum.StrEnum):
    CASES = "cases"
    VLLM = "vllm"
    TRAIN_LOG = "train-log"


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the command line says about the runs (``None``: not given)."""

    accelerator: str | None = None
    chips: int | None = None
    model: str | None = None
    precision: str | None = None


@dataclass(frozen=True, slots=True)
class Excluded:
    """A run that was read but does not measure the chip, and why."""

    case_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class UserRuns:
    """The runs of one file: ``cases`` to fit on, ``excluded`` read but not fitted."""

    format: RunFormat
    cases: tuple[BenchmarkCase, ...]
    excluded: tuple[Excluded, ...] = ()


def given(options: RunOptions) -> list[tuple[str, object]]:
    pairs = [
        ("--accelerator", options.accelerator),
        ("--chips", options.chips),
        ("--model", options.model),
        ("--precision", options.precision),
    ]
    return [(k, v) for k, v in pairs if v is not None]


def file_stem(file: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(file).stem).strip("-")
    return stem[:60] or "run"


# --- values ------------------------------------------------------------------------------


class Where:
    """Builds errors and reads typed values for one file; ``field`` is the path of the
    value, in the file's own terms."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, field: str, message: str, valid: str | None = None) -> InputError:
        return InputError(message, file=self.file, field=field, valid=valid)

    def number(self, raw: object, field: str, bound: str) -> float:
        low, high, valid = BOUNDS[bound]
        if isinstance(raw, bool) or raw is None or raw == "":
            raise self.error(field, f"needs a number, got {shown(raw)}", valid)
        if isinstance(raw, str):
            try:
                value = float(raw.strip().replace("_", ""))
            except ValueError:
                raise self.error(field, f"{shown(raw)} is not a number", valid) from None
        elif isinstance(raw, int | float):
            value = float(raw)
        else:
            raise self.error(field, f"needs a number, got {shown(raw)}", valid)
        if not math.isfinite(value) or value <= 0:
            raise self.error(field, f"{shown(raw)} is not a finite number > 0", valid)
        if not low <= value <= high:
            raise self.error(field, f"{shown(raw)} is out of range", valid)
        return value

    def whole(self, raw: object, field: str, bound: str) -> int:
        value = self.number(raw, field, bound)
        if not value.is_integer():
            raise self.error(field, f"{shown(raw)} is not a whole number", BOUNDS[bound][2])
        return int(value)

    def precision(self, raw: object, field: str) -> Precision:
        text = raw.strip().lower() if isinstance(raw, str) else ""
        try:
            return Precision(text)
        except ValueError:
            raise self.error(field, f"{shown(raw)} is not a precision", PRECISIONS) from None

    def accelerator(self, raw: object, field: str, accelerators: Mapping[str, Accelerator]) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(field, f"needs an accelerator name, got {shown(raw)}", "e.g. H100")
        hit = canonical_accelerator(raw.strip(), accelerators)
        if hit is None or hit not in accelerators:
            raise UnknownNameError(
                "accelerator", raw.strip(), accelerators, file=self.file, field=field
            )
        return hit

    def model(self, raw: object, field: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(field, f"needs a model name, got {shown(raw)}", "e.g. llama-3.1-8b")
        return resolve_model(raw.strip(), file=self.file, field=field).name
