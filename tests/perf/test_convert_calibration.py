"""scripts/convert_calibration.py: the published results become the reference cases exactly."""

from __future__ import annotations

import csv
import importlib.util
import io
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from arbiter.domain.workload import Precision
from arbiter.perf.cases import (
    COLUMNS,
    BenchmarkCase,
    CaseKind,
    CaseMetric,
    read_cases,
    write_cases,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "convert_calibration.py"
SOURCE = ROOT / "data" / "sources" / "perf" / "perf-calibration.csv"
COMMITTED = ROOT / "src" / "arbiter" / "perf" / "data" / "calibration_cases.csv"
# A copy of the reference collection's perf-calibration-cases.csv (tests never read ../shared).
REFERENCE = ROOT / "tests" / "data" / "perf" / "perf-calibration-cases.csv"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_calibration", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


conv = _load_script()


@pytest.fixture(scope="module")
def cases() -> dict[str, BenchmarkCase]:
    conversion = conv.convert(SOURCE.read_text(encoding="utf-8"))
    return {c.case_id: c for c in conversion.cases}


def source_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(SOURCE.read_text(encoding="utf-8"))))


def source_text(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(source_rows()[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def one_case(row: dict[str, str]) -> BenchmarkCase:
    (case,) = conv.convert(source_text(row), check_overrides=False).cases
    return case


# --- the whole file ------------------------------------------------------------------


def test_committed_file_is_current():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_conversion_reproduces_the_reference_cases_byte_for_byte():
    conversion = conv.convert(SOURCE.read_text(encoding="utf-8"))
    text = write_cases(conversion.cases)
    assert text == REFERENCE.read_text(encoding="utf-8")
    assert len(conversion.cases) == 194
    # the committed file: these cases, then the vendor pages' rows as published
    committed = read_cases(COMMITTED)
    assert committed[:194] == conversion.cases
    extra = [
        case
        for path in conv.EXTRA
        for case in conv.extra_cases(path.read_text(encoding="utf-8"), file=path.name)
    ]
    assert list(committed[194:]) == extra and len(extra) == 216


def test_fixed_batch_and_concurrency_move_from_the_notes_to_their_columns():
    head = ",".join(COLUMNS) + ",notes\n"
    row = (
        "x-1,https://example.org,infer_offline,llama-2-7b,bf16,Gaudi2,1,128,128,,,,"
        "output_tokens_per_s,1000,"
    )
    (fixed,) = conv.extra_cases(head + row + '"FIXED_BATCH=44; Intel table"\n', file="f")
    (conc,) = conv.extra_cases(head + row + '"CONCURRENCY=64; vLLM"\n', file="f")
    (plain,) = conv.extra_cases(head + row + '"batch of 8 mentioned later"\n', file="f")
    assert (fixed.batch, fixed.concurrency) == (44, None)
    assert (conc.batch, conc.concurrency) == (None, 64)
    assert (plain.batch, plain.concurrency) == (None, None)


def test_only_the_gpt3_rows_without_a_derived_throughput_are_left_out():
    conversion = conv.convert(SOURCE.read_text(encoding="utf-8"))
    assert conversion.skipped == {"MLPerf Training gpt3: no derived throughput in the notes": 21}
    assert len(source_rows()) == 194 + 21
    assert "21 rows" in conversion.summary()


# --- spot checks, by hand --------------------------------------------------------------


def test_b200_v41_llama2_rows_become_fp4(cases):
    # NVIDIA v4.1 B200-SXM-180GBx1_TRT llama2-70b-99 Offline: precision column says
    # "fp16 as reported" (which alone maps to fp8); NVIDIA's v4.1 calibration.md says LLM
    # submissions use FP4 where the chip supports it, so the case is fp4.
    b200 = [c for c in cases.values() if c.accelerator == "B200" and c.kind.is_inference]
    b200 = [c for c in b200 if c.case_id.startswith("mlpinf-v4.1")]
    assert {c.kind for c in b200} == {CaseKind.INFER_OFFLINE, CaseKind.INFER_SERVER}
    assert {c.precision for c in b200} == {Precision.FP4}
    offline = next(c for c in b200 if c.kind is CaseKind.INFER_OFFLINE)
    assert offline.value == 11264.4
    assert offline.accelerator_count == 1


def test_dell_mi300x_fp16_rows_become_fp8(cases):
    # Dell XE9680_MI300X_192GBx8 says "fp16"; its code is the VllmFp8 harness.
    dell = [c for c in cases.values() if "Dell/results/XE9680_MI300X" in c.source]
    assert len(dell) == 2
    assert {c.precision for c in dell} == {Precision.FP8}


def test_precision_column_spellings(cases):
    # "fp16 as reported; NVIDIA v4.1 TRT configs set use_fp8=True" -> fp8
    assert cases["mlpinf-v4.1-llama2-70b-offline-asustek-1"].precision is Precision.FP8
    # "see submission" on a GPU -> fp8 (Gaudi2 LoRA too: its v4.0 code ships an fp8 script)
    assert cases["mlptrain-v4.0-llama2-70b-lora-intel-habanalabs-1"].precision is Precision.FP8
    # paper "bf16" stays bf16
    assert cases["paper-palm-540b-1"].precision is Precision.BF16


def test_mlperf_inference_lengths_and_limits(cases):
    # llama2-70b: OpenOrca input mean 222.3 -> 222; reference output 294.45 -> 294;
    # Server p99 TTFT 2 s, TPOT 200 ms; Offline has no limit.
    offline = cases["mlpinf-v4.1-llama2-70b-offline-amd-1"]
    server = cases["mlpinf-v4.1-llama2-70b-server-amd-1"]
    assert (offline.input_tokens, offline.output_tokens) == (222, 294)
    assert (offline.ttft_limit_s, offline.tpot_limit_s) == (None, None)
    assert (server.ttft_limit_s, server.tpot_limit_s) == (2, 0.2)
    assert offline.value == 3062.72  # whole-system generated tokens/s, unchanged
    # mixtral-8x7b: input 427.4 -> 427, output 144.8 -> 145
    mixtral = cases["mlpinf-v4.1-mixtral-8x7b-server-dell-1"]
    assert (mixtral.model, mixtral.input_tokens, mixtral.output_tokens) == (
        "mixtral-8x7b",
        427,
        145,
    )
    # v4.0 llama2-70b-99.9 is the same workload as -99
    assert cases["mlpinf-v4.0-llama2-70b-server-intel-habanalabs-1"].model == "llama-2-70b"


def test_lora_training_throughput_is_samples_times_8192_over_time(cases):
    # ASUSTeK v4.0 ESC_N8A-E12 notes: samples-to-target 3110, raw olympic mean 29.429 min,
    # derived ~14431 tokens/s. By hand: 3110 x 8192 / (29.429 x 60) = 14428.6 (0.02% off
    # the derived value, which the notes compute from unrounded times).
    case = cases["mlptrain-v4.0-llama2-70b-lora-asustek-1"]
    assert case.kind is CaseKind.FINETUNE_LORA
    assert case.metric is CaseMetric.TRAIN_TOKENS_PER_S
    assert case.value == 14431
    assert case.value == pytest.approx(3110 * 8192 / (29.429 * 60), rel=0.001)
    assert case.seq_len == 8192
    assert (case.input_tokens, case.output_tokens) == (None, None)
    # NVIDIA v4.1 eos_n128: 1024 H100s, derived ~1297246 tokens/s
    big = cases["mlptrain-v4.1-llama2-70b-lora-nvidia-2"]
    assert (big.accelerator_count, big.value) == (1024, 1297246)


def test_trtllm_rows(cases):
    # H100-SXM TP2, Llama 3.3 70B, ISL/OSL 128/2048, FP8: 6651 output tokens/s
    case = cases["trtllm-llama-3.3-70b-128-2048-h100-sxm-1"]
    assert case.kind is CaseKind.INFER_OFFLINE
    assert (case.input_tokens, case.output_tokens) == (128, 2048)
    assert (case.accelerator_count, case.precision, case.value) == (2, Precision.FP8, 6651)
    assert cases["trtllm-llama-3.1-405b-1000-1000-gb200-1"].precision is Precision.FP4


def test_papers(cases):
    # MegaScale 55.2% MFU -> 0.552 (seq_len 2048 is assumed, see the conventions)
    mega = cases["paper-megascale-175b-1"]
    assert (mega.metric, mega.value, mega.seq_len) == (CaseMetric.MFU, 0.552, 2048)
    assert cases["paper-palm-540b-1"].value == 0.462
    # Llama 3 Table 4: CP1 rows 8,192 tokens, the CP16 row 131,072; TFLOPS/GPU kept
    llama = [cases[f"paper-llama-3.1-405b-{n}"] for n in (1, 2, 3)]
    assert [c.seq_len for c in llama] == [8192, 8192, 131072]
    assert [c.value for c in llama] == [430, 400, 380]
    assert {c.metric for c in llama} == {CaseMetric.ACHIEVED_TFLOPS_PER_CHIP}
    assert llama[0].source == "https://arxiv.org/abs/2407.21783"


def test_case_ids_number_rows_sharing_a_prefix_in_file_order(cases):
    # Dell's XE8640 llama2 row is dell-1; its mixtral row starts its own prefix at 1
    assert "XE8640" in cases["mlpinf-v4.1-llama2-70b-offline-dell-1"].source
    assert "XE8640" in cases["mlpinf-v4.1-mixtral-8x7b-offline-dell-1"].source
    assert "XE9640" in cases["mlpinf-v4.1-llama2-70b-offline-dell-2"].source
    assert "mlpinf-v4.1-llama2-70b-offline-sustainable-metal-cloud-1" in cases
    assert "mlptrain-v4.0-llama2-70b-lora-quanta-cloud-technology-1" in cases


# --- conventions without rows in the current file, and failures ---------------------


def test_interactive_and_other_benchmarks_use_their_tables():
    row = {**source_rows()[0], "benchmark": "llama3.1-405b", "scenario": "Interactive"}
    case = one_case(row)
    assert case.kind is CaseKind.INFER_INTERACTIVE
    assert (case.input_tokens, case.output_tokens) == (9429, 685)
    assert (case.ttft_limit_s, case.tpot_limit_s) == (4.5, 0.08)
    assert case.case_id == "mlpinf-v4.1-llama3.1-405b-interactive-amd-1"
    mixtral = {**source_rows()[0], "benchmark": "mixtral-8x7b", "scenario": "Interactive"}
    with pytest.raises(conv.ConversionError, match="line 2: mixtral-8x7b has no Interactive"):
        conv.convert(source_text(mixtral), check_overrides=False)


def test_precision_spellings_from_other_rounds():
    base = source_rows()[0]  # AMD MI300X, v4.1
    for text, precision in [
        ("mxfp4", Precision.FP4),
        ("NVFP4", Precision.FP4),
        ("fp4 (assumed)", Precision.FP4),
        ("bf16 autocast + fp32 optimizer", Precision.BF16),
    ]:
        assert one_case({**base, "precision": text}).precision is precision
    tpu = next(r for r in source_rows() if r["accelerator"].startswith("TPU-v5p"))
    lora_on_tpu = {
        **source_rows()[106],
        "accelerator": tpu["accelerator"],
        "precision": tpu["precision"],
    }
    assert one_case(lora_on_tpu).precision is Precision.BF16  # "see submission" on a TPU


def test_vendor_training_and_decode_tables():
    trt = next(r for r in source_rows() if r["suite"].startswith("Vendor benchmark"))
    maxtext = {
        **trt,
        "suite": "Vendor benchmark (MaxText)",
        "benchmark": "Llama 2 70B pre-training",
        "scenario": "SL=4096",
        "metric": "MFU",
        "unit": "%",
        "value": "61.5",
        "precision": "bf16",
        "accelerator": "TPU-v5p",
    }
    case = one_case(maxtext)
    assert (case.kind, case.seq_len, case.value) == (CaseKind.TRAIN, 4096, 0.615)
    assert case.case_id == "maxtext-llama-2-70b-tpu-v5p-1"
    decode = {
        **trt,
        "suite": "Vendor benchmark (AWS Neuron)",
        "benchmark": "Llama 3.1 8B inference",
        "scenario": "batch 1 ISL/OSL=128/128",
        "metric": "tpot",
        "unit": "ms",
        "value": "7.5",
        "accelerator": "Trainium2",
    }
    case = one_case(decode)
    assert (case.kind, case.metric, case.value) == (
        CaseKind.INFER_LATENCY,
        CaseMetric.TPOT_S,
        0.0075,
    )
    assert case.case_id == "neuron-decode-llama-3.1-8b-trainium2-1"


def test_rows_outside_the_tables_stop_the_script_with_their_line():
    rows = source_rows()
    with pytest.raises(conv.ConversionError, match=r"line 3: precision 'int8' is in no table"):
        conv.convert(source_text(rows[0], {**rows[1], "precision": "int8"}), check_overrides=False)
    with pytest.raises(conv.ConversionError, match="suite 'Blog' is in no table"):
        conv.convert(source_text({**rows[0], "suite": "Blog"}), check_overrides=False)
    with pytest.raises(conv.ConversionError, match="benchmark 'bert-99' is in no table"):
        conv.convert(source_text({**rows[0], "benchmark": "bert-99"}), check_overrides=False)


def test_a_derived_throughput_that_disagrees_with_the_notes_is_an_error():
    lora = source_rows()[106]
    assert lora["benchmark"] == "llama2_70b_lora"
    bad = {**lora, "notes": lora["notes"].replace("throughput~14431", "throughput~15431")}
    with pytest.raises(conv.ConversionError, match="disagrees"):
        conv.convert(source_text(bad), check_overrides=False)


def test_an_override_that_stops_matching_is_an_error():
    rows = [
        r for r in source_rows() if not (r["submitter"] == "Dell" and r["accelerator"] == "MI300X")
    ]
    with pytest.raises(conv.ConversionError, match=r"Dell v4\.1 MI300X matched 0 rows, not 2"):
        conv.convert(source_text(*rows))


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path, monkeypatch, capsys):
    out = tmp_path / "data" / "calibration_cases.csv"
    monkeypatch.setattr(conv, "OUT", out)
    monkeypatch.setattr(sys, "argv", ["convert_calibration.py", "--check"])
    assert conv.main() == 1  # missing
    assert "stale" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["convert_calibration.py"])
    assert conv.main() == 0
    assert out.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["convert_calibration.py", "--check"])
    assert conv.main() == 0
    out.write_text(out.read_text(encoding="utf-8").replace("3062.72", "3062.7"), encoding="utf-8")
    assert conv.main() == 1


_TRAIN_ROW = (
    "case_id,source,kind,model,precision,accelerator,accelerator_count,input_tokens,"
    "output_tokens,seq_len,ttft_limit_s,tpot_limit_s,metric,value,batch,concurrency,notes\n"
    "t-1,https://example.com/t,train,llama-3.1-8b,bf16,TPU-v6e,8,,,8192,,,"
    'train_tokens_per_s,57111,,,"{notes}"\n'
)


@pytest.mark.parametrize(
    ("notes", "sequences"),
    [
        # MaxText log: tokens per step over the sequence length
        ("step time 3.443 s, total_weights 196608; per_device_batch_size 3", 24),
        # Neuron table: sequences per step
        ("topology TP=8 DP=64; microbatch 1, global batch 1024 seq; bf16", 1024),
        # Intel table: sequences per step
        ("sequence length 8192, precision FP8, batch size 128; Intel Gaudi 1.19.0", 128),
        # MaxText config: sequences per chip times the chips
        ("script configs/tpu/v5e/16b.sh (per_device_batch_size 6, remat full)", 48),
        ("a paper's MFU, no batch stated", None),
    ],
)
def test_a_training_rows_global_batch_comes_from_its_notes(notes, sequences):
    module = _load_script()
    (case,) = module.extra_cases(_TRAIN_ROW.format(notes=notes), file="extra.csv")
    assert case.batch == sequences
    assert case.global_batch == sequences
    assert case.in_flight is None  # a training batch is not sequences in flight


def test_the_stated_global_batch_changes_the_prediction_of_a_training_case():
    from arbiter.catalog.embedded import default_accelerators
    from arbiter.perf.efficiency import default_efficiency
    from arbiter.perf.predict import predict
    from arbiter.perf.validation import question_for

    module = _load_script()
    text = _TRAIN_ROW.format(notes="total_weights 196608")
    (small,) = module.extra_cases(text, file="extra.csv")
    (default,) = module.extra_cases(_TRAIN_ROW.format(notes="none"), file="extra.csv")
    accelerators = default_accelerators()
    eff = default_efficiency()
    q_small, q_default = (question_for(c, accelerators) for c in (small, default))
    assert (q_small.global_batch, q_default.global_batch) == (24, None)
    # 24 sequences of 8K on 8 chips against the default 4M tokens per step: less data
    # parallel work per step to hide the gradient traffic behind, never faster
    assert predict(q_small, eff) <= predict(q_default, eff)
