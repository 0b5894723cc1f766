"""Logging in to the web app: a token's secret, kept in a cookie.

``/login`` takes an API token (``arbiter tokens create``); a valid one is set as the cookie
``arbiter_token`` (HttpOnly, SameSite=Strict, Path=/; Secure over HTTPS), which the REST
API accepts as it accepts ``Authorization: Bearer``. SameSite=Strict keeps the cookie off
requests another site starts, so a form elsewhere cannot start a job with it. ``/logout``
clears it. Every other page asks for a logged-in token (:func:`logged_in`): without one a
page redirects to ``/login?next=<the page>``, and a request htmx makes is told to load the
login page (``HX-Redirect``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from arbiter.domain.errors import ArbiterError
from arbiter.service.auth import COOKIE, MAX_SECRET
from arbiter.service.state import service
from arbiter.service.web_render import page
from arbiter.store.token_store import TokenInfo

__all__ = ["COOKIE", "LoggedIn", "Viewer", "logged_in", "router", "secret_of"]

router = APIRouter(include_in_schema=False)


def secret_of(request: Request) -> str:
    """The secret the cookie holds ("" when there is none)."""
    return request.cookies.get(COOKIE, "")


def verify(request: Request, secret: str) -> TokenInfo | None:
    """The token ``secret`` is, if it is known, not revoked and not expired now."""
    if not secret or len(secret) > MAX_SECRET:
        return None
    try:
        return service(request).tokens.verify(secret, now=dt.datetime.now(dt.UTC))
    except ArbiterError:
        return None


def logged_in(request: Request) -> TokenInfo:
    """The token logged in (any role); else the page goes to ``/login``."""
    found = verify(request, secret_of(request))
    if found is not None:
        return found
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request") == "true":
        # htmx follows a redirect in place; this makes it load the login page instead
        raise HTTPException(401, "log in first", headers={"HX-Redirect": login})
    raise HTTPException(303, "log in first", headers={"Location": login})


Viewer = Annotated[TokenInfo, Depends(logged_in)]
"""A page's parameter: the token logged in."""
LoggedIn = Depends(logged_in)
"""A route's dependency when it does not read the token (htmx's fragments)."""


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site (``/plans/3f2a``), else ``/``: the page
    after logging in is never another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query's name
    return page(request, "login.html.j2", title="Log in", who=None, next=local_path(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002 - the form field's name
) -> Response:
    secret = token.strip()
    found = verify(request, secret)
    if found is None:
        return page(
            request,
            "login.html.j2",
            title="Log in",
            who=None,
            next=local_path(next),
            failed=True,
            status_code=401,
        )
    response = RedirectResponse(local_path(next), status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
