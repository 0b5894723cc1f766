"""``arbiter deal``: what a strategic deal is worth to the lab, and the lock-in it buys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arbiter import api
from arbiter.cli import shared
from arbiter.cli.audit_text import thin_estimate_lines
from arbiter.cli.shared import CalibrationOpt, HtmlOpt, JsonOpt, VersionOpt
from arbiter.results.deal import BreakEven, DealValuation, LockInYear
from arbiter.results.money import usd_short


def _usd(x: float | None) -> str:
    return usd_short(x, missing="-")


def deal(
    file: Annotated[Path, typer.Argument(help="Deal file (YAML).")],
    scenarios_file: Annotated[
        Path | None,
        typer.Option("--scenarios", help="Scenario file of shocks (default: the deal file's)."),
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", min=0, help="Sampled futures (0: none).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed.")] = None,
    with_sensitivity: Annotated[
        bool,
        typer.Option("--sensitivity/--no-sensitivity", help="Break-evens and the tornado."),
    ] = True,
    engine: shared.EngineOpt = "local",
    address: shared.AddressOpt = None,
    workers: shared.WorkersOpt = None,
    html: HtmlOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
) -> None:
    """Solve the lab's procurement plan with the deal and without it on the same scenarios:
    NPV, effective price per delivered PFLOP-hour, lock-in per year, break-evens, a
    tornado, and the distribution of the deal's worth over sampled futures."""
    config = shared.settings()
    labels = {
        "sensitivity": ("break-evens and tornado", "solves"),
        "samples": ("sampled futures", "batches"),
    }
    with shared.stages(labels) as tick:
        valuation = api.deal(
            file,
            scenarios=scenarios_file,
            samples=samples,
            seed=seed,
            with_sensitivity=with_sensitivity,
            engine=engine,
            workers=workers,
            address=address,
            catalog=version,
            calibration=shared.calibration(config, calibration),
            progress=tick,
            config=config,
        )
    if html is not None:
        from arbiter.report.deal_html import deal_html  # noqa: PLC0415 - plotly is optional

        html.write_text(deal_html(valuation, title=f"arbiter deal: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(valuation.to_json())
        return
    _print(valuation, html)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _print(doc: DealValuation, html: Path | None) -> None:
    console = shared.out()
    d = doc.deal
    b = doc.breakdown
    verdict = "pays" if doc.npv_usd >= 0 else "destroys value"
    adjusted = _usd(doc.risk_adjusted_value_usd)
    console.print(
        f"deal {d.name} with {d.counterparty} ({', '.join(d.covers)}): NPV "
        f"{_usd(doc.npv_usd)} — the deal {verdict} in expectation; risk-adjusted "
        f"(E + {doc.risk_weight:g} x CVaR{doc.cvar_level:.0%}) {adjusted}"
    )
    console.print(
        f"  = compute savings {_usd(b.compute_savings_usd)} + tranches "
        f"{_usd(b.tranches_usd)} + credits {_usd(b.credits_usd)} - shortfall "
        f"{_usd(b.shortfall_usd)}"
    )
    price = doc.effective_price
    cov = price.covered_with_deal_usd_per_pflop_hour
    alt = price.alternative_without_deal_usd_per_pflop_hour
    console.print(
        f"effective price per delivered PFLOP-hour: covered chips with the deal "
        f"{'-' if cov is None else f'${cov:,.2f}'}, the alternative without it "
        f"{'-' if alt is None else f'${alt:,.2f}'}"
    )
    table = Table(title="lock-in per year (with the deal | without)", title_justify="left")
    spof = "single points of failure (with | without)"
    for col in ("year", "spend", "covered spend", "covered compute", "counterparty", "vendor HHI",
                spof):  # fmt: skip
        table.add_column(col, justify="left" if col == spof else "right")
    for w, wo in zip(doc.lock_in.with_deal, doc.lock_in.without, strict=True):
        table.add_row(
            f"{w.year}{'' if w.in_deal else ' (after)'}",
            f"{_usd(w.spend_usd)} | {_usd(wo.spend_usd)}",
            f"{_pct(w.covered_spend_share)} | {_pct(wo.covered_spend_share)}",
            f"{_pct(w.covered_compute_share)} | {_pct(wo.covered_compute_share)}",
            f"{_pct(w.counterparty_spend_share)} | {_pct(wo.counterparty_spend_share)}",
            f"{w.vendor_hhi:.2f} | {wo.vendor_hhi:.2f}",
            f"{_spofs(w)} | {_spofs(wo)}",
        )
    console.print(table)
    for line in thin_estimate_lines(doc.sides.with_deal.estimates, "with the deal, "):
        console.print(line)
    sens = doc.sensitivity
    if sens is not None:
        for be in sens.break_evens:
            console.print(f"break-even {be.input}: {_break_even(be)}")
        tornado = Table(title="sensitivity of the NPV (tornado)", title_justify="left")
        for col in ("input", "low", "NPV low", "high", "NPV high", "swing"):
            tornado.add_column(col, justify="left" if col == "input" else "right")
        for bar in sens.tornado:
            tornado.add_row(
                bar.input, bar.low, _usd(bar.npv_low_usd), bar.high,
                _usd(bar.npv_high_usd), _usd(bar.swing_usd),
            )  # fmt: skip
        console.print(tornado)
    dist = doc.distribution
    if dist is not None:
        console.print(
            f"over {dist.samples} sampled futures ({dist.shocks_file or 'no shock file'}): "
            f"P5 {_usd(dist.p5_usd)}, P50 {_usd(dist.p50_usd)}, P95 "
            f"{_usd(dist.p95_usd)}; the deal destroys value in "
            f"{dist.probability_destroys_value:.0%} of them"
        )
    if html is not None:
        console.print(f"report written to {html}")


def _spofs(year: LockInYear) -> str:
    """Vendors carrying all of some class's work (providers too when they differ)."""
    vendors = {p.name: p for p in year.single_points_of_failure if p.group == "vendor"}
    text = [f"{n} ({'/'.join(p.classes_stopped)})" for n, p in vendors.items()]
    return ", ".join(text) or "-"


def _break_even(be: BreakEven) -> str:
    name, value = be.input, be.break_even
    if value is None:
        sign = "pays" if min(be.npv_usd) >= 0 else "never pays"
        lo, hi = be.grid[0], be.grid[-1]
        if name == "discount":
            where = "at every" if sign == "pays" else "at any"
            return f"none: the deal {sign} {where} discount from {lo:.0%} to {hi:.0%}"
        return f"none: the deal {sign} from {lo:g} to {hi:g}"
    side = "above" if be.pays_above else "below"
    if name == "efficiency":
        return f"{value:.2f} (a performance shortfall of {1 - value:.0%}); the deal pays {side} it"
    if name == "discount":
        return f"{value:.1%} off list; the deal pays {side} it (the file's: {be.base:.0%})"
    return f"{value:.2f} x the forecast demand; the deal pays {side} it"
