"""Draw the README's spot figure: mean cost of the published job against the deadline's
slack (D/C from 1.05 to 1.5) per policy, on the public V100 single-node traces.

    .venv/bin/python scripts/spot_figure.py [--traces DIR] [--windows N] [--out FILE]

The traces (Can't Be Late, NSDI 2024; no licence, so not shipped in the package) are read
from ``tests/data/spot-traces/availability/1-node`` by default; every V100 file there with
one GPU per instance (the ``_1`` files) is replayed. The SVG is written by hand from the
numbers (no plotting package needed), with the numbers beside it in
``docs/img/spot-slack.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from html import escape
from pathlib import Path

import arbiter
from arbiter.spotsim.traces import read_traces

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "tests" / "data" / "spot-traces" / "availability" / "1-node"
JOB = ROOT / "examples" / "spot-job.yaml"
OUT = ROOT / "docs" / "img" / "spot-slack.svg"
RATIOS = (1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5)
COLORS = {
    "od": "#9d755d",
    "greedy": "#f58518",
    "up": "#4c78a8",
    "arbiter": "#54a24b",
    "optimal": "#b279a2",
}
LABELS = {
    "od": "on-demand",
    "greedy": "greedy",
    "up": "Uniform Progress",
    "arbiter": "arbiter",
    "optimal": "hindsight optimum",
}


def sweep(traces: Path, windows: int, seed: int) -> dict[str, list[tuple[float, float, int]]]:
    """``{policy: [(D/C, mean cost, misses), ...]}``."""
    chosen = [t for t in read_traces(traces) if t.chip == "V100" and t.name.endswith("_1")]
    sim = arbiter.simulate_spot(JOB, chosen, windows=windows, seed=seed, slack=RATIOS)
    out: dict[str, list[tuple[float, float, int]]] = {p: [] for p in sim.policies}
    for point in sim.slack or ():
        out[point.policy].append((point.deadline_over_compute, point.mean_cost_usd, point.misses))
    return {p: sorted(v) for p, v in out.items()}


def svg(lines: dict[str, list[tuple[float, float, int]]], *, note: str) -> str:
    """The chart as SVG text: one line per policy, axes, ticks and a legend."""
    width, height = 720, 420
    left, right, top, bottom = 70, 170, 30, 60
    xs = [x for pts in lines.values() for x, _, _ in pts]
    ys = [y for pts in lines.values() for _, y, _ in pts]
    x0, x1 = min(xs), max(xs)
    y_top = max(ys) * 1.05
    step = _nice_step(y_top / 5)
    y_top = step * (int(y_top / step) + 1)

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        return height - bottom - y / y_top * (height - top - bottom)

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    tick = 0.0
    while tick <= y_top + 1e-9:
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">${tick:,.0f}</text>')
        tick += step
    parts.extend(
        f'<text x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle">{x:.2f}</text>'
        for x in sorted(set(xs))
    )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="#333"/>'
    )
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 22}" text-anchor="middle">'
        "deadline / compute hours (D/C)</text>"
    )
    parts.append(
        f'<text transform="translate(16 {(top + height - bottom) / 2}) rotate(-90)" '
        'text-anchor="middle">mean cost per job (USD)</text>'
    )
    for i, (policy, pts) in enumerate(lines.items()):
        color = COLORS.get(policy, "#888888")
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _ in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, misses in pts:
            fill = "white" if misses else color
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{fill}" stroke="{color}"/>'
            )
        ly = top + 10 + i * 20
        parts.append(
            f'<line x1="{width - right + 12}" x2="{width - right + 34}" y1="{ly}" y2="{ly}" '
            f'stroke="{color}" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{width - right + 40}" y="{ly + 4}">'
            f"{escape(LABELS.get(policy, policy))}</text>"
        )
    parts.append(
        f'<text x="{width - right + 12}" y="{top + 10 + len(lines) * 20 + 10}" '
        'font-size="10" fill="#777">open dot: some windows</text>'
    )
    parts.append(
        f'<text x="{width - right + 12}" y="{top + 10 + len(lines) * 20 + 24}" '
        'font-size="10" fill="#777">missed the deadline</text>'
    )
    parts.append(
        f'<text x="{left}" y="{top - 10}" font-size="11" fill="#555">{escape(note)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _nice_step(raw: float) -> float:
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    lines = sweep(args.traces, args.windows, args.seed)
    note = (
        f"C = 48 h, d = 0.2 h, $3.06/h on-demand, $0.97/h spot; {args.windows:,} windows "
        "on the AWS V100 single-node traces (2022-2023)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(svg(lines, note=note), encoding="utf-8")
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {p: [{"d_over_c": x, "mean_cost_usd": y, "misses": m} for x, y, m in v]
             for p, v in lines.items()},
            indent=2,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
