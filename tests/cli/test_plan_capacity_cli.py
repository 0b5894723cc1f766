"""``arbiter plan --capacity``: obtainable capacity end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arbiter.cli.app import main

BIG = """
workloads:
  - {name: big-run, kind: train, model: llama-3.1-70b, tokens: 1T, deadline_days: 20,
     providers: [coreweave]}
"""


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.setenv("HOME", str(tmp_path))  # no stored capacity file
    monkeypatch.delenv("ARBITER_CAPACITY_FILE", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def big(tmp_path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(BIG, encoding="utf-8")
    return path


def test_a_job_larger_than_any_single_purchase_exits_3_naming_it(cli, big):
    """CoreWeave's self-serve quota is 16 GPUs (R4); the run needs 256 on its
    InfiniBand nodes within 20 days."""
    code, _, err = cli("plan", str(big), "--time-limit", "20")
    assert code == 3
    assert "'big-run'" in err
    assert "one region and one purchase" in err
    assert "capacity" in err


def test_a_capacity_file_makes_it_plannable_and_the_plan_lists_its_assumptions(cli, big, tmp_path):
    cap = tmp_path / "cap.yaml"
    cap.write_text(
        "- {provider: coreweave, accelerator: H100-SXM, chips: 2048, price_regime: on_demand}\n",
        encoding="utf-8",
    )
    code, out, err = cli("plan", str(big), "--capacity", str(cap), "--json", "--time-limit", "20")
    assert code == 0, err
    doc = json.loads(out)
    (used,) = doc["capacity_assumptions"]
    (placed,) = doc["assignments"]
    assert used["basis"] == f"file:{cap}"
    assert used["provider"] == "coreweave" and used["accelerator"] == "H100-SXM"
    assert used["chips_used"] == placed["accelerator_count"] > 16
    assert used["chips_used"] <= used["obtainable_chips"] == 2048
    assert {"unit_chips", "needs", "lead_days", "region"} <= set(used)


def test_the_stored_capacity_file_is_read_by_default(cli, big, tmp_path, monkeypatch):
    cap = tmp_path / "stored.csv"
    cap.write_text("provider,accelerator,chips\ncoreweave,H100-SXM,2048\n", encoding="utf-8")
    monkeypatch.setenv("ARBITER_CAPACITY_FILE", str(cap))
    code, out, _ = cli("plan", str(big), "--json", "--time-limit", "20")
    assert code == 0
    assert json.loads(out)["capacity_assumptions"][0]["basis"] == f"file:{cap}"


def test_a_bad_capacity_file_exits_2_naming_file_and_field(cli, big, tmp_path):
    cap = tmp_path / "cap.yaml"
    cap.write_text("- {provider: runpod, accelerator: H100-SXM, chips: -4}\n", encoding="utf-8")
    code, _, err = cli("plan", str(big), "--capacity", str(cap))
    assert code == 2
    assert str(cap) in err and "capacity[0].chips" in err
