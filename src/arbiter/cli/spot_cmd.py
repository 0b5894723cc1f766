"""``arbiter spot ...``: a deadline job replayed on spot availability traces."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arbiter import api
from arbiter.cli import shared
from arbiter.cli.shared import HtmlOpt, JsonOpt, VersionOpt
from arbiter.domain.errors import InputError
from arbiter.results.money import usd
from arbiter.results.spot import SpotSimulation

app = typer.Typer(
    help="Spot jobs with a deadline: replay availability traces under execution policies.",
    no_args_is_help=True,
)


class PolicyChoice(StrEnum):
    OD = "od"
    GREEDY = "greedy"
    UP = "up"
    ARBITER = "arbiter"
    OPTIMAL = "optimal"
    ALL = "all"


class OnesChoice(StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


_WHAT = {
    "od": "on-demand throughout",
    "greedy": "spot when available, on-demand once the slack runs out",
    "up": "Uniform Progress (Can't Be Late, NSDI 2024)",
    "arbiter": "availability-aware, may move across regions and chips",
    "optimal": "hindsight optimum in the window's own zone (knows the future)",
}


@app.command("simulate")
def simulate(
    job: Annotated[Path, typer.Argument(help="Spot job file (YAML), e.g. examples/spot-job.yaml.")],
    traces: Annotated[
        Path,
        typer.Option(
            "--traces", help="Folder of availability trace files (JSON or CSV), read at any depth."
        ),
    ],
    policy: Annotated[
        list[PolicyChoice] | None,
        typer.Option("--policy", help="Policy to replay (repeatable); all: every one."),
    ] = None,
    windows: Annotated[
        int, typer.Option("--windows", min=1, help="Trace windows (trace, start) replayed.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the windows drawn.")] = 0,
    nodes: Annotated[
        int, typer.Option("--nodes", min=1, help="Nodes the job needs available at once.")
    ] = 1,
    ones: Annotated[
        OnesChoice,
        typer.Option(
            "--ones",
            help="What a 1 means in the public 1-node files: available (the traces' "
            "README: a count of available instances) or unavailable (an early Can't Be "
            "Late simulator's reading).",
        ),
    ] = OnesChoice.AVAILABLE,
    slack: Annotated[
        str | None,
        typer.Option(
            "--slack",
            help="Also cost each policy at these deadlines, as multiples of the compute "
            "hours: comma-separated, e.g. 1.05,1.1,1.25,1.5.",
        ),
    ] = None,
    html: HtmlOpt = None,
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay a deadline job on spot availability traces under each policy, on the same
    windows: cost (mean, P10, P90), misses, share on spot, switches, saving against
    on-demand and cost against the hindsight optimum."""
    chosen = [p.value for p in policy] if policy else ["all"]
    result = api.simulate_spot(
        job,
        traces,
        policies=chosen,
        windows=windows,
        seed=seed,
        nodes=nodes,
        ones=ones.value,
        slack=_ratios(slack),
        catalog=version,
        config=shared.settings(),
    )
    if html is not None:
        from arbiter.report.spot_html import spot_html  # noqa: PLC0415 - plotly is optional

        html.write_text(
            spot_html(result, title=f"arbiter spot simulate: {job.name}"), encoding="utf-8"
        )
    if as_json:
        typer.echo(result.to_json())
        return
    _print(result, html)


def _ratios(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(
            f"{text!r} is not a list of numbers", field="--slack", valid="e.g. 1.05,1.1,1.25,1.5"
        ) from None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _print(result: SpotSimulation, html: Path | None) -> None:
    console = shared.out()
    job = result.job
    console.print(
        f"{job.name}: {job.compute_h:g} h of compute by {job.deadline_h:g} h "
        f"(slack {job.slack_h:g} h), restart {job.restart_h:g} h, "
        f"on-demand {usd(job.on_demand_usd_per_hour, 2)}/h, "
        f"spot {usd(job.spot_usd_per_hour, 2)}/h; "
        f"{result.window_count:,} windows over {len(result.traces)} traces, seed {result.seed}"
    )
    table = Table(title="cost per policy over the windows", title_justify="left")
    for col in ("policy", "mean", "P10", "P90", "misses", "on spot", "switches",
                "saving vs on-demand", "x optimum"):  # fmt: skip
        table.add_column(col, justify="left" if col == "policy" else "right")
    for name, s in result.policies.items():
        table.add_row(
            name,
            usd(s.mean_cost_usd, 2),
            usd(s.p10_cost_usd, 2),
            usd(s.p90_cost_usd, 2),
            f"{s.misses:,}",
            _pct(s.spot_share),
            "-" if s.mean_switches is None else f"{s.mean_switches:.1f}",
            _pct(s.saving_vs_on_demand_share),
            f"{s.cost_vs_optimal:.3f}",
        )
    console.print(table)
    for name in result.policies:
        console.print(f"  {name}: {_WHAT.get(name, '')}")
    if html is not None:
        console.print(f"report written to {html}")
