"""The scale benchmark: the generated fleet of ``fleet_gen.py`` at 1,000 to 10,000
workloads over the embedded default catalog (vendor, provider and region caps, capacity
limits, platforms to enable, whole replicas and instances), options + model + solve, each
size in its own process so its peak resident memory is its own; and the Monte Carlo of
``risk/impact.py`` (shocks on a fixed plan as arrays) at 10^5 samples x 10^3 assignments.

    .venv/bin/python bench/scale.py            # every size, the plot, the rows
    .venv/bin/python bench/scale.py --one 5000 # one size, as JSON (what the rows run)

Targets (the scale issue): 1,000 workloads in <= 10 s; 5,000 and 10,000 within a 1% gap
in <= 60 s, 10,000 in <= 4 GB peak RSS; the Monte Carlo in <= 1 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLOT = HERE / "scale.svg"
SIZES = (1_000, 2_000, 5_000, 10_000)
BUDGET_S = 60.0  # options + model + solve
GAP = 0.01
MC_SAMPLES = 100_000
MC_ASSIGNMENTS = 1_000

Row = tuple[str, str, str, bool | None, str]


def capacity_path(n: int) -> Path:
    """The generated capacity file of an ``n``-workload fleet (``fleet_gen.capacity_rows``)."""
    sys.path.insert(0, str(HERE))
    from fleet_gen import write_capacity  # noqa: PLC0415

    path = Path(tempfile.gettempdir()) / f"arbiter-bench-capacity-{n}.yaml"
    write_capacity(n, path)
    return path


def one(n: int) -> dict[str, Any]:
    """Plan the generated fleet of ``n`` workloads: seconds per step, gap, peak RSS."""
    sys.path.insert(0, str(HERE))
    from arbiter.catalog.capacity import obtainable  # noqa: PLC0415
    from arbiter.catalog.embedded import default_catalog  # noqa: PLC0415
    from arbiter.domain.errors import ArbiterError  # noqa: PLC0415
    from arbiter.optimize.capacity import build_capacity_options  # noqa: PLC0415
    from arbiter.optimize.fleet import build_fleet_model, solve_fleet  # noqa: PLC0415
    from arbiter.optimize.folding import fold  # noqa: PLC0415
    from arbiter.optimize.pruning import prune  # noqa: PLC0415
    from arbiter.perf.efficiency import default_efficiency  # noqa: PLC0415
    from arbiter.workloads.capacity_file import load_capacity_file  # noqa: PLC0415
    from fleet_gen import generate_fleet  # noqa: PLC0415

    fleet = generate_fleet(n)
    failure = ""
    catalog = default_catalog()
    eff = default_efficiency()
    start = time.perf_counter()
    # as `arbiter plan` does: identical jobs folded, then options, pruning and the solve
    folded = fold(fleet)
    model_fleet = fleet if folded is None else folded.fleet
    # obtainable capacity as `arbiter plan` applies it: the limits that can bind added
    stated = load_capacity_file(capacity_path(n))
    assumptions = obtainable(catalog.offers, model_fleet.capacity, stated, "bench")
    capped = build_capacity_options(model_fleet, catalog, eff, assumptions)
    model_fleet, options = capped.fleet, capped.options
    n_all = len(options)
    options = prune(options, model_fleet)
    options_s = time.perf_counter() - start
    start = time.perf_counter()
    limit = max(BUDGET_S - options_s, 5.0)
    try:
        solution = solve_fleet(model_fleet, options, mip_gap=GAP, time_limit_s=limit)
    except ArbiterError as exc:  # recorded, not raised: the row says what happened
        solution, failure = None, str(exc)
    solve_s = time.perf_counter() - start
    built = build_fleet_model(model_fleet, options)
    model_s = 0.0
    return {
        "workloads": n,
        "placed_workloads": 0
        if solution is None
        else sum(
            model_fleet.copies[w] if model_fleet.copies else 1
            for w in {p.option.workload for p in solution.placed}
        ),
        "options_s": options_s,
        "model_s": model_s,
        "solve_s": solve_s,
        "total_s": options_s + model_s + solve_s,
        "solver_limit_s": limit,
        "status": "no plan: " + failure if solution is None else solution.status.value,
        "gap": 1.0 if solution is None else solution.mip_gap,
        "total_usd": None if solution is None else solution.total_usd,
        "options": n_all,
        "pruned": len(options),
        "columns": built.model.n_cols,
        "rows": built.model.n_rows,
        "capacity_limits_added": len(model_fleet.capacity) - len(fleet.capacity),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """:func:`one` of each size, each in a fresh interpreter."""
    out = []
    for n in sizes:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--one", str(n)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def rows(results: list[dict[str, Any]]) -> list[Row]:
    """The RESULTS.md rows of the scale runs."""
    out: list[Row] = []
    for r in results:
        n = r["workloads"]
        target, met = "", None
        within = r["gap"] <= GAP + 1e-12
        if n == 1_000:
            target, met = "<= 10 s", r["total_s"] <= 10.0
        elif n == 5_000:
            target, met = "<= 60 s at <= 1% gap", r["total_s"] <= 60.0 and within
        elif n == 10_000:
            target = "<= 60 s at <= 1% gap, <= 4 GB"
            met = r["total_s"] <= 60.0 and within and r["peak_rss_mb"] <= 4096
        out.append(
            (
                (
                    f"plan {n:,} generated workloads, default catalog, caps + capacity: "
                    "options + model + solve"
                ),
                f"{r['total_s']:.1f} s, {r['peak_rss_mb'] / 1024:.2f} GB",
                target,
                met,
                (
                    f"{r['status']}, gap {r['gap']:.2%}; options {r['options_s']:.1f} s "
                    f"({r['options']:,} built, {r['pruned']:,} kept); fold, model and solve "
                    f"{r['solve_s']:.1f} s (limit {r['solver_limit_s']:.0f} s; folded model "
                    f"{r['columns']:,} columns, {r['rows']:,} rows)"
                ),
            )
        )
    return out


def plot(results: list[dict[str, Any]], path: Path = PLOT) -> None:
    """Seconds and peak GB against workloads, as a hand-written SVG (no plotting
    dependency): two panels, points joined, the targets dashed."""
    width, height, pad = 720, 300, 50
    panel = (width - 3 * pad) / 2
    ns = [int(r["workloads"]) for r in results]
    x_max = max(ns) * 1.05

    def panel_svg(x0: float, values: list[float], target: float, label: str) -> str:
        y_max = float(max([*values, target])) * 1.15

        def px(n: float) -> float:
            return float(x0 + n / x_max * panel)

        def py(v: float) -> float:
            return height - pad - v / y_max * (height - 2 * pad)

        points = " ".join(f"{px(n):.1f},{py(v):.1f}" for n, v in zip(ns, values, strict=True))
        parts = [
            (
                f'<line x1="{x0}" y1="{height - pad}" x2="{x0 + panel}" y2="{height - pad}" '
                'stroke="#333"/>'
            ),
            f'<line x1="{x0}" y1="{pad}" x2="{x0}" y2="{height - pad}" stroke="#333"/>',
            (
                f'<line x1="{x0}" y1="{py(target):.1f}" x2="{x0 + panel}" y2="{py(target):.1f}" '
                'stroke="#c33" stroke-dasharray="5,4"/>'
            ),
            (
                f'<text x="{x0 + panel - 4}" y="{py(target) - 4:.1f}" text-anchor="end" '
                f'font-size="11" fill="#c33">target {target:g}</text>'
            ),
            f'<polyline points="{points}" fill="none" stroke="#2563eb" stroke-width="2"/>',
            (
                f'<text x="{x0 + panel / 2}" y="{pad - 18}" text-anchor="middle" '
                f'font-size="13">{label}</text>'
            ),
        ]
        for n, v in zip(ns, values, strict=True):
            parts.append(f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="3.5" fill="#2563eb"/>')
            parts.append(
                f'<text x="{px(n):.1f}" y="{py(v) - 8:.1f}" text-anchor="middle" '
                f'font-size="10">{v:.1f}</text>'
            )
            parts.append(
                f'<text x="{px(n):.1f}" y="{height - pad + 16}" text-anchor="middle" '
                f'font-size="10">{n // 1000}k</text>'
            )
        parts.append(
            f'<text x="{x0 + panel / 2}" y="{height - 8}" text-anchor="middle" '
            'font-size="11">workloads</text>'
        )
        return "\n".join(parts)

    seconds = [r["total_s"] for r in results]
    gigabytes = [r["peak_rss_mb"] / 1024 for r in results]
    body = "\n".join(
        [
            panel_svg(pad, seconds, BUDGET_S, "seconds: options + model + solve"),
            panel_svg(2 * pad + panel, gigabytes, 4.0, "peak resident memory, GB"),
        ]
    )
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
        f"{body}\n</svg>\n",
        encoding="utf-8",
    )


def monte_carlo(plan_workloads: int = MC_ASSIGNMENTS) -> list[Row]:
    """Shocks on a fixed plan of at least ``MC_ASSIGNMENTS`` assignments over
    ``MC_SAMPLES`` samples as ``arbiter risk`` runs them without re-planning
    (``risk.evaluate.run``: batches of chunks, sampling included), in this process: the
    scenario file's shocks alone, then with the performance model's error too (its
    default). Each is the best of three runs after a warm-up."""
    sys.path.insert(0, str(HERE))
    from arbiter.catalog.embedded import default_catalog  # noqa: PLC0415
    from arbiter.optimize.fleet import solve_fleet  # noqa: PLC0415
    from arbiter.optimize.folding import fold  # noqa: PLC0415
    from arbiter.optimize.options import build_options  # noqa: PLC0415
    from arbiter.optimize.pruning import prune  # noqa: PLC0415
    from arbiter.perf.efficiency import default_efficiency  # noqa: PLC0415
    from arbiter.risk.evaluate import RiskContext, run  # noqa: PLC0415
    from arbiter.risk.impact import placement_types, plan_arrays  # noqa: PLC0415
    from arbiter.scenarios.loading import load_scenarios  # noqa: PLC0415
    from fleet_gen import generate_fleet  # noqa: PLC0415

    fleet = generate_fleet(plan_workloads)
    folded = fold(fleet)
    model_fleet = fleet if folded is None else folded.fleet
    options, _ = build_options(model_fleet, default_catalog(), default_efficiency())
    options = prune(options, model_fleet)
    solution = solve_fleet(model_fleet, options, mip_gap=GAP, time_limit_s=BUDGET_S)
    if folded is not None:
        solution = folded.unfold(solution)
    scenarios = load_scenarios(ROOT / "examples" / "scenarios.yaml")
    found: list[Row] = []
    for perf_error in (False, True):
        shocks = dataclasses.replace(scenarios, perf_error=perf_error)
        ctx = RiskContext(fleet, (("plan", solution),), (), shocks, False, 0)
        run(ctx, 1_000)  # warm-up
        times, cost = [], np.zeros(0)
        for _ in range(3):
            start = time.perf_counter()
            cost = run(ctx, MC_SAMPLES)["plan"].cost_usd
            times.append(time.perf_counter() - start)
        n_types = len(placement_types(plan_arrays(fleet, solution, shocks))[1])
        what = "with the performance model's error too" if perf_error else "shocks alone"
        found.append(
            (
                (
                    f"Monte Carlo: {MC_SAMPLES:,} samples x {len(solution.placed):,} "
                    f"assignments on a fixed plan, {what} (`risk.evaluate.run`, one process)"
                ),
                f"{min(times):.2f} s",
                "<= 1 s",
                min(times) <= 1.0,
                (
                    f"best of 3 ({', '.join(f'{t:.2f}' for t in times)} s), sampling "
                    f"included; {len(scenarios.shocks)} shocks; {n_types:,} placement types; "
                    f"mean cost ${cost.mean() / 1e6:,.1f}M"
                ),
            )
        )
    return found


def cli_plan(n: int = 5_000) -> Row:
    """``arbiter plan`` on the generated fleet of ``n`` workloads, the whole command as a
    user runs it (load, options, solve, baselines, binding rows, JSON out), wall time."""
    sys.path.insert(0, str(HERE))
    from fleet_gen import write_fleet  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fleet-{n}.yaml"
        write_fleet(n, path)
        cmd = [str(Path(sys.executable).parent / "arbiter"), "plan", str(path)]
        cmd += ["--capacity", str(capacity_path(n))]
        cmd += ["--time-limit", "60", "--mip-gap", "0.01", "--json"]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    if done.returncode != 0:
        return (f"`arbiter plan` {n:,} workloads", f"exit {done.returncode}", "", False, "")
    doc = json.loads(done.stdout)
    unchecked = sum(1 for b in doc["binding"] if b["shadow_price_usd"] is None)
    computed = sum(1 for b in doc["baselines"].values() if not b.get("note"))
    return (
        (
            f"`arbiter plan` on the generated {n:,}-workload fleet, the whole command "
            "(`--time-limit 60 --mip-gap 0.01 --json`)"
        ),
        f"{wall:.1f} s, {peak:.2f} GB",
        "< 60 s within 1%",
        wall < 60.0 and doc["mip_gap"] <= GAP,
        (
            f"{doc['status']}, gap {doc['mip_gap']:.2%}, ${doc['total_usd'] / 1e6:,.2f}M; "
            f"{len(doc['assignments']):,} assignments; {computed} of 3 baselines and "
            f"{len(doc['binding']) - unchecked} of {len(doc['binding'])} binding rows within "
            "what the plan left of the limit"
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", type=int, help="one size, printed as JSON")
    parser.add_argument("--sizes", type=str, default=",".join(str(n) for n in SIZES))
    parser.add_argument("--no-monte-carlo", action="store_true")
    parser.add_argument("--monte-carlo-only", action="store_true", help="only its rows")
    parser.add_argument("--cli-only", action="store_true", help="only the `arbiter plan` row")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    if args.monte_carlo_only:
        for name, result, target, met, note in monte_carlo():
            print(f"| {name} | {result} | {target} | {'yes' if met else '**no**'} | {note} |")
        return
    if args.cli_only:  # one JSON row; run in its own process, so that its peak is its own
        print(json.dumps(cli_plan()))
        return
    results = measure(tuple(int(n) for n in args.sizes.split(",")))
    (HERE / "scale.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    plot(results)
    found = rows(results)
    # in a fresh interpreter: RUSAGE_CHILDREN is the peak over every child waited for,
    # and the sizes above ran as children of this one
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--cli-only"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    name, result, target, met, note = json.loads(done.stdout.strip().splitlines()[-1])
    found.append((name, result, target, met, note))
    if not args.no_monte_carlo:
        found.extend(monte_carlo())
    for name, result, target, met, note in found:
        flag = "" if met is None else ("yes" if met else "**no**")
        print(f"| {name} | {result} | {target} | {flag} | {note} |")


if __name__ == "__main__":
    main()
