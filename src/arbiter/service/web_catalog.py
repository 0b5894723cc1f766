"""The web app's home page and the offer browser.

- ``/``: links to every page, the current catalog's counts and how fresh each provider's
  prices are, and the newest saved plans.
- ``/offers``: every way to buy a chip, filtered by provider, accelerator, vendor, regime
  and region (a glob), sorted, 50 to a page, each price with its date and age. The
  filters update the table in place (htmx asks ``/offers`` for the table alone and puts
  the filters in the address, so a filtered page can be shared and reloaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from arbiter.api import Settings, accelerators, catalog_summary, offers, saved_plans
from arbiter.domain.errors import ArbiterError
from arbiter.results import CatalogOffer
from arbiter.service.web_auth import Viewer
from arbiter.service.web_render import age_days, app_settings, error_page, fragment, page

__all__ = ["OfferFilters", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_OFFSET = 1_000_000
SORTS = ("usd_per_accelerator_hour", "usd_per_hour", "as_of", "provider", "accelerator")
RECENT_PLANS = 5


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Viewer) -> HTMLResponse:
    config = app_settings(request)
    try:
        summary = catalog_summary(config=config)
        plans = saved_plans(config=config)[:RECENT_PLANS]
    except ArbiterError as error:
        return error_page(request, who, str(error), status_code=error.http_status, title="arbiter")
    return page(request, "home.html.j2", title="arbiter", who=who, summary=summary, plans=plans)


@dataclass(frozen=True, slots=True)
class OfferFilters:
    """The offer browser's filters, as the query string gives them ("" = any)."""

    provider: str = ""
    accelerator: str = ""
    vendor: str = ""
    regime: str = ""
    region: str = ""
    sort: str = SORTS[0]
    offset: int = 0

    def query(self, offset: int) -> str:
        """The query string of these filters at ``offset``."""
        fields = {k: v for k, v in self._fields().items() if v}
        return urlencode({**fields, "offset": offset} if offset else fields)

    def _fields(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "accelerator": self.accelerator,
            "vendor": self.vendor,
            "regime": self.regime,
            "region": self.region,
            "sort": "" if self.sort == SORTS[0] else self.sort,
        }


@dataclass(frozen=True, slots=True)
class OfferRow:
    offer: CatalogOffer
    age_days: int | None
    stale: bool


def _table(config: Settings, filters: OfferFilters) -> dict[str, Any]:
    """The page of offers the filters select, or the error naming the bad filter."""
    try:
        found = offers(
            providers=[filters.provider] if filters.provider else [],
            accelerators=[filters.accelerator] if filters.accelerator else [],
            vendors=[filters.vendor] if filters.vendor else [],
            regimes=[filters.regime] if filters.regime else [],
            region=filters.region or None,
            sort=filters.sort,
            config=config,
        )
    except ArbiterError as error:
        return {"rows": [], "total": 0, "filters": filters, "error": str(error)}
    shown = found[filters.offset : filters.offset + PAGE_SIZE]
    rows = []
    for o in shown:
        age = age_days(o.as_of, config.today)
        rows.append(OfferRow(o, age, age is not None and age > config.max_age_days))
    return {
        "rows": rows,
        "total": len(found),
        "filters": filters,
        "error": None,
        "first": filters.offset + 1,
        "previous": max(0, filters.offset - PAGE_SIZE) if filters.offset > 0 else None,
        "next": filters.offset + PAGE_SIZE if filters.offset + PAGE_SIZE < len(found) else None,
        "max_age_days": config.max_age_days,
        "today": config.today.isoformat(),
    }


def _choices(config: Settings) -> dict[str, list[str]]:
    """What each filter can name (its datalist)."""
    summary = catalog_summary(config=config)
    return {
        "provider": sorted(summary.offers_by_provider),
        "accelerator": [a.name for a in accelerators(config=config)],
        "vendor": sorted(summary.offers_by_vendor),
        "regime": sorted(summary.offers_by_regime),
    }


@router.get("/offers", response_class=HTMLResponse)
def offers_page(
    request: Request,
    who: Viewer,
    provider: str = "",
    accelerator: str = "",
    vendor: str = "",
    regime: str = "",
    region: str = "",
    sort: str = SORTS[0],
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    config = app_settings(request)
    filters = OfferFilters(
        provider.strip(),
        accelerator.strip(),
        vendor.strip(),
        regime.strip(),
        region.strip(),
        sort if sort in SORTS else SORTS[0],
        offset,
    )
    table = _table(config, filters)
    partial = request.headers.get("HX-Request") == "true"
    if partial and request.headers.get("HX-History-Restore-Request") != "true":
        return fragment("offers_table.html.j2", **table)
    try:
        choices = _choices(config)
    except ArbiterError as error:
        return error_page(request, who, str(error), status_code=error.http_status, title="Offers")
    return page(
        request, "offers.html.j2", title="Offers", who=who, choices=choices, sorts=SORTS, **table
    )
