"""``/api/v1/catalog/...``: the compute catalog (viewer), and imports of price feeds
(admin), over the library's catalog functions (``arbiter catalog ...``).

Offers and summaries come from the server's catalog cache (a version is loaded once);
versions, diffs and histories read the store on each call.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from arbiter.api import catalog_diff, catalog_versions, price_history
from arbiter.api.cataloging import CatalogIndex, OfferQuery
from arbiter.api.importing import FeedFile, import_catalog
from arbiter.domain.errors import UnknownNameError
from arbiter.results import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogSummary,
    CatalogVersion,
    PriceHistory,
    Rows,
)
from arbiter.results.catalog import CatalogImport
from arbiter.service.auth import Admin, Viewer
from arbiter.service.errors import ERRORS, ApiError
from arbiter.service.models import ErrorBody, OfferFilters, OfferPage
from arbiter.service.state import Config, service

__all__ = ["router"]

Version = Annotated[
    str | None,
    Query(
        max_length=80,
        description="A catalog version: a content hash, a unique prefix of one, or "
        "`default` (default: the current version).",
    ),
]
Names = Annotated[list[str], Query(max_length=50)]
MAX_NAME = 200

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERRORS)


async def _index(request: Request, version: str | None) -> CatalogIndex:
    """The catalog version: at once when the server has it at hand, else read from the
    store in a worker thread (the event loop keeps answering meanwhile)."""
    cache = service(request).catalogs
    found = cache.peek(version)
    return found if found is not None else await run_in_threadpool(cache.index, version)


@router.get("/offers", response_model=OfferPage, response_model_exclude_unset=True)
async def offers(
    request: Request,
    _token: Viewer,
    q: Annotated[OfferFilters, Query()],
) -> OfferPage:
    """Every way to buy the chips that match (names and aliases any case; repeat a
    parameter for several), cheapest per chip-hour first: one page, and how many in all."""
    index = await _index(request, q.version)
    query = OfferQuery(
        providers=q.provider, accelerators=q.accelerator, vendors=q.vendor, regimes=q.regime,
        region=q.region, sort=q.sort,
    )  # fmt: skip
    total, rows = index.offers(query, offset=q.offset, limit=q.limit)
    return OfferPage(
        version=index.name,
        content_hash=index.content_hash,
        total=total,
        offset=q.offset,
        limit=q.limit,
        offers=rows,
    )


@router.get(
    "/accelerators", response_model=list[AcceleratorSpec], response_model_exclude_unset=True
)
async def accelerators(
    request: Request,
    _token: Viewer,
    vendor: Names = [],  # noqa: B006
    version: Version = None,
) -> Rows[AcceleratorSpec]:
    """The chips of the catalog and their specs, by vendor, year and name."""
    return (await _index(request, version)).accelerators(vendor)


@router.get("/summary", response_model=CatalogSummary, response_model_exclude_unset=True)
async def summary(
    request: Request, _token: Viewer, settings: Config, version: Version = None
) -> CatalogSummary:
    """Counts by vendor, provider and regime, the cheapest offer per chip, and how old
    each provider's prices are."""
    cache = service(request).catalogs
    index = await _index(request, version)
    found = cache.peek_summary(index, settings)
    return found if found is not None else await run_in_threadpool(cache.summary, index, settings)


@router.get("/versions", response_model=list[CatalogVersion], response_model_exclude_unset=True)
def versions(_token: Viewer, settings: Config) -> Rows[CatalogVersion]:
    """Every stored catalog version, `default` first; `current` marks the one in use."""
    return catalog_versions(config=settings)


@router.get("/diff", response_model=CatalogDiff, response_model_exclude_unset=True)
def diff(
    _token: Viewer,
    settings: Config,
    old: Annotated[str, Query(max_length=80)],
    new: Annotated[str, Query(max_length=80)],
) -> CatalogDiff:
    """Offers added, removed and repriced from version `old` to `new`, largest move first."""
    return catalog_diff(old, new, config=settings)


@router.get(
    "/history/{accelerator}", response_model=PriceHistory, response_model_exclude_unset=True
)
def history(
    _token: Viewer,
    settings: Config,
    accelerator: str,
    provider: Names = [],  # noqa: B006
    regime: Names = [],  # noqa: B006
    version: Version = None,
) -> PriceHistory:
    """Every dated price of a chip (any alias) in the version and those it descends from."""
    try:
        return price_history(
            accelerator, providers=provider, regimes=regime, version=version, config=settings
        )
    except UnknownNameError as exc:
        if exc.kind != "accelerator":
            raise
        raise ApiError(404, str(exc), field="accelerator") from None


@router.post(
    "/import",
    response_model=CatalogImport,
    response_model_exclude_unset=True,
    status_code=201,
    responses={413: {"model": ErrorBody}},
)
def import_feed(
    request: Request,
    _token: Admin,
    settings: Config,
    source: Annotated[
        str, Form(max_length=MAX_NAME, description="The feed's format: azure, aws, ...")
    ],
    file: Annotated[list[UploadFile], File(description="One or more feed files.")],
    provider: Annotated[str | None, Form(max_length=MAX_NAME)] = None,
    label: Annotated[str | None, Form(max_length=MAX_NAME)] = None,
) -> CatalogImport:
    """A new catalog version, made current: the current one plus the feed files' offers
    (parsed as `arbiter catalog import` parses them). A bad file answers 422 naming it."""
    feeds = [FeedFile(_file_name(f.filename, i), f.file.read()) for i, f in enumerate(file)]
    cache = service(request).catalogs
    try:
        return import_catalog(source, feeds, provider=provider, label=label, config=settings)
    finally:
        cache.changed()


def _file_name(given: str | None, position: int) -> str:
    """An upload's name as messages show it: its last part, printable, at most 200
    characters. It names the upload; nothing is ever read or written under it."""
    raw = given or ""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")[:MAX_NAME].strip()
    return name or f"upload-{position + 1}"
