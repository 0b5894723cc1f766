"""The service: ``create_app`` builds the FastAPI app that ``arbiter serve`` runs.

Every route of the REST API is under ``/api/v1`` (the OpenAPI schema at
``/api/v1/openapi.json``, its pages at ``/api/v1/docs``) and needs an API token
(:mod:`arbiter.service.auth`) but ``/api/v1/health``; the web pages
(:mod:`arbiter.service.web`) are beside it, at ``/``. The app holds one token store, the
catalog cache and, from start to stop, the job runner (which on start fails the jobs a
previous server left running). Bodies over ``max_body_bytes`` answer 413; CORS is off
unless ``cors_origins`` are given; every error answers with one JSON body
(:mod:`arbiter.service.errors`).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from arbiter._version import __version__
from arbiter.api import Settings
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.parallel.executors import ENGINES
from arbiter.service import routes_admin, routes_catalog, routes_jobs, web
from arbiter.service.catalog_cache import CatalogCache
from arbiter.service.errors import install_error_handlers
from arbiter.service.jobs import JobRunner
from arbiter.service.limits import BodyLimit
from arbiter.service.state import ServiceState
from arbiter.service.token_cache import TokenCache
from arbiter.store import TokenStore, default_db_url

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
DEFAULT_MAX_BODY_BYTES = 2_000_000


def create_app(
    settings: Settings | None = None,
    *,
    runner: JobRunner | None = None,
    engine: str = "local",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    cors_origins: Sequence[str] = (),
) -> FastAPI:
    """The app over the database of ``settings`` (default: this process's environment,
    ``ARBITER_DB_URL``). Jobs run on ``runner``, or on a :class:`JobRunner` of ``engine``
    (``local`` or ``ray``) made when the server starts and shut down when it stops."""
    if runner is None and engine not in ENGINES:
        raise UnknownNameError("engine", engine, ENGINES, field="--engine")
    if max_body_bytes < 1:
        raise InputError(
            f"{max_body_bytes} bytes is not a size limit", field="--max-body-mb", valid="> 0"
        )
    settings = settings or Settings.from_env(os.environ)
    url = settings.db_url or default_db_url(settings.env)
    tokens = TokenStore(url)
    state = ServiceState(
        settings=settings,
        url=url,
        tokens=tokens,
        verified=TokenCache(tokens),
        catalogs=CatalogCache(settings),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state.runner = runner or JobRunner(url, engine=engine)
        try:
            await run_in_threadpool(_warm, state)
            yield
        finally:
            if runner is None:
                state.runner.shutdown()
            state.runner = None
            state.close()

    app = FastAPI(
        title="arbiter",
        version=__version__,
        summary="Where AI workloads run across chips, clouds and price regimes.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = state
    app.state.settings = settings
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(routes_admin.health_router)
    api.include_router(routes_catalog.router)
    api.include_router(routes_jobs.router)
    api.include_router(routes_jobs.plans_router)
    api.include_router(routes_admin.router)
    app.include_router(api)
    app.include_router(web.router)
    web.mount_static(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Location"],
        )
    return app


def _warm(state: ServiceState) -> None:
    """Load the current catalog version and its summary before the first request, then
    move everything alive into the collector's permanent generation (``gc.freeze``): a
    full collection would otherwise walk every module, schema and offer, a pause of
    about 100 ms in the middle of some request."""
    catalogs = state.catalogs
    catalogs.summary(catalogs.index(), state.settings)
    gc.collect()
    gc.freeze()
