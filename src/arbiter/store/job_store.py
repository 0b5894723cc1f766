"""The service's background jobs: their requests, states, progress and results.

A job is created ``queued`` with its request (JSON text), moves to ``running`` when its
process starts, and ends ``succeeded`` (with its result document, written with the status
by one statement), ``failed`` (with a one-paragraph error) or ``cancelled``. Every change
of state is a conditional update: a job that has ended stays as it ended, so a late
result cannot overwrite a cancellation and a late failure cannot overwrite a result. A job
has its whole result and status ``succeeded``, or no result at all.

When the server starts it calls :meth:`JobStore.recover`: a job still ``queued`` or
``running`` then belongs to a server that stopped (or was killed) while it ran, and is
marked failed. One server per database: a second server started on the same database
would fail the first one's jobs.

The jobs live in the same database as the catalog, plans and tokens (``ARBITER_DB_URL``;
SQLite or PostgreSQL); the table is created on the first write. Reading never creates a
database.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from arbiter.domain.errors import InputError, StoreError, UnknownNameError
from arbiter.store import tables as t
from arbiter.store.database import Closing, Database, aware_utc, iso

JOB_KINDS = ("estimate", "plan", "risk", "procure", "deal")
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
SERVER_STOPPED = "the server stopped while the job ran; run it again"
MAX_LIST = 1000
_MAX_LABEL = 200

T = TypeVar("T")

_INFO_COLUMNS = tuple(c for c in t.jobs.c if c.name not in {"request", "result", "pid"})


@dataclass(frozen=True, slots=True)
class JobInfo:
    """One job as listings show it (its request and result are read on their own)."""

    job_id: str
    kind: str
    status: str
    token_id: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress_done: int
    progress_total: int
    progress_label: str
    time_limit_s: float
    error: str | None
    result_ref: str | None

    @property
    def active(self) -> bool:
        """Queued or running: not ended yet."""
        return self.status in ACTIVE


class JobStore(Closing):
    """Background jobs in the database at ``url`` (SQLite or PostgreSQL).

    Raises :class:`StoreUrlError` (exit 2) for a URL that is not a supported database URL,
    and :class:`StoreError` (exit 5) when the database cannot be reached, read or written.
    """

    def __init__(self, url: str) -> None:
        self._db = Database(url, what="job store")

    # -- writing ------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        *,
        token_id: str,
        request: Mapping[str, Any],
        time_limit_s: float,
        now: dt.datetime,
    ) -> JobInfo:
        """A new ``queued`` job of ``kind`` for the token ``token_id``."""
        if kind not in JOB_KINDS:
            raise UnknownNameError("job kind", kind, JOB_KINDS, field="kind")
        if not time_limit_s > 0:
            raise InputError(
                f"the time limit {time_limit_s!r} is not a positive number of seconds",
                field="time_limit_s",
                valid="seconds > 0",
            )
        row = {
            "job_id": secrets.token_hex(8),
            "kind": kind,
            "status": "queued",
            "token_id": token_id,
            "created_at": aware_utc(now, "now"),
            "started_at": None,
            "finished_at": None,
            "pid": None,
            "progress_done": 0,
            "progress_total": 0,
            "progress_label": "",
            "time_limit_s": float(time_limit_s),
            "error": None,
            "result_ref": None,
            "request": _json(request, "request"),
            "result": None,
        }
        self._write(f"create a {kind} job", lambda conn: conn.execute(sa.insert(t.jobs), row))
        return _info(row)

    def start(self, job_id: str, *, pid: int, now: dt.datetime) -> JobInfo:
        """Mark the queued job ``job_id`` running in process ``pid``; a job not queued
        (cancelled before it started, say) is returned unchanged."""
        values = {"status": "running", "pid": pid, "started_at": aware_utc(now, "now")}
        return self._change(job_id, ("queued",), values, "start")

    def progress(self, job_id: str, done: int, total: int, label: str) -> None:
        """Record the running job's progress: ``done`` of ``total`` items of ``label``."""
        values = {
            "progress_done": max(int(done), 0),
            "progress_total": max(int(total), 0),
            "progress_label": str(label)[:_MAX_LABEL],
        }

        def write(conn: Connection) -> None:
            j = t.jobs.c
            query = sa.update(t.jobs).where(j.job_id == job_id, j.status == "running")
            conn.execute(query.values(**values))

        self._write(f"record the progress of job {job_id}", write)

    def succeed(
        self,
        job_id: str,
        result: Mapping[str, Any],
        *,
        result_ref: str | None,
        now: dt.datetime,
    ) -> JobInfo:
        """End the job with its result document: result and status in one statement.
        A job that has already ended is returned unchanged."""
        values = {
            "status": "succeeded",
            "finished_at": aware_utc(now, "now"),
            "result": _json(result, "result"),
            "result_ref": result_ref,
        }
        return self._change(job_id, ACTIVE, values, "finish")

    def fail(self, job_id: str, error: str, *, now: dt.datetime) -> JobInfo:
        """End the job as failed with ``error`` (one paragraph). A job that has already
        ended is returned unchanged."""
        values = {"status": "failed", "finished_at": aware_utc(now, "now"), "error": error}
        return self._change(job_id, ACTIVE, values, "fail")

    def cancel(self, job_id: str, *, now: dt.datetime) -> JobInfo:
        """Cancel a queued or running job; one that has ended is returned unchanged. (The
        job's process is stopped by whoever runs it: :class:`arbiter.service.jobs.JobRunner`.)"""
        values = {"status": "cancelled", "finished_at": aware_utc(now, "now")}
        return self._change(job_id, ACTIVE, values, "cancel")

    def recover(self, *, now: dt.datetime) -> builtins.list[JobInfo]:
        """Fail every queued or running job (what a server does when it starts: their
        server stopped while they ran); the jobs so failed, oldest first."""
        if not self._exists():
            return []
        values = {"status": "failed", "finished_at": aware_utc(now, "now"), "error": SERVER_STOPPED}

        def write(conn: Connection) -> builtins.list[JobInfo]:
            j = t.jobs.c
            query = sa.select(j.job_id).where(j.status.in_(ACTIVE)).order_by(j.created_at)
            ids = builtins.list(conn.execute(query).scalars())
            if not ids:
                return []
            change = sa.update(t.jobs).where(j.job_id.in_(ids), j.status.in_(ACTIVE))
            conn.execute(change.values(**values))
            found = {i.job_id: i for i in _infos(conn, sa.true(), len(ids), j.job_id.in_(ids))}
            return [found[i] for i in ids]

        return self._write("fail the jobs of a stopped server", write)

    # -- reading ------------------------------------------------------------------------

    def get(self, job_id: str) -> JobInfo:
        """The job ``job_id``; an unknown id is an UnknownNameError (field ``job_id``)."""

        def read(conn: Connection) -> JobInfo:
            found = _infos(conn, t.jobs.c.job_id == job_id, 1)
            if not found:
                _unknown(job_id)
            return found[0]

        return self._db.read(
            f"look up job {job_id!r}", read, lambda: _unknown(job_id), table=t.jobs
        )

    def request(self, job_id: str) -> dict[str, Any]:
        """The request the job ``job_id`` was created with."""
        text = self._column(job_id, t.jobs.c.request)
        return _document(job_id, text)

    def result(self, job_id: str) -> dict[str, Any] | None:
        """The result document of the job ``job_id`` once it succeeded; else ``None``."""
        text = self._column(job_id, t.jobs.c.result)
        return None if text is None else _document(job_id, text)

    def pid(self, job_id: str) -> int | None:
        """The process the job ran in, once it started."""
        value = self._column(job_id, t.jobs.c.pid)
        return None if value is None else int(value)

    def list(self, *, token_id: str | None = None, limit: int = 100) -> builtins.list[JobInfo]:
        """The newest ``limit`` jobs (of the token ``token_id``, or of all), newest first."""
        where = sa.true() if token_id is None else t.jobs.c.token_id == token_id
        count = max(0, min(int(limit), MAX_LIST))
        return self._db.read(
            "list jobs", lambda conn: _infos(conn, where, count), builtins.list, table=t.jobs
        )

    def active_count(self, token_id: str) -> int:
        """How many of the token's jobs are queued or running."""
        j = t.jobs.c
        query = (
            sa.select(sa.func.count())
            .select_from(t.jobs)
            .where(j.token_id == token_id, j.status.in_(ACTIVE))
        )
        return self._db.read(
            "count active jobs",
            lambda conn: int(conn.execute(query).scalar_one()),
            lambda: 0,
            table=t.jobs,
        )

    def find_result_ref(self, kind: str, result_ref: str) -> JobInfo | None:
        """The newest succeeded job of ``kind`` whose result is ``result_ref`` (the plan
        job that saved a plan, say); ``None`` if there is none."""
        j = t.jobs.c
        where = sa.and_(j.kind == kind, j.status == "succeeded", j.result_ref == result_ref)

        def read(conn: Connection) -> JobInfo | None:
            found = _infos(conn, where, 1)
            return found[0] if found else None

        return self._db.read("look up a job by its result", read, lambda: None, table=t.jobs)

    # -- helpers ------------------------------------------------------------------------

    def _write(self, action: str, fn: Callable[[Connection], T]) -> T:
        return self._db.write(action, fn, tables=[t.jobs])

    def _exists(self) -> bool:
        return self._db.read("look for jobs", lambda _conn: True, lambda: False, table=t.jobs)

    def _change(
        self, job_id: str, allowed: tuple[str, ...], values: Mapping[str, Any], action: str
    ) -> JobInfo:
        def write(conn: Connection) -> JobInfo:
            j = t.jobs.c
            query = sa.update(t.jobs).where(j.job_id == job_id, j.status.in_(allowed))
            conn.execute(query.values(**values))
            found = _infos(conn, j.job_id == job_id, 1)
            if not found:
                _unknown(job_id)
            return found[0]

        if not self._exists():
            _unknown(job_id)
        return self._write(f"{action} job {job_id}", write)

    def _column(self, job_id: str, column: sa.Column[Any]) -> Any:
        def read(conn: Connection) -> Any:
            query = sa.select(column).where(t.jobs.c.job_id == job_id)
            row = conn.execute(query).first()
            if row is None:
                _unknown(job_id)
            return row[0]

        return self._db.read(f"read job {job_id!r}", read, lambda: _unknown(job_id), table=t.jobs)


def _json(document: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(document), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the job's {what} is not JSON ({exc})", field=what) from None


def _document(job_id: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise StoreError(f"job {job_id} in the store is damaged: a document is not JSON")
    return document


def _unknown(job_id: str) -> NoReturn:
    raise UnknownNameError("job", job_id, [], field="job_id")


def _infos(conn: Connection, where: Any, limit: int, *more: Any) -> builtins.list[JobInfo]:
    j = t.jobs.c
    query = (
        sa.select(*_INFO_COLUMNS)
        .where(where, *more)
        .order_by(j.created_at.desc(), j.job_id)
        .limit(limit)
    )
    return [_info(row) for row in conn.execute(query).mappings()]


def _info(row: Mapping[Any, Any]) -> JobInfo:
    created = iso(row["created_at"])
    assert created is not None
    return JobInfo(
        job_id=row["job_id"],
        kind=row["kind"],
        status=row["status"],
        token_id=row["token_id"],
        created_at=created,
        started_at=iso(row["started_at"]),
        finished_at=iso(row["finished_at"]),
        progress_done=int(row["progress_done"]),
        progress_total=int(row["progress_total"]),
        progress_label=row["progress_label"],
        time_limit_s=float(row["time_limit_s"]),
        error=row["error"],
        result_ref=row["result_ref"],
    )
