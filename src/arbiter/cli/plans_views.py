"""Rich tables and JSON records for the saved-plan commands.

A stored plan document is JSON that an earlier arbiter wrote; the views read it
defensively, so a missing or unexpected field shows as blank rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from arbiter.results.money import usd
from arbiter.store import PlanInfo

_SHORT = 12  # catalog hash digits shown
ASSIGNMENT_COLUMNS = (
    ("workload", "workload"),
    ("accelerator", "accelerator"),
    ("provider", "provider"),
    ("region", "region"),
    ("regime", "price_regime"),
    ("instances", "instance_count"),
    ("chips", "accelerator_count"),
    ("hours", "hours"),
    ("usd", "usd"),
)
_NUMERIC = {"instance_count", "accelerator_count", "hours", "usd"}


def _usd(value: object) -> str:
    return usd(value, 2, missing="")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(key: str, value: object) -> str:
    if value is None:
        return ""
    if key == "usd":
        return _usd(value)
    if key == "hours" and _is_number(value):
        return f"{value:,.1f}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _short(value: str | None) -> str:
    return "" if value is None else value[:_SHORT]


def plan_record(info: PlanInfo) -> dict[str, Any]:
    return {
        "plan_id": info.plan_id,
        "created": info.created.isoformat(),
        "name": info.name,
        "status": info.status,
        "total_usd": info.total_usd,
        "catalog_hash": info.catalog_hash,
        "input_hash": info.input_hash,
    }


def plans_table(infos: Sequence[PlanInfo]) -> Table:
    table = Table(title="saved plans")
    for name in ("id", "created", "name", "status"):
        table.add_column(name)
    table.add_column("total usd", justify="right")
    table.add_column("catalog")
    for p in infos:
        table.add_row(
            p.plan_id,
            p.created.isoformat(timespec="seconds"),
            p.name,
            p.status or "",
            _usd(p.total_usd),
            _short(p.catalog_hash),
        )
    return table


def plan_summary(info: PlanInfo, plan: Mapping[str, Any]) -> list[RenderableType]:
    """The header, the assignments table and the share tables of one saved plan."""
    provenance = plan.get("provenance")
    prov: Mapping[str, Any] = provenance if isinstance(provenance, Mapping) else {}
    solver = " ".join(str(prov[k]) for k in ("solver", "solver_version") if prov.get(k))
    lines = [
        ("plan", f"{info.plan_id}  {info.name}"),
        ("created", info.created.isoformat(timespec="seconds")),
        ("status", str(plan.get("status") or "")),
        ("total", _usd(plan.get("total_usd")) or "n/a"),
        ("catalog", str(prov.get("catalog_hash") or "")),
        ("input", str(prov.get("input_hash") or "")),
        ("solver", solver + (f" (seed {prov['seed']})" if prov.get("seed") is not None else "")),
    ]
    header = Text()
    for label, value in lines:
        if value:
            header.append(f"{label + ':':<9}", style="bold").append(f"{value}\n")
    out: list[RenderableType] = [header]
    assignments = plan.get("assignments")
    if isinstance(assignments, list) and assignments:
        out.append(assignments_table(assignments))
    else:
        out.append(Text("no assignments"))
    shares = plan.get("shares")
    if isinstance(shares, Mapping):
        out.extend(
            shares_table(str(dim), values)
            for dim, values in shares.items()
            if isinstance(values, Mapping) and values
        )
    return out


def assignments_table(assignments: Sequence[Any]) -> Table:
    table = Table(title="assignments")
    for title, key in ASSIGNMENT_COLUMNS:
        table.add_column(title, justify="right" if key in _NUMERIC else "left")
    for a in assignments:
        row = a if isinstance(a, Mapping) else {}
        table.add_row(*(_cell(key, row.get(key)) for _, key in ASSIGNMENT_COLUMNS))
    return table


def shares_table(dimension: str, values: Mapping[str, Any]) -> Table:
    """Shares by ``dimension``, largest first: fractions show as percentages."""
    table = Table(title=f"share by {dimension}")
    table.add_column(dimension)
    table.add_column("share", justify="right")
    ordered = sorted(values.items(), key=lambda kv: -kv[1] if _is_number(kv[1]) else float("inf"))
    for name, share in ordered:
        text = f"{share:.1%}" if _is_number(share) and 0 <= share <= 1 else _cell("", share)
        table.add_row(str(name), text)
    return table
