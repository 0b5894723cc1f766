"""Training-log summaries of the user's runs (the ``train-log`` format of
:mod:`.user_runs`, whose docstring describes it): a YAML file, or a CSV with ``chips`` and
``tokens_per_s`` columns, each row a whole run at one chip count."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import InputError
from arbiter.domain.limits import check_nesting, shown
from arbiter.domain.workload import Precision
from arbiter.perf.cases import BenchmarkCase, CaseKind, CaseMetric
from arbiter.perf.run_fields import (
    BOUNDS,
    MAX_RUNS,
    RunFormat,
    RunOptions,
    UserRuns,
    Where,
    file_stem,
)
from arbiter.workloads.loading import UniqueKeyLoader, yaml_error

_TRAIN_KINDS = (CaseKind.TRAIN.value, CaseKind.FINETUNE_LORA.value)
_YAML_KEYS = ("model", "accelerator", "precision", "seq_len", "kind", "source", "runs")
_RUN_KEYS = ("chips", "tokens_per_s", "notes")
_CSV_REQUIRED = ("chips", "tokens_per_s")
_CSV_OPTIONAL = ("model", "accelerator", "precision", "seq_len", "kind", "notes")


@dataclass(slots=True)
class _Shared:
    """The fields of a training run, from the file or the options."""

    model: str
    accelerator: str
    precision: Precision
    seq_len: int
    kind: CaseKind


_T = TypeVar("_T")


def _pick(
    w: Where,
    file_value: object,
    file_field: str,
    option: str | None,
    option_name: str,
    read: Callable[[object, str], _T],
) -> _T:
    """The file's value, else the option's, read (resolved) by ``read``; when both are
    given they must name the same thing (``H100`` and ``h100-sxm`` agree)."""
    given = file_value is not None and file_value != ""
    if given:
        value = read(file_value, file_field)
        if option is not None and read(option, option_name) != value:
            raise w.error(
                option_name,
                f"{option_name} {option!r} contradicts {file_field} {shown(file_value)} in "
                "the file",
                "one of them, or the same value in both",
            )
        return value
    if option is not None:
        return read(option, option_name)
    raise w.error(file_field, "is missing", f"give it in the file or with {option_name}")


def _shared(
    w: Where,
    values: Mapping[str, object],
    where: str,
    options: RunOptions,
    accelerators: Mapping[str, Accelerator],
) -> _Shared:
    model = _pick(w, values.get("model"), f"{where}model", options.model, "--model", w.model)
    accelerator = _pick(
        w, values.get("accelerator"), f"{where}accelerator", options.accelerator,
        "--accelerator", lambda raw, at: w.accelerator(raw, at, accelerators),
    )  # fmt: skip
    precision = _pick(
        w, values.get("precision"), f"{where}precision", options.precision, "--precision",
        w.precision,
    )  # fmt: skip
    seq = values.get("seq_len")
    if seq is None or seq == "":
        raise w.error(f"{where}seq_len", "is missing", BOUNDS["seq_len"][2])
    raw_kind = values.get("kind") or CaseKind.TRAIN.value
    if not isinstance(raw_kind, str) or raw_kind.strip() not in _TRAIN_KINDS:
        raise w.error(
            f"{where}kind", f"{shown(raw_kind)} is not a training kind", ", ".join(_TRAIN_KINDS)
        )
    return _Shared(
        model=model,
        accelerator=accelerator,
        precision=precision,
        seq_len=w.whole(seq, f"{where}seq_len", "seq_len"),
        kind=CaseKind(raw_kind.strip()),
    )


def _train_case(
    shared: _Shared, case_id: str, source: str, chips: int, rate: float, notes: str
) -> BenchmarkCase:
    return BenchmarkCase(
        case_id=case_id,
        source=source,
        kind=shared.kind,
        model=shared.model,
        precision=shared.precision,
        accelerator=shared.accelerator,
        accelerator_count=chips,
        input_tokens=None,
        output_tokens=None,
        seq_len=shared.seq_len,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=CaseMetric.TRAIN_TOKENS_PER_S,
        value=rate,
        notes=notes,
    )


def _no_chips_option(w: Where, options: RunOptions) -> None:
    if options.chips is not None:
        raise w.error(
            "--chips",
            "--chips does not apply to a training log: each run gives its chips",
            "no --chips with a training log",
        )


def train_yaml(
    text: str, file: str, options: RunOptions, accelerators: Mapping[str, Accelerator]
) -> UserRuns:
    w = Where(file)
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, file) from None
    except RecursionError:
        raise InputError("the YAML nests too deeply to read", file=file) from None
    check_nesting(data, file=file)
    if not isinstance(data, dict):
        raise w.error(
            "top level",
            f"a training log must be a mapping, got {shown(data)}",
            f"a mapping of {', '.join(_YAML_KEYS)}",
        )
    for key in data:
        if key not in _YAML_KEYS:
            raise w.error(str(key), "is not a training-log field", ", ".join(_YAML_KEYS))
    _no_chips_option(w, options)
    shared = _shared(w, data, "", options, accelerators)
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise w.error(
            "runs", f"must be a non-empty list of runs, got {shown(runs)}",
            "a list of {chips, tokens_per_s} mappings",
        )  # fmt: skip
    if len(runs) > MAX_RUNS:
        raise w.error("runs", f"holds more than {MAX_RUNS:,} runs")
    source = data.get("source")
    source_text = str(source) if source else f"training log {Path(file).name}"
    stem = file_stem(file)
    cases = []
    for i, run in enumerate(runs):
        at = f"runs[{i}]"
        if not isinstance(run, dict):
            raise w.error(at, f"must be a mapping, got {shown(run)}", "{chips, tokens_per_s}")
        for key in run:
            if key not in _RUN_KEYS:
                raise w.error(f"{at}.{key}", "is not a run field", ", ".join(_RUN_KEYS))
        for key in _CSV_REQUIRED:
            if key not in run:
                raise w.error(f"{at}.{key}", "is missing", _RUN_KEYS[0] + ", " + _RUN_KEYS[1])
        chips = w.whole(run["chips"], f"{at}.chips", "chips")
        rate = w.number(run["tokens_per_s"], f"{at}.tokens_per_s", "throughput")
        notes = str(run.get("notes") or "")
        cases.append(_train_case(shared, f"train-{stem}-{i + 1}", source_text, chips, rate, notes))
    return UserRuns(RunFormat.TRAIN_LOG, tuple(cases))


def train_csv(
    text: str, file: str, options: RunOptions, accelerators: Mapping[str, Accelerator]
) -> UserRuns:
    w = Where(file)
    reader = csv.reader(io.StringIO(text), strict=True)
    valid = (
        f"the columns {', '.join(_CSV_REQUIRED)} and, in any order, any of "
        f"{', '.join(_CSV_OPTIONAL)}"
    )
    cases: list[BenchmarkCase] = []
    try:
        header = [h.strip() for h in next(reader, [])]
        unknown = [h for h in header if h not in _CSV_REQUIRED + _CSV_OPTIONAL]
        missing = [h for h in _CSV_REQUIRED if h not in header]
        repeated = sorted({h for h in header if header.count(h) > 1})
        if unknown or missing or repeated:
            problems = [
                *(f"unknown column {h!r}" for h in unknown[:3]),
                *(f"missing column {h}" for h in missing),
                *(f"repeated column {h}" for h in repeated),
            ]
            raise w.error("header", "; ".join(problems), valid)
        _no_chips_option(w, options)
        stem = file_stem(file)
        number = 0
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            number += 1
            if number > MAX_RUNS:
                raise w.error(f"row {number}", f"the file holds more than {MAX_RUNS:,} runs")
            if len(fields) != len(header):
                raise w.error(
                    f"row {number}",
                    f"the row has {len(fields)} fields but the header has {len(header)}",
                    "one value per header column",
                )
            row = {h: f.strip() for h, f in zip(header, fields, strict=True)}
            at = f"row {number}, column "
            shared = _shared(w, row, at, options, accelerators)
            chips = w.whole(row["chips"], f"{at}chips", "chips")
            rate = w.number(row["tokens_per_s"], f"{at}tokens_per_s", "throughput")
            cases.append(
                _train_case(
                    shared, f"train-{stem}-{number}", f"training log {Path(file).name}",
                    chips, rate, row.get("notes", ""),
                )
            )  # fmt: skip
    except csv.Error as exc:
        raise w.error(f"line {reader.line_num}", f"malformed CSV ({exc})", "RFC 4180 CSV") from None
    if not cases:
        raise w.error("rows", "the file has a header but no runs", "one row per run")
    return UserRuns(RunFormat.TRAIN_LOG, tuple(cases))
