"""``arbiter perf calibrate``, ``arbiter perf calibrations`` and ``--calibration NAME`` on
estimate, plan, risk, procure and deal, end to end in-process (no network)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from arbiter.perf.calibration import (
    CalibrationProfile,
    ChipFactor,
    Provenance,
    Regime,
    efficiency_fingerprint,
)
from arbiter.perf.efficiency import default_efficiency
from arbiter.store import CalibrationStore

CHIP = "H100-SXM"

VLLM_RESULT = {
    "date": "20260110-101500",
    "backend": "vllm",
    "model_id": "meta-llama/Llama-3.1-8B-Instruct",
    "num_prompts": 1000,
    "request_rate": "inf",
    "burstiness": 1.0,
    "max_concurrency": 64,
    "duration": 120.0,
    "completed": 1000,
    "total_input_tokens": 1024000,
    "total_output_tokens": 256000,
    "request_throughput": 8.333,
    "output_throughput": 2133.3,
    "mean_ttft_ms": 150.0,
    "mean_tpot_ms": 25.0,
}
TRAIN_LOG = """model: llama-3.1-8b
accelerator: H100
precision: bf16
seq_len: 8192
runs:
  - {chips: 8, tokens_per_s: 60000}
  - {chips: 64, tokens_per_s: 450000}
"""
CASES = (
    "case_id,source,kind,model,precision,accelerator,accelerator_count,input_tokens,"
    "output_tokens,seq_len,ttft_limit_s,tpot_limit_s,metric,value\n"
    "mine-1,our lab,infer_offline,llama-3.1-8b,bf16,MI300X,1,1000,200,,,,"
    "output_tokens_per_s,3000\n"
)
WORKLOADS = """
workloads:
  - {name: summarise, kind: batch, model: llama-3.1-8b, input_tokens: 1B, output_tokens: 100M,
     request_input_tokens: 1000, request_output_tokens: 200, deadline_hours: 48}
  - {name: pretrain, kind: train, model: llama-3.1-8b, tokens: 50B, seq_len: 8192,
     deadline_days: 30}
"""
FLEET = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5}
constraints:
  max_share: {vendor: 0.8, provider: 0.8}
"""
SCENARIOS = """
horizon_days: 90
penalty: 3.0
samples: 20
seed: 0
shocks:
  - name: nvidia-supply-cut
    kind: supply_cut
    select: {vendor: NVIDIA}
    probability: 0.2
    capacity_factor: 0.5
    start_days: 0
    duration_days: 30
"""
PROCURE = """
horizon: {periods: 4, period: quarter}
discount_rate: 0.05
risk: {lambda: 0.5, alpha: 0.9}
constraints: {regions: ["us-*"]}
classes:
  - name: chat
    workload: {kind: serve, model: llama-3.1-8b, input_tokens: 500, output_tokens: 200,
               slo: {ttft_s: 2, tpot_s: 0.05}}
    demand: [200, 250, 300, 350]
scenarios:
  - {name: low, probability: 0.3, growth: {chat: 0.6}}
  - {name: mid, probability: 0.4}
  - {name: high, probability: 0.3, growth: {chat: 2.0}}
commitments:
  - {name: trn2-1y, provider: aws, accelerator: Trainium2, usd_per_chip_hour: 1.2, term: 1y,
     region: us-east-2, min_chips: 16}
platforms:
  cuda: {enabled: true}
  neuron: {enable_usd: 100K, lead_weeks: 8}
"""
DEAL = """
name: small
counterparty: aws
covers: [Trainium2]
discount: 0.3
capital:
  tranches:
    - {usd: 2M, period: 0}
  credits_usd: 100K
obligation: {min_spend_usd_per_year: [1M], shortfall_penalty: 1.0, min_share: 0.2}
porting: {platform: neuron, enable_usd: 100K, lead_weeks: 8, efficiency: 0.85}
valuation: {discount_rate: 0.1, horizon_years: 1, equity_haircut: 0.3}
procurement: procure.yaml
"""


def write(tmp_path: Path, name: str, text: str | dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(text if isinstance(text, str) else json.dumps(text), encoding="utf-8")
    return path


def store_profile(*factors: tuple[str, Regime, float], name: str = "lab") -> CalibrationProfile:
    """A profile put straight into the CLI's store (the cli fixture's ARBITER_DB_URL)."""
    profile = CalibrationProfile(
        name=name,
        factors=tuple(
            ChipFactor(a, r, f, raw=f, cases=4, spread=0.05, case_ids=()) for a, r, f in factors
        ),
        provenance=Provenance(
            file="runs.csv",
            file_sha256="ab" * 32,
            created="2026-11-29T12:00:00+00:00",
            arbiter_version="test",
            cases=4,
            format="cases",
            efficiency=efficiency_fingerprint(default_efficiency()),
        ),
    )
    with CalibrationStore(os.environ["ARBITER_DB_URL"]) as store:
        store.save(profile)
    return profile


def run_json(cli, *args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def check_summary(summary: dict[str, Any], name: str, cases: int, sha: str) -> None:
    assert (summary["name"], summary["cases"], summary["file_sha256"]) == (name, cases, sha)


# --- calibrate and list ----------------------------------------------------------------------


def test_calibrate_each_format_and_list_the_profiles_with_their_provenance(cli, tmp_path):
    vllm = write(tmp_path, "bench.json", VLLM_RESULT)
    log = write(tmp_path, "train.yaml", TRAIN_LOG)
    cases = write(tmp_path, "cases.csv", CASES)
    a = run_json(cli, "perf", "calibrate", str(vllm), "--name", "serving", "-a", "H100",
                 "--chips", "1", "--precision", "bf16")  # fmt: skip
    b = run_json(cli, "perf", "calibrate", str(log), "--name", "training")
    c = run_json(cli, "perf", "calibrate", str(cases), "--name", "mi300x")
    assert [(f["accelerator"], f["regime"], f["cases"]) for f in a["factors"]] == [
        (CHIP, "inference", 1)
    ]
    assert [(f["accelerator"], f["regime"], f["cases"]) for f in b["factors"]] == [
        (CHIP, "train", 2)
    ]
    assert [f["accelerator"] for f in c["factors"]] == ["MI300X"]
    assert a["provenance"]["format"] == "vllm" and b["provenance"]["format"] == "train-log"
    listed = run_json(cli, "perf", "calibrations")
    assert [p["name"] for p in listed] == ["mi300x", "serving", "training"]
    for doc, path in ((c, cases), (a, vllm), (b, log)):
        prov = next(p for p in listed if p["name"] == doc["name"])["provenance"]
        assert prov["file"] == path.name
        assert prov["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert prov["cases"] == len(doc["cases"])
        assert prov["arbiter_version"] and prov["created"].endswith("+00:00")
    code, out, err = cli("perf", "calibrations")
    assert code == 0, err
    assert "serving" in out and "H100-SXM inference" in out


def test_a_name_in_use_is_refused_unless_replaced(cli, tmp_path):
    log = write(tmp_path, "train.yaml", TRAIN_LOG)
    assert cli("perf", "calibrate", str(log), "--name", "lab")[0] == 0
    code, _, err = cli("perf", "calibrate", str(log), "--name", "lab")
    assert code == 2 and "--name" in err and "exists" in err
    assert cli("perf", "calibrate", str(log), "--name", "lab", "--replace")[0] == 0
    code, _, err = cli("perf", "calibrate", str(log), "--name", "no spaces please")
    assert code == 2 and "--name" in err


@pytest.mark.parametrize(
    ("name", "text", "args", "field"),
    [
        ("bench.json", {**VLLM_RESULT, "completed": "many"}, ["-a", "H100", "--chips", "1",
         "--precision", "bf16"], "field completed"),
        ("bench.json", VLLM_RESULT, ["--chips", "1", "--precision", "bf16"], "field --accelerator"),
        ("bench.json", VLLM_RESULT, ["-a", "H100", "--precision", "bf16"], "field --chips"),
        ("bench.json", VLLM_RESULT, ["-a", "H100", "--chips", "0", "--precision", "bf16"],
         "field --chips"),
        ("train.yaml", TRAIN_LOG.replace("chips: 64", "chips: sixty-four"), [],
         r"field runs\[1\]\.chips"),
        ("train.yaml", TRAIN_LOG.replace("model: llama-3.1-8b", "model: llama-9"), [],
         "field model"),
        ("cases.csv", CASES.replace("infer_offline", "infer_everything"), [],
         "field row 1, column kind"),
        ("cases.csv", CASES, ["--format", "yaml"], "field --format"),
    ],
)  # fmt: skip
def test_a_bad_file_exits_2_with_the_file_and_the_field(cli, tmp_path, name, text, args, field):
    path = write(tmp_path, name, text)
    code, out, err = cli("perf", "calibrate", str(path), "--name", "lab", *args)
    assert code == 2, (out, err)
    if not field.startswith("field --"):
        assert str(path) in err
    assert field.replace("\\", "") in err
    assert cli("perf", "calibrations", "--json")[1].strip() == "[]"  # nothing stored


def test_a_missing_file_and_a_file_the_model_cannot_use_exit_2(cli, tmp_path):
    code, _, err = cli("perf", "calibrate", str(tmp_path / "nope.json"), "--name", "lab")
    assert code == 2 and "nope.json" in err
    unknown = write(tmp_path, "cases.csv", CASES.replace("llama-3.1-8b", "my-own-model"))
    code, _, err = cli("perf", "calibrate", str(unknown), "--name", "lab")
    assert code == 2 and "cases.csv" in err and "my-own-model" in err


# --- --calibration on the commands ---------------------------------------------------------


@pytest.mark.parametrize("command", ["estimate", "plan", "risk", "procure", "deal"])
def test_an_unknown_profile_exits_2_naming_the_profiles_that_exist(cli, tmp_path, command):
    files = {
        "estimate": write(tmp_path, "w.yaml", WORKLOADS),
        "plan": write(tmp_path, "f.yaml", FLEET),
        "risk": write(tmp_path, "f.yaml", FLEET),
        "procure": write(tmp_path, "procure.yaml", PROCURE),
        "deal": write(tmp_path, "deal.yaml", DEAL),
    }
    extra = ["--scenarios", str(write(tmp_path, "s.yaml", SCENARIOS))] if command == "risk" else []
    code, _, err = cli(command, str(files[command]), *extra, "--calibration", "lab")
    assert code == 2 and "--calibration" in err and "none is stored" in err
    store_profile((CHIP, Regime.TRAIN, 0.9), name="lab-h100")
    store_profile((CHIP, Regime.TRAIN, 0.9), name="lab-mi300x")
    code, _, err = cli(command, str(files[command]), *extra, "--calibration", "lab")
    assert code == 2
    assert "unknown calibration profile 'lab'" in err and "lab-h100, lab-mi300x" in err


def test_estimate_with_a_profile_moves_only_that_chip_and_says_which_profile(cli, tmp_path):
    path = write(tmp_path, "w.yaml", WORKLOADS)
    profile = store_profile((CHIP, Regime.INFERENCE, 0.5))
    plain = run_json(cli, "estimate", str(path), "--top", "100")
    doc = run_json(cli, "estimate", str(path), "--top", "100", "--calibration", "lab")
    assert "calibration" not in plain
    check_summary(doc["calibration"], "lab", 4, profile.provenance.file_sha256)
    assert doc["calibration"]["factors"] == [
        {"accelerator": CHIP, "regime": "inference", "factor": 0.5, "cases": 4}
    ]
    for old, new in zip(plain["workloads"], doc["workloads"], strict=True):
        before = {e["accelerator"]: e for e in old["estimates"]}
        after = {e["accelerator"]: e for e in new["estimates"]}
        assert set(before) == set(after)
        for chip, e in before.items():
            if chip != CHIP or old["kind"] == "train":
                assert after[chip] == e, (old["name"], chip)
        if old["kind"] == "batch":
            moved = after[CHIP]
            assert moved["tokens_per_s"] / moved["chips"] == pytest.approx(
                0.5 * before[CHIP]["tokens_per_s"] / before[CHIP]["chips"]
            )
            assert any("profile 'lab'" in n for n in moved["notes"])


def test_plan_with_a_profile_on_a_chip_it_does_not_use_is_the_same_plan(cli, tmp_path):
    path = write(tmp_path, "f.yaml", FLEET)
    plain = run_json(cli, "plan", str(path))
    used = {a["accelerator"] for a in plain["assignments"]}
    idle = next(c for c in ("MI300X", "TPU-v5e", "Gaudi3", "L4") if c not in used)
    profile = store_profile((idle, Regime.INFERENCE, 0.8), (idle, Regime.TRAIN, 0.8))
    doc = run_json(cli, "plan", str(path), "--calibration", "lab")
    check_summary(doc["provenance"].pop("calibration"), "lab", 4, profile.provenance.file_sha256)
    assert doc["total_usd"] == plain["total_usd"]
    assert doc["shares"]["vendor"] == plain["shares"]["vendor"]

    def placed(plan: dict[str, Any]) -> list[tuple[object, ...]]:
        # offers of one price in two regions tie: the solver may take either
        keys = ("workload", "accelerator", "price_regime", "accelerator_count", "usd")
        return sorted(tuple(a[k] for k in keys) for a in plan["assignments"])

    assert placed(doc) == placed(plain)
    assert idle not in {a["accelerator"] for a in doc["assignments"]}


def test_risk_procure_and_deal_carry_the_profile_in_their_provenance(cli, tmp_path):
    fleet = write(tmp_path, "f.yaml", FLEET)
    scenarios = write(tmp_path, "s.yaml", SCENARIOS)
    procure = write(tmp_path, "procure.yaml", PROCURE)
    deal = write(tmp_path, "deal.yaml", DEAL)
    profile = store_profile((CHIP, Regime.INFERENCE, 0.8))
    sha = profile.provenance.file_sha256
    risk = run_json(cli, "risk", str(fleet), "--scenarios", str(scenarios), "--samples", "10",
                    "--workers", "1", "--calibration", "lab")  # fmt: skip
    check_summary(risk["provenance"]["calibration"], "lab", 4, sha)
    plain = run_json(cli, "procure", str(procure))
    doc = run_json(cli, "procure", str(procure), "--calibration", "lab")
    check_summary(doc["provenance"]["calibration"], "lab", 4, sha)
    assert "calibration" not in plain["provenance"]
    dealt = run_json(cli, "deal", str(deal), "--samples", "0", "--no-sensitivity",
                     "--calibration", "lab")  # fmt: skip
    check_summary(dealt["provenance"]["calibration"], "lab", 4, sha)


def test_a_profile_fitted_against_other_model_parameters_is_applied_with_a_warning(cli, tmp_path):
    path = write(tmp_path, "w.yaml", WORKLOADS)
    profile = store_profile((CHIP, Regime.INFERENCE, 0.9))
    with CalibrationStore(os.environ["ARBITER_DB_URL"]) as store:
        stale = dataclasses.replace(
            profile,
            provenance=dataclasses.replace(profile.provenance, efficiency="an older fit (0123)"),
        )
        store.save(stale, replace=True)
    code, out, err = cli("estimate", str(path), "--json", "--calibration", "lab")
    assert code == 0, err
    assert "calibration profile 'lab': H100-SXM inference x0.9" in err
    assert "warning" in err and "an older fit (0123)" in err
    assert json.loads(out)["calibration"]["efficiency"] == "an older fit (0123)"
