"""``arbiter procure``: what to commit to, when and with whom, under uncertain demand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arbiter import api
from arbiter.cli import shared
from arbiter.cli.audit_text import thin_estimate_lines
from arbiter.cli.shared import CalibrationOpt, HtmlOpt, JsonOpt, MipGapOpt, TimeLimitOpt, VersionOpt
from arbiter.results.money import usd
from arbiter.results.procure import ProcurementPlan


def procure(
    file: Annotated[Path, typer.Argument(help="Procurement file (YAML).")],
    with_frontier: Annotated[
        bool,
        typer.Option("--frontier", help="Expected cost against CVaR as the risk weight varies."),
    ] = False,
    html: HtmlOpt = None,
    time_limit: TimeLimitOpt = None,
    mip_gap: MipGapOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
    export_model: shared.ExportModelOpt = None,
) -> None:
    """Plan commitments period by period: a two-stage stochastic MILP over the file's
    scenarios, with expected cost, P95, CVaR, utilisation, stranded spend, VSS and EVPI."""
    config = shared.settings()
    plan = api.procure(
        file,
        catalog=version,
        with_frontier=with_frontier,
        time_limit_s=time_limit,
        mip_gap=mip_gap,
        calibration=shared.calibration(config, calibration),
        config=config,
        export_model=export_model,
    )
    if html is not None:
        from arbiter.report.procure_html import procure_html  # noqa: PLC0415

        html.write_text(procure_html(plan, title=f"arbiter procure: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(plan.to_json())
        return
    _print(plan, html)


def _print(plan: ProcurementPlan, html: Path | None) -> None:
    console = shared.out()
    console.print(
        f"expected cost {usd(plan.expected_cost_usd)}, P95 {usd(plan.p95_usd)}, "
        f"CVaR{plan.cvar_level:.0%} {usd(plan.cvar_usd)} ({plan.status}, "
        f"risk weight {plan.risk_weight:g})"
    )
    if plan.solver_note:
        console.print(plan.solver_note)
    table = Table(title="commitments", title_justify="left")
    for col in (
        "product",
        "provider",
        "accelerator",
        "start",
        "chips",
        "term",
        "USD/chip-h",
        "USD",
    ):
        table.add_column(
            col, justify="left" if col in ("product", "provider", "accelerator") else "right"
        )
    for c in plan.schedule:
        table.add_row(
            c.product, c.provider, c.accelerator, str(c.start_period), f"{c.chips:,}",
            f"{c.term_periods}", f"{c.usd_per_chip_hour:.2f}", usd(c.commitment_usd),
        )  # fmt: skip
    console.print(table)
    periods = Table(title="per period (expected)", title_justify="left")
    for col in ("period", "spend", "on-demand share", "vendor HHI", "top vendor"):
        periods.add_column(col, justify="right")
    for p in plan.periods:
        top = max(p.vendor_shares.items(), key=lambda kv: kv[1], default=("-", 0.0))
        periods.add_row(
            str(p.period), usd(p.expected_spend_usd), f"{p.on_demand_share:.0%}",
            f"{p.vendor_hhi:.2f}", f"{top[0]} {top[1]:.0%}",
        )  # fmt: skip
    console.print(periods)
    for name, shares in plan.utilisation.items():
        text = ", ".join(f"{s} {u:.0%}" for s, u in shares.items())
        console.print(f"utilisation of {name}: {text}")
    console.print(f"expected stranded commitment spend: {usd(plan.expected_stranded_usd)}")
    for line in price_lines(plan):
        console.print(line, markup=False)
    for line in thin_estimate_lines(plan.estimates):
        console.print(line)
    value = plan.value_of_uncertainty
    console.print(
        f"value of the stochastic solution (VSS) {usd(value.vss_usd)}; expected value of "
        f"perfect information (EVPI) {usd(value.evpi_usd)}"
    )
    if plan.frontier is not None:
        table = Table(title="cost-risk frontier", title_justify="left")
        for col in ("risk weight", "expected cost", "CVaR"):
            table.add_column(col, justify="right")
        for f in plan.frontier:
            table.add_row(f"{f.risk_weight:g}", usd(f.expected_cost_usd), usd(f.cvar_usd))
        console.print(table)
    if html is not None:
        console.print(f"report written to {html}")


def price_lines(plan: ProcurementPlan) -> list[str]:
    """One line per price the schedule spends on, oldest first, with its date and age."""
    dated = sorted(plan.prices, key=lambda p: -(p.age_days or 0))
    lines = [f"prices: {len(dated)} used"]
    for p in dated:
        age = "" if p.age_days is None else f", {p.age_days} days old"
        when = "the file's price" if p.as_of is None else f"as of {p.as_of}{age}"
        what = p.instance_type or p.resource
        lines.append(
            f"  {p.provider} {p.region} {what} {p.price_regime}: "
            f"${p.usd_per_chip_hour:,.3f}/chip-h ({when})"
        )
    return lines
