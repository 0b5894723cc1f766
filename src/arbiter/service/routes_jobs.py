"""``/api/v1/jobs/...`` and ``/api/v1/plans/...``: background jobs (a planner submits and
cancels, a viewer reads) and the saved plans (viewer).

``POST /jobs/{kind}`` checks the request at once (bad input answers 422 naming the field,
no job is made; a token with too many jobs queued or running 429) and answers 202 with the
job and its ``Location``; the job runs in a process of its own
(:class:`~arbiter.service.jobs.JobRunner`). A token sees its own jobs; an admin sees all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from arbiter.api import saved_plan, saved_plans
from arbiter.domain.errors import UnknownNameError
from arbiter.results import Rows, SavedPlan, SavedPlanInfo
from arbiter.service.auth import Planner, Viewer
from arbiter.service.errors import ERRORS, ApiError
from arbiter.service.models import (
    DEFAULT_TIME_LIMIT_S,
    JOB_BODIES,
    MAX_TIME_LIMIT_S,
    ErrorBody,
    JobResult,
)
from arbiter.service.state import Config, job_runner, job_store
from arbiter.store import JOB_KINDS, JobInfo, TokenInfo

__all__ = ["plans_router", "router"]

MAX_LIST = 1000

TimeLimit = Annotated[
    float | None,
    Query(
        gt=0,
        le=MAX_TIME_LIMIT_S,
        description=f"Seconds the job may run once started (default {DEFAULT_TIME_LIMIT_S:g}); "
        "past it the job fails.",
    ),
]
JobId = Annotated[str, Path(max_length=100, description="The job's id.")]

router = APIRouter(tags=["jobs"], responses=ERRORS)
plans_router = APIRouter(prefix="/plans", tags=["plans"], responses=ERRORS)


def _submitter(kind: str) -> Any:
    body_model = JOB_BODIES[kind]

    def submit(
        request: Request,
        response: Response,
        token: Planner,
        body: BaseModel,
        time_limit_s: TimeLimit = None,
    ) -> JobInfo:
        fields = body.model_dump(exclude_unset=True, mode="json")
        limit = fields.pop("time_limit_s", None) or time_limit_s or DEFAULT_TIME_LIMIT_S
        info = job_runner(request).submit(kind, fields, token=token, time_limit_s=limit)
        root = request.scope.get("root_path", "")
        response.headers["Location"] = f"{root}/api/v1/jobs/{info.job_id}"
        return info

    # the body's model is this kind's (annotations are text here, resolved in the module)
    submit.__annotations__["body"] = Annotated[body_model, Body()]
    submit.__name__ = f"submit_{kind}"
    submit.__doc__ = (
        f"Start {'an' if kind[0] in 'aeiou' else 'a'} `{kind}` job (what `arbiter {kind}` "
        "does): 202 with the job; poll `Location`, then read `/result`."
    )
    return submit


for _kind in JOB_KINDS:
    router.post(
        f"/jobs/{_kind}",
        response_model=JobInfo,
        status_code=202,
        responses={429: {"model": ErrorBody}},
        name=f"submit_{_kind}",
    )(_submitter(_kind))


@router.get("/jobs", response_model=list[JobInfo])
def jobs(
    request: Request,
    token: Viewer,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
) -> list[JobInfo]:
    """The newest jobs, newest first: the token's own (an admin's: everyone's)."""
    owner = None if token.allows("admin") else token.token_id
    return job_store(request).list(token_id=owner, limit=limit)


def _job(request: Request, job_id: str, token: TokenInfo) -> JobInfo:
    """The job, if the token may see it (its own, or any for an admin); else 404."""
    try:
        info = job_store(request).get(job_id)
    except UnknownNameError:
        info = None
    if info is None or not (info.token_id == token.token_id or token.allows("admin")):
        raise ApiError(404, f"there is no job {job_id!r} of this token", field="job_id")
    return info


@router.get("/jobs/{job_id}", response_model=JobInfo)
def job(request: Request, token: Viewer, job_id: JobId) -> JobInfo:
    """The job: its status and progress."""
    return _job(request, job_id, token)


@router.get(
    "/jobs/{job_id}/result",
    response_model=JobResult,
    responses={409: {"model": ErrorBody}},
)
def result(request: Request, token: Viewer, job_id: JobId) -> JSONResponse:
    """The result document of a job that succeeded (what `arbiter <kind> --json` prints);
    409 while it is queued or running, or when it failed or was cancelled."""
    info = _job(request, job_id, token)
    document = job_store(request).result(info.job_id) if info.status == "succeeded" else None
    if document is None:
        why = f": {info.error}" if info.error else ""
        raise ApiError(
            409,
            f"job {info.job_id} is {info.status}{why}; "
            + ("its result is not ready yet" if info.active else "it has no result"),
            headers={"Retry-After": "1"} if info.active else None,
        )
    return JSONResponse(document)


@router.post("/jobs/{job_id}/cancel", response_model=JobInfo)
def cancel(request: Request, token: Planner, job_id: JobId) -> JobInfo:
    """Cancel a queued or running job (its process is stopped); one that has ended is
    answered as it is."""
    info = _job(request, job_id, token)
    return job_runner(request).cancel(info.job_id)


@plans_router.get("", response_model=list[SavedPlanInfo], response_model_exclude_unset=True)
def plans(_token: Viewer, settings: Config) -> Rows[SavedPlanInfo]:
    """Every saved plan, newest first (`arbiter plans list`)."""
    return saved_plans(config=settings)


@plans_router.get("/{plan_id}", response_model=SavedPlan, response_model_exclude_unset=True)
def plan(
    _token: Viewer, settings: Config, plan_id: Annotated[str, Path(max_length=100)]
) -> SavedPlan:
    """A saved plan (its id or a unique prefix): its figures and its document as stored
    (`arbiter plans show`)."""
    try:
        return saved_plan(plan_id, config=settings)
    except UnknownNameError as exc:
        raise ApiError(404, str(exc), field="plan_id") from None
