"""``/api/v1/tokens`` (admin): the API tokens, as ``arbiter tokens`` manages them; and
``/api/v1/health`` (no token)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request

from arbiter._version import __version__
from arbiter.domain.errors import UnknownNameError
from arbiter.service.auth import Admin
from arbiter.service.errors import ERRORS, ApiError
from arbiter.service.models import Health, NewToken, NewTokenRequest
from arbiter.service.state import service
from arbiter.store import TokenInfo

__all__ = ["health_router", "router"]

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=ERRORS)
health_router = APIRouter(tags=["health"])


@health_router.get("/health", response_model=Health)
def health() -> Health:
    """The server answers (no token needed)."""
    return Health(status="ok", version=__version__)


@router.get("", response_model=list[TokenInfo])
def tokens(request: Request, _token: Admin) -> list[TokenInfo]:
    """Every token, newest first, revoked and expired ones too (never a secret)."""
    return service(request).tokens.list()


@router.post("", response_model=NewToken, status_code=201)
def create(request: Request, _token: Admin, body: NewTokenRequest) -> NewToken:
    """A new token: its secret is in this answer only (the server keeps its hash)."""
    now = dt.datetime.now(dt.UTC)
    expires = None if body.expires_days is None else now + dt.timedelta(days=body.expires_days)
    secret, info = service(request).tokens.create(
        body.role, label=body.label, expires_at=expires, now=now
    )
    return NewToken(secret=secret, token=info)


@router.delete("/{token_id}", response_model=TokenInfo)
def revoke(
    request: Request, _token: Admin, token_id: Annotated[str, Path(max_length=100)]
) -> TokenInfo:
    """Revoke a token: it is refused from now on."""
    state = service(request)
    try:
        info = state.tokens.revoke(token_id)
    except UnknownNameError as exc:
        raise ApiError(404, str(exc), field="token_id") from None
    state.verified.forget(info.token_id)
    return info
