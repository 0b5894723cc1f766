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
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import InputError
from arbiter.domain.limits import check_nesting, shown
from arbiter.domain.workload import Precision
from arbiter.perf.cases import COLUMNS, BenchmarkCase, CaseKind, CaseMetric, parse_cases
from arbiter.perf.run_fields import (
    MAX_FILE_BYTES,
    MAX_RUNS,
    PRECISIONS,
    Excluded,
    RunFormat,
    RunOptions,
    UserRuns,
    Where,
    file_stem,
    given,
)
from arbiter.perf.train_log import train_csv, train_yaml

__all__ = ["Excluded", "RunFormat", "RunOptions", "UserRuns", "parse_user_runs", "read_file"]

LOAD_BOUND_SHARE = 0.9


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
        for option, value in given(options):
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
        return train_csv(text, file, options, accelerators)
    return train_yaml(text, file, options, accelerators)


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
    w = Where(file)
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
        raise w.error("--precision", f"{what} the precision it ran at", PRECISIONS)
    accelerator = w.accelerator(options.accelerator, "--accelerator", accelerators)
    chips = w.whole(options.chips, "--chips", "chips")
    precision = w.precision(options.precision, "--precision")
    model = None if options.model is None else w.model(options.model, "--model")
    cases: list[BenchmarkCase] = []
    excluded: list[Excluded] = []
    stem = file_stem(file)
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
    w: Where,
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


def _rate(raw: object, field: str, w: Where) -> float:
    if isinstance(raw, str) and raw.strip().lower() in ("inf", "infinity"):
        return math.inf
    if isinstance(raw, float) and math.isinf(raw) and raw > 0:
        return math.inf
    return w.number(raw, field, "rate")
