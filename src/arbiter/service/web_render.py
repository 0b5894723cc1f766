"""How the web app draws its pages: Jinja2 templates in ``templates/``, over the reports'.

The environment looks in the app's templates first, then in the reports'
(``arbiter/report/templates``): a page reuses the reports' CSS (``style.css.j2``), macros
and, for a result, the report template itself. The app's ``base.html.j2`` stands in for
the reports' layout of the same name, so a report template (``plan.html.j2``) extended by a
page (``plan_page.html.j2``) draws its headline and sections inside the app's layout
(navigation, the catalog version, plotly.js from ``/static``) instead of a standalone file.
Like the reports, the templates escape every value and fail on an undefined name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader

from arbiter.api import Settings, catalog_summary
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import ArbiterError
from arbiter.report.page import View, figures_json, template_environment
from arbiter.store.token_store import TokenInfo

__all__ = ["CatalogBadge", "age_days", "app_settings", "catalog_badge", "environment", "page"]


@cache
def environment() -> Environment:
    """The app's templates, then the reports': escaped, strict about undefined names."""
    app, reports = (PackageLoader(f"arbiter.{p}", "templates") for p in ("service", "report"))
    return template_environment(ChoiceLoader([app, reports]))


def app_settings(request: Request) -> Settings:
    """The settings the app was made with (``app.state.settings``), on this request's day
    unless ``ARBITER_TODAY`` fixes the day (a server runs for longer than a day)."""
    settings: Settings = request.app.state.settings
    if settings.env.get("ARBITER_TODAY"):
        return settings
    today = dt.date.today()
    return settings if settings.today == today else dataclasses.replace(settings, today=today)


@dataclass(frozen=True, slots=True)
class CatalogBadge:
    """The current catalog as every page names it, and the day prices are aged on."""

    version: str
    content_hash: str
    today: str
    error: str | None = None


def catalog_badge(config: Settings) -> CatalogBadge:
    """The current catalog version of the store the settings name."""
    today = config.today.isoformat()
    try:
        summary = catalog_summary(config=config)
    except ArbiterError as error:
        return CatalogBadge("unreadable", "", today, str(error))
    return CatalogBadge(summary.version, summary.content_hash, today)


def age_days(as_of: str, today: dt.date) -> int | None:
    """Days from a price's date (``2026-09-25``, ``2026-07``, ``2024-12/2025-06``) to
    ``today``; None for a date that cannot be read."""
    try:
        return AsOf.parse(as_of).age_days(today)
    except ValueError:
        return None


def page(
    request: Request,
    template: str,
    *,
    title: str,
    who: TokenInfo | None,
    status_code: int = 200,
    charts: Sequence[tuple[str, Any]] = (),
    **context: Any,
) -> HTMLResponse:
    """``template`` as a whole page (in the app's layout): ``who`` is the token logged in
    (None on the login page, which names no catalog), ``charts`` (div id, plotly figure)
    pairs drawn once loaded."""
    config = app_settings(request)
    html = (
        environment()
        .get_template(template)
        .render(
            title=title,
            who=who,
            catalog=None if who is None else catalog_badge(config),
            charts=figures_json(charts),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def fragment(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` alone: a part of a page that htmx swaps in."""
    html = environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)


def view_page(
    request: Request,
    view: View,
    template: str,
    *,
    title: str,
    who: TokenInfo | None,
    **context: Any,
) -> HTMLResponse:
    """A report's ``view`` drawn by the page ``template``, which extends the view's
    template (``report_template``), with what the page adds in ``context``."""
    return page(
        request,
        template,
        title=title,
        who=who,
        charts=view.charts,
        **{**view.context, "report_template": view.template, **context},
    )


def error_page(
    request: Request, who: TokenInfo | None, message: str, *, status_code: int, title: str
) -> HTMLResponse:
    """A page that says what went wrong (an error's one paragraph)."""
    return page(
        request, "error.html.j2", title=title, who=who, message=message, status_code=status_code
    )
