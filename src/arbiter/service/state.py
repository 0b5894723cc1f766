"""What a running service holds (``app.state``): its settings, the token store, the
catalog cache and the job runner; and how a route reaches them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from arbiter.api import Settings
from arbiter.service.catalog_cache import CatalogCache
from arbiter.service.errors import ApiError
from arbiter.service.jobs import JobRunner
from arbiter.service.token_cache import TokenCache
from arbiter.store import JobStore, TokenStore

__all__ = ["Config", "ServiceState", "config", "job_runner", "job_store", "service"]

TODAY_ENV = "ARBITER_TODAY"


@dataclass
class ServiceState:
    """The service's parts: ``url`` the database (catalog, plans, tokens, jobs);
    ``runner`` the job runner once the server has started (None before)."""

    settings: Settings
    url: str
    tokens: TokenStore
    verified: TokenCache
    catalogs: CatalogCache
    runner: JobRunner | None = None

    def close(self) -> None:
        self.tokens.close()
        self.catalogs.close()


def service(request: Request) -> ServiceState:
    found: ServiceState = request.app.state.service
    return found


async def config(request: Request) -> Settings:
    """The service's settings on this request's day: the server's ``today`` moves on with
    the calendar unless ``ARBITER_TODAY`` fixes it."""
    settings = service(request).settings
    if settings.env.get(TODAY_ENV):
        return settings
    today = dt.date.today()
    return settings if settings.today == today else dataclasses.replace(settings, today=today)


Config = Annotated[Settings, Depends(config)]
"""A route's parameter: the service's settings on the request's day."""


def job_runner(request: Request) -> JobRunner:
    """The job runner (503 while the server is starting or stopping)."""
    runner = service(request).runner
    if runner is None:
        raise ApiError(503, "the job runner is not running (the server is starting or stopping)")
    return runner


def job_store(request: Request) -> JobStore:
    return job_runner(request).store
