"""Who may call the API: a token's secret, as ``Authorization: Bearer <secret>`` or in the
cookie ``arbiter_token`` (set by the web app's login page, HttpOnly, SameSite=Strict).

:func:`current_token` is the FastAPI dependency that verifies it
(:meth:`~arbiter.store.TokenStore.verify`): a missing, unknown, revoked or expired token
answers 401 with ``WWW-Authenticate: Bearer``. ``require(role)`` is the dependency of a
route that needs at least ``role`` (viewer < planner < admin): 403 when the token's role is
lower. Both return the :class:`~arbiter.store.TokenInfo`. A secret is never logged nor
put in an answer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from arbiter.service.errors import ApiError
from arbiter.service.state import service
from arbiter.store import TokenInfo
from arbiter.store.token_store import check_role

__all__ = ["COOKIE", "Admin", "Planner", "Viewer", "current_token", "require"]

COOKIE = "arbiter_token"
MAX_SECRET = 200
"""Longer secrets are not looked up (a real one has 47 characters)."""

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token's secret (`arbiter tokens create`, `POST /api/v1/tokens`).",
)
_cookie = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    description="The same secret in the cookie the web app's login page sets.",
)


async def current_token(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> TokenInfo:
    """The token the request presents, verified; 401 without a valid one."""
    secret = bearer.credentials if bearer is not None else cookie
    if not secret:
        raise ApiError(
            401,
            "this needs an API token: send `Authorization: Bearer <secret>` "
            "(`arbiter tokens create` makes one)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = None
    if len(secret) <= MAX_SECRET:
        tokens, now = service(request).verified, dt.datetime.now(dt.UTC)
        found = tokens.peek(secret, now=now) or await run_in_threadpool(
            functools.partial(tokens.verify, secret, now=now)
        )
    if found is None:
        raise ApiError(
            401,
            "the API token is unknown, revoked or expired",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return found


@functools.cache
def require(role: str) -> Callable[[TokenInfo], Awaitable[TokenInfo]]:
    """The dependency of a route that needs at least ``role``: the verified token, or
    401 (no valid token) or 403 (a lower role)."""
    check_role(role, field="role")

    async def allowed(token: Annotated[TokenInfo, Depends(current_token)]) -> TokenInfo:
        if not token.allows(role):
            raise ApiError(
                403,
                f"token {token.token_id} is a {token.role} token; this needs a {role} "
                "token or higher (viewer < planner < admin)",
            )
        return token

    return allowed


Viewer = Annotated[TokenInfo, Depends(require("viewer"))]
"""A route's parameter: the token, at least a viewer's."""
Planner = Annotated[TokenInfo, Depends(require("planner"))]
Admin = Annotated[TokenInfo, Depends(require("admin"))]
