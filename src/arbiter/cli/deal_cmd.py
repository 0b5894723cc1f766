"""``arbiter deal``: what a strategic deal is worth to the lab, and the lock-in it buys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arbiter._version import __version__
from arbiter.cli import shared
from arbiter.cli.audit_text import thin_estimate_lines
from arbiter.cli.shared import CalibrationOpt, JsonOpt, VersionOpt
from arbiter.deals import load_deal
from arbiter.deals.analysis import sensitivity
from arbiter.deals.evaluate import evaluate, world_data
from arbiter.deals.loading import check_class_names
from arbiter.deals.report import document
from arbiter.deals.samples import value_distribution
from arbiter.parallel import executor_for
from arbiter.perf.efficiency import default_efficiency
from arbiter.results.money import usd_short
from arbiter.scenarios import load_scenarios

DEFAULT_SAMPLES = 200


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
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
) -> None:
    """Solve the lab's procurement plan with the deal and without it on the same scenarios:
    NPV, effective price per delivered PFLOP-hour, lock-in per year, break-evens, a
    tornado, and the distribution of the deal's worth over sampled futures."""
    the_deal = load_deal(file)
    shocks = the_deal.scenarios
    shocks_name = the_deal.scenarios_file
    if scenarios_file is not None:
        shocks, shocks_name = load_scenarios(scenarios_file), scenarios_file.name
        check_class_names(shocks, the_deal.procurement, str(scenarios_file))
    n = samples if samples is not None else (shocks.samples if shocks else DEFAULT_SAMPLES)
    run_seed = seed if seed is not None else (shocks.seed if shocks else 0)
    config = shared.settings()
    profile = shared.calibration(config, calibration)
    store = shared.store(config)
    catalog = store.load(version or store.current())
    base = world_data(the_deal, catalog, default_efficiency(), profile)
    ev = evaluate(the_deal, base)
    with executor_for(engine, workers=workers, address=address) as pool:
        sens = None
        if with_sensitivity:
            with shared.progress("break-evens and tornado", "solves") as tick:
                sens = sensitivity(the_deal, base, executor=pool, progress=tick)
        dist = None
        if n > 0:
            with shared.progress("sampled futures", "batches") as tick:
                dist = value_distribution(
                    ev, base, samples=n, seed=run_seed, shocks=shocks,
                    shocks_file=shocks_name, executor=pool, progress=tick,
                )  # fmt: skip
        engine_name, engine_workers = pool.name, pool.workers
    doc = document(ev, sens, dist)
    doc["provenance"] = {
        "catalog_hash": catalog.content_hash,
        "file": file.name,
        "procurement_file": the_deal.procurement_file,
        "arbiter_version": __version__,
        "engine": engine_name,
        "workers": engine_workers,
    }
    if profile is not None:
        doc["provenance"]["calibration"] = profile.summary()
    if html is not None:
        from arbiter.report.deal_html import deal_html  # noqa: PLC0415 - plotly is optional

        html.write_text(deal_html(doc, title=f"arbiter deal: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    _print(doc, html)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _print(doc: dict[str, Any], html: Path | None) -> None:
    console = shared.out()
    d = doc["deal"]
    b = doc["breakdown"]
    verdict = "pays" if doc["npv_usd"] >= 0 else "destroys value"
    adjusted = _usd(doc["risk_adjusted_value_usd"])
    console.print(
        f"deal {d['name']} with {d['counterparty']} ({', '.join(d['covers'])}): NPV "
        f"{_usd(doc['npv_usd'])} — the deal {verdict} in expectation; risk-adjusted "
        f"(E + {doc['risk_weight']:g} x CVaR{doc['cvar_level']:.0%}) {adjusted}"
    )
    console.print(
        f"  = compute savings {_usd(b['compute_savings_usd'])} + tranches "
        f"{_usd(b['tranches_usd'])} + credits {_usd(b['credits_usd'])} - shortfall "
        f"{_usd(b['shortfall_usd'])}"
    )
    price = doc["effective_price"]
    cov = price["covered_with_deal_usd_per_pflop_hour"]
    alt = price["alternative_without_deal_usd_per_pflop_hour"]
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
    for w, wo in zip(doc["lock_in"]["with_deal"], doc["lock_in"]["without"], strict=True):
        spofs = f"{_spofs(w)} | {_spofs(wo)}"
        table.add_row(
            f"{w['year']}{'' if w['in_deal'] else ' (after)'}",
            f"{_usd(w['spend_usd'])} | {_usd(wo['spend_usd'])}",
            f"{_pct(w['covered_spend_share'])} | {_pct(wo['covered_spend_share'])}",
            f"{_pct(w['covered_compute_share'])} | {_pct(wo['covered_compute_share'])}",
            f"{_pct(w['counterparty_spend_share'])} | {_pct(wo['counterparty_spend_share'])}",
            f"{w['vendor_hhi']:.2f} | {wo['vendor_hhi']:.2f}",
            spofs,
        )
    console.print(table)
    for line in thin_estimate_lines(doc["sides"]["with_deal"]["estimates"], "with the deal, "):
        console.print(line)
    sens = doc.get("sensitivity")
    if sens is not None:
        for be in sens["break_evens"]:
            console.print(f"break-even {be['input']}: {_break_even(be)}")
        tornado = Table(title="sensitivity of the NPV (tornado)", title_justify="left")
        for col in ("input", "low", "NPV low", "high", "NPV high", "swing"):
            tornado.add_column(col, justify="left" if col == "input" else "right")
        for bar in sens["tornado"]:
            tornado.add_row(
                bar["input"], bar["low"], _usd(bar["npv_low_usd"]), bar["high"],
                _usd(bar["npv_high_usd"]), _usd(bar["swing_usd"]),
            )  # fmt: skip
        console.print(tornado)
    dist = doc.get("distribution")
    if dist is not None:
        console.print(
            f"over {dist['samples']} sampled futures ({dist['shocks_file'] or 'no shock file'}): "
            f"P5 {_usd(dist['p5_usd'])}, P50 {_usd(dist['p50_usd'])}, P95 "
            f"{_usd(dist['p95_usd'])}; the deal destroys value in "
            f"{dist['probability_destroys_value']:.0%} of them"
        )
    if html is not None:
        console.print(f"report written to {html}")


def _spofs(year: dict[str, Any]) -> str:
    """Vendors carrying all of some class's work (providers too when they differ)."""
    points = year["single_points_of_failure"]
    vendors = {p["name"]: p for p in points if p["group"] == "vendor"}
    text = [f"{n} ({'/'.join(p['classes_stopped'])})" for n, p in vendors.items()]
    return ", ".join(text) or "-"


def _break_even(be: dict[str, Any]) -> str:
    name, value = be["input"], be["break_even"]
    if value is None:
        sign = "pays" if min(be["npv_usd"]) >= 0 else "never pays"
        lo, hi = be["grid"][0], be["grid"][-1]
        if name == "discount":
            where = "at every" if sign == "pays" else "at any"
            return f"none: the deal {sign} {where} discount from {lo:.0%} to {hi:.0%}"
        return f"none: the deal {sign} from {lo:g} to {hi:g}"
    side = "above" if be["pays_above"] else "below"
    if name == "efficiency":
        return f"{value:.2f} (a performance shortfall of {1 - value:.0%}); the deal pays {side} it"
    if name == "discount":
        return f"{value:.1%} off list; the deal pays {side} it (the file's: {be['base']:.0%})"
    return f"{value:.2f} x the forecast demand; the deal pays {side} it"
