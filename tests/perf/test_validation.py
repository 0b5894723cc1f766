"""``arbiter.perf.validation``: every case predicted or skipped with a reason, and scored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from arbiter.catalog.embedded import default_accelerators
from arbiter.domain.workload import Precision
from arbiter.perf.cases import BenchmarkCase, CaseKind, CaseMetric, read_cases
from arbiter.perf.efficiency import PRIOR, default_efficiency
from arbiter.perf.validation import (
    OUTLIER_SHARE,
    ValidationReport,
    outlier_cases,
    question_for,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "src" / "arbiter" / "perf" / "data" / "calibration_cases.csv"
ACCS = default_accelerators()


@pytest.fixture(scope="module")
def cases() -> tuple[BenchmarkCase, ...]:
    return read_cases(CALIBRATION)


@pytest.fixture(scope="module")
def report(cases) -> ValidationReport:
    return validate(cases, ACCS, default_efficiency())


def case(**fields: object) -> BenchmarkCase:
    base = BenchmarkCase(
        case_id="c-1",
        source="https://example.org",
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
        value=20000.0,
    )
    return dataclasses.replace(base, **fields)


def test_every_calibration_case_is_predicted_or_skipped(cases, report):
    predicted = [r.case_id for r in report.results]
    skipped = [s.case_id for s in report.skipped]
    assert len(predicted) + len(skipped) == len(cases)
    assert sorted(predicted + skipped) == sorted(c.case_id for c in cases)
    assert len(cases) >= 190
    for r in report.results:
        assert r.predicted > 0
        assert r.error_share == pytest.approx(r.predicted / r.published - 1.0)


def test_mape_is_the_mean_absolute_error_share(report):
    errors = {r.case_id: abs(r.predicted / r.published - 1.0) for r in report.results}
    assert report.mape == pytest.approx(sum(errors.values()) / len(errors))
    clean = [e for cid, e in errors.items() if cid not in report.outliers]
    assert report.mape_excluding_outliers == pytest.approx(sum(clean) / len(clean))
    for accelerator, value in report.mape_by("accelerator").items():
        mine = [errors[r.case_id] for r in report.results if r.accelerator == accelerator]
        assert value == pytest.approx(sum(mine) / len(mine))
    assert sum(report.count_by("kind").values()) == len(report.results)


VENDOR_PAGES = ("neuron-", "gaudi-", "rocm-", "oci-", "vllm-", "maxtext-")


def test_calibration_mape_without_outliers(report):
    # docs/perf.md reports both (in sample): 22.1% over all cases, 18.9% without the 4
    # outliers; the MLPerf, TensorRT-LLM and paper cases alone stay at 13.4%, the
    # non-NVIDIA vendor pages (data/sources/perf/extra/) are where the model is weakest
    assert report.mape_excluding_outliers <= 0.20
    assert report.mape < 0.30
    assert 0 < len(report.outliers) <= 10
    first = [
        r
        for r in report.results
        if not r.case_id.startswith(VENDOR_PAGES) and r.case_id not in report.outliers
    ]
    assert sum(abs(r.error_share) for r in first) / len(first) <= 0.15


def test_outliers_are_flagged_from_published_values_alone(cases):
    # the rule never looks at the model: any parameters flag the same cases
    report_prior = validate(cases, ACCS, PRIOR)
    report_fitted = validate(cases, ACCS, default_efficiency())
    assert report_prior.outliers == report_fitted.outliers == outlier_cases(cases)


def test_outlier_rule_compares_per_chip_values_with_the_peer_median():
    # per chip: 2500, 2400, 2600 and 1100; median of the four = (2400 + 2500) / 2 = 2450;
    # half of it is 1225, so only the 1,100-per-chip submission is flagged
    peers = [
        case(case_id="a", accelerator_count=8, value=20000.0),
        case(case_id="b", accelerator_count=1, value=2400.0),
        case(case_id="c", accelerator_count=4, value=10400.0),
        case(case_id="d", accelerator_count=2, value=2200.0),
    ]
    assert OUTLIER_SHARE == 0.5
    assert outlier_cases(peers) == {"d"}
    # a case alone in its group (other lengths) is never an outlier
    alone = case(case_id="e", input_tokens=1000.0, value=10.0)
    assert outlier_cases([*peers, alone]) == {"d"}


def test_tpot_outliers_are_the_slow_ones():
    # TPOT is better when smaller: 1 / tpot is compared. 0.02, 0.025 and 0.06 s: rates
    # 50, 40 and 16.7; median 40, so only the 0.06 s case (16.7 < 20) is flagged
    latency = {
        "kind": CaseKind.INFER_LATENCY,
        "metric": CaseMetric.TPOT_S,
        "accelerator_count": 8,
    }
    peers = [
        case(case_id="fast", value=0.02, **latency),
        case(case_id="mid", value=0.025, **latency),
        case(case_id="slow", value=0.06, **latency),
    ]
    assert outlier_cases(peers) == {"slow"}


def test_unknown_model_and_accelerator_are_skipped_with_the_reason():
    known = case(case_id="known")
    unknown_model = case(case_id="bad-model", model="llama-9-1000b")
    unknown_chip = case(case_id="bad-chip", accelerator="H1000-SXM")
    report = validate([known, unknown_model, unknown_chip], ACCS, default_efficiency())
    assert [r.case_id for r in report.results] == ["known"]
    reasons = {s.case_id: s.reason for s in report.skipped}
    assert set(reasons) == {"bad-model", "bad-chip"}
    assert "llama-9-1000b" in reasons["bad-model"]
    assert "unknown model" in reasons["bad-model"]
    assert reasons["bad-chip"] == "unknown accelerator 'H1000-SXM'"


def test_a_system_the_model_does_not_fit_is_skipped_with_the_memory_it_needs():
    # 5 H100s training Llama 2 70B in full: 16 B/param x 69e9 = 1.1 TB of weights and
    # optimizer state even split over 5 chips is 221 GB each, plus activations; 80 GB chips
    train = case(
        case_id="five",
        kind=CaseKind.TRAIN,
        metric=CaseMetric.TRAIN_TOKENS_PER_S,
        accelerator_count=5,
        input_tokens=None,
        output_tokens=None,
        seq_len=4096,
        value=1000.0,
    )
    report = validate([train], ACCS, default_efficiency())
    assert not report.results
    (skipped,) = report.skipped
    assert "does not fit in 5 x H100-SXM" in skipped.reason
    assert "GB per chip" in skipped.reason


def test_aliases_resolve_to_the_catalog_and_the_registry():
    q = question_for(case(model="Llama-2-70B-chat", accelerator="h100"), ACCS)
    assert q.model.name == "llama-2-70b"
    assert q.accelerator.name == "H100-SXM"
    assert q.chips == 8


def test_report_dict_has_the_documented_keys(report):
    doc = report.to_dict()
    assert {
        "cases",
        "mape",
        "mape_excluding_outliers",
        "outliers",
        "mape_by_accelerator",
        "mape_by_kind",
        "mape_by_metric",
        "skipped",
    } <= doc.keys()
    cases = doc["cases"]
    assert isinstance(cases, list)
    first = cases[0]
    assert {"case_id", "kind", "accelerator", "metric", "predicted", "published"} <= first.keys()
    assert first["error_share"] == pytest.approx(first["predicted"] / first["published"] - 1)
