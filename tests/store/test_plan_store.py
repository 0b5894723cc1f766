"""Saved fleet plans, on SQLite and (given ARBITER_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.store import CatalogStore, PlanInfo, PlanStore, plan_id
from arbiter.store import plan_store as plan_store_module
from arbiter.store import tables as store_tables

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def sample_plan(total: float = 1234.5, seed: int = 7) -> dict[str, Any]:
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
                "usd": total,
            }
        ],
        "shares": {
            "vendor": {"NVIDIA": 1.0},
            "provider": {"aws": 1.0},
            "region": {"us-east-1": 1.0},
        },
        "provenance": {
            "catalog_hash": "f" * 64,
            "input_hash": "e" * 64,
            "solver": "highs",
            "solver_version": "1.7.2",
            "seed": seed,
        },
    }


@pytest.fixture
def open_plans(store_url: str) -> Iterator[Callable[[], PlanStore]]:
    """Open plan stores on ``store_url``; all are closed before the schema is dropped."""
    opened: list[PlanStore] = []

    def open_() -> PlanStore:
        plans = PlanStore(store_url)
        opened.append(plans)
        return plans

    yield open_
    for plans in opened:
        plans.close()


@pytest.fixture
def plans(open_plans: Callable[[], PlanStore]) -> PlanStore:
    return open_plans()


def table_names(store_url: str) -> list[str]:
    """The tables in the database, without creating a SQLite file that is not there."""
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def count_plans(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(store_tables.plans)).scalar_one()


def insert_plan_row(engine: sa.Engine, pid: str, document: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(store_tables.plans).values(
                plan_id=pid, created=T0, name="crafted", document=document
            )
        )


# -- saving and loading ---------------------------------------------------------------------


def test_the_id_is_the_hash_of_the_canonical_json():
    plan = sample_plan()
    canonical = json.dumps(plan, sort_keys=True, separators=(",", ":"))
    assert plan_id(plan) == hashlib.sha256(canonical.encode()).hexdigest()[:12]
    reordered = dict(reversed(plan.items()))
    assert plan_id(reordered) == plan_id(plan)
    assert plan_id(sample_plan(seed=8)) != plan_id(plan)


def test_round_trip(plans):
    plan = sample_plan()
    pid = plans.save(plan, name="fleet.yaml", created=T0)
    assert pid == plan_id(plan)
    assert plans.load(pid) == plan
    assert plans.load(pid[:6]) == plan
    assert plans.load(pid.upper()) == plan
    assert json.loads(plans.document(pid)) == plan
    assert plans.list() == [
        PlanInfo(
            plan_id=pid,
            created=T0,
            name="fleet.yaml",
            status="optimal",
            total_usd=1234.5,
            catalog_hash="f" * 64,
            input_hash="e" * 64,
        )
    ]
    assert plans.info(pid[:8]) == plans.list()[0]


def test_floats_come_back_exactly(plans):
    plan = sample_plan(total=0.1 + 0.2)
    plan["assignments"][0]["hours"] = 123456789.123456789
    pid = plans.save(plan, name="x", created=T0)
    assert plans.load(pid) == plan
    assert plans.list()[0].total_usd == 0.1 + 0.2


def test_save_is_idempotent(plans, raw_engine):
    first = plans.save(sample_plan(), name="first", created=T0)
    again = plans.save(dict(reversed(sample_plan().items())), name="second", created=at(5))
    assert again == first
    assert count_plans(raw_engine) == 1
    (info,) = plans.list()
    assert (info.name, info.created) == ("first", T0)


def test_plans_persist_across_store_instances(open_plans):
    pid = open_plans().save(sample_plan(), name="x", created=T0)
    assert open_plans().load(pid) == sample_plan()


def test_a_concurrent_writer_of_the_same_plan_is_not_an_error(plans, raw_engine, monkeypatch):
    pid = plans.save(sample_plan(), name="theirs", created=T0)
    # Lose the race: our check sees nothing, the insert hits their row, the re-read sees it.
    original = plan_store_module._stored
    calls = []

    def first_call_misses(conn, plan_id, canonical):
        calls.append(plan_id)
        return False if len(calls) == 1 else original(conn, plan_id, canonical)

    monkeypatch.setattr(plan_store_module, "_stored", first_call_misses)
    assert plans.save(sample_plan(), name="ours", created=at(1)) == pid
    assert len(calls) == 2
    assert count_plans(raw_engine) == 1


def test_the_summary_columns_tolerate_a_sparse_plan(plans):
    pid = plans.save({"status": "infeasible", "total_usd": None}, name="bad", created=T0)
    info = plans.info(pid)
    assert (info.status, info.total_usd, info.catalog_hash, info.input_hash) == (
        "infeasible",
        None,
        None,
        None,
    )
    assert plans.save({}, name="empty", created=T0) == plan_id({})


# -- listing -----------------------------------------------------------------------------------


def test_an_empty_store_lists_nothing_and_creates_nothing(plans, store_url):
    assert plans.list() == []
    with pytest.raises(UnknownNameError):
        plans.load("abcdef")
    assert table_names(store_url) == []
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite":
        assert not Path(url.database or "").parent.exists()


def test_plans_are_listed_newest_first_then_by_id(plans):
    old = plans.save(sample_plan(1.0), name="old", created=at(1))
    new = plans.save(sample_plan(2.0), name="new", created=at(3))
    tie = sorted(plans.save(sample_plan(p), name="tie", created=at(2)) for p in (3.0, 4.0))
    assert [p.plan_id for p in plans.list()] == [new, *tie, old]


def test_created_is_aware_and_in_utc(plans):
    cet = dt.timezone(dt.timedelta(hours=1))
    plans.save(
        sample_plan(), name="x", created=dt.datetime(2026, 1, 1, 13, 30, 15, 250, tzinfo=cet)
    )
    (info,) = plans.list()
    assert info.created == dt.datetime(2026, 1, 1, 12, 30, 15, 250, tzinfo=dt.UTC)
    assert info.created.utcoffset() == dt.timedelta(0)


def test_created_defaults_to_now(plans):
    before = dt.datetime.now(dt.UTC)
    plans.save(sample_plan(), name="x")
    (info,) = plans.list()
    assert before <= info.created <= dt.datetime.now(dt.UTC)


# -- naming plans -----------------------------------------------------------------------------


def test_an_unknown_id_is_named_with_suggestions(plans):
    pid = plans.save(sample_plan(), name="x", created=T0)
    typo = pid[:11] + ("0" if pid[11] != "0" else "1")
    with pytest.raises(UnknownNameError, match=f"Did you mean '{pid}'") as err:
        plans.load(typo)
    assert err.value.kind == "plan"
    assert err.value.suggestions == [pid]
    assert err.value.exit_code == 2
    with pytest.raises(UnknownNameError):
        plans.load("not-an-id")


def test_a_prefix_shorter_than_six_digits_is_refused(plans):
    pid = plans.save(sample_plan(), name="x", created=T0)
    with pytest.raises(InputError, match="too short") as err:
        plans.load(pid[:5])
    assert "at least 6 hex digits" in str(err.value)


def test_an_ambiguous_prefix_lists_the_matches(plans, raw_engine):
    plans.save(sample_plan(), name="x", created=T0)  # creates the table
    one, two = {"n": 1}, {"n": 2}
    insert_plan_row(raw_engine, "abcdef000001", json.dumps(one))
    insert_plan_row(raw_engine, "abcdef000002", json.dumps(two))
    with pytest.raises(InputError, match="ambiguous") as err:
        plans.load("abcdef")
    assert "abcdef000001" in str(err.value) and "abcdef000002" in str(err.value)
    assert not isinstance(err.value, UnknownNameError)
    assert err.value.exit_code == 2
    assert plans.info("abcdef000002").name == "crafted"


# -- integrity and failures ----------------------------------------------------------------------


def test_a_plan_changed_behind_the_stores_back_is_reported(plans, raw_engine):
    pid = plans.save(sample_plan(), name="x", created=T0)
    changed = json.dumps(sample_plan(total=1.0))
    with raw_engine.begin() as conn:
        conn.execute(sa.update(store_tables.plans).values(document=changed))
    with pytest.raises(StoreError, match="damaged") as err:
        plans.load(pid)
    assert err.value.exit_code == 5
    with pytest.raises(StoreError, match="different plan"):
        plans.save(sample_plan(), name="again", created=T0)


def test_a_failed_save_leaves_nothing_behind(plans, raw_engine, monkeypatch):
    kept = plans.save(sample_plan(1.0), name="kept", created=T0)
    real = plan_store_module._summary
    monkeypatch.setattr(plan_store_module, "_summary", lambda plan: {**real(plan), "name": None})
    with pytest.raises(StoreError, match="Nothing was written") as err:
        plans.save(sample_plan(2.0), name="doomed", created=at(1))
    assert err.value.exit_code == 5
    assert plan_id(sample_plan(2.0)) in str(err.value)
    monkeypatch.undo()
    assert [p.plan_id for p in plans.list()] == [kept]
    assert count_plans(raw_engine) == 1


def test_a_failed_first_save_does_not_even_create_the_table(plans, store_url, monkeypatch):
    real = plan_store_module._summary
    monkeypatch.setattr(plan_store_module, "_summary", lambda plan: {**real(plan), "name": None})
    with pytest.raises(StoreError):
        plans.save(sample_plan(), name="doomed", created=T0)
    assert table_names(store_url) == []
    assert plans.list() == []


@pytest.mark.parametrize(
    ("plan", "why"),
    [
        ({"total_usd": float("nan")}, "not JSON"),
        ({"ids": {1, 2}}, "not JSON"),
        ({1: "non-string key", "a": 2}, "not JSON"),
        (["not", "a", "mapping"], "not a mapping"),
    ],
)
def test_a_plan_that_is_not_json_is_bad_input(plans, store_url, plan, why):
    with pytest.raises(InputError, match=why):
        plans.save(plan, name="x", created=T0)
    assert table_names(store_url) == []


def test_a_name_and_an_aware_time_are_required(plans):
    with pytest.raises(InputError, match="name"):
        plans.save(sample_plan(), name="  ", created=T0)
    with pytest.raises(InputError, match="time zone"):
        plans.save(sample_plan(), name="x", created=dt.datetime(2026, 1, 1))


# -- living next to the catalog ----------------------------------------------------------------


def test_a_database_with_only_catalog_tables_gains_the_plans_table(store_url, open_plans):
    with CatalogStore(store_url) as catalogs:
        info = catalogs.save(default_catalog(), label="before plans", created_at=T0)
        catalogs.use(info.version)
    assert "plans" not in table_names(store_url)
    plans = open_plans()
    assert plans.list() == []  # reading does not create it
    assert "plans" not in table_names(store_url)
    pid = plans.save(sample_plan(), name="x", created=T0)
    assert set(table_names(store_url)) == {
        "catalog_versions",
        "accelerators",
        "offers",
        "store_state",
        "plans",
    }
    assert plans.load(pid) == sample_plan()
    with CatalogStore(store_url) as catalogs:
        assert catalogs.current() == info.version
        assert catalogs.load(info.version) == default_catalog()


def test_plans_first_then_a_catalog(store_url, open_plans):
    pid = open_plans().save(sample_plan(), name="x", created=T0)
    assert set(table_names(store_url)) == {"plans", "store_state"}
    with CatalogStore(store_url) as catalogs:
        assert catalogs.current() == "default"
        info = catalogs.save(default_catalog(), label=None, created_at=T0)
        assert catalogs.load(info.version) == default_catalog()
    assert open_plans().load(pid) == sample_plan()


def test_a_store_of_another_layout_version_is_refused(plans, raw_engine):
    plans.save(sample_plan(), name="x", created=T0)
    with raw_engine.begin() as conn:
        state = store_tables.store_state
        conn.execute(sa.update(state).where(state.c.key == "schema").values(value="99"))
    with pytest.raises(StoreError, match="plan store has layout version 99"):
        plans.list()


def test_the_sample_plan_is_not_mutated_by_saving(plans):
    plan = sample_plan()
    snapshot = copy.deepcopy(plan)
    plans.save(plan, name="x", created=T0)
    assert plan == snapshot
