"""Rich tables of the saved-plan results (:mod:`arbiter.results.plans`).

A stored document may be one an earlier arbiter wrote: its figures are read leniently
(:class:`~arbiter.results.plans.StoredPlan`), so a missing one shows as blank.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from arbiter.results.money import usd
from arbiter.results.plans import SavedPlan, SavedPlanInfo, StoredAssignment

_SHORT = 12  # catalog hash digits shown


def _usd(value: float | None) -> str:
    return usd(value, 2, missing="")


def _whole(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _seconds(created: str) -> str:
    return dt.datetime.fromisoformat(created).isoformat(timespec="seconds")


def _short(value: str | None) -> str:
    return "" if value is None else value[:_SHORT]


def plans_table(infos: Sequence[SavedPlanInfo]) -> Table:
    table = Table(title="saved plans")
    for name in ("id", "created", "name", "status"):
        table.add_column(name)
    table.add_column("total usd", justify="right")
    table.add_column("catalog")
    for p in infos:
        table.add_row(
            p.plan_id,
            _seconds(p.created),
            p.name,
            p.status or "",
            _usd(p.total_usd),
            _short(p.catalog_hash),
        )
    return table


def plan_summary(saved: SavedPlan) -> list[RenderableType]:
    """The header, the assignments table and the share tables of one saved plan."""
    info, plan = saved.info, saved.plan
    prov = plan.provenance
    solver = " ".join(s for s in (prov.solver, prov.solver_version) if s) if prov else ""
    if prov and prov.seed is not None:
        solver += f" (seed {prov.seed})"
    lines = [
        ("plan", f"{info.plan_id}  {info.name}"),
        ("created", _seconds(info.created)),
        ("status", plan.status or ""),
        ("total", _usd(plan.total_usd) or "n/a"),
        ("catalog", (prov.catalog_hash if prov else None) or ""),
        ("input", (prov.input_hash if prov else None) or ""),
        ("solver", solver),
    ]
    header = Text()
    for label, value in lines:
        if value:
            header.append(f"{label + ':':<9}", style="bold").append(f"{value}\n")
    out: list[RenderableType] = [header]
    out.append(assignments_table(plan.assignments) if plan.assignments else Text("no assignments"))
    out.extend(shares_table(dim, values) for dim, values in plan.shares.items() if values)
    return out


def assignments_table(assignments: Sequence[StoredAssignment]) -> Table:
    table = Table(title="assignments")
    for title in ("workload", "accelerator", "provider", "region", "regime"):
        table.add_column(title)
    for title in ("instances", "chips", "hours", "usd"):
        table.add_column(title, justify="right")
    for a in assignments:
        table.add_row(
            a.workload or "",
            a.accelerator or "",
            a.provider or "",
            a.region or "",
            a.price_regime or "",
            _whole(a.instance_count),
            _whole(a.accelerator_count),
            "" if a.hours is None else f"{a.hours:,.1f}",
            _usd(a.usd),
        )
    return table


def shares_table(dimension: str, values: Mapping[str, float]) -> Table:
    """Shares by ``dimension``, largest first, as percentages."""
    table = Table(title=f"share by {dimension}")
    table.add_column(dimension)
    table.add_column("share", justify="right")
    for name, share in sorted(values.items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{share:.1%}")
    return table
