"""``arbiter plans``: plans saved through the store API, listed and shown through the CLI."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from arbiter.catalog.embedded import default_catalog
from arbiter.cli.app import main
from arbiter.store import CatalogStore, PlanStore, plan_id

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def sample_plan(total: float = 2468.0) -> dict[str, Any]:
    return {
        "status": "optimal",
        "total_usd": total,
        "assignments": [
            {
                "workload": "chat-serving",
                "offer_id": "0123456789ab",
                "provider": "aws",
                "region": "us-east-1",
                "instance_type": "p5.48xlarge",
                "accelerator": "H100-SXM",
                "vendor": "NVIDIA",
                "price_regime": "on_demand",
                "instance_count": 2,
                "accelerator_count": 16,
                "hours": 10.0,
                "usd": total * 0.75,
            },
            {
                "workload": "nightly-finetune",
                "offer_id": "ba9876543210",
                "provider": "azure",
                "region": "eastus",
                "instance_type": "ND96isr_MI300X_v5",
                "accelerator": "MI300X",
                "vendor": "AMD",
                "price_regime": "spot",
                "instance_count": 1,
                "accelerator_count": 8,
                "hours": 24.5,
                "usd": total * 0.25,
            },
        ],
        "shares": {
            "vendor": {"NVIDIA": 0.75, "AMD": 0.25},
            "provider": {"aws": 0.75, "azure": 0.25},
            "region": {"us-east-1": 0.75, "eastus": 0.25},
        },
        "provenance": {
            "catalog_hash": "c0ffee" + "0" * 58,
            "input_hash": "1a2b3c" + "0" * 58,
            "solver": "highs",
            "solver_version": "1.7.2",
            "seed": 42,
        },
    }


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'arbiter.db'}"
    monkeypatch.setenv("ARBITER_DB_URL", url)
    monkeypatch.setenv("COLUMNS", "240")
    return url


@pytest.fixture
def cli(db_url, capsys):
    """Run ``arbiter ARGS``; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def save(db_url: str, plan: dict[str, Any], name: str, created: dt.datetime = T0) -> str:
    with PlanStore(db_url) as plans:
        return plans.save(plan, name=name, created=created)


def test_list_json_newest_first(cli, db_url):
    old = save(db_url, sample_plan(100.0), "fleet.yaml", T0)
    new = save(db_url, sample_plan(200.0), "what-if", T0 + dt.timedelta(days=1))
    code, out, err = cli("plans", "list", "--json")
    assert (code, err) == (0, "")
    listed = json.loads(out)
    assert [p["plan_id"] for p in listed] == [new, old]
    assert listed[1] == {
        "plan_id": old,
        "created": "2026-11-01T12:00:00+00:00",
        "name": "fleet.yaml",
        "status": "optimal",
        "total_usd": 100.0,
        "catalog_hash": "c0ffee" + "0" * 58,
        "input_hash": "1a2b3c" + "0" * 58,
    }


def test_list_table(cli, db_url):
    pid = save(db_url, sample_plan(), "fleet.yaml")
    code, out, _ = cli("plans", "list")
    assert code == 0
    for text in (pid, "2026-11-01T12:00:00+00:00", "fleet.yaml", "optimal", "$2,468.00"):
        assert text in out
    assert "c0ffee000000" in out and "c0ffee0000000" not in out  # catalog hash shortened


def test_an_empty_store_lists_nothing(cli, db_url, tmp_path):
    code, out, _ = cli("plans", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    assert cli("plans", "list")[0] == 0
    assert not (tmp_path / "arbiter.db").exists()  # listing creates no database


def test_show_summarises_the_plan(cli, db_url):
    pid = save(db_url, sample_plan(), "fleet.yaml")
    code, out, err = cli("plans", "show", pid[:8])
    assert (code, err) == (0, "")
    for text in (
        pid, "fleet.yaml", "optimal", "$2,468.00", "highs 1.7.2 (seed 42)", "c0ffee",
        # the assignments table
        "chat-serving", "nightly-finetune", "H100-SXM", "MI300X", "aws", "azure", "us-east-1",
        "eastus", "on_demand", "spot", "$1,851.00", "$617.00", "24.5",
        # the shares
        "share by vendor", "share by provider", "share by region", "75.0%", "25.0%",
    ):  # fmt: skip
        assert text in out, text
    assert out.index("NVIDIA") < out.index("AMD")  # largest share first


def test_show_json_prints_the_stored_document_unchanged(cli, db_url):
    pid = save(db_url, sample_plan(), "fleet.yaml")
    with PlanStore(db_url) as plans:
        document = plans.document(pid)
    code, out, _ = cli("plans", "show", pid, "--json")
    assert code == 0
    assert out == document + "\n"
    assert json.loads(out) == sample_plan()


def test_show_tolerates_a_sparse_plan(cli, db_url):
    pid = save(db_url, {"status": "infeasible"}, "bad.yaml")
    code, out, _ = cli("plans", "show", pid)
    assert code == 0
    assert "infeasible" in out and "no assignments" in out and "n/a" in out


def test_an_unknown_id_suggests_close_ids(cli, db_url):
    pid = save(db_url, sample_plan(), "fleet.yaml")
    typo = pid[:11] + ("0" if pid[11] != "0" else "1")
    code, out, err = cli("plans", "show", typo)
    assert code == 2
    assert out == ""
    assert f"unknown plan '{typo}'" in err
    assert f"Did you mean '{pid}'" in err


def test_an_unknown_id_in_an_empty_store(cli, db_url):
    code, _, err = cli("plans", "show", "abcdef123456")
    assert code == 2
    assert "unknown plan 'abcdef123456'" in err


def test_a_too_short_prefix_is_bad_input(cli, db_url):
    pid = save(db_url, sample_plan(), "fleet.yaml")
    code, _, err = cli("plans", "show", pid[:3])
    assert code == 2
    assert "too short" in err


def test_saving_twice_lists_once(cli, db_url):
    first = save(db_url, sample_plan(), "fleet.yaml")
    second = save(db_url, sample_plan(), "fleet-copy.yaml", T0 + dt.timedelta(hours=1))
    assert first == second == plan_id(sample_plan())
    code, out, _ = cli("plans", "list", "--json")
    assert code == 0
    assert [(p["plan_id"], p["name"]) for p in json.loads(out)] == [(first, "fleet.yaml")]


def test_plans_share_the_database_with_catalog_versions(cli, db_url):
    with CatalogStore(db_url) as catalogs:  # first a database with only catalog tables
        version = catalogs.save(default_catalog(), label="x", created_at=T0).version
    assert cli("plans", "list", "--json")[1:] == ("[]\n", "")
    pid = save(db_url, sample_plan(), "fleet.yaml")
    code, out, _ = cli("catalog", "versions", "--json")
    assert code == 0
    assert version in {v["version"] for v in json.loads(out)}
    assert pid in cli("plans", "list")[1]


def test_an_unreachable_store_is_exit_5(cli, monkeypatch):
    monkeypatch.setenv("ARBITER_DB_URL", "postgresql://me:s3cret@127.0.0.1:1/arbiter")
    code, _, err = cli("plans", "list")
    assert code == 5
    assert "plan store" in err and "s3cret" not in err
