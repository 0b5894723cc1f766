"""Convert the published results in data/sources/perf/ into benchmark cases.

    python scripts/convert_calibration.py           # write the cases file
    python scripts/convert_calibration.py --check   # fail if the committed file differs

The cases file is ``src/arbiter/perf/data/calibration_cases.csv``.

Reads ``data/sources/perf/perf-calibration.csv`` (one row per published result, with the
suite's own vocabulary) and writes one case per row in the format of
``arbiter.perf.cases``. Every convention is a table below, with its source; they are the
conventions of ``data/sources/perf/perf-benchmark-conventions.md`` (section numbers in the
comments refer to it) and are summarised in ``docs/perf-cases.md``. Deterministic: the
same source gives the same bytes. A row the tables do not cover stops the script with a
message naming the row; rows left out on purpose are counted and printed with the reason.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from arbiter.domain.workload import Precision
from arbiter.perf.cases import (
    BenchmarkCase,
    CaseKind,
    CaseMetric,
    metrics_for,
    parse_cases,
    write_cases,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "sources" / "perf" / "perf-calibration.csv"
OUT = ROOT / "src" / "arbiter" / "perf" / "data" / "calibration_cases.csv"
# Published non-NVIDIA results already in the case format, with a notes column
# (data/sources/perf/extra/SOURCES.md): appended after the converted rows.
EXTRA = (
    ROOT / "data" / "sources" / "perf" / "extra" / "cases.csv",
    ROOT / "data" / "sources" / "perf" / "extra" / "unknown-models.csv",
)
_FIXED = re.compile(r"^\s*(FIXED_BATCH|CONCURRENCY)=(\d+)")
# A training row's global batch, as its notes state it (tokens per step, sequences per
# step, or sequences per chip), tried in this order.
_TOKENS_PER_STEP = re.compile(r"total_weights (\d+)")
_SEQUENCES_PER_STEP = re.compile(r"global batch (\d+) seq|batch size (\d+)")
_SEQUENCES_PER_CHIP = re.compile(r"per_device_batch_size (\d+)")
# The layout a row's notes state (SOURCES.md), in the source's own words: Neuron tables
# count NeuronCores (two per Trainium1 or Inferentia2 chip; four logical ones per
# Trainium2 chip at LNC=2), the others chips.
_NEURON_DEGREE = re.compile(r"TP degree (\d+)")
_NEURON_TOPOLOGY = re.compile(r"topology TP=(\d+) DP=\d+(?: PP=(\d+))?(;| \(as printed)")
_NEURON_GROUPS = re.compile(r"topology \[(\d+)xNC\(TP\)")
_CHIP_TP = re.compile(r"\bTP (\d+) on |--tensor[-_]parallel[-_]size[ =](\d+)|ici_tensor (\d+)")
NEURON_CORES_PER_CHIP = {"Trainium1": 2, "Inferentia2": 2, "Trainium2": 4}

# --- MLPerf Inference (conventions §1, §2, §4) ---------------------------------------


@dataclass(frozen=True, slots=True)
class InferenceBenchmark:
    """What every submission of one MLPerf Inference LLM benchmark runs."""

    model: str
    input_tokens: int  # mean tokens per sample of the dataset, rounded
    output_tokens: int  # reference mean output tokens per sample, rounded
    server: tuple[float, float]  # p99 (TTFT s, TPOT s) of the Server scenario
    interactive: tuple[float, float] | None  # the same for Interactive; None: no such scenario


# Token means (§1): input means recomputed from the MLCommons dataset files (summaries of
# github.com/Harshith-umesh/mlperf-dashboard @ 5a43d27); output means are the MLCommons
# reference `tokens_per_sample` (llama2-70b 294.45, llama3.1-405b 684.68, deepseek-r1
# 4043.45), the mixtral dataset reference mean (144.8) and the llama3.1-8b output cap
# (`max_output_len` 128). Latency limits (§2): LoadGen `mlperf.conf` of the v4.1 and v5.1
# submissions (`<model>.Server.ttft_latency` / `tpot_latency`, the `-interactive` models).
MLPERF_INFERENCE: dict[str, InferenceBenchmark] = {
    # OpenOrca GPT-4 subset, 24,576 samples: input mean 222.3, output 294.45
    "llama2-70b": InferenceBenchmark("llama-2-70b", 222, 294, (2, 0.2), (0.45, 0.04)),
    # OpenOrca + GSM8K + MBXP, 15,000 samples: input mean 427.4, output 144.8
    "mixtral-8x7b": InferenceBenchmark("mixtral-8x7b", 427, 145, (2, 0.2), None),
    # long-context mix, 8,313 samples: input mean 9,428.6, output 684.68
    "llama3.1-405b": InferenceBenchmark("llama-3.1-405b", 9429, 685, (6, 0.175), (4.5, 0.08)),
    # CNN/DailyMail validation, 13,368 samples: input mean 870.7, output capped at 128
    "llama3.1-8b": InferenceBenchmark("llama-3.1-8b", 871, 128, (2, 0.1), (0.5, 0.03)),
    # AIME, MATH500, GPQA, MMLU-Pro, LiveCodeBench, 4,388 samples: input 803.8, output 4,043.45
    "deepseek-r1": InferenceBenchmark("deepseek-r1", 804, 4043, (2, 0.08), None),
}
# Submission benchmark names -> the benchmark above (§4 model mapping). The -99 / -99.9
# suffixes are accuracy targets of the same workload.
MLPERF_INFERENCE_NAMES: dict[str, str] = {
    "llama2-70b-99": "llama2-70b",
    "llama2-70b-99.9": "llama2-70b",
    "mixtral-8x7b": "mixtral-8x7b",
    "llama3.1-405b": "llama3.1-405b",
    "llama3_1-405b": "llama3.1-405b",
    "llama3.1-8b": "llama3.1-8b",
    "deepseek-r1": "deepseek-r1",
}
# MLPerf scenario -> case kind (§4 kind). Offline has no latency limit.
MLPERF_SCENARIOS: dict[str, CaseKind] = {
    "Offline": CaseKind.INFER_OFFLINE,
    "Server": CaseKind.INFER_SERVER,
    "Interactive": CaseKind.INFER_INTERACTIVE,
}

# --- MLPerf Training (conventions §3) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingBenchmark:
    kind: CaseKind
    model: str
    seq_len: int  # MLLOG max_sequence_length (LoRA: samples padded to MAX_SEQLEN 8192)


MLPERF_TRAINING: dict[str, TrainingBenchmark] = {
    # LoRA rank 16 on GovReport; NVIDIA v5.1 megatron_gpt_peft_tuning_config.yaml MAX_SEQLEN
    "llama2_70b_lora": TrainingBenchmark(CaseKind.FINETUNE_LORA, "llama-2-70b", 8192),
    # continued pre-training on C4; MLLOG max_sequence_length 8192 (NVIDIA v5.1 result_0.txt)
    "llama31_405b": TrainingBenchmark(CaseKind.TRAIN, "llama-3.1-405b", 8192),
    # from scratch on C4; MLLOG max_sequence_length 8192 (AMD v5.1 MI350X result_0.txt)
    "llama31_8b": TrainingBenchmark(CaseKind.TRAIN, "llama-3.1-8b", 8192),
    # GPT-3 175B on C4; MLLOG max_sequence_length 2048 (NVIDIA v4.1 b200_n8 result_0.txt)
    "gpt3": TrainingBenchmark(CaseKind.TRAIN, "gpt-3-175b", 2048),
}
# Training throughput is the derived value in the notes (§3): mean samples to target x
# sequence length / raw olympic-mean time; it includes evaluation time.
DERIVED_THROUGHPUT = re.compile(r"derived throughput~([0-9.]+) tokens/s system")
SAMPLES = re.compile(r"mean samples-to-target over all ok runs=([0-9.]+) \(x(\d+) tokens/sample")
RAW_MINUTES = re.compile(r"raw mean ([0-9.]+) min")
# The derived value must agree with samples x seq_len / raw time within this share (§3
# says 0.07% for every row; the notes round the raw time to 0.001 min).
DERIVED_TOLERANCE = 0.001

# --- vendor tables and papers (conventions §4) ---------------------------------------

# Model names inside free text ("Llama 3.3 70B inference", "Mixtral 8x22B ...").
LLAMA_TEXT = re.compile(r"\bLlama[ -]?(\d+)(?:\.(\d+))? (\d+)B\b", re.IGNORECASE)
MIXTRAL_TEXT = re.compile(r"\bMixtral (\d+)x(\d+)B\b", re.IGNORECASE)
# Names that the patterns above cannot derive, matched by substring.
TEXT_MODELS: dict[str, str] = {
    "175B LLM pre-training": "megascale-175b",  # MegaScale (arXiv 2402.15627)
    "PaLM 540B": "palm-540b",  # PaLM (arXiv 2204.02311)
}
ISL_OSL = re.compile(r"ISL/OSL=(\d+)/(\d+)")
MAXTEXT_SEQ_LEN = re.compile(r"\bSL=(\d+)\b")  # MaxText tables state SL=4096 or 8192
NEURON_TRN1_SEQ_LEN = 8192  # AWS Neuron Trn1 training tables (§4 seq_len)
# Papers (§4 seq_len), keyed by the `version` column.
LLAMA3_CP = re.compile(r"\bCP(\d+)\b")
# Llama 3 paper (arXiv 2407.21783) Table 4: CP1 rows 8,192 tokens, the CP16 row 131,072.
LLAMA3_SEQ_LEN_BY_CP: dict[int, int] = {1: 8192, 16: 131072}
PAPER_SEQ_LEN: dict[str, int] = {
    "PaLM (2022)": 2048,  # PaLM trains on 2,048-token sequences
    "MegaScale (NSDI 2024)": 2048,  # ASSUMED: the GPT-3 175B setting, not confirmed from the paper
}

# --- precision (conventions §4 precision) --------------------------------------------

# The `precision` column as submitted (lower-cased) -> the case's precision.
PRECISIONS: dict[str, Precision] = {
    "fp4": Precision.FP4,
    "nvfp4": Precision.FP4,
    "mxfp4": Precision.FP4,  # AMD MI355X, open division
    "fp4 (assumed)": Precision.FP4,  # Google v5.0 B200
    "fp8": Precision.FP8,
    "bf16": Precision.BF16,
    "bf16 autocast + fp32 optimizer": Precision.BF16,
    "fp16": Precision.FP16,
}
# Prefixes of longer explanations in the column.
FP16_AS_REPORTED = "fp16 as reported"  # NVIDIA v4.1 TRT configs set use_fp8=True: FP8
SEE_SUBMISSION = "see submission"  # FP8 on GPUs (Transformer Engine / FP8 harnesses), BF16 on TPUs


@dataclass(frozen=True, slots=True)
class Override:
    """A precision the submission's own evidence shows, replacing what the row says."""

    suite: str
    version: str
    submitter: str
    accelerator: str
    precision: Precision
    rows: int  # how many source rows it must match, so a changed source is noticed
    evidence: str


OVERRIDES: tuple[Override, ...] = (
    Override(
        "MLPerf Inference",
        "v4.1",
        "NVIDIA",
        "B200",
        Precision.FP4,
        2,
        "inference_results_v4.1 closed/NVIDIA/documentation/calibration.md: LLM submissions use"
        " FP4 on accelerators that support it; the B200 is the only such part in v4.1",
    ),
    Override(
        "MLPerf Inference",
        "v4.1",
        "Dell",
        "MI300X",
        Precision.FP8,
        2,
        "inference_results_v4.1 closed/Dell code: the VllmFp8 harness with llama2_70b_wfp8_afp8",
    ),
)

# --- values (conventions §4 values) --------------------------------------------------

# (metric, unit) as submitted -> (case metric, factor to the case's unit).
METRICS: dict[tuple[str, str], tuple[CaseMetric, Decimal]] = {
    ("throughput", "tokens/s"): (CaseMetric.OUTPUT_TOKENS_PER_S, Decimal(1)),
    ("output_throughput", "output tokens/s"): (CaseMetric.OUTPUT_TOKENS_PER_S, Decimal(1)),
    ("achieved_TFLOPS_per_GPU", "TFLOPS/GPU"): (CaseMetric.ACHIEVED_TFLOPS_PER_CHIP, Decimal(1)),
    ("MFU", "%"): (CaseMetric.MFU, Decimal("0.01")),  # 55.2% -> 0.552
    ("tpot", "ms"): (CaseMetric.TPOT_S, Decimal("0.001")),
    ("tpot", "s"): (CaseMetric.TPOT_S, Decimal(1)),
    ("train_throughput", "tokens/s"): (CaseMetric.TRAIN_TOKENS_PER_S, Decimal(1)),
}


# --- conversion ----------------------------------------------------------------------


class ConversionError(Exception):
    """A source row the conventions do not cover."""


class Skip(Exception):  # noqa: N818 - a reason, not a failure
    """A source row left out on purpose; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A case before its id number is known."""

    prefix: str
    case: BenchmarkCase


def slug(text: str) -> str:
    """``Sustainable_Metal_Cloud`` -> ``sustainable-metal-cloud``."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def source_url(row: dict[str, str]) -> str:
    """The URL at the start of the `source` column (papers append a citation)."""
    first = row["source"].split()[0] if row["source"].split() else ""
    if not first.startswith("https://"):
        raise ConversionError(f"source {row['source']!r} does not start with a URL")
    return first


def precision_of(row: dict[str, str], used: Counter[Override]) -> Precision:
    for override in OVERRIDES:
        if (row["suite"], row["version"], row["submitter"], row["accelerator"]) == (
            override.suite,
            override.version,
            override.submitter,
            override.accelerator,
        ):
            used[override] += 1
            return override.precision
    text = row["precision"].strip().lower()
    if text in PRECISIONS:
        return PRECISIONS[text]
    if text.startswith(FP16_AS_REPORTED):
        return Precision.FP8
    if text.startswith(SEE_SUBMISSION):
        return Precision.BF16 if row["accelerator"].startswith("TPU") else Precision.FP8
    raise ConversionError(f"precision {row['precision']!r} is in no table")


def value_of(row: dict[str, str]) -> tuple[CaseMetric, float]:
    key = (row["metric"], row["unit"])
    if key not in METRICS:
        raise ConversionError(f"metric {row['metric']!r} in {row['unit']!r} is in no table")
    metric, factor = METRICS[key]
    return metric, float(Decimal(row["value"]) * factor)


def model_from_text(text: str) -> str:
    for needle, model in TEXT_MODELS.items():
        if needle.lower() in text.lower():
            return model
    if hit := LLAMA_TEXT.search(text):
        major, minor, size = hit.groups()
        version = f"{major}.{minor}" if minor else major
        return f"llama-{version}-{size}b"
    if hit := MIXTRAL_TEXT.search(text):
        return f"mixtral-{hit[1]}x{hit[2]}b"
    raise ConversionError(f"no model name found in {text!r}")


def count_of(row: dict[str, str]) -> int:
    text = row["accelerator_count"]
    if not text.isdigit() or int(text) < 1:
        raise ConversionError(f"accelerator_count {text!r} is not a whole number >= 1")
    return int(text)


def mlperf_inference(row: dict[str, str], used: Counter[Override]) -> Draft:
    name = MLPERF_INFERENCE_NAMES.get(row["benchmark"])
    if name is None:
        raise ConversionError(f"MLPerf Inference benchmark {row['benchmark']!r} is in no table")
    bench = MLPERF_INFERENCE[name]
    kind = MLPERF_SCENARIOS.get(row["scenario"])
    if kind is None:
        raise ConversionError(f"scenario {row['scenario']!r} is in no table")
    limits: tuple[float, float] | None = None
    if kind is CaseKind.INFER_SERVER:
        limits = bench.server
    elif kind is CaseKind.INFER_INTERACTIVE:
        if bench.interactive is None:
            raise ConversionError(f"{name} has no Interactive scenario")
        limits = bench.interactive
    metric, value = value_of(row)
    case = BenchmarkCase(
        case_id="",
        source=source_url(row),
        kind=kind,
        model=bench.model,
        precision=precision_of(row, used),
        accelerator=row["accelerator"],
        accelerator_count=count_of(row),
        input_tokens=bench.input_tokens,
        output_tokens=bench.output_tokens,
        seq_len=None,
        ttft_limit_s=limits[0] if limits else None,
        tpot_limit_s=limits[1] if limits else None,
        metric=metric,
        value=value,
    )
    prefix = f"mlpinf-{row['version']}-{name}-{slug(row['scenario'])}-{slug(row['submitter'])}"
    return Draft(prefix, case)


def training_throughput(row: dict[str, str], seq_len: int) -> float:
    notes = row["notes"]
    derived = DERIVED_THROUGHPUT.search(notes)
    if derived is None:
        raise Skip(f"MLPerf Training {row['benchmark']}: no derived throughput in the notes")
    value = float(derived[1])
    samples, minutes = SAMPLES.search(notes), RAW_MINUTES.search(notes)
    if samples is None or minutes is None:
        raise ConversionError("the notes give a derived throughput but not samples and time")
    if int(samples[2]) != seq_len:
        raise ConversionError(f"the notes say {samples[2]} tokens per sample, not {seq_len}")
    recomputed = float(samples[1]) * seq_len / (float(minutes[1]) * 60)
    if abs(recomputed / value - 1) > DERIVED_TOLERANCE:
        raise ConversionError(
            f"the derived throughput {value:g} disagrees with samples x seq_len / time"
            f" = {recomputed:.0f}"
        )
    return value


def mlperf_training(row: dict[str, str], used: Counter[Override]) -> Draft:
    bench = MLPERF_TRAINING.get(row["benchmark"])
    if bench is None:
        raise ConversionError(f"MLPerf Training benchmark {row['benchmark']!r} is in no table")
    if (row["metric"], row["unit"]) != ("time_to_train", "minutes"):
        raise ConversionError(f"metric {row['metric']!r} is not time_to_train in minutes")
    value = training_throughput(row, bench.seq_len)
    case = BenchmarkCase(
        case_id="",
        source=source_url(row),
        kind=bench.kind,
        model=bench.model,
        precision=precision_of(row, used),
        accelerator=row["accelerator"],
        accelerator_count=count_of(row),
        input_tokens=None,
        output_tokens=None,
        seq_len=bench.seq_len,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=CaseMetric.TRAIN_TOKENS_PER_S,
        value=value,
    )
    prefix = f"mlptrain-{row['version']}-{slug(row['benchmark'])}-{slug(row['submitter'])}"
    return Draft(prefix, case)


def vendor(row: dict[str, str], used: Counter[Override]) -> Draft:
    """TensorRT-LLM perf overview, MaxText and Neuron tables."""
    suite = row["suite"]
    model = model_from_text(row["benchmark"])
    metric, value = value_of(row)
    acc = slug(row["accelerator"])
    tokens: tuple[int, int] | None = None
    seq_len: int | None = None
    if metric in metrics_for(CaseKind.INFER_OFFLINE):
        lengths = ISL_OSL.search(row["scenario"])
        if lengths is None:
            raise ConversionError(f"scenario {row['scenario']!r} gives no ISL/OSL")
        tokens = (int(lengths[1]), int(lengths[2]))
        # Max throughput at an unbounded request rate is offline; a TPOT is batch-1 decode.
        kind = CaseKind.INFER_LATENCY if metric is CaseMetric.TPOT_S else CaseKind.INFER_OFFLINE
        if "TensorRT-LLM" in suite:
            prefix = f"trtllm-{model}-{tokens[0]}-{tokens[1]}-{acc}"
        elif "Neuron" in suite and kind is CaseKind.INFER_LATENCY:
            prefix = f"neuron-decode-{model}-{acc}"
        else:
            raise ConversionError(f"inference rows of suite {suite!r} are in no table")
    else:
        kind = CaseKind.TRAIN
        if "MaxText" in suite:
            hit = MAXTEXT_SEQ_LEN.search(f"{row['scenario']} {row['notes']}")
            if hit is None:
                raise ConversionError("a MaxText row without SL=<sequence length>")
            seq_len = int(hit[1])
            prefix = f"maxtext-{model}-{acc}"
        elif "Neuron" in suite:
            seq_len = NEURON_TRN1_SEQ_LEN
            prefix = f"neuron-train-{model}-{acc}"
        else:
            raise ConversionError(f"training rows of suite {suite!r} are in no table")
    case = BenchmarkCase(
        case_id="",
        source=source_url(row),
        kind=kind,
        model=model,
        precision=precision_of(row, used),
        accelerator=row["accelerator"],
        accelerator_count=count_of(row),
        input_tokens=tokens[0] if tokens else None,
        output_tokens=tokens[1] if tokens else None,
        seq_len=seq_len,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=metric,
        value=value,
    )
    return Draft(prefix, case)


def paper(row: dict[str, str], used: Counter[Override]) -> Draft:
    model = model_from_text(row["benchmark"])
    if row["version"].startswith("Llama 3"):
        cp = LLAMA3_CP.search(row["scenario"])
        if cp is None or int(cp[1]) not in LLAMA3_SEQ_LEN_BY_CP:
            raise ConversionError(f"Llama 3 row with unknown context parallelism {row['scenario']}")
        seq_len = LLAMA3_SEQ_LEN_BY_CP[int(cp[1])]
    elif row["version"] in PAPER_SEQ_LEN:
        seq_len = PAPER_SEQ_LEN[row["version"]]
    else:
        raise ConversionError(f"paper {row['version']!r} has no sequence length in the tables")
    metric, value = value_of(row)
    case = BenchmarkCase(
        case_id="",
        source=source_url(row),
        kind=CaseKind.TRAIN,
        model=model,
        precision=precision_of(row, used),
        accelerator=row["accelerator"],
        accelerator_count=count_of(row),
        input_tokens=None,
        output_tokens=None,
        seq_len=seq_len,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=metric,
        value=value,
    )
    return Draft(f"paper-{model}", case)


Converter = Callable[[dict[str, str], Counter[Override]], Draft]


def converter_for(suite: str) -> Converter:
    if suite == "MLPerf Inference":
        return mlperf_inference
    if suite == "MLPerf Training":
        return mlperf_training
    if suite.startswith("Vendor benchmark"):
        return vendor
    if suite == "Paper":
        return paper
    raise ConversionError(f"suite {suite!r} is in no table")


@dataclass(frozen=True, slots=True)
class Conversion:
    cases: tuple[BenchmarkCase, ...]
    skipped: dict[str, int]  # reason -> rows

    def summary(self) -> str:
        lines = [f"{len(self.cases)} cases"]
        lines += [f"left out: {n} rows, {reason}" for reason, n in sorted(self.skipped.items())]
        return "\n".join(lines)


def convert(
    text: str, *, file: str = "perf-calibration.csv", check_overrides: bool = True
) -> Conversion:
    """Every row of the calibration CSV ``text`` as a case, ids numbered in file order.

    ``check_overrides`` requires each precision override to match exactly its rows (off
    only for converting a few rows on their own).
    """
    used: Counter[Override] = Counter()
    skipped: Counter[str] = Counter()
    numbers: Counter[str] = Counter()
    cases = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            draft = converter_for(row["suite"])(row, used)
        except Skip as reason:
            skipped[str(reason)] += 1
            continue
        except (ConversionError, ArithmeticError, ValueError) as exc:
            raise ConversionError(f"{file} line {line}: {exc}") from None
        numbers[draft.prefix] += 1
        cases.append(replace(draft.case, case_id=f"{draft.prefix}-{numbers[draft.prefix]}"))
    for override in OVERRIDES if check_overrides else ():
        if used[override] != override.rows:
            raise ConversionError(
                f"the precision override for {override.submitter} {override.version}"
                f" {override.accelerator} matched {used[override]} rows, not {override.rows}"
            )
    # Round trip through the case format: its validation applies to every converted row.
    out = parse_cases(write_cases(cases), file="converted cases")
    return Conversion(out, dict(skipped))


def training_batch(case: BenchmarkCase) -> int | None:
    """Sequences per optimizer step of a training row, as its notes state them: MaxText's
    ``total_weights`` (tokens per step) over ``seq_len``, a ``global batch N seq`` (Neuron
    tables) or ``batch size N`` (Intel's tables), else ``per_device_batch_size`` times
    the chips (MaxText configs); None when the notes say nothing."""
    if not case.kind.is_training or case.seq_len is None:
        return None
    m = _TOKENS_PER_STEP.search(case.notes)
    if m is not None:
        return max(1, round(int(m.group(1)) / case.seq_len))
    m = _SEQUENCES_PER_STEP.search(case.notes)
    if m is not None:
        return int(m.group(1) or m.group(2))
    m = _SEQUENCES_PER_CHIP.search(case.notes)
    if m is not None:
        return int(m.group(1)) * case.accelerator_count
    return None


def stated_layout(case: BenchmarkCase) -> tuple[int | None, int | None]:
    """``(tp, pp)`` in chips as a row's notes state them, ``(None, None)`` when they do
    not or when the notes doubt the printed topology (it does not multiply to the chips)."""
    cores = NEURON_CORES_PER_CHIP.get(case.accelerator)
    if cores is not None:
        m = _NEURON_TOPOLOGY.search(case.notes)
        if m is not None and m.group(3) == ";":
            return int(m.group(1)) // cores, int(m.group(2) or 1)
        m = _NEURON_GROUPS.search(case.notes) or _NEURON_DEGREE.search(case.notes)
        if m is not None:
            return int(m.group(1)) // cores, 1
        return None, None
    m = _CHIP_TP.search(case.notes)
    if m is None:
        return None, None
    return int(next(g for g in m.groups() if g)), 1


def extra_cases(text: str, *, file: str) -> tuple[BenchmarkCase, ...]:
    """The cases of an extra file, its notes' ``FIXED_BATCH=<n>`` or ``CONCURRENCY=<n>``
    prefix moved into the ``batch`` or ``concurrency`` column (SOURCES.md: such rows
    were measured at that batch, not at peak throughput), and a training row's global
    batch, where its notes state it (:func:`training_batch`), into ``batch``; the layout
    the notes state (:func:`stated_layout`) into ``tp`` and ``pp``."""
    out = []
    for read in parse_cases(text, file=file):
        tp, pp = stated_layout(read)
        case = replace(read, tp=tp, pp=pp)
        if case.batch is None and (steps := training_batch(case)) is not None:
            out.append(replace(case, batch=steps))
            continue
        m = _FIXED.match(case.notes)
        n = None if m is None else int(m.group(2))
        if m is not None and m.group(1) == "FIXED_BATCH":
            out.append(replace(case, batch=n))
        elif m is not None:
            out.append(replace(case, concurrency=n))
        else:
            out.append(case)
    return tuple(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    try:
        conversion = convert(SOURCE.read_text(encoding="utf-8"), file=str(SOURCE.relative_to(ROOT)))
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cases = list(conversion.cases)
    for path in EXTRA:
        cases += extra_cases(path.read_text(encoding="utf-8"), file=str(path.relative_to(ROOT)))
    # one more round trip: ids unique across both, every row valid in the shipped format
    text = write_cases(parse_cases(write_cases(cases), file="calibration cases"))
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"stale: {OUT} (run: python scripts/convert_calibration.py)")
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(conversion.summary())
    print(f"{len(cases) - len(conversion.cases)} cases appended from data/sources/perf/extra/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
