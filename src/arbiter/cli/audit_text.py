"""The plan audit as lines of text, for the table output of ``arbiter plan``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from arbiter.optimize.audit import STALE_PRICE_DAYS
from arbiter.results.plan import PlanAudit
from arbiter.results.procure import ClassEstimate


def audit_lines(audit: PlanAudit) -> list[str]:
    """The audit of a plan in a few lines a buyer reads."""
    out = ["audit"]
    services = audit.surplus
    worst = max((s.surplus_tokens_per_s / s.demand_tokens_per_s for s in services), default=0)
    padded = "PADDED" if audit.padded else "none"
    out.append(
        f"  surplus capacity: {padded}: {audit.idle_instances} idle instances, "
        f"{audit.extra_placements} extra placements; {len(services)} services bought within "
        f"one replica of their demand (largest surplus {worst:.1%} of demand)"
    )
    for a in audit.capacity_assumptions:
        most = "unlimited" if a.obtainable_chips is None else f"{a.obtainable_chips:,}"
        out.append(
            f"  capacity: {a.provider} {a.region} {a.accelerator} {a.price_regime}: "
            f"{a.chips_used:,} chips used of {most} obtainable ({a.basis})"
        )
    out.extend(
        f"  needs a {a.needs}: {a.provider} {a.region} {a.accelerator} "
        f"{a.price_regime}, lead time {a.lead_days:g} days"
        for a in audit.quotas_and_contracts
    )
    prices = audit.prices
    oldest = max((p.age_days for p in prices), default=0)
    out.append(
        f"  prices: {len(prices)} used, the oldest {oldest} days old; "
        f"{audit.stale_prices} older than {STALE_PRICE_DAYS} days"
    )
    out.extend(
        f"    stale: {p.provider} {p.region} {p.instance_type} "
        f"{p.price_regime} ${p.usd_per_hour:,.2f}/h as of {p.as_of} "
        f"({p.age_days} days, {p.source})"
        for p in prices
        if p.stale
    )
    out.extend(f"  {_thin_line(t.model_dump(), t.workload)}" for t in audit.thin_estimates)
    return out


def thin_estimate_lines(estimates: Iterable[ClassEstimate], prefix: str = "") -> list[str]:
    """The ``estimates`` of a procurement (or one side of a deal) whose band is wide or
    rests on few cases, one line each, as the plan audit words them."""
    return [f"{prefix}{_thin_line(e.model_dump(), e.work_class)}" for e in estimates if e.thin]


def _thin_line(e: Mapping[str, Any], work: str) -> str:
    return (
        f"thin estimate: {work} on {e['accelerator']} ({e['platform']}): "
        f"+/-{e['error_band_share']:.0%}, {e['band_cases']} published cases, "
        f"{e.get('chip_cases', 0)} on {e['accelerator']}"
    )
