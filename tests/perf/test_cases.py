"""The benchmark-case format: reading, validation with named errors, byte-stable writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from arbiter.domain.errors import InputError
from arbiter.domain.workload import Precision
from arbiter.perf.cases import (
    COLUMNS,
    BenchmarkCase,
    CaseKind,
    CaseMetric,
    format_number,
    metrics_for,
    parse_cases,
    read_cases,
    write_cases,
)

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "perf" / "perf-calibration-cases.csv"
HEADER = ",".join(COLUMNS)
OFFLINE = {
    "case_id": "a-1",
    "source": "https://example.org/a",
    "kind": "infer_offline",
    "model": "llama-2-70b",
    "precision": "fp8",
    "accelerator": "H100-SXM",
    "accelerator_count": "8",
    "input_tokens": "222",
    "output_tokens": "294",
    "seq_len": "",
    "ttft_limit_s": "",
    "tpot_limit_s": "",
    "metric": "output_tokens_per_s",
    "value": "24525.9",
}
TRAIN = {
    **OFFLINE,
    "case_id": "t-1",
    "kind": "train",
    "input_tokens": "",
    "output_tokens": "",
    "seq_len": "8192",
    "metric": "mfu",
    "value": "0.43",
}


def csv_text(*rows: dict[str, str]) -> str:
    return "\n".join([HEADER, *(",".join(r[c] for c in COLUMNS) for r in rows)]) + "\n"


def error_of(text: str, file: str = "cases.csv") -> str:
    with pytest.raises(InputError) as info:
        parse_cases(text, file=file)
    assert info.value.exit_code == 2
    return str(info.value)


def assert_names(message: str, *, row: int, column: str) -> None:
    assert "In cases.csv" in message
    assert f"row {row}, column {column}:" in message
    assert "Valid:" in message


# --- reading and writing -------------------------------------------------------------


def test_reference_file_round_trips_byte_for_byte():
    cases = read_cases(REFERENCE)
    assert len(cases) == 194
    assert write_cases(cases) == REFERENCE.read_text(encoding="utf-8")
    assert parse_cases(write_cases(cases), file="again") == cases


def test_fields_are_typed():
    server = {
        **OFFLINE,
        "case_id": "s-1",
        "kind": "infer_server",
        "ttft_limit_s": "2",
        "tpot_limit_s": "0.2",
    }
    offline, serve, train = parse_cases(csv_text(OFFLINE, server, TRAIN), file="x.csv")
    assert offline == BenchmarkCase(
        case_id="a-1",
        source="https://example.org/a",
        kind=CaseKind.INFER_OFFLINE,
        model="llama-2-70b",
        precision=Precision.FP8,
        accelerator="H100-SXM",
        accelerator_count=8,
        input_tokens=222.0,
        output_tokens=294.0,
        seq_len=None,
        ttft_limit_s=None,
        tpot_limit_s=None,
        metric=CaseMetric.OUTPUT_TOKENS_PER_S,
        value=24525.9,
    )
    assert (serve.ttft_limit_s, serve.tpot_limit_s) == (2.0, 0.2)
    assert train.seq_len == 8192
    assert isinstance(train.seq_len, int)
    assert train.kind.is_training
    assert not train.kind.is_inference


def test_written_numbers_keep_their_published_form():
    # whole numbers without ".0", fractions in their shortest repr, None as empty
    assert format_number(25707.0) == "25707"
    assert format_number(0.552) == "0.552"
    assert format_number(0.175) == "0.175"
    assert format_number(3062.72) == "3062.72"
    assert format_number(1297246) == "1297246"
    assert format_number(None) == ""
    text = csv_text({**OFFLINE, "value": "25707.0", "input_tokens": "222.30"})
    written = write_cases(parse_cases(text, file="x.csv"))
    assert written.splitlines()[1].endswith(",222.3,294,,,,output_tokens_per_s,25707")
    assert write_cases(parse_cases(written, file="x.csv")) == written


def test_blank_lines_and_surrounding_spaces_are_ignored():
    text = HEADER + "\n\n" + ",".join(f" {OFFLINE[c]} " for c in COLUMNS) + "\n\n"
    (case,) = parse_cases(text, file="x.csv")
    assert case.case_id == "a-1"
    assert case.kind is CaseKind.INFER_OFFLINE


def test_metrics_fit_kinds():
    assert metrics_for(CaseKind.INFER_LATENCY) == (
        CaseMetric.OUTPUT_TOKENS_PER_S,
        CaseMetric.TPOT_S,
    )
    assert CaseMetric.MFU in metrics_for(CaseKind.FINETUNE_LORA)
    assert CaseMetric.TPOT_S not in metrics_for(CaseKind.TRAIN)


# --- the header ----------------------------------------------------------------------


def test_missing_and_unexpected_columns_are_named():
    header = HEADER.replace("seq_len", "sequence_length")
    message = error_of(header + "\n")
    assert "In cases.csv" in message
    assert "missing column(s) seq_len" in message
    assert "unexpected column(s) 'sequence_length'" in message
    assert f"Valid: exactly these columns in this order: {HEADER}; then, optionally" in message


def test_columns_out_of_order_are_an_error():
    columns = list(COLUMNS)
    columns[0], columns[1] = columns[1], columns[0]
    assert "out of order" in error_of(",".join(columns) + "\n")


def test_empty_file_is_an_error():
    message = error_of("")
    assert "In cases.csv" in message
    assert "empty" in message


# --- rows ----------------------------------------------------------------------------


def test_bad_kind_names_row_column_and_the_kinds():
    message = error_of(csv_text(OFFLINE, {**TRAIN, "kind": "inference"}))
    assert_names(message, row=2, column="kind")
    assert "'inference' is not a kind" in message
    assert "infer_offline, infer_server, infer_interactive, infer_latency, train" in message


def test_bad_metric_and_precision_are_named():
    assert_names(error_of(csv_text({**OFFLINE, "metric": "tokens"})), row=1, column="metric")
    message = error_of(csv_text({**OFFLINE, "precision": "int8"}))
    assert_names(message, row=1, column="precision")
    assert "bf16, fp16, fp8, fp4" in message


@pytest.mark.parametrize("value", ["-3", "0", "nan", "inf", "fast"])
def test_value_must_be_a_positive_number(value):
    message = error_of(csv_text({**OFFLINE, "value": value}))
    assert_names(message, row=1, column="value")


def test_negative_tokens_are_named():
    message = error_of(csv_text(OFFLINE, {**OFFLINE, "case_id": "a-2", "input_tokens": "-222"}))
    assert_names(message, row=2, column="input_tokens")
    assert "> 0" in message


def test_duplicate_case_id_names_both_rows():
    message = error_of(csv_text(OFFLINE, TRAIN, {**TRAIN, "value": "0.4"}))
    assert_names(message, row=3, column="case_id")
    assert "'t-1' is already the id of row 2" in message


def test_case_id_must_be_present_without_spaces():
    assert_names(error_of(csv_text({**OFFLINE, "case_id": ""})), row=1, column="case_id")
    assert_names(error_of(csv_text({**OFFLINE, "case_id": "a 1"})), row=1, column="case_id")


def test_metric_must_fit_the_kind():
    message = error_of(csv_text({**OFFLINE, "metric": "mfu", "value": "0.5"}))
    assert_names(message, row=1, column="metric")
    assert "mfu does not fit kind infer_offline" in message
    assert "Valid: for infer_offline: output_tokens_per_s, tpot_s." in message
    message = error_of(csv_text({**TRAIN, "metric": "output_tokens_per_s"}))
    assert "train_tokens_per_s, mfu, achieved_tflops_per_chip" in message


def test_mfu_is_a_share():
    message = error_of(csv_text({**TRAIN, "value": "55.2"}))
    assert_names(message, row=1, column="value")
    assert "0.552" in message


@pytest.mark.parametrize("count", ["8.5", "0", "-8", "eight", ""])
def test_accelerator_count_must_be_a_whole_number(count):
    message = error_of(csv_text({**OFFLINE, "accelerator_count": count}))
    assert_names(message, row=1, column="accelerator_count")
    assert "whole number >= 1" in message


def test_seq_len_must_be_a_whole_number():
    message = error_of(csv_text({**TRAIN, "seq_len": "8192.5"}))
    assert_names(message, row=1, column="seq_len")


def test_infer_kinds_need_tokens_and_train_kinds_need_seq_len():
    assert_names(
        error_of(csv_text({**OFFLINE, "output_tokens": ""})), row=1, column="output_tokens"
    )
    assert_names(error_of(csv_text({**TRAIN, "seq_len": ""})), row=1, column="seq_len")
    assert_names(error_of(csv_text({**TRAIN, "input_tokens": "100"})), row=1, column="input_tokens")
    assert_names(error_of(csv_text({**OFFLINE, "seq_len": "4096"})), row=1, column="seq_len")


def test_latency_limits_only_on_server_and_interactive():
    message = error_of(csv_text({**OFFLINE, "ttft_limit_s": "2"}))
    assert_names(message, row=1, column="ttft_limit_s")
    assert "infer_offline has no latency limit" in message
    interactive = {**OFFLINE, "kind": "infer_interactive", "tpot_limit_s": "0.04"}
    assert parse_cases(csv_text(interactive), file="x.csv")[0].tpot_limit_s == 0.04


def test_wrong_field_count_names_the_row():
    text = csv_text(OFFLINE) + "b-1,too,few\n"
    message = error_of(text)
    assert "In cases.csv, at field row 2:" in message
    assert "3 fields but the header has 14" in message


def test_read_cases_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=r"nope\.csv"):
        read_cases(missing)


def test_read_cases_reports_errors_with_the_path(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(csv_text({**OFFLINE, "kind": "batch"}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_cases(path)
    assert str(path) in str(info.value)
    assert "row 1, column kind" in str(info.value)
