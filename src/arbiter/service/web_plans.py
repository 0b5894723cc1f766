"""The web app's fleet editor and plan pages.

- ``/fleets/new``: a YAML editor holding a small fleet, a file input that loads a fleet
  file into it, **Validate** (``/fleets/validate``, htmx: the CLI's validator,
  :func:`arbiter.load_fleet`, on the text: "valid: N workloads", or the one-paragraph error
  naming the field) and **Plan** (``/fleets/plan``: a plan job through the REST API, saved,
  optionally with the price of diversification swept over one cap; then its progress).
- ``/plans``: the saved plans, newest first, and two of them to compare.
- ``/plans/{id}``: the plan as the plan report draws it (``report/plan_html.py``: spend
  shares against the caps, baselines, assignments, the audit with each price's age, the
  price of diversification when swept) and a form that starts a risk job on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from arbiter.api import load_fleet, saved_plan, saved_plans
from arbiter.domain.errors import ArbiterError, InputError, UnknownNameError
from arbiter.domain.fleet import GROUPS
from arbiter.report.plan_html import plan_view
from arbiter.results import Plan, SavedPlan
from arbiter.service.web_auth import LoggedIn, Viewer
from arbiter.service.web_calls import call
from arbiter.service.web_examples import MAX_TEXT, example, yaml_text
from arbiter.service.web_render import (
    app_settings,
    error_page,
    fragment,
    page,
    view_page,
)
from arbiter.store.token_store import TokenInfo

__all__ = ["FleetCheck", "check_fleet", "load_saved", "router"]

router = APIRouter(include_in_schema=False)

SWEEP_CAPS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
"""The caps a plan's price of diversification is swept over, from the editor."""
DEFAULT_SAMPLES = 200
MAX_FORM_SAMPLES = 100_000


@dataclass(frozen=True, slots=True)
class FleetCheck:
    """What the validator says of a fleet's text: valid or not, in one paragraph."""

    ok: bool
    text: str


def check_fleet(text: str, name: str = "the fleet") -> FleetCheck:
    """The CLI's validator (:func:`arbiter.load_fleet`) on the editor's text; its errors
    name the file ``name`` (an uploaded file's) where the CLI's name the path. A fleet
    naming spot trace files is refused, as the API refuses it."""
    if not text.strip():
        return FleetCheck(ok=False, text="The fleet is empty: paste or upload a fleet file.")
    if len(text) > MAX_TEXT:
        return FleetCheck(ok=False, text=f"The fleet is longer than {MAX_TEXT:,} characters.")
    try:
        fleet = load_fleet(yaml_text(text))
    except InputError as error:
        if error.file == "<string>":
            error = InputError(error.message, file=name, field=error.field, valid=error.valid)
        return FleetCheck(ok=False, text=str(error))
    except ArbiterError as error:
        return FleetCheck(ok=False, text=str(error))
    if fleet.spot.traces:
        message = (
            f"In {name}, field spot.traces: names spot trace files, and the server reads no "
            "files a fleet names. Valid: a fleet without spot.traces (spot.outage_hours is fine)."
        )
        return FleetCheck(ok=False, text=message)
    n = len(fleet.workloads)
    return FleetCheck(ok=True, text=f"valid: {n} workload{'' if n == 1 else 's'}")


def _editor(
    request: Request,
    who: TokenInfo,
    text: str,
    *,
    check: FleetCheck | None = None,
    error: str | None = None,
    sweep: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "fleet_editor.html.j2",
        title="Plan a fleet",
        who=who,
        text=text,
        check=check,
        error=error,
        sweep=sweep,
        groups=GROUPS,
        sweep_caps=SWEEP_CAPS,
        status_code=status_code,
    )


@router.get("/fleets/new", response_class=HTMLResponse)
def fleet_editor(request: Request, who: Viewer) -> HTMLResponse:
    return _editor(request, who, example("fleet"))


@router.post("/fleets/validate", response_class=HTMLResponse, dependencies=[LoggedIn])
def validate_fleet(fleet: Annotated[str, Form()] = "") -> HTMLResponse:
    return fragment("validation.html.j2", check=check_fleet(fleet))


@router.post("/fleets/upload", response_class=HTMLResponse, dependencies=[LoggedIn])
async def upload_fleet(file: Annotated[UploadFile, File()]) -> HTMLResponse:
    """The uploaded file in the editor, validated."""
    raw = await file.read(MAX_TEXT + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return fragment(
            "fleet_fields.html.j2",
            text="",
            check=FleetCheck(ok=False, text=f"{file.filename} is not UTF-8 text."),
        )
    check = await run_in_threadpool(check_fleet, text, file.filename or "the file")
    return fragment("fleet_fields.html.j2", text=text[:MAX_TEXT], check=check)


@router.post("/fleets/plan", response_class=HTMLResponse)
async def start_plan(
    request: Request,
    who: Viewer,
    fleet: Annotated[str, Form()] = "",
    sweep: Annotated[str, Form()] = "",
) -> Response:
    """A plan job for the editor's fleet (saved), then its progress page."""
    check = await run_in_threadpool(check_fleet, fleet)
    if not check.ok:
        return _editor(request, who, fleet, check=check, sweep=sweep, status_code=422)
    body: dict[str, Any] = {"fleet": yaml_text(fleet), "save": True}
    if sweep in GROUPS:
        body["sweep"] = {"group": sweep, "caps": list(SWEEP_CAPS)}
    answer = await call(request, "POST", "/jobs/plan", body)
    if not answer.ok:
        return _editor(
            request, who, fleet, error=answer.message(), sweep=sweep, status_code=answer.status
        )
    return RedirectResponse(f"/jobs/{answer.field('job_id')}", status_code=303)


# --- saved plans -----------------------------------------------------------------------


def load_saved(request: Request, plan_id: str) -> SavedPlan:
    """The saved plan ``plan_id`` (an id or a unique prefix) of the app's store."""
    return saved_plan(plan_id, config=app_settings(request))


def _status(error: ArbiterError) -> int:
    return 404 if isinstance(error, UnknownNameError) else error.http_status


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request, who: Viewer) -> HTMLResponse:
    try:
        plans = saved_plans(config=app_settings(request))
    except ArbiterError as error:
        return error_page(request, who, str(error), status_code=_status(error), title="Plans")
    return page(request, "plans.html.j2", title="Saved plans", who=who, plans=plans)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, who: Viewer) -> HTMLResponse:
    return _plan_page(request, who, plan_id)


def _plan_page(
    request: Request,
    who: TokenInfo,
    plan_id: str,
    *,
    scenarios: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    recourse: bool = False,
    fleet: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The saved plan drawn as its report, with the form that starts a risk job."""
    try:
        saved = load_saved(request, plan_id)
    except ArbiterError as error_:
        return error_page(request, who, str(error_), status_code=_status(error_), title="Plan")
    try:
        plan = Plan.model_validate(saved.document)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        message = (
            f"Saved plan {saved.info.plan_id} was written by another version of arbiter and "
            f"cannot be drawn (field {where}: {problem['msg']}); its document is at "
            f"/api/v1/plans/{saved.info.plan_id}."
        )
        return error_page(request, who, message, status_code=422, title="Plan")
    info = saved.info
    response = view_page(
        request,
        plan_view(plan),
        "result_page.html.j2",
        title=f"Plan {info.plan_id[:12]}",
        who=who,
        intro_links=[
            (f"saved plan {info.plan_id[:12]} ({info.name}), saved {info.created[:19]}", None),
            (f"made on catalog {plan.provenance.catalog_hash[:12]}", None),
            ("compare with another plan", f"/compare?a={info.plan_id}"),
            ("the plan as JSON", f"/api/v1/plans/{info.plan_id}"),
        ],
        actions="plan_actions.html.j2",
        plan_id=info.plan_id,
        scenarios=example("scenarios") if scenarios is None else scenarios,
        samples=samples,
        recourse=recourse,
        fleet=fleet,
        error=error,
    )
    response.status_code = status_code
    return response


@router.post("/plans/{plan_id}/risk", response_class=HTMLResponse)
async def start_risk(
    request: Request,
    plan_id: str,
    who: Viewer,
    scenarios: Annotated[str, Form()] = "",
    samples: Annotated[int, Form(ge=1, le=MAX_FORM_SAMPLES)] = DEFAULT_SAMPLES,
    recourse: Annotated[bool, Form()] = False,
    fleet: Annotated[str, Form()] = "",
) -> Response:
    """A risk job on the saved plan: its scenarios, samples and re-planning, then its
    progress page."""
    body: dict[str, Any] = {
        "plan_id": plan_id,
        "scenarios": yaml_text(scenarios),
        "samples": samples,
        "recourse": recourse,
    }
    if fleet.strip():
        body["fleet"] = yaml_text(fleet)
    answer = await call(request, "POST", "/jobs/risk", body)
    if answer.ok:
        return RedirectResponse(f"/jobs/{answer.field('job_id')}", status_code=303)
    return await run_in_threadpool(
        lambda: _plan_page(
            request,
            who,
            plan_id,
            scenarios=scenarios,
            samples=samples,
            recourse=recourse,
            fleet=fleet,
            error=answer.message(),
            status_code=answer.status,
        )
    )
