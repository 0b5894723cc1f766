"""Published results on every vendor: the case format's fixed batch and concurrency, how
the model predicts them, layouts over a whole non-power-of-two domain, the fit's Jacobian
sparsity, and the leave-one-source-out cross-validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from arbiter.catalog.embedded import default_accelerators
from arbiter.cli.app import main
from arbiter.domain.errors import InputError
from arbiter.domain.workload import Precision
from arbiter.perf.cases import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    BenchmarkCase,
    parse_cases,
    shipped_cases,
    write_cases,
)
from arbiter.perf.cross_validation import cross_validate
from arbiter.perf.efficiency import PLATFORM_PARAMETERS, PLATFORMS, Efficiency, default_efficiency
from arbiter.perf.fitting import FITTED_GLOBALS, _layout, _sparsity
from arbiter.perf.hardware import chip_arrays
from arbiter.perf.inference import replica_grid
from arbiter.perf.out_of_sample import fold_residuals, held_out, publisher_group, source_group
from arbiter.perf.predict import Unpredictable, predict
from arbiter.perf.validation import question_for

ROOT = Path(__file__).resolve().parents[2]
HEADER = ",".join(COLUMNS)
ROW = (
    "g-1,https://example.org/gaudi,infer_offline,llama-3.1-8b,fp8,Gaudi2,1,128,128,,,,"
    "output_tokens_per_s,20000"
)


def one(text: str) -> BenchmarkCase:
    (case,) = parse_cases(text, file="t.csv")
    return case


def test_optional_columns_read_and_write_back_byte_for_byte():
    text = f'{HEADER},batch,notes\n{ROW},256,"FIXED_BATCH=256, Intel\'s table"\n'
    case = one(text)
    assert case.batch == 256 and case.concurrency is None and case.in_flight == 256
    assert case.notes.startswith("FIXED_BATCH=256")
    assert write_cases([case]) == text
    plain = one(f"{HEADER}\n{ROW}\n")  # the 14-column format is unchanged
    assert plain.batch is None and plain.notes == ""
    assert write_cases([plain]) == f"{HEADER}\n{ROW}\n"


@pytest.mark.parametrize(
    ("header", "row", "field", "valid"),
    [
        (f"{HEADER},notes,batch", f"{ROW},x,8", "header", "optionally and in this order"),
        (f"{HEADER},batch", f"{ROW},0", "column batch", "whole number >= 1"),
        (f"{HEADER},batch", f"{ROW},2.5", "column batch", "whole number >= 1"),
        (f"{HEADER},batch,concurrency", f"{ROW},8,8", "column concurrency", "one of them"),
        (f"{HEADER},tp", f"{ROW},0", "column tp", "whole number >= 1"),
        (f"{HEADER},tp,pp", f"{ROW},2,1", "column tp", "dividing accelerator_count"),
        (f"{HEADER},pp", f"{ROW},3", "column pp", "dividing accelerator_count"),
        (
            f"{HEADER},concurrency",
            ROW.replace("infer_offline", "infer_latency")
            .replace("output_tokens_per_s", "tpot_s")
            .replace("20000", "0.01")
            + ",4",
            "column concurrency",
            "except for infer_offline",
        ),
        (
            f"{HEADER},batch",
            ROW.replace("infer_offline", "infer_latency")
            .replace("output_tokens_per_s", "tpot_s")
            .replace("20000", "0.01")
            + ",4",
            "column batch",
            "the train kinds (sequences per optimizer step)",
        ),
    ],
)
def test_bad_optional_columns_name_the_field_and_what_is_valid(header, row, field, valid):
    with pytest.raises(InputError) as err:
        parse_cases(f"{header}\n{row}\n", file="t.csv")
    assert field in str(err.value) and valid in str(err.value) and "t.csv" in str(err.value)


def test_a_stated_layout_reads_and_writes_back():
    row = ROW.replace(",1,128", ",8,128")
    text = f"{HEADER},tp,pp\n{row},4,2\n"
    case = one(text)
    assert (case.tp, case.pp, case.layout) == (4, 2, (4, 2))
    assert write_cases([case]) == text
    only_tp = one(f"{HEADER},tp\n{row},8\n")
    assert only_tp.layout == (8, 1)  # one pipeline stage unless stated
    assert one(f"{HEADER}\n{row}\n").layout is None


def test_a_stated_layout_is_predicted_in_that_layout():
    accelerators = default_accelerators()
    eff = default_efficiency()
    row = (
        "m-1,https://example.org/rocm,infer_offline,llama-3.1-70b,fp8,MI300X,8,128,2048,,,,"
        "output_tokens_per_s,12000"
    )
    free = one(f"{HEADER}\n{row}\n")
    best = predict(question_for(free, accelerators), eff)
    layouts = {
        t: predict(question_for(dataclasses.replace(free, tp=t), accelerators), eff)
        for t in (1, 2, 4, 8)
    }
    # the model's own choice is the best of the layouts; a stated one is that layout's
    assert best == pytest.approx(max(layouts.values()))
    assert len({round(v) for v in layouts.values()}) == 4
    assert layouts[8] < best
    # a layout the host cannot build is not predicted (tp beyond the scale-up domain)
    with pytest.raises(Unpredictable, match="stated layout"):
        predict(question_for(dataclasses.replace(free, tp=8, pp=2), accelerators), eff)


def test_the_shipped_layouts_come_from_the_notes_in_chips():
    cases = {c.case_id: c for c in shipped_cases()}
    stated = [c for c in cases.values() if c.layout is not None]
    # Neuron counts NeuronCores (two per Trainium1 / Inferentia2 chip): TP 24 on 12 chips
    inf2 = [c for c in stated if c.accelerator == "Inferentia2"]
    assert inf2 and all(c.layout == (12, 1) for c in inf2)
    assert all("TP degree 24" in c.notes for c in inf2)
    assert cases["neuron-train-llama-2-13b-trainium1-1"].layout == (4, 8)  # TP=8 PP=8 cores
    # a topology the notes doubt ("as printed; inconsistent") is not used
    assert cases["neuron-train-llama-2-7b-trainium1-2"].layout is None
    assert all(c.layout == (8, 1) for c in stated if c.case_id.startswith("rocm-vllm"))
    assert all(c.accelerator_count % (c.layout[0] * c.layout[1]) == 0 for c in stated if c.layout)


def test_shipped_cases_cover_every_vendor_with_their_fixed_batches():
    cases = shipped_cases()
    accelerators = default_accelerators()
    platforms = {question_for(c, accelerators).accelerator.platform.value for c in cases}
    assert platforms == set(PLATFORMS)
    fixed = [c for c in cases if c.in_flight is not None]
    assert len(fixed) == 75  # 48 + 27 rows whose notes begin FIXED_BATCH= or CONCURRENCY=
    # training rows whose notes state their global batch carry it, as sequences per step
    stated = [c for c in cases if c.global_batch is not None]
    assert stated and all(c.kind.is_training and c.in_flight is None for c in stated)
    assert {c.case_id.split("-")[0] for c in stated} == {"maxtext", "neuron", "gaudi"}
    assert all(c.notes.split("=")[0] in ("FIXED_BATCH", "CONCURRENCY") for c in fixed)
    assert all(f"={c.in_flight}" in c.notes.split(";")[0] for c in fixed)
    assert not any(held_out(c) for c in cases if c.case_id.startswith(("neuron", "gaudi")))


def _with_batch(case: BenchmarkCase, batch: int | None) -> BenchmarkCase:
    return dataclasses.replace(case, batch=batch)


def test_a_fixed_batch_is_predicted_at_that_batch():
    accelerators = default_accelerators()
    eff = default_efficiency()
    base = one(f"{HEADER}\n{ROW.replace(',1,128', ',8,128')}\n")  # 8 Gaudi2
    peak = predict(question_for(base, accelerators), eff)
    values = [
        predict(question_for(_with_batch(base, b), accelerators), eff) for b in (1, 8, 64, 512)
    ]
    assert values == sorted(values)  # more sequences in flight, more tokens/s
    assert values[0] < 0.2 * peak  # one sequence is far from the peak
    # within the engine's usual batches, never above the offline optimum
    assert all(v <= peak * (1 + 1e-9) for v in values)
    # beyond what the memory holds, the scheduler queues: no failure, and no gain
    huge = predict(question_for(_with_batch(base, 10_000_000), accelerators), eff)
    huger = predict(question_for(_with_batch(base, 20_000_000), accelerators), eff)
    assert huge == huger >= values[-1]


def test_fewer_sequences_than_replicas_leave_replicas_idle():
    accelerators = default_accelerators()
    eff = default_efficiency()
    base = one(f"{HEADER}\n{ROW.replace(',1,128', ',8,128')}\n")
    # with 2 sequences over 8 chips, 8 single-chip replicas cannot all work
    two = predict(question_for(_with_batch(base, 2), accelerators), eff)
    one_seq = predict(question_for(_with_batch(base, 1), accelerators), eff)
    assert one_seq < two <= 2 * one_seq * (1 + 1e-9)


def test_a_whole_non_power_of_two_domain_is_a_tensor_parallel_layout():
    accelerators = default_accelerators()
    inf2 = chip_arrays([accelerators["Inferentia2"]], Precision.BF16)
    grid = replica_grid(inf2, total_chips=12)
    assert 12 in grid.tp.tolist()  # an inf2.48xlarge runs one model over its 12 chips
    assert set(grid.tp.tolist()) <= {1, 2, 4, 12}  # 8 does not divide 12
    h100 = chip_arrays([accelerators["H100-SXM"]], Precision.BF16)
    assert all(t & (t - 1) == 0 for t in replica_grid(h100).tp.tolist())
    # the 12-chip latency case that had no layout before is predicted
    latency = next(
        c
        for c in shipped_cases()
        if c.accelerator == "Inferentia2" and c.kind.value == "infer_latency"
    )
    assert predict(question_for(latency, accelerators), default_efficiency()) > 0


def test_a_case_depends_only_on_its_platform_and_the_globals():
    """The premise of the fit's Jacobian sparsity: perturb each parameter and see which
    cases move."""
    accelerators = default_accelerators()
    eff = default_efficiency()
    by_platform: dict[str, BenchmarkCase] = {}
    for c in shipped_cases():
        try:
            q = question_for(c, accelerators)
            predict(q, eff)
        except Unpredictable:
            continue
        by_platform.setdefault(q.accelerator.platform.value, c)
    cases = [by_platform[p] for p in PLATFORMS]
    names = _layout()
    pattern = _sparsity(names, list(PLATFORMS))
    base = [predict(question_for(c, accelerators), eff) for c in cases]
    for j, (scope, key) in enumerate(names):
        if scope == "pooled":
            continue  # only in the shrinkage rows
        platform = {p: dict(v) for p, v in eff.platform.items()}
        globals_ = dict(eff.globals_)
        if scope == "global":
            globals_[key] *= 0.9 if globals_[key] > 0.5 else 1.1
        else:
            platform[scope][key] *= 0.9
        moved = Efficiency(platform=platform, globals_=globals_)
        for i, c in enumerate(cases):
            changed = predict(question_for(c, accelerators), moved) != base[i]
            if changed:
                assert pattern[i, j], (c.case_id, scope, key)
    assert pattern.shape == (len(PLATFORMS) + len(PLATFORMS) * len(PLATFORM_PARAMETERS), len(names))
    assert len(FITTED_GLOBALS) == sum(s == "global" for s, _ in names)


def _small_set() -> list[BenchmarkCase]:
    """Three sources' worth of shipped cases: Gaudi, Neuron and one MLPerf submitter."""
    picked: dict[str, list[BenchmarkCase]] = {}
    for c in shipped_cases():
        g = source_group(c)
        if held_out(c) or c.case_id.startswith("maxtext"):
            continue
        key = "gaudi" if "gaudi" in c.case_id else "neuron" if "neuron" in c.case_id else g
        if key in ("gaudi", "neuron") or key.endswith("NVIDIA"):
            picked.setdefault(key, []).append(c)
    return [c for cs in picked.values() for c in cs[:6]]


def test_cross_validation_predicts_each_source_by_the_fit_without_it():
    cases = _small_set()
    accelerators = default_accelerators()
    shipped = default_efficiency()
    cv = cross_validate(cases, accelerators, shipped, workers=1)
    groups = {source_group(c) for c in cases}
    assert cv.sources == len(groups) >= 3
    one_group = min(groups)
    direct = {
        r.case_id: r.predicted for r in fold_residuals(cases, accelerators, one_group, shipped)
    }
    got = {r.case_id: r.predicted for r in cv.residuals if r.group == one_group}
    assert got == direct and got
    # out of sample is worse than in sample on the same cases (the fit saw them there)
    mape = cv.mape_percent
    by = cv.by("platform")
    assert sum(c.cases for c in by.values()) == len(cv.residuals)
    assert mape == pytest.approx(
        sum(c.mape_percent * c.cases for c in by.values()) / len(cv.residuals)
    )


def test_perf_validate_cv_json(tmp_path, capsys):
    path = tmp_path / "cases.csv"
    path.write_text(write_cases(_small_set()), encoding="utf-8")
    code = main(["perf", "validate", str(path), "--cv", "--workers", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["unit"] == "percent"
    assert set(doc["by_platform"]) == {"cuda", "gaudi", "neuron"}
    for cell in doc["by_platform"].values():
        assert cell["cases"] > 0 and cell["mape"] >= 0
    assert doc["cases"] == sum(c["cases"] for c in doc["by_platform"].values())
    errors = [abs(r["error_percent"]) for r in doc["residuals"] if not r["held_out"]]
    assert doc["mape"] == pytest.approx(sum(errors) / len(errors), abs=0.05)


def test_optional_columns_are_in_the_documented_order():
    assert OPTIONAL_COLUMNS == ("batch", "concurrency", "tp", "pp", "notes")
    doc = (ROOT / "docs" / "perf-cases.md").read_text(encoding="utf-8")
    assert all(f"`{c}`" in doc for c in OPTIONAL_COLUMNS)


def test_perf_validate_cv_by_publisher_leaves_out_whole_repositories(tmp_path, capsys):
    cases = _small_set()
    path = tmp_path / "cases.csv"
    path.write_text(write_cases(cases), encoding="utf-8")
    code = main(["perf", "validate", str(path), "--cv", "--by", "publisher", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["source"] == "publisher"
    assert doc["sources"] == len({publisher_group(c) for c in cases})
    publisher = {c.case_id: publisher_group(c) for c in cases}
    assert all(r["source"] == publisher[r["case_id"]] for r in doc["residuals"])
