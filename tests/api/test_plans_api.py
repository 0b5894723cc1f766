"""Saved plans as typed results: the list and one plan, its figures read leniently from
a document an earlier arbiter may have written, its document unchanged."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import arbiter
from arbiter.cli.app import main
from arbiter.domain.errors import StoreError
from arbiter.results import SavedPlan, SavedPlanInfo
from arbiter.store import PlanStore

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def document(total: float) -> dict[str, object]:
    return {
        "status": "optimal",
        "total_usd": total,
        "assignments": [
            {"workload": "chat", "accelerator": "H100-SXM", "provider": "aws", "usd": total,
             "instance_count": 2, "accelerator_count": 16, "hours": 10.0, "extra": [1]},
        ],
        "shares": {"vendor": {"NVIDIA": 1.0}},
        "provenance": {"catalog_hash": "c0ffee", "solver": "highs", "seed": 7},
        "a_key_arbiter_no_longer_writes": {"x": 1},
    }  # fmt: skip


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'arbiter.db'}"
    monkeypatch.setenv("ARBITER_DB_URL", url)
    return url


def save(db_url: str, doc: dict[str, object], name: str, created: dt.datetime = T0) -> str:
    with PlanStore(db_url) as plans:
        return plans.save(doc, name=name, created=created)


def test_the_list_is_newest_first_and_what_the_cli_prints(db_url, capsys):
    old = save(db_url, document(10.0), "a.yaml")
    new = save(db_url, document(20.0), "b.yaml", T0 + dt.timedelta(hours=1))
    listed = arbiter.saved_plans()
    assert [p.plan_id for p in listed] == [new, old]
    assert all(isinstance(p, SavedPlanInfo) for p in listed)
    assert [p.total_usd for p in listed] == [20.0, 10.0]
    assert listed[1].created == T0.isoformat() and listed[1].catalog_hash == "c0ffee"
    assert main(["plans", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == listed.to_list()
    assert list(listed.to_frame()["name"]) == ["b.yaml", "a.yaml"]


def test_one_plan_has_typed_figures_and_its_document_unchanged(db_url, capsys):
    pid = save(db_url, document(99.5), "fleet.yaml")
    saved = arbiter.saved_plan(pid[:8])
    assert isinstance(saved, SavedPlan) and saved.info.plan_id == pid
    assert saved.plan.status == "optimal" and saved.plan.total_usd == 99.5
    (row,) = saved.plan.assignments
    assert (row.workload, row.accelerator_count, row.usd, row.region) == ("chat", 16, 99.5, None)
    assert saved.plan.provenance is not None and saved.plan.provenance.seed == 7
    assert saved.plan.shares == {"vendor": {"NVIDIA": 1.0}}
    assert saved.document == document(99.5)  # keys the figures ignore are kept
    with PlanStore(db_url) as plans:
        stored = plans.document(pid)
    assert saved.document_json() == stored
    assert main(["plans", "show", pid, "--json"]) == 0
    assert capsys.readouterr().out == stored + "\n"


def test_a_sparse_document_gives_blanks(db_url):
    saved = arbiter.saved_plan(save(db_url, {"status": "infeasible"}, "bad.yaml"))
    assert saved.plan.status == "infeasible" and saved.plan.total_usd is None
    assert saved.plan.assignments == () and saved.plan.shares == {}


def test_a_document_of_the_wrong_shape_is_a_store_error_in_one_paragraph(db_url, capsys):
    pid = save(db_url, {**document(1.0), "total_usd": "a lot"}, "odd.yaml")
    with pytest.raises(StoreError, match="total_usd"):
        arbiter.saved_plan(pid)
    assert main(["plans", "show", pid]) == 5
    err = capsys.readouterr().err
    assert pid in err and "total_usd" in err and "Traceback" not in err
