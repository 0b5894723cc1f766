"""One job, run in a process of its own (what :class:`arbiter.service.jobs.JobRunner`
starts): the library's API on the job's request, progress and the result in the job store.

The process leads a process group of its own, so the runner stops it together with the
processes it starts (a risk run's pool); it ends itself, with that group, when the server
that started it is gone. Errors end the job failed: an :class:`ArbiterError` with its
message in one paragraph, anything else as ``internal error: <type>`` (no traceback, no
values).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from arbiter import api
from arbiter.api.estimating import TOP
from arbiter.api.planning import PLAN_TIME_LIMIT_S, SWEEP_TIME_LIMIT_S
from arbiter.api.settings import Settings
from arbiter.domain.errors import ArbiterError, InputError
from arbiter.service.job_requests import deal_folder, named, relabel
from arbiter.store import JobStore

PROGRESS_EVERY_S = 0.5
"""At most two progress writes a second (and one when a stage starts or completes)."""
PARENT_POLL_S = 1.0
MAX_ERROR = 2_000
PROCURE_TIME_LIMIT_S = 120.0

Result = tuple[dict[str, Any], str | None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def one_paragraph(text: str) -> str:
    """``text`` on one line, cut to :data:`MAX_ERROR` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ERROR else flat[: MAX_ERROR - 3] + "..."


class Progress:
    """Progress of the job ``job_id`` written to the store, at most every
    :data:`PROGRESS_EVERY_S` seconds (a stage's end is always written)."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self._store = store
        self._job_id = job_id
        self._last = -PROGRESS_EVERY_S
        self._label = ""

    def stage(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        same = label == self._label and done < total
        if same and now - self._last < PROGRESS_EVERY_S:
            return
        self._last, self._label = now, label
        self._store.progress(self._job_id, done, total, label)

    def ticker(self, label: str) -> Callable[[int, int], None]:
        return lambda done, total: self.stage(label, done, total)


JOB_NICENESS = 5
"""How much lower than the server a job's process runs (``os.nice``)."""


def run_job(url: str, job_id: str, engine: str, env: Mapping[str, str], server_pid: int) -> None:
    """Run the job ``job_id`` of the job store at ``url`` (the process's target)."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    # below the server's priority: a solve never slows the API's answers on a small machine
    with contextlib.suppress(OSError):
        os.nice(JOB_NICENESS)
    _watch_server(server_pid)
    store = JobStore(url)
    info = store.start(job_id, pid=os.getpid(), now=utc_now())
    if info.status != "running":  # cancelled before it started
        return
    try:
        config = Settings.from_env({**os.environ, **env, "ARBITER_DB_URL": url})
        request = store.request(job_id)
        work = _WORK[info.kind]
        result, ref = work(
            request, config=config, engine=engine, job_id=job_id,
            limit_s=info.time_limit_s, progress=Progress(store, job_id),
        )  # fmt: skip
        store.succeed(job_id, result, result_ref=ref, now=utc_now())
    except ArbiterError as exc:
        store.fail(job_id, one_paragraph(str(exc)), now=utc_now())
    except Exception as exc:  # noqa: BLE001 - a bug: its type only, never its text
        store.fail(job_id, f"internal error: {type(exc).__name__}", now=utc_now())
    finally:
        store.close()


def _watch_server(server_pid: int) -> None:
    """End this process and its group when the server that started it is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            try:
                os.kill(server_pid, 0)
                gone = os.getppid() != parent
            except ProcessLookupError:
                gone = True
            except PermissionError:  # the pid was reused by another user's process
                gone = True
            if gone:
                with contextlib.suppress(OSError):
                    os.killpg(os.getpgid(0), signal.SIGKILL)
                os._exit(1)

    threading.Thread(target=watch, name="arbiter-job-parent-watch", daemon=True).start()


# -- the kinds -----------------------------------------------------------------------------


def _estimate(
    request: Mapping[str, Any], *, config: Settings, progress: Progress, **_: Any
) -> Result:
    progress.stage("estimating", 0, 1)
    with named("workloads"):
        report = api.estimate(request["workloads"], top=request.get("top", TOP), config=config)
    progress.stage("estimating", 1, 1)
    return report.to_dict(), None


def _plan(
    request: Mapping[str, Any],
    *,
    config: Settings,
    job_id: str,
    limit_s: float,
    progress: Progress,
    **_: Any,
) -> Result:
    sweep = request.get("sweep")
    save = bool(request.get("save", True))
    total = 1 + (sweep is not None) + save
    progress.stage("solving the plan", 0, total)
    share = 0.5 if sweep is not None else 0.8  # of the job's time limit, for the solve
    with named("fleet"):
        plan = api.plan(
            request["fleet"], time_limit_s=min(PLAN_TIME_LIMIT_S, share * limit_s), config=config
        )
    done = 1
    if sweep is not None:
        progress.stage("price of diversification", done, total)
        caps = sweep["caps"]
        per_cap = min(SWEEP_TIME_LIMIT_S, 0.3 * limit_s / len(caps))
        points = api.sweep(plan, sweep["group"], caps, time_limit_s=per_cap)
        plan = plan.model_copy(update={"sweep": points})
        done += 1
    if save:
        progress.stage("saving the plan", done, total)
        plan = api.save_plan(plan, name=f"job {job_id}", config=config)
        done += 1
    progress.stage("done", done, total)
    return plan.to_dict(), plan.plan_id


def _risk(
    request: Mapping[str, Any], *, config: Settings, engine: str, progress: Progress, **_: Any
) -> Result:
    plan_id = request.get("plan_id")
    with named("fleet"):
        report = api.risk(
            request["fleet"],
            request["scenarios"],
            samples=request.get("samples"),
            seed=request.get("seed"),
            recourse=bool(request.get("recourse", False)),
            compare=() if plan_id is None else (plan_id,),
            engine=engine,
            progress=progress.ticker("samples"),
            config=config,
        )
    return report.to_dict(), None


def _procure(
    request: Mapping[str, Any], *, config: Settings, limit_s: float, progress: Progress, **_: Any
) -> Result:
    progress.stage("solving", 0, 1)
    with named("procurement"):
        plan = api.procure(
            request["procurement"],
            with_frontier=bool(request.get("frontier", False)),
            time_limit_s=min(PROCURE_TIME_LIMIT_S, 0.8 * limit_s),
            config=config,
        )
    progress.stage("solving", 1, 1)
    return plan.to_dict(), None


def _deal(
    request: Mapping[str, Any], *, config: Settings, engine: str, progress: Progress, **_: Any
) -> Result:
    with deal_folder(request) as (deal, folder, files):
        try:
            valuation = api.deal(
                deal,
                samples=request.get("samples"),
                engine=engine,
                base_dir=folder,
                progress=progress.stage,
                config=config,
            )
        except InputError as exc:
            raise relabel(exc, "deal", files) from None
    return valuation.to_dict(), None


_WORK: dict[str, Callable[..., Result]] = {
    "estimate": _estimate,
    "plan": _plan,
    "risk": _risk,
    "procure": _procure,
    "deal": _deal,
}
