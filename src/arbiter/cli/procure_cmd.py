"""``arbiter procure``: what to commit to, when and with whom, under uncertain demand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arbiter.cli import shared
from arbiter.cli.audit_text import thin_estimate_lines
from arbiter.cli.shared import CalibrationOpt, JsonOpt, MipGapOpt, TimeLimitOpt, VersionOpt
from arbiter.optimize.linear import Status
from arbiter.perf.efficiency import default_efficiency
from arbiter.procure.loading import load_procurement
from arbiter.procure.milp import solve
from arbiter.procure.model import build_data
from arbiter.procure.report import document, frontier, value_of_uncertainty
from arbiter.results.money import usd


def procure(
    file: Annotated[Path, typer.Argument(help="Procurement file (YAML).")],
    with_frontier: Annotated[
        bool,
        typer.Option("--frontier", help="Expected cost against CVaR as the risk weight varies."),
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    time_limit: TimeLimitOpt = None,
    mip_gap: MipGapOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
    calibration: CalibrationOpt = None,
) -> None:
    """Plan commitments period by period: a two-stage stochastic MILP over the file's
    scenarios, with expected cost, P95, CVaR, utilisation, stranded spend, VSS and EVPI."""
    problem = load_procurement(file)
    config = shared.settings()
    profile = shared.calibration(config, calibration)
    store = shared.store(config)
    catalog = store.load(version or store.current())
    data = build_data(problem, catalog, default_efficiency(), profile)
    limits: dict[str, Any] = {}
    if time_limit is not None:
        limits["time_limit_s"] = time_limit
    if mip_gap is not None:
        limits["mip_gap"] = mip_gap
    solution = solve(data, **limits)
    doc: dict[str, Any] = document(data, solution)
    note = _limit_note(solution.status, solution.mip_gap, time_limit)
    if note:
        doc["solver_note"] = note
    doc["value_of_uncertainty"] = value_of_uncertainty(data)
    if with_frontier:
        doc["frontier"] = frontier(data)
    doc["provenance"] = {"catalog_hash": catalog.content_hash, "file": file.name}
    if profile is not None:
        doc["provenance"]["calibration"] = profile.summary()
    if html is not None:
        from arbiter.report.procure_html import procure_html  # noqa: PLC0415

        html.write_text(procure_html(doc, title=f"arbiter procure: {file.name}"), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    _print(doc, html)


def _limit_note(status: Status, gap: float, time_limit_s: float | None) -> str | None:
    """The sentence for a schedule stopped at the solver's limit (``None`` otherwise)."""
    if status is not Status.FEASIBLE:
        return None
    within = f"within {gap:.1%} of the best possible" if math.isfinite(gap) else "unbounded gap"
    limit = "time limit" if time_limit_s is None else f"{time_limit_s:g} s time limit"
    return f"Stopped at the {limit} with the best schedule found, {within}."


def _print(doc: dict[str, Any], html: Path | None) -> None:
    console = shared.out()
    console.print(
        f"expected cost {usd(doc['expected_cost_usd'])}, P95 {usd(doc['p95_usd'])}, "
        f"CVaR{doc['cvar_level']:.0%} {usd(doc['cvar_usd'])} ({doc['status']}, "
        f"risk weight {doc['risk_weight']:g})"
    )
    if doc.get("solver_note"):
        console.print(doc["solver_note"])
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
    for c in doc["schedule"]:
        table.add_row(
            c["product"], c["provider"], c["accelerator"], str(c["start_period"]),
            f"{c['chips']:,}", f"{c['term_periods']}", f"{c['usd_per_chip_hour']:.2f}",
            usd(c["commitment_usd"]),
        )  # fmt: skip
    console.print(table)
    periods = Table(title="per period (expected)", title_justify="left")
    for col in ("period", "spend", "on-demand share", "vendor HHI", "top vendor"):
        periods.add_column(col, justify="right")
    for p in doc["periods"]:
        top = max(p["vendor_shares"].items(), key=lambda kv: kv[1], default=("-", 0.0))
        periods.add_row(
            str(p["period"]), usd(p["expected_spend_usd"]), f"{p['on_demand_share']:.0%}",
            f"{p['vendor_hhi']:.2f}", f"{top[0]} {top[1]:.0%}",
        )  # fmt: skip
    console.print(periods)
    for name, shares in doc["utilisation"].items():
        text = ", ".join(f"{s} {u:.0%}" for s, u in shares.items())
        console.print(f"utilisation of {name}: {text}")
    console.print(f"expected stranded commitment spend: {usd(doc['expected_stranded_usd'])}")
    for line in thin_estimate_lines(doc["estimates"]):
        console.print(line)
    value = doc["value_of_uncertainty"]
    console.print(
        f"value of the stochastic solution (VSS) {usd(value['vss_usd'])}; expected value of "
        f"perfect information (EVPI) {usd(value['evpi_usd'])}"
    )
    if "frontier" in doc:
        table = Table(title="cost-risk frontier", title_justify="left")
        for col in ("risk weight", "expected cost", "CVaR"):
            table.add_column(col, justify="right")
        for f in doc["frontier"]:
            table.add_row(f"{f['risk_weight']:g}", usd(f["expected_cost_usd"]), usd(f["cvar_usd"]))
        console.print(table)
    if html is not None:
        console.print(f"report written to {html}")
