"""The user's own measurements, in one of three formats, as benchmark cases.

``arbiter perf calibrate FILE`` reads one file of runs measured on the user's systems and
turns each run into a :class:`~arbiter.perf.cases.BenchmarkCase`, the form the model is
checked on (:mod:`arbiter.perf.calibration` fits the profile). The format is told from
the file (``--format`` overrides):

``cases``: a benchmark-case CSV
    exactly the format of ``arbiter perf validate`` (:mod:`arbiter.perf.cases`,
    ``docs/perf-cases.md``): the header starts with ``case_id``. Every row names its
    accelerator, chips, model and precision, so ``--accelerator``, ``--chips``,
    ``--model`` and ``--precision`` do not apply.

``vllm``: a vLLM ``benchmark_serving.py --save-result`` JSON
    one result object (or a list of them). Read: ``completed``, ``total_input_tokens``
    and ``total_output_tokens`` (the mean lengths per request are their quotients),
    ``output_throughput`` (generated tokens/s of the whole server; else
    ``total_output_tokens / duration``), ``request_rate`` (a number or ``"inf"``),
    ``max_concurrency`` (a number or null), ``model_id``, and for the notes ``duration``,
    ``num_prompts``, ``burstiness``, ``backend``, ``date``. The JSON does not say what
    ran it: ``--accelerator``, ``--chips`` (the server's chips, all its replicas) and
    ``--precision`` are required; the model is ``--model`` or else ``model_id`` (a
    Hugging Face id reads as its last part). Each run becomes an ``infer_offline`` case
    with metric ``output_tokens_per_s``:

    - ``request_rate`` inf with a ``max_concurrency``: a closed loop holding that many
      requests in flight, the case's ``concurrency``;
    - ``request_rate`` inf without one: every prompt sent at once, the engine's own batch
      (the throughput-maximising batch the model picks offline);
    - a finite ``request_rate``: Poisson (or gamma) arrivals, which the notes say; such a
      run measures the chip only when the server fell behind the offered load. A run that
      completed at least ``LOAD_BOUND_SHARE`` of the offered requests/s measured the load,
      a lower bound on the chip's throughput: it is read, and excluded from the fit with
      that reason.

``train-log``: a training-run summary, YAML or CSV
    YAML (``.yaml``/``.yml``)::

        model: llama-3.1-8b          # registry name or alias (`arbiter perf models`)
        accelerator: H100            # any alias the catalog knows
        precision: bf16              # bf16 | fp16 | fp8 | fp4
        seq_len: 8192                # training sequence length, tokens
        kind: train                  # train (default) | finetune_lora
        source: "cluster A, job 4711"   # optional: where the numbers come from
        runs:                        # one per system size measured
          - {chips: 8, tokens_per_s: 95000}
          - {chips: 64, tokens_per_s: 690000, notes: "steady state, steps 200-400"}

    or CSV with the columns ``chips, tokens_per_s`` and, in any order, any of ``model,
    accelerator, precision, seq_len, kind, notes``. ``tokens_per_s`` is trained tokens
    per second of the whole job (all ``chips``), averaged over steady-state steps. A field
    the file does not give comes from the option of the same name (``--model``,
    ``--accelerator``, ``--precision``); one given by both must agree.

Anything that cannot be read raises an :class:`~arbiter.domain.errors.InputError` naming
the file and the field (``output_throughput``, ``[2].max_concurrency``,
``runs[1].tokens_per_s``, ``row 3, column chips``, ``--accelerator``) and saying what is
valid: exit code 2.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

from arbiter.catalog.names import canonical_accelerator
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.limits import check_nesting, shown
from arbiter.domain.workload import Precision
from arbiter.perf.cases import COLUMNS, BenchmarkCase, CaseKind, CaseMetric, parse_cases
from arbiter.workloads.loading import UniqueKeyLoader, yaml_error
from arbiter.workloads.registry import resolve_model

LOAD_BOUND_SHARE = 0.9
MAX_FILE_BYTES = 50_000_000  # a vLLM result with --save-detailed is a few MB
MAX_RUNS = 100_000

# the bounds of cases.py, with its reasons: beyond them a value is a typo or a broken file
_BOUNDS = {
    "chips": (1, 1_000_000, "a whole number >= 1 (chips of the whole system), at most 1,000,000"),
    "tokens": (1e-3, 1e7, "a number > 0 (tokens per request, at most 10,000,000)"),
    "throughput": (1e-12, 1e15, "a number > 0 (tokens/s of the whole system, at most 1e15)"),
    "seq_len": (1, 1e7, "a whole number >= 1 (tokens, at most 10,000,000)"),
    "count": (1, 1e12, "a whole number >= 1"),
    "seconds": (1e-9, 1e9, "a number > 0 (seconds)"),
    "rate": (1e-12, 1e12, 'a number > 0 (requests/s), or "inf"'),
}
_PRECISIONS = ", ".join(p.value for p in Precision)


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


def read_file(path: Path) -> bytes:
    """The bytes of ``path``; an InputError naming it when it cannot be read."""
    file = str(path)
    try:
        if not path.exists():
            raise InputError("the file does not exist", file=file)
        if path.is_dir():
            raise InputError("is a directory, not a file of runs", file=file)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(
                f"the file is larger than {MAX_FILE_BYTES:,} bytes",
                file=file,
                valid="a results file of runs (save vLLM results without --save-detailed)",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=file) from None


def parse_user_runs(
    data: bytes,
    *,
    file: str,
    options: RunOptions,
    accelerators: Mapping[str, Accelerator],
    run_format: RunFormat | None = None,
) -> UserRuns:
    """The runs in ``data`` (the bytes of ``file``), in ``run_format`` or the one the
    file has (module docstring)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start})",
            file=file,
            valid="a benchmark-case CSV, a vLLM result JSON or a training-log YAML/CSV",
        ) from None
    if not text.strip():
        raise InputError("the file is empty", file=file)
    fmt = run_format or detect_format(file, text)
    if fmt is RunFormat.CASES:
        for option, value in _given(options):
            raise InputError(
                f"{option} does not apply to a benchmark-case CSV: each row names its own "
                f"{option.removeprefix('--')} (got {shown(value)})",
                file=file,
                field=option,
                valid="no --accelerator, --chips, --model or --precision with a case CSV",
            )
        return UserRuns(fmt, parse_cases(text, file=file))
    if fmt is RunFormat.VLLM:
        return _vllm(_json(text, file), file, options, accelerators)
    if _looks_csv(file, text):
        return _train_csv(text, file, options, accelerators)
    return _train_yaml(text, file, options, accelerators)


def detect_format(file: str, text: str) -> RunFormat:
    """JSON is a vLLM result; ``.yaml``/``.yml`` a training log; a CSV by its header."""
    head = text.lstrip()
    if head.startswith(("{", "[")):
        return RunFormat.VLLM
    if Path(file).suffix.lower() in (".yaml", ".yml"):
        return RunFormat.TRAIN_LOG
    first = next(csv.reader(io.StringIO(head.splitlines()[0])), [])
    header = {h.strip() for h in first}
    if first and first[0].strip() == COLUMNS[0]:
        return RunFormat.CASES
    if {"chips", "tokens_per_s"} <= header:
        return RunFormat.TRAIN_LOG
    raise InputError(
        "cannot tell the format of the file",
        file=file,
        field="header",
        valid="a benchmark-case CSV (header starting with case_id), a vLLM "
        "benchmark_serving.py result (JSON), a training log (YAML, or CSV with chips and "
        "tokens_per_s columns); or name it with --format cases|vllm|train-log",
    )


def _looks_csv(file: str, text: str) -> bool:
    if Path(file).suffix.lower() in (".yaml", ".yml"):
        return False
    if Path(file).suffix.lower() == ".csv":
        return True
    first = text.lstrip().splitlines()[0]
    return "," in first and "tokens_per_s" in first and ":" not in first


def _given(options: RunOptions) -> list[tuple[str, object]]:
    pairs = [
        ("--accelerator", options.accelerator),
        ("--chips", options.chips),
        ("--model", options.model),
        ("--precision", options.precision),
    ]
    return [(k, v) for k, v in pairs if v is not None]


def _stem(file: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(file).stem).strip("-")
    return stem[:60] or "run"


# --- values ------------------------------------------------------------------------------


class _Where:
    """Builds errors and reads typed values for one file; ``field`` is the path of the
    value, in the file's own terms."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, field: str, message: str, valid: str | None = None) -> InputError:
        return InputError(message, file=self.file, field=field, valid=valid)

    def number(self, raw: object, field: str, bound: str) -> float:
        low, high, valid = _BOUNDS[bound]
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
            raise self.error(field, f"{shown(raw)} is not a whole number", _BOUNDS[bound][2])
        return int(value)

    def precision(self, raw: object, field: str) -> Precision:
        text = raw.strip().lower() if isinstance(raw, str) else ""
        try:
            return Precision(text)
        except ValueError:
            raise self.error(field, f"{shown(raw)} is not a precision", _PRECISIONS) from None

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


def _json(text: str, file: str) -> object:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            file=file,
            valid="the JSON file benchmark_serving.py --save-result writes",
        ) from None
    except RecursionError:
        raise InputError("the JSON nests too deeply to read", file=file) from None
    check_nesting(data, file=file)
    return data


# --- vLLM --------------------------------------------------------------------------------


def _vllm(
    data: object, file: str, options: RunOptions, accelerators: Mapping[str, Accelerator]
) -> UserRuns:
    w = _Where(file)
    runs = data if isinstance(data, list) else [data]
    if not runs:
        raise w.error("[]", "the list holds no results", "one result object or a list of them")
    if len(runs) > MAX_RUNS:
        raise w.error("[]", f"the list holds more than {MAX_RUNS:,} results")
    what = "a vLLM result does not say"
    if options.accelerator is None:
        raise w.error(
            "--accelerator", f"{what} which accelerator served it", "e.g. --accelerator H100"
        )
    if options.chips is None:
        raise w.error(
            "--chips", f"{what} how many chips served it", "the chips of the whole server, e.g. 8"
        )
    if options.precision is None:
        raise w.error("--precision", f"{what} the precision it ran at", _PRECISIONS)
    accelerator = w.accelerator(options.accelerator, "--accelerator", accelerators)
    chips = w.whole(options.chips, "--chips", "chips")
    precision = w.precision(options.precision, "--precision")
    model = None if options.model is None else w.model(options.model, "--model")
    cases: list[BenchmarkCase] = []
    excluded: list[Excluded] = []
    stem = _stem(file)
    for i, run in enumerate(runs):
        at = "" if len(runs) == 1 and not isinstance(data, list) else f"[{i}]."
        case_id = f"vllm-{stem}" if not at else f"vllm-{stem}-{i + 1}"
        case, load_bound = _vllm_case(
            run, at, w, case_id, accelerator=accelerator, chips=chips,
            precision=precision, model=model,
        )  # fmt: skip
        cases.append(case)
        if load_bound is not None:
            excluded.append(Excluded(case_id, load_bound))
    return UserRuns(RunFormat.VLLM, tuple(cases), tuple(excluded))


def _vllm_case(
    run: object,
    at: str,
    w: _Where,
    case_id: str,
    *,
    accelerator: str,
    chips: int,
    precision: Precision,
    model: str | None,
) -> tuple[BenchmarkCase, str | None]:
    """One result object as a case, and why it is excluded from the fit (None: it is not)."""
    if not isinstance(run, dict):
        raise w.error(
            at.rstrip(".") or "top level",
            f"a result must be a JSON object, got {shown(run)}",
            "the object benchmark_serving.py --save-result writes",
        )

    def need(key: str) -> object:
        if key not in run:
            raise w.error(
                f"{at}{key}", "is missing", "the keys benchmark_serving.py --save-result writes"
            )
        return run[key]

    completed = w.whole(need("completed"), f"{at}completed", "count")
    input_tokens = w.number(need("total_input_tokens"), f"{at}total_input_tokens", "throughput")
    output_tokens = w.number(need("total_output_tokens"), f"{at}total_output_tokens", "throughput")
    mean_in = w.number(input_tokens / completed, f"{at}total_input_tokens", "tokens")
    mean_out = w.number(output_tokens / completed, f"{at}total_output_tokens", "tokens")
    duration = None
    if run.get("duration") is not None:
        duration = w.number(run["duration"], f"{at}duration", "seconds")
    if run.get("output_throughput") is not None:
        throughput = w.number(run["output_throughput"], f"{at}output_throughput", "throughput")
    elif duration is not None:
        throughput = w.number(output_tokens / duration, f"{at}output_throughput", "throughput")
    else:
        raise w.error(f"{at}output_throughput", "is missing (and so is duration)")
    if model is None:
        model = w.model(need("model_id"), f"{at}model_id")
    rate = _rate(run.get("request_rate", "inf"), f"{at}request_rate", w)
    concurrency = None
    if run.get("max_concurrency") is not None:
        concurrency = w.whole(run["max_concurrency"], f"{at}max_concurrency", "count")
    notes = [
        f"vLLM benchmark_serving ({run.get('backend', 'backend not given')}, "
        f"{run.get('date', 'undated')}): {completed:,} requests completed, mean "
        f"{mean_in:,.0f} in / {mean_out:,.0f} out tokens"
        + (f", over {duration:,.1f} s" if duration is not None else "")
    ]
    excluded = None
    if math.isinf(rate):
        if concurrency is not None:
            notes.append(f"request rate inf, max_concurrency {concurrency}: a closed loop")
        else:
            notes.append("request rate inf, no max_concurrency: every prompt at once")
        fixed = concurrency
    else:
        burst = run.get("burstiness", 1.0)
        notes.append(
            f"arrivals at {rate:g} requests/s (burstiness {shown(burst)}"
            + (f", max_concurrency {concurrency}" if concurrency is not None else "")
            + "), not a closed loop: read as offline at the engine's own batch"
        )
        fixed = None
        done = run.get("request_throughput")
        served = (
            w.number(done, f"{at}request_throughput", "rate")
            if done is not None
            else (completed / duration if duration is not None else None)
        )
        if served is not None and served >= LOAD_BOUND_SHARE * rate:
            excluded = (
                f"load-bound: it completed {served:.3g} of the {rate:g} requests/s offered, so "
                "its throughput is the offered load, a lower bound on the chip's; rerun with "
                "--request-rate inf and a --max-concurrency"
            )
            notes.append("load-bound (excluded from the fit)")
    case = BenchmarkCase(
        case_id=case_id,
        source=f"vLLM benchmark_serving result {Path(w.file).name}",
        kind=CaseKind.INFER_OFFLINE,
        model=model,
        precision=precision,
        accelerator=accelerator,
        accelerator_count=chips,
        input_tokens=mean_in,
        output_tokens=mean_out,
        seq_len=None,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=CaseMetric.OUTPUT_TOKENS_PER_S,
        value=throughput,
        concurrency=fixed,
        notes="; ".join(notes),
    )
    return case, excluded


def _rate(raw: object, field: str, w: _Where) -> float:
    if isinstance(raw, str) and raw.strip().lower() in ("inf", "infinity"):
        return math.inf
    if isinstance(raw, float) and math.isinf(raw) and raw > 0:
        return math.inf
    return w.number(raw, field, "rate")


# --- training logs -----------------------------------------------------------------------

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
    w: _Where,
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
    w: _Where,
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
        raise w.error(f"{where}seq_len", "is missing", _BOUNDS["seq_len"][2])
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


def _no_chips_option(w: _Where, options: RunOptions) -> None:
    if options.chips is not None:
        raise w.error(
            "--chips",
            "--chips does not apply to a training log: each run gives its chips",
            "no --chips with a training log",
        )


def _train_yaml(
    text: str, file: str, options: RunOptions, accelerators: Mapping[str, Accelerator]
) -> UserRuns:
    w = _Where(file)
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
    stem = _stem(file)
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


def _train_csv(
    text: str, file: str, options: RunOptions, accelerators: Mapping[str, Accelerator]
) -> UserRuns:
    w = _Where(file)
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
        stem = _stem(file)
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
