"""The web app ``arbiter serve`` serves beside the REST API: server-drawn pages with a
light touch of htmx, behind a login with an API token.

``create_app`` includes :data:`router` (every page; none in the OpenAPI schema) and calls
:func:`mount_static` (``/static``: htmx, the app's CSS and plotly.js, so the app works
offline). The pages:

- ``/login``, ``/logout`` (:mod:`arbiter.service.web_auth`);
- ``/`` and ``/offers`` (:mod:`arbiter.service.web_catalog`);
- ``/fleets/new``, ``/plans``, ``/plans/{id}`` (:mod:`arbiter.service.web_plans`) and
  ``/compare`` (:mod:`arbiter.service.web_compare`);
- ``/jobs/{id}``, ``/risk/{id}``, ``/procure``, ``/deals`` and their results
  (:mod:`arbiter.service.web_jobs`).

Templates are in ``templates/`` (:mod:`arbiter.service.web_render`); ``static/PROVENANCE.md``
says where each static file comes from.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from arbiter.service import web_auth, web_catalog, web_compare, web_jobs, web_plans

__all__ = ["mount_static", "plotly_js", "router"]

router = APIRouter(include_in_schema=False)
for _module in (web_auth, web_catalog, web_plans, web_compare, web_jobs):
    router.include_router(_module.router)

PLOTLY_JS = "plotly.min.js"


def plotly_js() -> Path | None:
    """plotly.js as the installed ``plotly`` package bundles it (None without plotly)."""
    try:
        found = resources.files("plotly") / "package_data" / PLOTLY_JS
    except ModuleNotFoundError:  # pragma: no cover - plotly is a dependency of the service
        return None
    path = Path(str(found))
    return path if path.is_file() else None


class _Static(StaticFiles):
    """The app's ``static/`` folder, and plotly.js from the plotly package (4 MB, not
    copied into the repository)."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path == PLOTLY_JS:
            found = plotly_js()
            if found is not None:
                return str(found), found.stat()
        return super().lookup_path(path)


def mount_static(app: FastAPI) -> None:
    """Serve ``/static`` from ``arbiter/service/static/`` (and plotly.js from plotly)."""
    folder = Path(str(resources.files("arbiter.service") / "static"))
    app.mount("/static", _Static(directory=folder), name="static")
