"""``/compare?a=ID&b=ID``: two saved plans side by side.

The totals (status, total, compute and enablement, assignments, the catalog each was made
on), the spend shares per vendor, provider and region with the change from A to B, and
the assignments per workload: where each plan runs it, at what price (with the price's
date and age) and cost, rows that differ marked. Stored documents are read leniently (an
older arbiter's plan compares too); a figure a document lacks shows as a dash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from arbiter.api import saved_plans
from arbiter.domain.errors import ArbiterError, UnknownNameError
from arbiter.domain.fleet import GROUPS
from arbiter.results import SavedPlan
from arbiter.service.web_auth import Viewer
from arbiter.service.web_plans import load_saved
from arbiter.service.web_render import app_settings, error_page, page

__all__ = ["Placement", "ShareRow", "Side", "router"]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a plan runs a workload: one or more assignments, joined."""

    where: str
    usd: float | None
    prices: str


@dataclass(frozen=True, slots=True)
class Side:
    """One plan's figures for the comparison."""

    plan_id: str
    name: str
    created: str
    status: str | None
    total_usd: float | None
    compute_usd: float | None
    enablement_usd: float | None
    catalog_hash: str
    assignments: int
    placements: dict[str, Placement]


@dataclass(frozen=True, slots=True)
class ShareRow:
    group: str
    name: str
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


def _number(document: Mapping[str, Any], key: str) -> float | None:
    value = document.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _price(row: Mapping[str, Any]) -> str:
    """An assignment's price date and age: ``2026-09-25 (72 d)``."""
    as_of, age = row.get("price_as_of"), row.get("price_age_days")
    if not as_of:
        return ""
    return f"{as_of} ({age} d)" if isinstance(age, int) else str(as_of)


def _placements(document: Mapping[str, Any]) -> dict[str, Placement]:
    rows = document.get("assignments")
    by_workload: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping):
            by_workload.setdefault(str(row.get("workload", "?")), []).append(row)
    out = {}
    for workload, own in by_workload.items():
        where = "; ".join(
            f"{r.get('accelerator', '?')} x{r.get('accelerator_count', '?')} at "
            f"{r.get('provider', '?')}/{r.get('region', '?')} {r.get('price_regime', '')}".strip()
            for r in own
        )
        costs = [_number(r, "usd") for r in own]
        usd = None if None in costs else sum(c for c in costs if c is not None)
        prices = "; ".join(p for p in (_price(r) for r in own) if p)
        out[workload] = Placement(where, usd, prices)
    return out


def side(saved: SavedPlan) -> Side:
    document, figures = saved.document, saved.plan
    provenance = figures.provenance
    return Side(
        plan_id=saved.info.plan_id,
        name=saved.info.name,
        created=saved.info.created[:19],
        status=figures.status,
        total_usd=figures.total_usd,
        compute_usd=_number(document, "compute_usd"),
        enablement_usd=_number(document, "enablement_usd"),
        catalog_hash=(provenance.catalog_hash if provenance else None) or "",
        assignments=len(figures.assignments),
        placements=_placements(document),
    )


def share_rows(a: SavedPlan, b: SavedPlan) -> list[ShareRow]:
    """Every name's share of spend in each plan, per group, largest in either first."""
    rows: list[ShareRow] = []
    for group in GROUPS:
        left, right = a.plan.shares.get(group, {}), b.plan.shares.get(group, {})
        names = sorted(
            set(left) | set(right), key=lambda n: (-max(left.get(n, 0), right.get(n, 0)), n)
        )
        rows.extend(ShareRow(group, n, left.get(n), right.get(n)) for n in names)
    return rows


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, who: Viewer, a: str = "", b: str = "") -> HTMLResponse:
    config = app_settings(request)
    try:
        plans = saved_plans(config=config)
        chosen = [load_saved(request, x) for x in (a, b) if x.strip()]
    except ArbiterError as error:
        status = 404 if isinstance(error, UnknownNameError) else error.http_status
        return error_page(request, who, str(error), status_code=status, title="Compare plans")
    context: dict[str, Any] = {"plans": plans, "a": a, "b": b, "sides": None}
    if len(chosen) == 2:
        left, right = side(chosen[0]), side(chosen[1])
        workloads = list(dict.fromkeys([*left.placements, *right.placements]))
        context.update(
            sides=(left, right),
            shares=share_rows(chosen[0], chosen[1]),
            workloads=workloads,
        )
    return page(request, "compare.html.j2", title="Compare plans", who=who, **context)
