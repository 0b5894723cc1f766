"""The service's job runner: requests checked before a job exists, real jobs run in their
own processes with progress and results (a plan job's plan saved where ``arbiter plans
list`` sees it), cancellation and the time limit stop the process, a token's limit, and a
server killed with SIGKILL mid-job leaves a job that the next server marks failed, with no
result and an intact database.

The tests that start job processes run on one xdist worker, one after another: each job
may take a core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from arbiter.cli.app import main
from arbiter.domain.errors import BusyError, InputError, UnknownNameError
from arbiter.service.job_worker import JOB_NICENESS
from arbiter.service.jobs import JobRunner
from arbiter.store import JobStore, PlanStore, TokenStore
from arbiter.store.job_store import SERVER_STOPPED

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SLOW_FLEET = (EXAMPLES / "lab-fleet.yaml").read_text("utf-8")  # about 10 s to build options
TINY_FLEET = {
    "workloads": [
        {
            "name": "lora-8b",
            "kind": "finetune",
            "model": "llama-3.1-8b",
            "tokens": "1B",
            "deadline_days": 5,
        }
    ]
}
WAIT_S = 60.0

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGKILL are POSIX"),
    pytest.mark.xdist_group("jobs"),
]


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    db = f"sqlite:///{tmp_path / 'arbiter.db'}"
    monkeypatch.setenv("ARBITER_DB_URL", db)
    return db


def _token(url: str, role: str = "planner"):
    with TokenStore(url) as store:
        return store.create(role, now=dt.datetime.now(dt.UTC))[1]


@contextlib.contextmanager
def _running(url: str, **options):
    runner = JobRunner(url, **options)
    try:
        yield runner
    finally:
        runner.shutdown()


@pytest.fixture
def runner(url):
    with _running(url, max_parallel=2, max_per_token=2) as r:
        yield r


def _wait(store: JobStore, job_id: str, until, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        info = store.get(job_id)
        if until(info):
            return info
        assert time.monotonic() < deadline, f"job {job_id} still {info.status}: {info}"
        time.sleep(0.05)


def _ended(store: JobStore, job_id: str, timeout: float = WAIT_S):
    return _wait(store, job_id, lambda i: not i.active, timeout)


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _running_pid(store: JobStore, job_id: str) -> int:
    _wait(store, job_id, lambda i: i.status == "running")
    pid = store.pid(job_id)
    assert pid is not None
    return pid


# -- real jobs -------------------------------------------------------------------------------


def test_a_plan_job_saves_its_plan_and_a_risk_job_reads_it(url, runner, capsys):
    token = _token(url)
    job = runner.submit("plan", {"fleet": TINY_FLEET}, token=token, time_limit_s=60)
    assert job.status == "queued" and job.token_id == token.token_id
    done = _ended(runner.store, job.job_id)
    assert done.status == "succeeded", done.error
    assert done.progress_total > 0 and done.progress_done == done.progress_total
    assert done.started_at is not None and done.finished_at is not None
    result = runner.store.result(done.job_id)
    assert result is not None and result["assignments"][0]["workload"] == "lora-8b"
    assert result["plan_id"] == done.result_ref
    with PlanStore(url) as plans:
        assert [p.plan_id for p in plans.list()] == [done.result_ref]
        assert plans.load(done.result_ref)["total_usd"] == result["total_usd"]
    assert main(["plans", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["plan_id"] for p in listed] == [done.result_ref]

    # a risk job on the saved plan: its fleet is the one the plan job was sent
    scenarios = (EXAMPLES / "scenarios.yaml").read_text("utf-8")
    risk = runner.submit(
        "risk",
        {"plan_id": done.result_ref[:8], "scenarios": scenarios, "samples": 100},
        token=token,
        time_limit_s=60,
    )
    assert runner.store.request(risk.job_id)["plan_id"] == done.result_ref
    ended = _ended(runner.store, risk.job_id)
    assert ended.status == "succeeded", ended.error
    assert ended.progress_label == "samples" and ended.progress_done == ended.progress_total
    report = runner.store.result(risk.job_id)
    assert report["samples"] == 100
    assert set(report["plans"]) == {"plan", "locked_in", f"saved:{done.result_ref}"}


def test_estimate_and_procure_jobs_run_on_yaml_text(url, runner):
    token = _token(url)
    estimate = runner.submit(
        "estimate",
        {"workloads": (EXAMPLES / "workloads.yaml").read_text("utf-8"), "top": 2},
        token=token,
        time_limit_s=60,
    )
    procure = runner.submit(
        "procure",
        {"procurement": (EXAMPLES / "procure.yaml").read_text("utf-8")},
        token=token,
        time_limit_s=60,
    )
    for job in (estimate, procure):
        assert _ended(runner.store, job.job_id).status == "succeeded"
    assert runner.store.result(estimate.job_id)["workloads"]
    assert runner.store.result(procure.job_id)["schedule"] is not None
    assert runner.store.get(estimate.job_id).result_ref is None


def test_a_failing_job_ends_failed_with_its_message(url, runner):
    # valid input that the planner finds infeasible: a budget no plan meets
    fleet = {**TINY_FLEET, "constraints": {"budget_usd": 1}}
    job = runner.submit("plan", {"fleet": fleet}, token=_token(url), time_limit_s=60)
    ended = _ended(runner.store, job.job_id)
    assert ended.status == "failed"
    assert ended.error and "budget" in ended.error and "\n" not in ended.error
    assert "Traceback" not in ended.error
    assert runner.store.result(job.job_id) is None


# -- input checked before a job exists ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "request_", "field"),
    [
        ("plan", {"fleet": {"workloads": [{**TINY_FLEET["workloads"][0], "model": "llama-9"}]}},
         "fleet.workloads[0].model"),
        ("plan", {"fleet": "examples/fleet.yaml"}, "fleet"),  # a string is text, not a path
        ("plan", {"fleet": str(EXAMPLES / "fleet.yaml")}, "fleet"),
        ("plan", {}, "fleet"),
        ("plan", {"fleet": TINY_FLEET, "save": "yes"}, "save"),
        ("plan", {"fleet": TINY_FLEET, "sweep": {"group": "chip", "caps": [0.5]}}, "sweep.group"),
        ("plan", {"fleet": TINY_FLEET, "sweep": {"group": "vendor", "caps": [0.5, 2]}},
         "sweep.caps[1]"),
        ("plan", {"fleet": TINY_FLEET, "shell": "rm -rf /"}, "shell"),
        ("plan", {"fleet": {**TINY_FLEET, "spot": {"traces": [
            {"path": "/etc", "provider": "aws", "region": "us-east-1", "accelerator": "H100-SXM"}]}}},
         "fleet.spot.traces"),
        ("estimate", {"workloads": 42}, "workloads"),
        ("estimate", {"workloads": TINY_FLEET, "top": 0}, "top"),
        ("risk", {"fleet": TINY_FLEET}, "scenarios"),
        ("risk", {"plan_id": "0123456789ab", "scenarios": {"shocks": []}}, "plan_id"),
        ("risk", {"fleet": TINY_FLEET, "scenarios": {"shocks": "x"}, "samples": 5},
         "scenarios.shocks"),
        ("risk", {"fleet": TINY_FLEET, "scenarios": {"shocks": []}, "samples": True}, "samples"),
        ("procure", {"procurement": {"horizon": 3}}, "procurement"),
        ("deal", {"deal": (EXAMPLES / "deals" / "trainium-10b.yaml").read_text("utf-8")},
         "deal.procurement"),
        ("deal", {"deal": {"name": "x"}}, "deal"),
        ("train", {}, "kind"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_a_job_exists(url, runner, kind, request_, field):
    with pytest.raises(InputError) as err:
        runner.submit(kind, request_, token=_token(url), time_limit_s=60)
    found = err.value.field or ""
    assert found == field or found.startswith((field + ".", field + "[")), str(err.value)
    assert runner.store.list() == []


def test_a_deal_sent_inline_is_checked_with_its_procurement(url, runner):
    deal = (EXAMPLES / "deals" / "trainium-10b.yaml").read_text("utf-8")
    lab = (EXAMPLES / "deals" / "lab.yaml").read_text("utf-8")
    scenarios = (EXAMPLES / "deals" / "scenarios.yaml").read_text("utf-8")
    token = _token(url)
    # the deal names its scenario file: the request must send it
    with pytest.raises(InputError) as err:
        runner.submit("deal", {"deal": deal, "procurement": lab}, token=token, time_limit_s=60)
    assert err.value.field == "deal.scenarios"
    # the procurement's own problems name the request's field, not the private folder
    bad = lab.replace("discount_rate: 0.1", "discount_rate: lots", 1)
    request = {"deal": deal, "procurement": bad, "scenarios": scenarios}
    with pytest.raises(InputError) as err:
        runner.submit("deal", request, token=token, time_limit_s=60)
    assert err.value.field == "procurement.discount_rate", str(err.value)
    assert "/tmp" not in str(err.value) and "arbiter-deal-" not in str(err.value)
    assert runner.store.list() == []
    request = {"deal": deal, "procurement": lab, "scenarios": scenarios, "samples": 0}
    job = runner.submit("deal", request, token=token, time_limit_s=60)
    assert runner.store.request(job.job_id)["samples"] == 0
    assert runner.cancel(job.job_id).status == "cancelled"


def test_bad_time_limits_and_runner_settings_are_refused(url, runner):
    token = _token(url)
    for limit in (0, -1, float("inf"), float("nan"), True):
        with pytest.raises(InputError) as err:
            runner.submit("plan", {"fleet": TINY_FLEET}, token=token, time_limit_s=limit)
        assert err.value.field == "time_limit_s"
    with pytest.raises(UnknownNameError):
        JobRunner(url, engine="dask")
    with pytest.raises(InputError):
        JobRunner(url, max_parallel=0)


# -- stopping jobs ----------------------------------------------------------------------------


def test_cancel_kills_the_job_process(url, runner):
    job = runner.submit("plan", {"fleet": SLOW_FLEET}, token=_token(url), time_limit_s=120)
    pid = _running_pid(runner.store, job.job_id)
    # the job runs below the server's priority, so a solve does not slow the API
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, pid) == expected
    cancelled = runner.cancel(job.job_id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert _gone(pid)
    assert runner.store.result(job.job_id) is None
    assert runner.cancel(job.job_id).status == "cancelled"  # again: unchanged
    with pytest.raises(UnknownNameError):
        runner.cancel("nope")


def test_a_job_past_its_time_limit_is_stopped_and_failed(url, runner):
    job = runner.submit("plan", {"fleet": SLOW_FLEET}, token=_token(url), time_limit_s=1.5)
    pid = _running_pid(runner.store, job.job_id)
    ended = _ended(runner.store, job.job_id, timeout=20)
    assert (ended.status, ended.error) == ("failed", "time limit of 1.5 s reached")
    assert _gone(pid)
    assert runner.store.result(job.job_id) is None


def test_a_token_at_its_limit_is_busy_and_shutdown_fails_its_jobs(url):
    first, second = _token(url), _token(url)
    runner = JobRunner(url, max_parallel=1, max_per_token=1)
    try:
        running = runner.submit("plan", {"fleet": SLOW_FLEET}, token=first, time_limit_s=120)
        with pytest.raises(BusyError) as err:
            runner.submit("plan", {"fleet": TINY_FLEET}, token=first, time_limit_s=60)
        assert err.value.http_status == 429 and first.token_id in str(err.value)
        # another token may queue one; it waits for the running job's slot
        queued = runner.submit("plan", {"fleet": TINY_FLEET}, token=second, time_limit_s=60)
        pid = _running_pid(runner.store, running.job_id)
        time.sleep(0.5)
        assert runner.store.get(queued.job_id).status == "queued"
    finally:
        runner.shutdown()
    for job in (running, queued):
        info = JobStore(url).get(job.job_id)
        assert (info.status, info.error) == ("failed", SERVER_STOPPED)
    assert _gone(pid)
    runner.shutdown()  # again: nothing to do
    with pytest.raises(BusyError):
        runner.submit("plan", {"fleet": TINY_FLEET}, token=second, time_limit_s=60)


# -- kill -9 ----------------------------------------------------------------------------------

_SERVER = textwrap.dedent(
    """\
    import datetime as dt, sys, time
    from arbiter.service.jobs import JobRunner
    from arbiter.store import TokenStore

    url, fleet = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
    token = TokenStore(url).create("planner", now=dt.datetime.now(dt.UTC))[1]
    runner = JobRunner(url)
    job = runner.submit("plan", {"fleet": fleet}, token=token, time_limit_s=300)
    print(job.job_id, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("delay", [0.0, 1.5])
def test_a_server_killed_mid_job_leaves_a_failed_job_and_an_intact_database(tmp_path, url, delay):
    db = tmp_path / "arbiter.db"
    # a saved plan from before, which must survive intact
    with _running(url) as runner:
        made = runner.submit("plan", {"fleet": TINY_FLEET}, token=_token(url), time_limit_s=60)
        assert _ended(runner.store, made.job_id).status == "succeeded"
    fleet = tmp_path / "lab-fleet.yaml"
    fleet.write_text(SLOW_FLEET, encoding="utf-8")
    # `python -c`: the job processes do not re-run a __main__ file
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, url, str(fleet)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "ARBITER_DB_URL": url},
    )
    store = JobStore(url)
    try:
        assert server.stdout is not None
        job_id = server.stdout.readline().strip()
        if delay:  # mid-job: building the options
            _running_pid(store, job_id)
            time.sleep(delay)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    if not delay:  # killed as the job was queued or starting: it may start still
        time.sleep(2.0)
    pid = store.pid(job_id)
    if pid is not None:
        assert _gone(pid), "the job's process outlived its server"
    assert store.get(job_id).status in {"queued", "running"}  # nobody was left to end it

    with _running(url) as restarted:
        assert [j.job_id for j in restarted.recovered] == [job_id]
        info = restarted.store.get(job_id)
        assert (info.status, info.error) == ("failed", SERVER_STOPPED)
        assert restarted.store.result(job_id) is None
        assert restarted.store.get(made.job_id).status == "succeeded"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    with PlanStore(url) as plans:
        for p in plans.list():
            assert plans.load(p.plan_id)["assignments"]  # checks the text against its hash
    store.close()
