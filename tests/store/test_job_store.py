"""The job store: a job's life (queued, running, ended), conditional changes of state, the
result written with the status in one transaction, recovery after a stopped server; on
SQLite and, given a server, PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.store import JobStore
from arbiter.store import job_store as js
from arbiter.store.job_store import SERVER_STOPPED

T0 = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
REQUEST = {"fleet": {"workloads": [{"name": "a", "kind": "finetune"}]}, "save": True}


@pytest.fixture
def jobs(store_url):
    store = JobStore(store_url)
    yield store
    store.close()


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _new(jobs: JobStore, token: str = "tok1", minutes: float = 0, kind: str = "plan"):
    return jobs.create(kind, token_id=token, request=REQUEST, time_limit_s=60, now=_at(minutes))


def test_a_job_lives_queued_running_succeeded(jobs):
    job = _new(jobs)
    assert (job.status, job.kind, job.token_id, job.time_limit_s) == (
        "queued",
        "plan",
        "tok1",
        60.0,
    )
    assert job.created_at == "2026-11-29T10:00:00+00:00" and job.started_at is None
    assert jobs.request(job.job_id) == REQUEST
    assert jobs.result(job.job_id) is None

    running = jobs.start(job.job_id, pid=4242, now=_at(1))
    assert running.status == "running" and running.started_at == "2026-11-29T10:01:00+00:00"
    assert jobs.pid(job.job_id) == 4242
    jobs.progress(job.job_id, 3, 10, "samples")
    seen = jobs.get(job.job_id)
    assert (seen.progress_done, seen.progress_total, seen.progress_label) == (3, 10, "samples")

    done = jobs.succeed(job.job_id, {"total_usd": 1.5}, result_ref="abc123", now=_at(2))
    assert (done.status, done.result_ref, done.error) == ("succeeded", "abc123", None)
    assert done.finished_at == "2026-11-29T10:02:00+00:00"
    assert jobs.result(job.job_id) == {"total_usd": 1.5}
    assert not done.active


def test_an_ended_job_keeps_how_it_ended(jobs):
    job = _new(jobs)
    jobs.start(job.job_id, pid=1, now=_at(1))
    jobs.succeed(job.job_id, {"x": 1}, result_ref=None, now=_at(2))
    # a late failure, cancellation, start or progress changes nothing
    assert jobs.fail(job.job_id, "late", now=_at(3)).status == "succeeded"
    assert jobs.cancel(job.job_id, now=_at(3)).status == "succeeded"
    assert jobs.start(job.job_id, pid=2, now=_at(3)).status == "succeeded"
    jobs.progress(job.job_id, 9, 9, "late")
    after = jobs.get(job.job_id)
    assert after.finished_at == "2026-11-29T10:02:00+00:00" and after.progress_label == ""
    assert jobs.result(job.job_id) == {"x": 1}

    other = _new(jobs, minutes=1)
    assert jobs.cancel(other.job_id, now=_at(2)).status == "cancelled"
    # a result arriving after the cancellation is not recorded
    assert jobs.succeed(other.job_id, {"x": 2}, result_ref="r", now=_at(3)).status == "cancelled"
    assert jobs.result(other.job_id) is None
    assert jobs.start(other.job_id, pid=3, now=_at(3)).status == "cancelled"


def test_fail_and_cancel_a_running_job(jobs):
    a, b = _new(jobs), _new(jobs, minutes=1)
    jobs.start(a.job_id, pid=1, now=_at(1))
    jobs.start(b.job_id, pid=2, now=_at(1))
    failed = jobs.fail(a.job_id, "the solver stopped", now=_at(2))
    assert (failed.status, failed.error) == ("failed", "the solver stopped")
    cancelled = jobs.cancel(b.job_id, now=_at(2))
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert jobs.result(a.job_id) is None and jobs.result(b.job_id) is None


def test_succeed_writes_result_and_status_in_one_transaction(jobs, monkeypatch):
    job = _new(jobs)
    jobs.start(job.job_id, pid=1, now=_at(1))
    # a result that is not JSON is refused before anything is written
    with pytest.raises(InputError, match="not JSON"):
        jobs.succeed(job.job_id, {"x": float("nan")}, result_ref=None, now=_at(2))
    assert jobs.get(job.job_id).status == "running" and jobs.result(job.job_id) is None

    # a failure inside the transaction, after the row was updated, rolls the update back
    def broken(*args, **kwargs):
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(js, "_infos", broken)
    with pytest.raises(RuntimeError):
        jobs.succeed(job.job_id, {"x": 1}, result_ref="r", now=_at(2))
    monkeypatch.undo()
    seen = jobs.get(job.job_id)
    assert (seen.status, seen.result_ref, seen.finished_at) == ("running", None, None)
    assert jobs.result(job.job_id) is None


def test_list_is_newest_first_per_token_and_limited(jobs):
    made = [_new(jobs, token="a" if i % 2 else "b", minutes=i) for i in range(5)]
    assert [j.job_id for j in jobs.list()] == [j.job_id for j in reversed(made)]
    assert [j.token_id for j in jobs.list(token_id="a")] == ["a", "a"]
    assert len(jobs.list(limit=2)) == 2
    assert jobs.list(token_id="nobody") == []


def test_active_count_counts_queued_and_running(jobs):
    assert jobs.active_count("tok1") == 0
    a, b, c = _new(jobs), _new(jobs, minutes=1), _new(jobs, minutes=2)
    _new(jobs, token="other")
    jobs.start(b.job_id, pid=1, now=_at(3))
    assert jobs.active_count("tok1") == 3
    jobs.fail(c.job_id, "x", now=_at(3))
    jobs.cancel(a.job_id, now=_at(3))
    assert jobs.active_count("tok1") == 1


def test_recover_fails_what_a_stopped_server_left(jobs):
    queued, running, done = _new(jobs), _new(jobs, minutes=1), _new(jobs, minutes=2)
    jobs.start(running.job_id, pid=1, now=_at(3))
    jobs.start(done.job_id, pid=2, now=_at(3))
    jobs.succeed(done.job_id, {"ok": True}, result_ref=None, now=_at(4))
    recovered = jobs.recover(now=_at(5))
    assert [j.job_id for j in recovered] == [queued.job_id, running.job_id]
    for job in recovered:
        assert (job.status, job.error) == ("failed", SERVER_STOPPED)
        assert jobs.result(job.job_id) is None
    assert jobs.get(done.job_id).status == "succeeded"
    assert jobs.recover(now=_at(6)) == []


def test_unknown_jobs_and_bad_input_are_named(jobs, tmp_path):
    with pytest.raises(UnknownNameError) as err:
        jobs.get("nope")
    assert err.value.field == "job_id"
    with pytest.raises(UnknownNameError):
        jobs.cancel("nope", now=T0)
    _new(jobs)
    for call in (
        lambda: jobs.get("nope"),
        lambda: jobs.request("nope"),
        lambda: jobs.result("nope"),
        lambda: jobs.start("nope", pid=1, now=T0),
    ):
        with pytest.raises(UnknownNameError):
            call()
    with pytest.raises(UnknownNameError) as err:
        jobs.create("train", token_id="t", request={}, time_limit_s=1, now=T0)
    assert err.value.field == "kind"
    with pytest.raises(InputError, match="time zone"):
        jobs.create("plan", token_id="t", request={}, time_limit_s=1, now=dt.datetime(2026, 1, 1))
    with pytest.raises(InputError) as err:
        jobs.create("plan", token_id="t", request={}, time_limit_s=0, now=T0)
    assert err.value.field == "time_limit_s"
    with pytest.raises(InputError) as err:
        jobs.create("plan", token_id="t", request={"x": {1, 2}}, time_limit_s=1, now=T0)
    assert err.value.field == "request"


def test_reading_never_creates_the_database(tmp_path):
    db = tmp_path / "none" / "arbiter.db"
    store = JobStore(f"sqlite:///{db}")
    assert store.list() == [] and store.active_count("t") == 0
    assert store.recover(now=T0) == []
    assert store.find_result_ref("plan", "abc") is None
    with pytest.raises(UnknownNameError):
        store.get("x")
    assert not db.exists()
    store.close()


def test_request_and_result_are_json_text_in_the_row(jobs, store_url):
    job = _new(jobs)
    jobs.start(job.job_id, pid=1, now=_at(1))
    jobs.succeed(job.job_id, {"b": [1, 2], "a": "x"}, result_ref="p1", now=_at(2))
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT request, result, status FROM jobs WHERE job_id = :j"),
                {"j": job.job_id},
            ).one()
    finally:
        engine.dispose()
    assert json.loads(row.request) == REQUEST
    assert json.loads(row.result) == {"a": "x", "b": [1, 2]}
    assert row.status == "succeeded"
    assert jobs.find_result_ref("plan", "p1").job_id == job.job_id
    assert jobs.find_result_ref("risk", "p1") is None
