"""The web app's job pages: progress, and each kind's result drawn as its report.

- ``/jobs/{id}``: the job's progress, refreshed every second (htmx polls
  ``/jobs/{id}/progress`` until the job has ended), then a link to its result.
- ``/jobs/{id}/result``: the result's page for the job's kind (a plan job's saved plan).
- ``/risk/{id}``: a risk job's result as the risk report draws it (``report/risk_html.py``:
  the cost histogram with P95 and CVaR95, the tails per plan, the optionality value).
- ``/procure`` and ``/deals``: a YAML editor that starts a procurement or deal job;
  ``/procure/{id}`` and ``/deals/{id}`` draw its result (``report/procure_html.py``: the
  commitment schedule; ``report/deal_html.py``: the valuation).

Jobs are read and started through the REST API (:mod:`arbiter.service.web_calls`), as the
logged-in token: its role and limits apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from arbiter.report.deal_html import deal_view
from arbiter.report.page import View
from arbiter.report.plan_html import plan_view
from arbiter.report.procure_html import procure_view
from arbiter.report.risk_html import risk_view
from arbiter.results import DealValuation, Plan, ProcurementPlan, Result, RiskReport
from arbiter.service.web_auth import LoggedIn, Viewer
from arbiter.service.web_calls import Answer, call
from arbiter.service.web_examples import example, yaml_text
from arbiter.service.web_render import error_page, fragment, page, view_page
from arbiter.store.token_store import TokenInfo

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

JobId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
"""A job's id in a page's path (what the API's ids are made of)."""
ENDED = ("succeeded", "failed", "cancelled")
RESULT_PAGES = {"risk": "/risk", "procure": "/procure", "deal": "/deals"}
"""Where each kind's result is drawn (a plan's: its saved plan, else ``/jobs/{id}/result``)."""
_MODELS: dict[str, tuple[type[Result], Callable[[Any], View]]] = {
    "plan": (Plan, plan_view),
    "risk": (RiskReport, risk_view),
    "procure": (ProcurementPlan, procure_view),
    "deal": (DealValuation, deal_view),
}
_TITLES = {"plan": "Plan", "risk": "Risk", "procure": "Procurement plan", "deal": "Deal"}


def result_href(job: dict[str, Any]) -> str | None:
    """The page of a finished job's result (None before it succeeded)."""
    if job.get("status") != "succeeded":
        return None
    kind, job_id = job.get("kind"), job.get("job_id")
    if kind == "plan" and job.get("result_ref"):
        return f"/plans/{job['result_ref']}"
    if kind in RESULT_PAGES:
        return f"{RESULT_PAGES[kind]}/{job_id}"
    if kind == "plan":
        return f"/jobs/{job_id}/result"
    return f"/api/v1/jobs/{job_id}/result"


def _job_context(job: dict[str, Any]) -> dict[str, Any]:
    done, total = job.get("progress_done") or 0, job.get("progress_total") or 0
    share = min(1.0, done / total) if total else (1.0 if job.get("status") in ENDED else 0.0)
    return {
        "job": job,
        "ended": job.get("status") in ENDED,
        "share": share,
        "result_href": result_href(job),
    }


async def _job(request: Request, job_id: str) -> Answer:
    return await call(request, "GET", f"/jobs/{job_id}")


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, job_id: JobId, who: Viewer) -> HTMLResponse:
    answer = await _job(request, job_id)
    if not answer.ok:
        return error_page(request, who, answer.message(), status_code=answer.status, title="Job")
    job = answer.body
    title = f"{str(job.get('kind', 'job')).capitalize()} job {job_id}"
    return page(request, "job.html.j2", title=title, who=who, **_job_context(job))


@router.get("/jobs/{job_id}/progress", response_class=HTMLResponse, dependencies=[LoggedIn])
async def job_progress(request: Request, job_id: JobId) -> HTMLResponse:
    """The progress block alone; it stops polling once the job has ended."""
    answer = await _job(request, job_id)
    if not answer.ok:
        message = answer.message()
        return fragment("job_progress.html.j2", job=None, ended=True, message=message)
    return fragment("job_progress.html.j2", message=None, **_job_context(answer.body))


@router.get("/jobs/{job_id}/result", response_class=HTMLResponse)
async def job_result(request: Request, job_id: JobId, who: Viewer) -> Response:
    """A job's result page: where its kind is drawn, or here for an unsaved plan."""
    answer = await _job(request, job_id)
    if not answer.ok:
        return error_page(request, who, answer.message(), status_code=answer.status, title="Job")
    href = result_href(answer.body)
    if href is None:
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    if href != f"/jobs/{job_id}/result":
        return RedirectResponse(href, status_code=303)
    return await _result_page(request, who, job_id, "plan")


async def _result_page(request: Request, who: TokenInfo, job_id: str, kind: str) -> HTMLResponse:
    """The result of the ``kind`` job ``job_id`` drawn as its report."""
    title = f"{_TITLES[kind]} of job {job_id}"
    job = await _job(request, job_id)
    if job.ok and job.field("kind") != kind:
        message = f"job {job_id} is a {job.field('kind')} job, not a {kind} job"
        return error_page(request, who, message, status_code=404, title=title)
    answer = await call(request, "GET", f"/jobs/{job_id}/result") if job.ok else job
    if not answer.ok:
        return error_page(request, who, answer.message(), status_code=answer.status, title=title)
    model, make_view = _MODELS[kind]
    try:
        result: Any = model.model_validate(answer.body)
    except ValidationError as invalid:
        message = f"the result of job {job_id} cannot be read: {invalid.errors()[0]['msg']}"
        return error_page(request, who, message, status_code=500, title=title)
    view = await run_in_threadpool(make_view, result)
    return view_page(
        request,
        view,
        "result_page.html.j2",
        title=title,
        who=who,
        intro_links=[
            (f"{kind} job {job_id}", f"/jobs/{job_id}"),
            (f"made on catalog {result.provenance.catalog_hash[:12]}", None),
            ("the result as JSON", f"/api/v1/jobs/{job_id}/result"),
        ],
        actions=None,
    )


@router.get("/risk/{job_id}", response_class=HTMLResponse)
async def risk_page(request: Request, job_id: JobId, who: Viewer) -> HTMLResponse:
    return await _result_page(request, who, job_id, "risk")


@router.get("/procure/{job_id}", response_class=HTMLResponse)
async def procure_page(request: Request, job_id: JobId, who: Viewer) -> HTMLResponse:
    return await _result_page(request, who, job_id, "procure")


@router.get("/deals/{job_id}", response_class=HTMLResponse)
async def deal_page(request: Request, job_id: JobId, who: Viewer) -> HTMLResponse:
    return await _result_page(request, who, job_id, "deal")


# --- the procurement and deal editors ----------------------------------------------------


def _job_form(
    request: Request,
    who: TokenInfo,
    kind: str,
    fields: dict[str, str],
    *,
    samples: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "job_form.html.j2",
        title="Plan commitments" if kind == "procure" else "Value a deal",
        who=who,
        kind=kind,
        action="/procure" if kind == "procure" else "/deals",
        fields=fields,
        samples=samples,
        error=error,
        status_code=status_code,
    )


@router.get("/procure", response_class=HTMLResponse)
def procure_form(request: Request, who: Viewer) -> HTMLResponse:
    return _job_form(request, who, "procure", {"procurement": example("procurement")})


@router.get("/deals", response_class=HTMLResponse)
def deal_form(request: Request, who: Viewer) -> HTMLResponse:
    fields = {"deal": example("deal"), "procurement": example("procurement")}
    return _job_form(request, who, "deal", fields, samples=0)


async def _start(
    request: Request, who: TokenInfo, kind: str, fields: dict[str, str], body: dict[str, Any]
) -> Response:
    answer = await call(request, "POST", f"/jobs/{kind}", body)
    if answer.ok:
        return RedirectResponse(f"/jobs/{answer.field('job_id')}", status_code=303)
    samples = body.get("samples")
    return _job_form(
        request,
        who,
        kind,
        fields,
        samples=samples,
        error=answer.message(),
        status_code=answer.status,
    )


@router.post("/procure", response_class=HTMLResponse)
async def start_procure(
    request: Request, who: Viewer, procurement: Annotated[str, Form()] = ""
) -> Response:
    fields = {"procurement": procurement}
    return await _start(request, who, "procure", fields, {"procurement": yaml_text(procurement)})


@router.post("/deals", response_class=HTMLResponse)
async def start_deal(
    request: Request,
    who: Viewer,
    deal: Annotated[str, Form()] = "",
    procurement: Annotated[str, Form()] = "",
    samples: Annotated[int, Form(ge=0, le=100_000)] = 0,
) -> Response:
    fields = {"deal": deal, "procurement": procurement}
    body: dict[str, Any] = {"deal": yaml_text(deal), "samples": samples}
    if procurement.strip():
        body["procurement"] = yaml_text(procurement)
    return await _start(request, who, "deal", fields, body)
