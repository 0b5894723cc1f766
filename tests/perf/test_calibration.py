"""Calibration profiles: the user's runs read in three formats, the fit, what a profile
does to estimates (only its chip and regime move, toward the measurements), and the
round trip through the store."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import pytest
import yaml

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.workload import Precision
from arbiter.optimize.options import build_options
from arbiter.perf.calibration import (
    PRIOR_CASES,
    CalibrationProfile,
    CaseRatio,
    ChipFactor,
    Provenance,
    Regime,
    fit_factors,
    fit_profile,
)
from arbiter.perf.cases import BenchmarkCase, CaseKind, CaseMetric, write_cases
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.perf.predict import predict
from arbiter.perf.pricing import PriceBook
from arbiter.perf.user_runs import (
    RunFormat,
    RunOptions,
    parse_user_runs,
)
from arbiter.perf.validation import question_for
from arbiter.store import CalibrationStore
from arbiter.workloads import parse_fleet, parse_workloads

ACCS = default_accelerators()
ALL = list(ACCS.values())
EFF = default_efficiency()
CHIP = "H100-SXM"
SHORTFALL = 0.6  # the user's chip runs at 60% of what the model says

BATCH = {
    "name": "summarise",
    "kind": "batch",
    "model": "llama-3.1-8b",
    "precision": "bf16",
    "input_tokens": "1B",
    "output_tokens": "100M",
    "request_input_tokens": 1000,
    "request_output_tokens": 200,
    "deadline_hours": 48,
}
TRAIN = {
    "name": "pretrain",
    "kind": "train",
    "model": "llama-3.1-8b",
    "tokens": "50B",
    "seq_len": 8192,
    "deadline_days": 30,
}
SERVE = {
    "name": "chat",
    "kind": "serve",
    "model": "llama-3.1-8b",
    "precision": "fp8",
    "requests_per_s": 20,
    "input_tokens": 1000,
    "output_tokens": 300,
    "slo": {"ttft_s": 2.0, "tpot_s": 0.05},
}

VLLM_RESULT = {
    "date": "20260110-101500",
    "backend": "vllm",
    "model_id": "meta-llama/Llama-3.1-8B-Instruct",
    "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct",
    "num_prompts": 1000,
    "request_rate": "inf",
    "burstiness": 1.0,
    "max_concurrency": 64,
    "duration": 120.0,
    "completed": 1000,
    "total_input_tokens": 1024000,
    "total_output_tokens": 256000,
    "request_throughput": 8.333,
    "request_goodput:": None,
    "output_throughput": 2133.3,
    "total_token_throughput": 10666.6,
    "mean_ttft_ms": 150.0,
    "median_ttft_ms": 140.0,
    "std_ttft_ms": 20.0,
    "p99_ttft_ms": 300.0,
    "mean_tpot_ms": 25.0,
    "median_tpot_ms": 24.0,
    "std_tpot_ms": 2.0,
    "p99_tpot_ms": 30.0,
}
VLLM_OPTIONS = RunOptions(accelerator="H100", chips=1, precision="bf16")

TRAIN_LOG = """
model: llama-3.1-8b
accelerator: H100
precision: bf16
seq_len: 8192
source: cluster A, job 4711
runs:
  - {chips: 8, tokens_per_s: 60000}
  - {chips: 64, tokens_per_s: 450000, notes: steady state}
"""


def workload(spec: dict[str, object]):
    (w,) = parse_workloads(spec, file="test.yaml")
    return w


def case(kind: CaseKind, chips: int, value: float = 1.0, **extra: object) -> BenchmarkCase:
    infer = kind.is_inference
    fields: dict[str, object] = {
        "case_id": f"{kind.value}-{chips}",
        "source": "test",
        "kind": kind,
        "model": "llama-3.1-8b",
        "precision": Precision.BF16,
        "accelerator": CHIP,
        "accelerator_count": chips,
        "input_tokens": 1000.0 if infer else None,
        "output_tokens": 200.0 if infer else None,
        "seq_len": None if infer else 8192,
        "ttft_limit_s": None,
        "tpot_limit_s": None,
        "metric": CaseMetric.OUTPUT_TOKENS_PER_S if infer else CaseMetric.TRAIN_TOKENS_PER_S,
        "value": value,
    }
    return BenchmarkCase(**{**fields, **extra})  # type: ignore[arg-type]


def measured(c: BenchmarkCase, share: float = SHORTFALL) -> BenchmarkCase:
    """``c`` with the value the user measured: ``share`` of the model's prediction."""
    return dataclasses.replace(c, value=share * predict(question_for(c, ACCS), EFF))


def profile_of(*factors: tuple[str, Regime, float], name: str = "lab") -> CalibrationProfile:
    return CalibrationProfile(
        name=name,
        factors=tuple(
            ChipFactor(a, r, f, raw=f, cases=3, spread=None, case_ids=()) for a, r, f in factors
        ),
        provenance=Provenance(
            file="runs.csv",
            file_sha256="ab" * 32,
            created="2026-11-29T12:00:00+00:00",
            arbiter_version="test",
            cases=3,
            format="cases",
            efficiency="test",
        ),
    )


def by_chip(found: tuple[Estimate, ...]) -> dict[str, Estimate]:
    return {e.accelerator: e for e in found}


def per_chip(e: Estimate) -> float:
    return e.tokens_per_s / e.chips


# --- the fit -------------------------------------------------------------------------------


def test_the_factor_is_the_geometric_mean_shrunk_toward_one_with_the_spread_kept():
    ratios = [
        CaseRatio(f"c{i}", CHIP, Regime.INFERENCE, "infer_offline", "output_tokens_per_s", p, m)
        for i, (p, m) in enumerate([(100.0, 80.0), (200.0, 140.0), (50.0, 45.0)])
    ]
    # a TPOT case: a chip twice as slow has twice the TPOT; its ratio is predicted/published
    ratios.append(CaseRatio("t", CHIP, Regime.INFERENCE, "infer_latency", "tpot_s", 0.01, 0.02))
    ratios.append(CaseRatio("x", "MI300X", Regime.TRAIN, "train", "mfu", 0.4, 0.5))
    found = {(f.accelerator, f.regime): f for f in fit_factors(ratios)}
    logs = [math.log(0.8), math.log(0.7), math.log(0.9), math.log(0.5)]
    mean = sum(logs) / 4
    h100 = found[CHIP, Regime.INFERENCE]
    assert h100.cases == 4
    assert h100.raw == pytest.approx(math.exp(mean))
    assert h100.factor == pytest.approx(math.exp(4 / (4 + PRIOR_CASES) * mean))
    assert h100.spread == pytest.approx(
        math.sqrt(sum((x - mean) ** 2 for x in logs) / 3), rel=1e-12
    )
    assert h100.case_ids == ("c0", "c1", "c2", "t")
    one = found["MI300X", Regime.TRAIN]
    assert one.spread is None
    assert one.factor == pytest.approx(1.25 ** (1 / (1 + PRIOR_CASES)))
    # shrinkage: the factor lies between 1 and the raw mean
    assert h100.raw < h100.factor < 1.0 < one.factor < one.raw


def test_fit_profile_predicts_each_case_and_keeps_the_ones_it_cannot():
    cases = [
        measured(case(CaseKind.TRAIN, 8)),
        measured(case(CaseKind.INFER_OFFLINE, 1, concurrency=64)),
        case(CaseKind.TRAIN, 8, model="no-such-model", case_id="unknown-model"),
    ]
    profile = fit_profile(
        "lab", cases, ACCS, EFF, file="/some/dir/runs.csv", file_sha256="0" * 64,
        arbiter_version="test", run_format="cases",
    )  # fmt: skip
    assert profile.provenance.file == "runs.csv"
    assert profile.provenance.cases == 2
    assert [s.case_id for s in profile.skipped] == ["unknown-model"]
    for regime in Regime:
        f = [x for x in profile.factors if x.regime is regime]
        assert len(f) == 1 and f[0].raw == pytest.approx(SHORTFALL)
        assert profile.factor(CHIP, regime) == pytest.approx(SHORTFALL ** (1 / 4))
    assert profile.factor("MI300X", Regime.TRAIN) == 1.0
    with pytest.raises(InputError, match=r"runs\.csv.*none of the 1"):
        fit_profile(
            "lab", cases[2:], ACCS, EFF, file="runs.csv", file_sha256="0" * 64,
            arbiter_version="test", run_format="cases",
        )  # fmt: skip


def test_a_profile_round_trips_through_its_dict_and_json():
    cases = [measured(case(CaseKind.TRAIN, n)) for n in (8, 16)]
    profile = fit_profile(
        "lab", cases, ACCS, EFF, file="runs.csv", file_sha256="0" * 64,
        arbiter_version="test", run_format="cases",
    )  # fmt: skip
    doc = json.loads(json.dumps(profile.to_dict()))
    assert CalibrationProfile.from_dict(doc) == profile
    with pytest.raises(ValueError, match="format_version"):
        CalibrationProfile.from_dict({**doc, "format_version": 99})


# --- what a profile does to estimates ------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind"), [(BATCH, CaseKind.INFER_OFFLINE), (TRAIN, CaseKind.TRAIN)]
)
def test_calibrating_one_chip_moves_its_estimate_toward_the_measurements_and_no_other(spec, kind):
    w = workload(spec)
    before = by_chip(estimate_workload(w, ALL, EFF))
    chips = before[CHIP].chips
    runs = [measured(case(kind, chips, case_id=f"run-{i}")) for i in range(3)]
    measured_per_chip = runs[0].value / chips
    profile = fit_profile(
        "lab", runs, ACCS, EFF, file="runs.csv", file_sha256="0" * 64,
        arbiter_version="test", run_format="cases",
    )  # fmt: skip
    factor = profile.factor(CHIP, Regime.TRAIN if kind.is_training else Regime.INFERENCE)
    assert factor == pytest.approx(SHORTFALL ** (3 / (3 + PRIOR_CASES)))
    after = by_chip(estimate_workload(w, ALL, EFF, calibration=profile))
    assert set(after) == set(before)
    old, new = before[CHIP], after[CHIP]
    # the model's estimate is off by 1/0.6 before; the calibrated one is closer
    assert abs(math.log(per_chip(new) / measured_per_chip)) < abs(
        math.log(per_chip(old) / measured_per_chip)
    )
    assert per_chip(new) / per_chip(old) == pytest.approx(factor)
    assert new.hours == pytest.approx(old.hours / factor) or new.chips != old.chips
    assert any("profile 'lab'" in n for n in new.notes)
    for name, e in before.items():
        if name != CHIP:
            assert repr(after[name]) == repr(e), name  # bit for bit


def test_a_profile_moves_only_its_regime():
    profile = profile_of((CHIP, Regime.INFERENCE, 0.5))
    for spec in (TRAIN, {**TRAIN, "kind": "finetune", "name": "ft"}):
        w = workload(spec)
        plain = estimate_workload(w, ALL, EFF, PriceBook(default_catalog()))
        corrected = estimate_workload(
            w, ALL, EFF, PriceBook(default_catalog()), calibration=profile
        )
        assert repr(corrected) == repr(plain)


def test_a_calibrated_service_meets_its_slo_at_the_corrected_latencies():
    w = workload(SERVE)
    headroom = EFF["latency_headroom"]
    before = by_chip(estimate_workload(w, ALL, EFF))
    for f in (0.5, 1.5):
        after = by_chip(
            estimate_workload(w, ALL, EFF, calibration=profile_of((CHIP, Regime.INFERENCE, f)))
        )
        old, new = before[CHIP], after[CHIP]
        assert new.feasible
        assert new.tpot_s is not None and new.ttft_s is not None
        assert new.tpot_s <= headroom * 0.05 * (1 + 1e-12)
        assert new.ttft_s <= headroom * 2.0 * (1 + 1e-12)
        # a slower chip can hold no more sequences within the SLO; a faster one no fewer
        if f < 1:
            assert per_chip(new) <= f * per_chip(old) * (1 + 1e-12)
        else:
            assert per_chip(new) >= f * per_chip(old) * (1 - 1e-12)
        for name, e in before.items():
            if name != CHIP:
                assert repr(after[name]) == repr(e), name


def test_a_measured_throughput_is_not_corrected():
    w = workload({**BATCH, "measured": [{"accelerator": CHIP, "chips": 1, "tokens_per_s": 3000}]})
    plain = by_chip(estimate_workload(w, ALL, EFF))
    corrected = by_chip(
        estimate_workload(w, ALL, EFF, calibration=profile_of((CHIP, Regime.INFERENCE, 0.5)))
    )
    assert plain[CHIP].source == "measured"
    assert repr(corrected[CHIP]) == repr(plain[CHIP])


FLEET = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5}
"""


def test_a_plan_with_a_profile_differs_only_through_that_chips_options():
    fleet = parse_fleet(yaml.safe_load(FLEET), file="fleet.yaml")
    catalog = default_catalog()
    plain, _ = build_options(fleet, catalog, EFF)
    profile = profile_of((CHIP, Regime.INFERENCE, 0.7), (CHIP, Regime.TRAIN, 1.3))
    corrected, _ = build_options(fleet, catalog, EFF, calibration=profile)

    def key(o: object) -> tuple[object, ...]:
        return (o.workload, o.offer.offer_id, o.chips)  # type: ignore[attr-defined]

    others = [repr(o) for o in plain if o.offer.accelerator != CHIP]
    assert others == [repr(o) for o in corrected if o.offer.accelerator != CHIP]
    mine = {key(o): o for o in plain if o.offer.accelerator == CHIP}
    theirs = {key(o): o for o in corrected if o.offer.accelerator == CHIP}
    assert mine and theirs
    assert any(repr(theirs.get(k)) != repr(o) for k, o in mine.items())


# --- the three formats ---------------------------------------------------------------------


def parse(text: str | bytes, file: str, options: RunOptions | None = None, **kw: object):
    data = text.encode() if isinstance(text, str) else text
    return parse_user_runs(
        data, file=file, options=options or RunOptions(), accelerators=ACCS, **kw
    )  # type: ignore[arg-type]


def test_a_benchmark_case_csv_is_read_as_it_is():
    cases = [case(CaseKind.TRAIN, 8, 5e4), case(CaseKind.INFER_OFFLINE, 1, 2e3, concurrency=64)]
    runs = parse(write_cases(cases), "mine.csv")
    assert runs.format is RunFormat.CASES
    assert runs.cases == tuple(cases)
    assert runs.excluded == ()


def test_a_vllm_closed_loop_run_is_an_offline_case_at_its_concurrency():
    runs = parse(json.dumps(VLLM_RESULT), "bench.json", VLLM_OPTIONS)
    assert runs.format is RunFormat.VLLM
    (c,) = runs.cases
    assert (c.kind, c.metric, c.accelerator, c.accelerator_count) == (
        CaseKind.INFER_OFFLINE, CaseMetric.OUTPUT_TOKENS_PER_S, CHIP, 1,
    )  # fmt: skip
    assert c.model == "llama-3.1-8b"  # model_id read as its last part
    assert c.precision is Precision.BF16
    assert (c.input_tokens, c.output_tokens) == (1024.0, 256.0)
    assert c.value == 2133.3 and c.concurrency == 64 and c.batch is None
    assert "max_concurrency 64" in c.notes
    assert runs.excluded == ()
    other = parse(
        json.dumps(VLLM_RESULT),
        "bench.json",
        dataclasses.replace(VLLM_OPTIONS, model="llama-3.1-70b"),
    )
    assert other.cases[0].model == "llama-3.1-70b"


def test_vllm_runs_at_a_request_rate_say_so_and_a_load_bound_one_is_not_fitted():
    unlimited = {**VLLM_RESULT, "max_concurrency": None}
    behind = {**VLLM_RESULT, "request_rate": 20.0, "max_concurrency": None}  # 8.3 of 20 done
    loaded = {**VLLM_RESULT, "request_rate": 8.5, "max_concurrency": None}  # 8.3 of 8.5 done
    no_rate = {k: v for k, v in VLLM_RESULT.items() if k != "output_throughput"}
    runs = parse(json.dumps([unlimited, behind, loaded, no_rate]), "sweep.json", VLLM_OPTIONS)
    first, second, third, fourth = runs.cases
    assert all(c.kind is CaseKind.INFER_OFFLINE for c in runs.cases)
    assert first.concurrency is None and "every prompt at once" in first.notes
    assert second.concurrency is None and "arrivals at 20 requests/s" in second.notes
    assert "arrivals at 8.5 requests/s" in third.notes
    assert fourth.value == pytest.approx(256000 / 120.0)  # total_output_tokens / duration
    assert [e.case_id for e in runs.excluded] == [third.case_id]
    assert "load-bound" in runs.excluded[0].reason
    assert len({c.case_id for c in runs.cases}) == 4


@pytest.mark.parametrize(
    ("text", "file"),
    [
        (TRAIN_LOG, "log.yaml"),
        (
            (
                "model,accelerator,precision,seq_len,chips,tokens_per_s,notes\n"
                "llama-3.1-8b,H100,bf16,8192,8,60000,\n"
                "llama-3.1-8b,H100,bf16,8192,64,450000,steady state\n"
            ),
            "log.csv",
        ),
    ],
)
def test_a_training_log_is_a_train_case_per_run(text, file):
    runs = parse(text, file)
    assert runs.format is RunFormat.TRAIN_LOG
    assert [(c.accelerator_count, c.value) for c in runs.cases] == [(8, 6e4), (64, 4.5e5)]
    for c in runs.cases:
        assert (c.kind, c.metric, c.model, c.accelerator, c.seq_len) == (
            CaseKind.TRAIN, CaseMetric.TRAIN_TOKENS_PER_S, "llama-3.1-8b", CHIP, 8192,
        )  # fmt: skip
    assert runs.cases[1].notes == "steady state"


def test_a_training_log_takes_missing_fields_from_the_options_and_refuses_contradictions():
    text = "seq_len,chips,tokens_per_s\n4096,16,120000\n"
    runs = parse(
        text, "log.csv", RunOptions(accelerator="MI300X", model="llama-3.1-70b", precision="fp8")
    )
    (c,) = runs.cases
    assert (c.accelerator, c.model, c.precision) == ("MI300X", "llama-3.1-70b", Precision.FP8)
    agreeing = RunOptions(accelerator="h100-sxm", model="meta-llama/Llama-3.1-8B", precision="BF16")
    assert parse(TRAIN_LOG, "log.yaml", agreeing).cases == parse(TRAIN_LOG, "log.yaml").cases
    with pytest.raises(InputError, match=r"log\.yaml.*--accelerator.*contradicts accelerator"):
        parse(TRAIN_LOG, "log.yaml", RunOptions(accelerator="MI300X"))
    with pytest.raises(InputError, match=r"log\.csv.*row 1, column model.*is missing"):
        parse(text, "log.csv", RunOptions(accelerator="MI300X", precision="fp8"))


@pytest.mark.parametrize(
    ("text", "file", "options", "where"),
    [
        ({**VLLM_RESULT, "completed": 0}, "b.json", VLLM_OPTIONS, "field completed"),
        ({**VLLM_RESULT, "max_concurrency": -4}, "b.json", VLLM_OPTIONS, "field max_concurrency"),
        ([VLLM_RESULT, {**VLLM_RESULT, "output_throughput": "fast"}], "b.json", VLLM_OPTIONS,
         r"field \[1\]\.output_throughput"),
        ({**VLLM_RESULT, "model_id": "no-such-model"}, "b.json", VLLM_OPTIONS, "field model_id"),
        ({k: v for k, v in VLLM_RESULT.items() if k != "total_input_tokens"}, "b.json",
         VLLM_OPTIONS, "field total_input_tokens"),
        (VLLM_RESULT, "b.json", RunOptions(chips=1, precision="bf16"), "field --accelerator"),
        (VLLM_RESULT, "b.json", dataclasses.replace(VLLM_OPTIONS, precision="int3"),
         "field --precision"),
        (VLLM_RESULT, "b.json", dataclasses.replace(VLLM_OPTIONS, accelerator="H1OO0"),
         "field --accelerator"),
        ("{not json", "b.json", VLLM_OPTIONS, "invalid JSON at line 1"),
        (TRAIN_LOG.replace("450000", "-3"), "l.yaml", RunOptions(), r"field runs\[1\]\.tokens_per_s"),
        (TRAIN_LOG.replace("seq_len: 8192", "seq_len: 81.5"), "l.yaml", RunOptions(), "field seq_len"),
        (TRAIN_LOG + "gpus: 8\n", "l.yaml", RunOptions(), "field gpus"),
        (TRAIN_LOG, "l.yaml", RunOptions(chips=8), "field --chips"),
        ("chips,tokens\n8,1\n", "l.csv", RunOptions(), "field header"),
        ("a;b\n1;2\n", "l.txt", RunOptions(), "field header.*--format"),
        (write_cases([case(CaseKind.TRAIN, 8, 5e4)]).replace(",8,", ",0,"), "c.csv", RunOptions(),
         "field row 1, column accelerator_count"),
        (write_cases([case(CaseKind.TRAIN, 8, 5e4)]), "c.csv", RunOptions(chips=8), "field --chips"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_and_the_field(text, file, options, where):
    data = text if isinstance(text, str) else json.dumps(text)
    with pytest.raises(InputError, match=rf"In .*{re.escape(file)}.*{where}"):
        parse(data, file, options)


def test_not_utf8_and_empty_files_are_bad_input():
    with pytest.raises(InputError, match="not UTF-8"):
        parse(b"\xff\xfe\x00", "x.csv")
    with pytest.raises(InputError, match="empty"):
        parse("  \n", "x.csv")


# --- the store -----------------------------------------------------------------------------


def test_profiles_round_trip_through_the_sqlite_store(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'db' / 'arbiter.db'}"
    cases = [measured(case(CaseKind.TRAIN, n)) for n in (8, 16)]
    fitted = fit_profile(
        "lab-h100", cases, ACCS, EFF, file="runs.csv", file_sha256="c" * 64,
        arbiter_version="9.9", run_format="cases",
    )  # fmt: skip
    with CalibrationStore(url) as store:
        assert store.list() == []  # reading creates nothing
        assert not (tmp_path / "db").exists()
        with pytest.raises(InputError, match="none is stored"):
            store.load("lab-h100")
        store.save(fitted)
        store.save(profile_of((CHIP, Regime.TRAIN, 0.9), name="other"))
    with CalibrationStore(url) as store:
        assert store.load("lab-h100") == fitted
        assert [p.name for p in store.list()] == ["lab-h100", "other"]
        (info,) = store.list_info("lab-h100")
        assert (info.file_name, info.file_sha256, info.arbiter_version, info.n_cases) == (
            "runs.csv", "c" * 64, "9.9", 2,
        )  # fmt: skip
        assert info.created.isoformat() == fitted.provenance.created
        with pytest.raises(InputError, match=r"field --name.*exists"):
            store.save(fitted)
        again = dataclasses.replace(fitted, factors=fitted.factors[:0])
        store.save(again, replace=True)
        assert store.load("lab-h100").factors == ()
        with pytest.raises(UnknownNameError, match="Valid: lab-h100, other"):
            store.load("lab-h101")
