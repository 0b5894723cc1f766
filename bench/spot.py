"""Spot jobs with a deadline on the public availability traces (issue: deadline-aware spot
execution).

    .venv/bin/python bench/spot.py        # or as part of bench/run.py

The published setting (Can't Be Late, NSDI 2024): C = 48 h of compute, deadlines D = 52 h
and 70 h, restart overheads d = 0.05 h and 0.2 h, on-demand $3.06/h, spot $0.97/h, one
V100. Every single-node V100 trace under tests/data/spot-traces/availability/1-node (the
traces carry no licence, so they stay out of the package) is replayed under on-demand,
greedy, Uniform Progress, arbiter's policy and the hindsight optimum, on the same 1,000
windows per setting (seed 0). Writes the section "Spot jobs with a deadline" of
bench/RESULTS.md: per setting, mean/P10/P90 cost and misses per policy, UP's saving
against on-demand, arbiter against UP; per trace the same; and the time of a 1,000-window
sweep with the same-seed identity check (targets: <= 10 s; identical results).
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from pathlib import Path
from typing import Any

import arbiter
from arbiter.results import SpotSimulation
from arbiter.spotsim.traces import Trace, read_traces

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "tests" / "data" / "spot-traces" / "availability" / "1-node"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
JOB = ROOT / "examples" / "spot-job.yaml"
HEADING = "## Spot jobs with a deadline"
WINDOWS = 1000
SEED = 0
SETTINGS = ((52.0, 0.05), (52.0, 0.2), (70.0, 0.05), (70.0, 0.2))
POLICIES = ("od", "greedy", "up", "arbiter", "optimal")
Row = tuple[str, str, str, bool | None, str]


def traces() -> list[Trace]:
    """The single-node V100 traces (one GPU per instance)."""
    return [t for t in read_traces(TRACES) if t.chip == "V100" and t.name.endswith("_1")]


def job(deadline_h: float, restart_h: float) -> dict[str, Any]:
    """The example job (its options included) at this deadline and restart overhead."""
    import yaml  # noqa: PLC0415 - a dependency of arbiter

    doc = yaml.safe_load(JOB.read_text(encoding="utf-8"))
    doc.update(compute_h=48.0, deadline_h=deadline_h, restart_h=restart_h,
               on_demand_usd_per_hour=3.06, spot_usd_per_hour=0.97)  # fmt: skip
    return dict(doc)


def run(deadline_h: float, restart_h: float, replayed: list[Trace]) -> SpotSimulation:
    return arbiter.simulate_spot(
        job(deadline_h, restart_h), replayed, policies=POLICIES, windows=WINDOWS, seed=SEED
    )


def _cost(x: float) -> str:
    return f"${x:,.2f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _count(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def setting_lines(sim: SpotSimulation) -> list[str]:
    p = sim.policies
    up, arb = p["up"], p["arbiter"]
    lines = [
        f"### D = {sim.job.deadline_h:g} h, d = {sim.job.restart_h:g} h",
        "",
        (
            f"{sim.window_count:,} windows over {len(sim.traces)} traces. UP saves "
            f"{up.saving_vs_on_demand_share:.1%} against on-demand with {up.misses} misses; "
            f"arbiter's policy costs {1 - arb.mean_cost_usd / up.mean_cost_usd:.1%} less than UP "
            f"on average, with {arb.misses} misses."
        ),
        "",
        (
            "| policy | mean | P10 | P90 | misses | on spot | switches | saving vs on-demand "
            "| x optimum |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in p.items():
        lines.append(
            f"| {name} | {_cost(s.mean_cost_usd)} | {_cost(s.p10_cost_usd)} | "
            f"{_cost(s.p90_cost_usd)} | {s.misses} | {_share(s.spot_share)} | "
            f"{_count(s.mean_switches)} | {s.saving_vs_on_demand_share:.1%} | "
            f"{s.cost_vs_optimal:.3f} |"
        )
    lines += [
        "",
        "Per trace (mean cost; misses in brackets where any; arbiter against UP):",
        "",
        "| trace | windows | " + " | ".join(POLICIES) + " | arbiter vs UP |",
        "|---|---|" + "---|" * len(POLICIES) + "---|",
    ]
    by_trace: dict[str, dict[str, Any]] = {}
    for r in sim.per_trace:
        by_trace.setdefault(r.trace, {})[r.policy] = r
    for name, rows in by_trace.items():
        cells = []
        for policy in POLICIES:
            r = rows[policy]
            miss = f" ({r.misses})" if r.misses else ""
            cells.append(f"{_cost(r.mean_cost_usd)}{miss}")
        versus = 1 - rows["arbiter"].mean_cost_usd / rows["up"].mean_cost_usd
        windows = rows["od"].windows
        lines.append(f"| {name} | {windows} | " + " | ".join(cells) + f" | {versus:+.1%} |")
    lines.append("")
    return lines


def measure() -> tuple[list[str], list[Row]]:
    """The section's lines and the rows for the table of bench/run.py."""
    replayed = traces()
    lines = [
        HEADING,
        "",
        (
            f"Run {dt.date.today().isoformat()} with `bench/spot.py` on {platform.platform()}, "
            f"Python {platform.python_version()}. C = 48 h, on-demand $3.06/h, spot $0.97/h, "
            f"one V100; {WINDOWS:,} windows (seed {SEED}) on the {len(replayed)} single-node V100 "
            "traces of Can't Be Late (AWS, 2022-2023), a 1 read as spot available (the "
            "traces' README; docs/spot.md). Costs are per job. The hindsight "
            "optimum stays in the window's own zone; arbiter's policy may move to the job's "
            "other zones (examples/spot-job.yaml), so it can cost less than that optimum."
        ),
        "",
    ]
    rows: list[Row] = []
    savings = []
    for deadline_h, restart_h in SETTINGS:
        start = time.perf_counter()
        sim = run(deadline_h, restart_h, replayed)
        seconds = time.perf_counter() - start
        lines += setting_lines(sim)
        up, arb = sim.policies["up"], sim.policies["arbiter"]
        versus = 1 - arb.mean_cost_usd / up.mean_cost_usd
        savings.append(versus)
        rows.append(
            (
                f"spot D = {deadline_h:g} h, d = {restart_h:g} h: arbiter's policy vs UP",
                f"{versus:.1%} cheaper",
                ">= 7%, 0 misses",
                versus >= 0.07 and arb.misses == 0,
                (
                    f"UP saves {up.saving_vs_on_demand_share:.1%} vs on-demand ({up.misses} "
                    f"misses); arbiter {arb.misses} misses; optimum "
                    f"{_cost(sim.policies['optimal'].mean_cost_usd)}; {seconds:.1f} s"
                ),
            )
        )
    start = time.perf_counter()
    first = run(52.0, 0.2, replayed)
    sweep_s = time.perf_counter() - start
    again = run(52.0, 0.2, replayed)
    same = first.to_dict() == again.to_dict() and all(
        (first.windows[p].cost_usd == again.windows[p].cost_usd).all() for p in POLICIES
    )
    rows.append(
        (
            "spot: 1,000-window sweep, five policies (optimum included)",
            f"{sweep_s:.2f} s",
            "<= 10 s",
            sweep_s <= 10.0,
            "same seed, same result" if same else "**same seed, different result**",
        )
    )
    lines += [
        f"A {WINDOWS:,}-window sweep (D = 52 h, d = 0.2 h, five policies, the hindsight "
        f"optimum included) takes {sweep_s:.2f} s; run twice with the same seed, "
        + ("the results are identical." if same else "**the results differ**."),
        "",
    ]
    return lines, rows


def write(lines: list[str], heading: str = HEADING) -> None:
    """Put the section (``lines``, from ``heading`` on) into bench/RESULTS.md, replacing an
    earlier run of it (bench/service_load.py writes its own section with it too)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = "\n".join(lines).rstrip() + "\n"
    at = text.find(heading)
    if at < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", at + len(heading))
        text = text[:at] + section + ("" if end < 0 else text[end:])
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    lines, rows = measure()
    write(lines)
    print("\n".join(lines))
    for name, result, target, met, note in rows:
        print(f"{name}: {result} (target {target}, met {met}) {note}")


if __name__ == "__main__":
    main()
