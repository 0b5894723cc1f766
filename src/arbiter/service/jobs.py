"""The service's background jobs: checked, queued, run in processes of their own, watched.

:class:`JobRunner` takes a job's request, checks it at once (bad input is an
:class:`~arbiter.domain.errors.InputError` naming the field, and no job is made), refuses
a token with ``max_per_token`` jobs queued or running (:class:`BusyError`, HTTP 429),
records the job in the :class:`~arbiter.store.JobStore` and runs it in a process of its own
(:mod:`arbiter.service.job_worker`; at most ``max_parallel`` at once, the others queued in
order). The process calls the library's API (``arbiter.estimate``, ``plan``, ``risk``,
``procure``, ``deal``), writes its progress (at most twice a second) and, on success, the
result document (``result.to_dict()``) with the status in one statement; a plan job saves
its plan as ``arbiter plan --save`` does (``arbiter plans list`` lists it; its id is the
job's ``result_ref``). A watchdog thread stops a job past its time limit (counted from its
start; the job fails with "time limit of N s reached") and fails a job whose process died.
Stopping a job sends its process group SIGTERM, then SIGKILL after a grace period.

When a runner starts it fails every job left queued or running in the store (their server
stopped while they ran: "the server stopped while the job ran; run it again"); when it is
shut down it stops its jobs and fails them the same way. One server per database.

Request formats (JSON objects; a document is a mapping or the YAML text of the file, and a
string is always YAML text, never a path: the server reads no file a request names):

- ``estimate``: ``{"workloads": <document>, "top": int (1-1000, default 10)}``.
- ``plan``: ``{"fleet": <document>, "save": bool (default true), "sweep": {"group":
  "vendor" | "provider" | "region", "caps": [float in (0, 1], ...] (1-20)}}`` (``sweep``
  optional). The solver gets 80% of the job's time limit (50% with a sweep, whose caps
  share 30%), at most the CLI's 60 s; at its limit the best plan found is the result, with
  its gap. A fleet naming ``spot.traces`` files is refused.
- ``risk``: ``{"plan_id": str, "fleet": <document>, "scenarios": <document>, "samples":
  int (1-1,000,000), "seed": int (>= 0), "recourse": bool (default false)}``: ``fleet``, or
  ``plan_id`` (a saved plan's id or unique prefix), or both. With ``plan_id`` the saved
  plan is evaluated beside the fleet's plan and the locked-in one (as ``arbiter risk
  --compare``); its fleet, when not sent, is the one its plan job was sent (a plan saved
  by the CLI needs ``fleet``). ``samples`` and ``seed`` default to the scenario file's.
  The runner's engine runs the samples (``ray`` when the server was started so).
- ``procure``: ``{"procurement": <document>, "frontier": bool (default false)}``; the
  solver gets 80% of the time limit, at most 120 s.
- ``deal``: ``{"deal": <document>, "procurement": <document>, "scenarios": <document>,
  "samples": int (0-1,000,000)}``. The deal's own ``procurement`` and ``scenarios`` keys
  name files in a deal file; here each is either a mapping inline in the deal, or a name
  (ignored) with the document sent as the request's key of that name. ``procurement`` is
  required one way or the other; ``scenarios`` is optional.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arbiter.domain.errors import ArbiterError, BusyError, InputError, UnknownNameError
from arbiter.parallel.executors import ENGINES
from arbiter.service.job_requests import check_request
from arbiter.service.job_worker import run_job, utc_now
from arbiter.store import JOB_KINDS, JobInfo, JobStore, PlanStore, TokenInfo
from arbiter.store.job_store import SERVER_STOPPED

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext, SpawnContext
    from multiprocessing.process import BaseProcess

__all__ = ["JobRunner", "utc_now"]

WATCH_EVERY_S = 0.2
"""How often the watchdog looks at the running jobs."""
GRACE_S = 2.0
"""How long a stopped job's processes have between SIGTERM and SIGKILL."""
MAX_TIME_LIMIT_S = 7 * 24 * 3600.0
ENV_PREFIX = "ARBITER_"
"""The settings passed to a job's process (ARBITER_TODAY, ARBITER_CAPACITY_FILE, ...)."""

_log = logging.getLogger(__name__)


@dataclass
class _Child:
    process: BaseProcess
    started: float  # time.monotonic()
    limit_s: float


class JobRunner:
    """Runs the jobs of the job store at ``url`` (the database of ``ARBITER_DB_URL``).

    ``engine`` (``local`` or ``ray``) runs risk samples and deal solves; at most
    ``max_parallel`` jobs run at once and a token may have ``max_per_token`` queued or
    running. ``now`` is the clock of the times recorded by this process.
    """

    def __init__(
        self,
        url: str,
        *,
        engine: str = "local",
        max_parallel: int = 2,
        max_per_token: int = 2,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if engine not in ENGINES:
            raise UnknownNameError("engine", engine, ENGINES, field="--engine")
        for name, value in (("max_parallel", max_parallel), ("max_per_token", max_per_token)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{value!r} is not a count", field=name, valid="1, 2, ...")
        self._url = url
        self._engine = engine
        self._max_parallel = max_parallel
        self._max_per_token = max_per_token
        self._now = now
        self._store = JobStore(url)
        self._plans = PlanStore(url)
        self._lock = threading.RLock()
        self._children: dict[str, _Child] = {}
        self._queue: deque[str] = deque()
        self._closed = False
        self._stop = threading.Event()
        self._context = _context()
        self.recovered: list[JobInfo] = self._store.recover(now=now())
        """The jobs failed at start because their server had stopped while they ran."""
        self._watchdog = threading.Thread(
            target=self._watch, name="arbiter-job-watchdog", daemon=True
        )
        self._watchdog.start()

    @property
    def store(self) -> JobStore:
        """The job store the runner records its jobs in (to read jobs and results)."""
        return self._store

    def submit(
        self,
        kind: str,
        request: Mapping[str, Any],
        *,
        token: TokenInfo,
        time_limit_s: float,
    ) -> JobInfo:
        """Check ``request`` (bad input raises here, naming the field) and queue a ``kind``
        job for ``token``; it starts as soon as fewer than ``max_parallel`` jobs run. A token
        with ``max_per_token`` jobs queued or running gets a :class:`BusyError`."""
        if kind not in JOB_KINDS:
            raise UnknownNameError("job kind", kind, JOB_KINDS, field="kind")
        if (
            isinstance(time_limit_s, bool)
            or not isinstance(time_limit_s, int | float)
            or not math.isfinite(time_limit_s)
            or not 0 < time_limit_s <= MAX_TIME_LIMIT_S
        ):
            raise InputError(
                f"{time_limit_s!r} is not a time limit",
                field="time_limit_s",
                valid=f"seconds, more than 0 and at most {MAX_TIME_LIMIT_S:,.0f}",
            )
        checked = check_request(kind, request, jobs=self._store, plans=self._plans)
        with self._lock:
            if self._closed:
                raise BusyError("the server is stopping and takes no new jobs; try again later")
            active = self._store.active_count(token.token_id)
            if active >= self._max_per_token:
                raise BusyError(
                    f"token {token.token_id} already has {active} jobs queued or running, "
                    f"the most it may; try again when one has finished (or cancel one)"
                )
            info = self._store.create(
                kind, token_id=token.token_id, request=checked,
                time_limit_s=float(time_limit_s), now=self._now(),
            )  # fmt: skip
            self._queue.append(info.job_id)
            self._start_queued()
        return info

    def cancel(self, job_id: str) -> JobInfo:
        """Cancel a queued or running job (its processes are stopped); a job that has
        ended is returned unchanged. An unknown id is an UnknownNameError (``job_id``)."""
        self._store.get(job_id)
        with self._lock:
            info = self._store.cancel(job_id, now=self._now())
            child = self._children.pop(job_id, None)
            with contextlib.suppress(ValueError):
                self._queue.remove(job_id)
        if child is not None:
            _stop([child])
        with self._lock:
            self._start_queued()
        return info

    def shutdown(self) -> None:
        """Stop every job of this runner and fail it ("the server stopped ..."); take no
        more. Calling it again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            children = dict(self._children)
            ended = [*children, *self._queue]
            self._children.clear()
            self._queue.clear()
        self._stop.set()
        self._watchdog.join()
        for job_id in ended:
            self._fail(job_id, SERVER_STOPPED)
        _stop(children.values())
        self._store.close()
        self._plans.close()

    # -- the watchdog -----------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_EVERY_S):
            try:
                self._check()
            except Exception:  # noqa: BLE001 - a store down for a moment: look again next time
                _log.warning("the job watchdog could not check the jobs", exc_info=True)

    def _check(self) -> None:
        overdue: list[_Child] = []
        with self._lock:
            for job_id, child in list(self._children.items()):
                process = child.process
                if not process.is_alive():
                    process.join()
                    del self._children[job_id]
                    self._fail(
                        job_id,
                        f"the job's process ended unexpectedly (exit code {process.exitcode})",
                    )
                elif time.monotonic() - child.started > child.limit_s:
                    del self._children[job_id]
                    self._fail(job_id, f"time limit of {child.limit_s:g} s reached")
                    overdue.append(child)
            self._start_queued()
        if overdue:
            _stop(overdue)
            with self._lock:
                self._start_queued()

    def _fail(self, job_id: str, error: str) -> None:
        """Fail the job if it has not ended (a job that ended keeps its result)."""
        try:
            self._store.fail(job_id, error, now=self._now())
        except ArbiterError:
            _log.warning("could not mark job %s failed", job_id, exc_info=True)

    def _start_queued(self) -> None:
        """Start queued jobs while fewer than ``max_parallel`` run (under the lock)."""
        while self._queue and len(self._children) < self._max_parallel and not self._closed:
            job_id = self._queue.popleft()
            if self._store.get(job_id).status != "queued":
                continue  # cancelled while it waited
            env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
            process = self._context.Process(
                target=run_job,
                args=(self._url, job_id, self._engine, env, os.getpid()),
                name=f"arbiter-job-{job_id}",
                daemon=False,  # a job may start processes of its own (a risk run's pool)
            )
            process.start()
            limit = self._store.get(job_id).time_limit_s
            self._children[job_id] = _Child(process, time.monotonic(), limit)


def _context() -> ForkServerContext | SpawnContext:
    """``forkserver`` (the job's modules loaded once, in the fork server), else ``spawn``:
    never ``fork``, as the server has threads."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["arbiter.service.job_worker"])
        return context
    return multiprocessing.get_context("spawn")


def _stop(children: Any) -> None:
    """SIGTERM to each job's process group, SIGKILL to what is left after the grace."""
    listed: list[_Child] = list(children)
    for child in listed:
        _signal(child.process, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in listed:
        child.process.join(max(deadline - time.monotonic(), 0.0))
        if child.process.is_alive() or child.process.exitcode is None:
            _signal(child.process, signal.SIGKILL)
            child.process.join(GRACE_S)
        else:  # the process is gone; its group (a pool's workers) may not be
            _signal(child.process, signal.SIGKILL, group_only=True)


def _signal(process: BaseProcess, sig: signal.Signals, *, group_only: bool = False) -> None:
    pid = process.pid
    if pid is None:
        return
    try:
        os.killpg(pid, sig)  # the job leads its own group (job_worker.run_job)
    except (ProcessLookupError, PermissionError):
        if not group_only:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
