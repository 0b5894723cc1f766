"""The replicate floor: how far published sources disagree on the same question, worked by
hand on tiny case lists, and set beside the model's out-of-sample error."""

from __future__ import annotations

import dataclasses
import math

import pytest

from arbiter.cli.perf_views import replicates_line
from arbiter.domain.workload import Precision
from arbiter.perf.bands import Residual
from arbiter.perf.cases import BenchmarkCase, CaseKind, CaseMetric, shipped_cases
from arbiter.perf.cross_validation import CrossValidation
from arbiter.perf.out_of_sample import held_out, publisher_group, source_group
from arbiter.perf.replicates import ReplicateSpread, question_of, replicate_spread

OFFLINE = BenchmarkCase(
    case_id="x",
    source="https://example.org/a",
    kind=CaseKind.INFER_OFFLINE,
    model="llama-2-70b",
    precision=Precision.FP8,
    accelerator="H100-SXM",
    accelerator_count=1,
    input_tokens=222,
    output_tokens=294,
    seq_len=None,
    ttft_limit_s=None,
    tpot_limit_s=None,
    metric=CaseMetric.OUTPUT_TOKENS_PER_S,
    value=100.0,
)
TRAIN = dataclasses.replace(
    OFFLINE,
    kind=CaseKind.TRAIN,
    input_tokens=None,
    output_tokens=None,
    seq_len=4096,
    metric=CaseMetric.MFU,
    accelerator_count=8,
    value=0.4,
)


def case(
    case_id: str, source: str, value: float, chips: int = 1, base: BenchmarkCase = OFFLINE, **kw
) -> BenchmarkCase:
    return dataclasses.replace(
        base,
        case_id=case_id,
        source=f"https://example.org/{source}",
        value=value,
        accelerator_count=chips,
        **kw,
    )


def errors(spread: ReplicateSpread) -> dict[str, float]:
    return dict(zip(spread.case_ids, spread.error_shares, strict=True))


def test_two_sources_compare_tokens_per_second_per_chip():
    # a: 100 tokens/s on 1 chip; b: 300 on 2 chips = 150 per chip
    spread = replicate_spread([case("a1", "a", 100), case("b1", "b", 300, chips=2)])
    assert spread.case_ids == ("a1", "b1")
    assert errors(spread) == pytest.approx({"a1": 0.5, "b1": 1 / 3})  # 50/100, 50/150
    assert spread.mape_percent == pytest.approx((50 + 100 / 3) / 2)  # 41.67


def test_a_case_from_the_same_source_is_no_reference():
    cases = [case("a1", "a", 100), case("b1", "b", 300, chips=2), case("a2", "a", 120)]
    found = errors(replicate_spread(cases))
    # a1 against b only (150), not the median of b and a2 (135: 0.35)
    assert found["a1"] == pytest.approx(0.5)
    assert found["a2"] == pytest.approx(30 / 120)
    # b1 against the median of a's two results: (100 + 120) / 2 = 110
    assert found["b1"] == pytest.approx(40 / 150)


def test_a_question_asked_by_one_source_only_contributes_nothing():
    cases = [case("a1", "a", 100), case("a2", "a", 300, chips=2), case("b1", "b", 50, batch=8)]
    spread = replicate_spread(cases)
    assert spread.case_ids == ()
    assert math.isnan(spread.mape_percent)


@pytest.mark.parametrize(
    "change",
    [
        {"batch": 8},
        {"concurrency": 64},
        {"tp": 2},
        {"precision": Precision.BF16},
        {"accelerator": "H200-SXM"},
        {"output_tokens": 128},
        {"metric": CaseMetric.TPOT_S},
    ],
)
def test_a_case_differing_in_one_field_is_no_replicate(change: dict[str, object]):
    cases = [case("a1", "a", 100), case("b1", "b", 100, **change)]
    assert question_of(cases[0]) != question_of(cases[1])
    assert replicate_spread(cases).case_ids == ()


def test_other_metrics_need_the_same_chip_count_and_compare_as_published():
    different = [case("a1", "a", 0.4, 8, TRAIN), case("b1", "b", 0.4, 16, TRAIN)]
    assert replicate_spread(different).case_ids == ()
    same = [case("a1", "a", 0.4, 8, TRAIN), case("b1", "b", 0.5, 8, TRAIN)]
    assert errors(replicate_spread(same)) == pytest.approx({"a1": 0.25, "b1": 0.2})
    per_chip = dataclasses.replace(TRAIN, metric=CaseMetric.ACHIEVED_TFLOPS_PER_CHIP)
    tflops = [case("a1", "a", 400, 8, per_chip), case("b1", "b", 400, 16, per_chip)]
    assert replicate_spread(tflops).case_ids == ()


def test_trained_tokens_per_second_compare_per_chip_at_any_chip_count():
    rate = dataclasses.replace(TRAIN, metric=CaseMetric.TRAIN_TOKENS_PER_S)
    cases = [case("a1", "a", 8000, 8, rate), case("b1", "b", 12000, 16, rate)]  # 1000, 750
    assert errors(replicate_spread(cases)) == pytest.approx({"a1": 0.25, "b1": 250 / 750})


def test_sources_are_grouped_as_in_the_cross_validation():
    # two pages of one site: two documents, one publisher
    cases = [case("a1", "a", 100), case("b1", "b", 300, chips=2)]
    assert len(replicate_spread(cases, source_group).case_ids) == 2
    assert replicate_spread(cases, publisher_group).case_ids == ()


def test_held_out_rounds_are_neither_replicates_nor_references():
    late = dataclasses.replace(
        case("late", "x", 1000),
        source="https://github.com/mlcommons/inference_results_v5.0/tree/main/closed/NVIDIA",
    )
    assert held_out(late)
    spread = replicate_spread([case("a1", "a", 100), case("b1", "b", 300, chips=2), late])
    assert errors(spread) == pytest.approx({"a1": 0.5, "b1": 1 / 3})


def residual(case_id: str, predicted: float, published: float) -> Residual:
    return Residual(case_id, "g", "cuda", "batch", predicted, published)


RESIDUALS = (
    residual("a1", 110, 100),  # 10% off
    residual("b1", 120, 150),  # 20% off
    residual("c1", 200, 100),  # 100% off, not a replicate
)
SPREAD = ReplicateSpread(("a1", "b1"), (0.5, 1 / 3))


def test_the_model_is_scored_on_exactly_the_replicates():
    assert SPREAD.model_mape_percent(RESIDUALS) == pytest.approx(15.0)
    assert SPREAD.excluding({"b1"}).case_ids == ("a1",)
    assert SPREAD.excluding({"b1"}).model_mape_percent(RESIDUALS) == pytest.approx(10.0)
    with pytest.raises(KeyError):
        ReplicateSpread(("zz",), (0.1,)).model_mape_percent(RESIDUALS)


def test_cross_validation_reports_both_figures_and_keeps_its_keys():
    plain = CrossValidation(
        residuals=RESIDUALS, held_out=(), sources=3, outliers=frozenset({"b1"}), unpredicted=0
    )
    cv = dataclasses.replace(plain, replicates=SPREAD)
    doc = cv.to_dict()
    old = plain.to_dict()
    assert {k: v for k, v in doc.items() if k != "replicates"} == {
        k: v for k, v in old.items() if k != "replicates"
    }
    assert old["replicates"]["cases"] == 0 and old["replicates"]["mape"] is None
    replicates = doc["replicates"]
    assert replicates["cases"] == 2
    assert replicates["mape"] == 41.67
    assert replicates["model_mape"] == 15.0
    assert replicates["mape_excluding_outliers"] == 50.0
    assert replicates["model_mape_excluding_outliers"] == 10.0
    assert "median" in replicates["definition"]
    assert replicates_line(plain) == ""
    assert replicates_line(cv) == (
        "Published sources disagree: on the 2 cases whose question another source also "
        "published, the other sources' median is 41.7% off (50.0% without outliers); the "
        "model, out of sample, 15.0% (10.0%)"
    )


def test_the_shipped_cases_have_replicates_with_finite_spread():
    cases = shipped_cases()
    spread = replicate_spread(cases)
    assert len(spread.case_ids) >= 20
    assert len(set(spread.case_ids)) == len(spread.case_ids)
    assert all(math.isfinite(e) and e >= 0 for e in spread.error_shares)
    assert math.isfinite(spread.mape_percent) and spread.mape_percent > 0
    by_id = {c.case_id: c for c in cases}
    for case_id in spread.case_ids:
        mine = by_id[case_id]
        assert not held_out(mine)
        assert any(
            question_of(c) == question_of(mine) and source_group(c) != source_group(mine)
            for c in cases
            if not held_out(c)
        )
