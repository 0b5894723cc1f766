"""Benchmark cases: published performance results in one checked format.

A case file is a CSV with exactly these columns, in this order::

    case_id, source, kind, model, precision, accelerator, accelerator_count,
    input_tokens, output_tokens, seq_len, ttft_limit_s, tpot_limit_s, metric, value

One row is one published result on one system:

``case_id``
    unique id, no spaces (the calibration file uses ``mlpinf-v4.1-llama2-70b-offline-amd-1``).
``source``
    where the number was published (URL).
``kind``
    what was run, a :class:`CaseKind`: ``infer_offline`` (maximum throughput, no latency
    limit), ``infer_server`` (Poisson arrivals under p99 TTFT/TPOT limits),
    ``infer_interactive`` (the same under tighter limits), ``infer_latency`` (batch-1
    decode), ``train`` (full-parameter pre-training) or ``finetune_lora`` (LoRA fine-tuning).
``model``, ``accelerator``
    names as the source gives them after conversion; this module keeps them as strings and
    does not check them against the model registry or the catalog (the calibration code
    skips unknown ones with a reason).
``precision``
    number format of weights and matmuls: ``bf16``, ``fp16``, ``fp8`` or ``fp4``
    (:class:`arbiter.domain.workload.Precision`).
``accelerator_count``
    chips in the whole system, a whole number >= 1.
``input_tokens``, ``output_tokens``
    mean prompt and generated tokens per request; required for the infer kinds, empty
    for the train kinds.
``seq_len``
    training sequence length in tokens, a whole number; required for the train kinds,
    empty for the infer kinds.
``ttft_limit_s``, ``tpot_limit_s``
    p99 latency limits in seconds (time to first token, time per output token); only
    ``infer_server`` and ``infer_interactive`` may have them; empty means no limit.
``metric``
    what ``value`` measures, a :class:`CaseMetric` that must fit the kind:
    ``output_tokens_per_s`` (generated tokens/s of the whole system) or ``tpot_s``
    (seconds per output token) for the infer kinds; ``train_tokens_per_s`` (trained
    tokens/s of the whole system), ``mfu`` (model FLOPs utilisation, a share in (0, 1])
    or ``achieved_tflops_per_chip`` (model TFLOPS per chip) for the train kinds.
``value``
    the published number, > 0.

Optional columns may follow ``value``, those present in this order::

    batch, concurrency, tp, pp, notes

``batch``
    for ``infer_offline``: sequences the whole system ran at once, when the source fixed
    it (a static batch, or an engine's maximum batch held full); for the train kinds:
    sequences in the global batch of one optimizer step, when the source states it. A
    whole number >= 1; no other kind has one.
``concurrency``
    requests a closed-loop client kept in flight over the whole system, a whole number
    >= 1; ``infer_offline`` only. A case has a batch or a concurrency, not both. Both are
    modelled as that many sequences in flight, split evenly over the replicas, not as the
    throughput-maximising batch an offline run otherwise gets.
``tp``, ``pp``
    the layout the source states, when it states one: chips per tensor-parallel group
    and pipeline stages of one model replica (an inference engine or a training job's
    model-parallel group; a source counting NeuronCores is converted to chips). Whole
    numbers >= 1 whose product divides ``accelerator_count``; ``pp`` is 1 when only
    ``tp`` is given. The model then predicts that layout instead of choosing its best.
``notes``
    free text: how the value was read or derived from the source.

All numbers must be finite and positive. :func:`parse_cases` rejects anything else with
an :class:`~arbiter.domain.errors.InputError` naming the file, the row (row 1 is the first
row after the header) and the column, and saying what is valid. :func:`write_cases` writes
numbers in their shortest form (``294``, not ``294.0``; ``0.552``), so a file written by it
reads back to the same cases and writes to the same bytes.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from arbiter.domain.errors import InputError
from arbiter.domain.workload import Precision

_E = TypeVar("_E", bound=enum.StrEnum)

COLUMNS: tuple[str, ...] = (
    "case_id",
    "source",
    "kind",
    "model",
    "precision",
    "accelerator",
    "accelerator_count",
    "input_tokens",
    "output_tokens",
    "seq_len",
    "ttft_limit_s",
    "tpot_limit_s",
    "metric",
    "value",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("batch", "concurrency", "tp", "pp", "notes")


class CaseKind(enum.StrEnum):
    """What the published run did."""

    INFER_OFFLINE = "infer_offline"
    INFER_SERVER = "infer_server"
    INFER_INTERACTIVE = "infer_interactive"
    INFER_LATENCY = "infer_latency"
    TRAIN = "train"
    FINETUNE_LORA = "finetune_lora"

    @property
    def is_inference(self) -> bool:
        return self in _INFER_KINDS

    @property
    def is_training(self) -> bool:
        return not self.is_inference


class CaseMetric(enum.StrEnum):
    """What a case's ``value`` measures."""

    OUTPUT_TOKENS_PER_S = "output_tokens_per_s"  # generated tokens/s, whole system
    TRAIN_TOKENS_PER_S = "train_tokens_per_s"  # trained tokens/s, whole system
    MFU = "mfu"  # model FLOPs utilisation, a share in (0, 1]
    ACHIEVED_TFLOPS_PER_CHIP = "achieved_tflops_per_chip"  # model TFLOPS per chip
    TPOT_S = "tpot_s"  # seconds per output token


_INFER_KINDS = frozenset(
    {
        CaseKind.INFER_OFFLINE,
        CaseKind.INFER_SERVER,
        CaseKind.INFER_INTERACTIVE,
        CaseKind.INFER_LATENCY,
    }
)
_LIMITED_KINDS = frozenset({CaseKind.INFER_SERVER, CaseKind.INFER_INTERACTIVE})
INFER_METRICS: tuple[CaseMetric, ...] = (CaseMetric.OUTPUT_TOKENS_PER_S, CaseMetric.TPOT_S)
TRAIN_METRICS: tuple[CaseMetric, ...] = (
    CaseMetric.TRAIN_TOKENS_PER_S,
    CaseMetric.MFU,
    CaseMetric.ACHIEVED_TFLOPS_PER_CHIP,
)


def metrics_for(kind: CaseKind) -> tuple[CaseMetric, ...]:
    """The metrics a case of ``kind`` may report."""
    return INFER_METRICS if kind.is_inference else TRAIN_METRICS


@dataclass(frozen=True, slots=True)
class BenchmarkCase:
    """One published result; see the module docstring for every field's meaning and unit."""

    case_id: str
    source: str
    kind: CaseKind
    model: str
    precision: Precision
    accelerator: str
    accelerator_count: int
    input_tokens: float | None
    output_tokens: float | None
    seq_len: int | None
    ttft_limit_s: float | None
    tpot_limit_s: float | None
    metric: CaseMetric
    value: float
    batch: int | None = None
    concurrency: int | None = None
    tp: int | None = None
    pp: int | None = None
    notes: str = ""

    @property
    def in_flight(self) -> int | None:
        """Sequences in flight over the whole system when the source fixed them (an
        inference case's batch or concurrency)."""
        if self.kind.is_training:
            return None
        return self.batch if self.batch is not None else self.concurrency

    @property
    def global_batch(self) -> int | None:
        """Sequences per optimizer step, when a training source states them."""
        return self.batch if self.kind.is_training else None

    @property
    def layout(self) -> tuple[int, int] | None:
        """``(tp, pp)`` when the source states the layout (``pp`` 1 unless given)."""
        if self.tp is None and self.pp is None:
            return None
        return (self.tp or 1, self.pp or 1)


# --- reading -------------------------------------------------------------------------


def shipped_cases() -> tuple[BenchmarkCase, ...]:
    """The published results the model is fitted and checked on
    (``data/calibration_cases.csv``; provenance in ``data/sources/PROVENANCE.md``)."""
    from importlib import resources  # noqa: PLC0415

    text = resources.files("arbiter.perf.data").joinpath("calibration_cases.csv")
    return parse_cases(text.read_text("utf-8"), file="arbiter/perf/data/calibration_cases.csv")


def read_cases(path: Path) -> tuple[BenchmarkCase, ...]:
    """The cases in the CSV file at ``path``, validated; errors name the file and row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("the file does not exist", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start})", file=str(path), valid="a UTF-8 CSV file"
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=str(path)) from None
    return parse_cases(text, file=str(path))


def parse_cases(text: str, *, file: str) -> tuple[BenchmarkCase, ...]:
    """The cases in CSV ``text``; ``file`` names it in error messages."""
    reader = csv.reader(io.StringIO(text), strict=True)
    cases: list[BenchmarkCase] = []
    first_row: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None:
            raise InputError("the file is empty", file=file, valid=_VALID_HEADER)
        columns = _check_header([h.strip() for h in header], file)
        number = 0
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue  # a blank line is not a row
            number += 1
            if len(fields) != len(columns):
                raise InputError(
                    f"the row has {len(fields)} fields but the header has {len(columns)}",
                    file=file,
                    field=f"row {number}",
                    valid="one value per header column",
                )
            raw = dict.fromkeys(OPTIONAL_COLUMNS, "") | dict(zip(columns, fields, strict=True))
            row = _Row(raw, number, file)
            case = row.case()
            if case.case_id in first_row:
                raise row.error(
                    "case_id",
                    f"{case.case_id!r} is already the id of row {first_row[case.case_id]}",
                    "an id used by no other row",
                )
            first_row[case.case_id] = number
            cases.append(case)
    except csv.Error as exc:
        raise InputError(
            f"malformed CSV ({exc})",
            file=file,
            field=f"line {reader.line_num}",
            valid="RFC 4180 CSV",
        ) from None
    return tuple(cases)


_HEADER = ",".join(COLUMNS)
_VALID_HEADER = (
    f"exactly these columns in this order: {_HEADER}; then, optionally and in this "
    f"order, {', '.join(OPTIONAL_COLUMNS)}"
)


def _check_header(header: list[str], file: str) -> tuple[str, ...]:
    """The file's columns: the required ones, then any optional ones in their order."""
    extra = tuple(header[len(COLUMNS) :])
    ordered = tuple(c for c in OPTIONAL_COLUMNS if c in extra)
    if tuple(header[: len(COLUMNS)]) == COLUMNS and extra == ordered:
        return tuple(header)
    known = COLUMNS + OPTIONAL_COLUMNS
    missing = [c for c in COLUMNS if c not in header]
    unexpected = [c for c in header if c not in known]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(repr(c) for c in unexpected)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if not problems:
        problems.append("the columns are out of order")
    raise InputError(
        f"the header is wrong: {'; '.join(problems)}",
        file=file,
        field="header",
        valid=_VALID_HEADER,
    )


# What each number column may hold: the smallest and largest value a real published
# result has, with wide margins. A value outside is a typo (or a broken file) that would
# overflow the model's arithmetic (1e308 chips, a TPOT limit of 1e-320 s).
_RANGES: dict[str, tuple[float, float, str]] = {
    "accelerator_count": (
        1,
        1_000_000,
        "a whole number >= 1 (chips in the whole system), at most 1,000,000",
    ),
    "input_tokens": (1, 1e7, "empty, or a number > 0 (from 1 to 10,000,000 tokens)"),
    "output_tokens": (1, 1e7, "empty, or a number > 0 (from 1 to 10,000,000 tokens)"),
    "seq_len": (1, 1e7, "empty, or a whole number >= 1 (at most 10,000,000 tokens)"),
    "ttft_limit_s": (1e-6, 1e6, "empty, or a number > 0 (from 0.000001 to 1,000,000 s)"),
    "tpot_limit_s": (1e-6, 1e6, "empty, or a number > 0 (from 0.000001 to 1,000,000 s)"),
    "value": (1e-12, 1e15, "a number > 0 in the metric's unit (from 1e-12 to 1e15)"),
    "batch": (1, 1e7, "empty, or a whole number >= 1 (sequences at once, whole system)"),
    "concurrency": (1, 1e7, "empty, or a whole number >= 1 (requests in flight, whole system)"),
    "tp": (1, 1e6, "empty, or a whole number >= 1 (chips per tensor-parallel group)"),
    "pp": (1, 1e6, "empty, or a whole number >= 1 (pipeline stages of one replica)"),
}


class _Row:
    """Typed values of one data row; a bad value raises an InputError naming row and column."""

    def __init__(self, raw: dict[str, str], number: int, file: str) -> None:
        self.raw = {k: v.strip() for k, v in raw.items()}
        self.row_number = number
        self.file = file

    def case(self) -> BenchmarkCase:
        case = BenchmarkCase(
            case_id=self.case_id(),
            source=self.text("source", "where the result was published, e.g. a URL"),
            kind=self.choice("kind", CaseKind),
            model=self.text("model", "a model name, e.g. llama-2-70b"),
            precision=self.choice("precision", Precision),
            accelerator=self.text("accelerator", "an accelerator name, e.g. H100-SXM"),
            accelerator_count=self.count(),
            input_tokens=self.number("input_tokens"),
            output_tokens=self.number("output_tokens"),
            seq_len=self.integer("seq_len"),
            ttft_limit_s=self.number("ttft_limit_s"),
            tpot_limit_s=self.number("tpot_limit_s"),
            metric=self.choice("metric", CaseMetric),
            value=self.value(),
            batch=self.integer("batch"),
            concurrency=self.integer("concurrency"),
            tp=self.integer("tp"),
            pp=self.integer("pp"),
            notes=self.raw["notes"],
        )
        self.check_kind(case)
        return case

    def case_id(self) -> str:
        text = self.raw["case_id"]
        valid = "a non-empty id without spaces, unique in the file"
        if not text:
            raise self.error("case_id", "the id is empty", valid)
        if any(c.isspace() for c in text):
            raise self.error("case_id", f"{text!r} contains a space", valid)
        return text

    def text(self, column: str, valid: str) -> str:
        text = self.raw[column]
        if not text:
            raise self.error(column, "the value is empty", valid)
        return text

    def choice(self, column: str, enum_type: type[_E]) -> _E:
        text = self.raw[column]
        try:
            return enum_type(text)
        except ValueError:
            what = f"{text!r} is not a {column}" if text else f"the {column} is empty"
            raise self.error(column, what, ", ".join(e.value for e in enum_type)) from None

    def number(self, column: str) -> float | None:
        low, high, valid = _RANGES[column]
        text = self.raw[column]
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.error(column, f"{text[:40]!r} is not a number", valid) from None
        if not math.isfinite(value) or value <= 0:
            raise self.error(column, f"{text[:40]} is not a finite number > 0", valid)
        if not low <= value <= high:
            raise self.error(column, f"{text[:40]} is out of range", valid)
        return value

    def integer(self, column: str) -> int | None:
        value = self.number(column)
        if value is None:
            return None
        if not value.is_integer():
            raise self.error(
                column, f"{self.raw[column][:40]} is not a whole number", _RANGES[column][2]
            )
        return int(value)

    def count(self) -> int:
        value = self.integer("accelerator_count")
        if value is None:
            raise self.error(
                "accelerator_count", "the count is empty", _RANGES["accelerator_count"][2]
            )
        return value

    def value(self) -> float:
        value = self.number("value")
        if value is None:
            raise self.error("value", "the value is empty", _RANGES["value"][2])
        return value

    def check_kind(self, case: BenchmarkCase) -> None:
        kind = case.kind
        allowed = metrics_for(kind)
        if case.metric not in allowed:
            raise self.error(
                "metric",
                f"{case.metric.value} does not fit kind {kind.value}",
                f"for {kind.value}: {', '.join(m.value for m in allowed)}",
            )
        if case.metric is CaseMetric.MFU and case.value > 1:
            raise self.error(
                "value",
                f"an mfu of {self.raw['value']} is above 1",
                "a share in (0, 1], e.g. 0.552 for 55.2%",
            )
        if kind.is_inference:
            for column in ("input_tokens", "output_tokens"):
                if not self.raw[column]:
                    raise self.error(
                        column,
                        f"kind {kind.value} needs mean {column.replace('_', ' ')} per request",
                        "a number > 0",
                    )
            if self.raw["seq_len"]:
                raise self.error(
                    "seq_len",
                    f"kind {kind.value} has no training sequence length",
                    "empty for the infer kinds (use input_tokens and output_tokens)",
                )
        else:
            if not self.raw["seq_len"]:
                raise self.error(
                    "seq_len",
                    f"kind {kind.value} needs the training sequence length",
                    "a whole number >= 1 (tokens)",
                )
            for column in ("input_tokens", "output_tokens"):
                if self.raw[column]:
                    raise self.error(
                        column,
                        f"kind {kind.value} has no {column.replace('_', ' ')}",
                        "empty for the train kinds (use seq_len)",
                    )
        if self.raw["concurrency"] and kind is not CaseKind.INFER_OFFLINE:
            raise self.error(
                "concurrency",
                f"kind {kind.value} has no fixed concurrency",
                "empty, except for infer_offline",
            )
        if self.raw["batch"] and kind is not CaseKind.INFER_OFFLINE and not kind.is_training:
            raise self.error(
                "batch",
                f"kind {kind.value} has no fixed batch",
                "empty, except for infer_offline (sequences at once) and the train kinds "
                "(sequences per optimizer step)",
            )
        if self.raw["batch"] and self.raw["concurrency"]:
            raise self.error(
                "concurrency",
                "the row has both a batch and a concurrency",
                "one of them, or neither",
            )
        if case.layout is not None and case.accelerator_count % (case.layout[0] * case.layout[1]):
            tp_alone_divides = case.accelerator_count % case.layout[0] == 0
            raise self.error(
                "pp" if self.raw["pp"] and tp_alone_divides else "tp",
                f"a replica of tp {case.layout[0]} x pp {case.layout[1]} chips does not "
                f"divide the {case.accelerator_count} chips of the system",
                "chips per tensor-parallel group times pipeline stages dividing accelerator_count",
            )
        if kind not in _LIMITED_KINDS:
            for column in ("ttft_limit_s", "tpot_limit_s"):
                if self.raw[column]:
                    raise self.error(
                        column,
                        f"kind {kind.value} has no latency limit",
                        "empty, except for infer_server and infer_interactive",
                    )

    def error(self, column: str, message: str, valid: str) -> InputError:
        return InputError(
            message, file=self.file, field=f"row {self.row_number}, column {column}", valid=valid
        )


# --- writing -------------------------------------------------------------------------


def format_number(value: float | None) -> str:
    """``value`` in its shortest exact form: whole numbers without ``.0``, empty for None."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def case_row(case: BenchmarkCase, optional: tuple[str, ...] = ()) -> list[str]:
    """The CSV fields of ``case``, in :data:`COLUMNS` order, then the ``optional``
    columns asked for."""
    extra = {
        "batch": format_number(case.batch),
        "concurrency": format_number(case.concurrency),
        "tp": format_number(case.tp),
        "pp": format_number(case.pp),
        "notes": case.notes,
    }
    return [
        case.case_id,
        case.source,
        case.kind.value,
        case.model,
        case.precision.value,
        case.accelerator,
        str(case.accelerator_count),
        format_number(case.input_tokens),
        format_number(case.output_tokens),
        format_number(case.seq_len),
        format_number(case.ttft_limit_s),
        format_number(case.tpot_limit_s),
        case.metric.value,
        format_number(case.value),
        *(extra[c] for c in optional),
    ]


def write_cases(cases: Iterable[BenchmarkCase]) -> str:
    """``cases`` as CSV text, in the order given; byte-stable (``\\n`` line ends). The
    optional columns are written when some case has a value in them."""
    cases = list(cases)
    used = {
        "batch": any(c.batch is not None for c in cases),
        "concurrency": any(c.concurrency is not None for c in cases),
        "tp": any(c.tp is not None for c in cases),
        "pp": any(c.pp is not None for c in cases),
        "notes": any(c.notes for c in cases),
    }
    optional = tuple(c for c in OPTIONAL_COLUMNS if used[c])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + optional)
    for case in cases:
        writer.writerow(case_row(case, optional))
    return out.getvalue()
