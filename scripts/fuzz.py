"""The long fuzz run (``make fuzz``): mutated example files and feed samples through every loader.

    python scripts/fuzz.py [--inputs 10000] [--seed 0] [--timeout 10] [--only NAME ...]

Prints one row per loader: inputs tried, accepted, rejected with an arbiter error, uncaught
exceptions and hangs (an input that takes longer than ``--timeout`` seconds), and the time.
Every crash and hang is written to ``--out`` (default ``.fuzz/``) to be replayed; the exit code
is 1 when there is any. The harness (targets, mutations) is ``tests/fuzz/fuzzing.py``, which
``tests/fuzz/`` runs with a small budget on every ``make test``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fuzz"))

import fuzzing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per loader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--only", nargs="*", default=None, help="loader names to run")
    parser.add_argument("--out", type=Path, default=REPO / ".fuzz")
    parser.add_argument(
        "--cli-inputs",
        type=int,
        default=200,
        help="inputs per solving command (plan, procure, risk, export; about 1 s each)",
    )
    args = parser.parse_args()

    budget = {t.name: args.inputs for t in fuzzing.targets()}
    budget.update({t.name: args.cli_inputs for t in fuzzing.cli_targets()})
    every = [*fuzzing.targets(), *fuzzing.cli_targets()]
    targets = [t for t in every if (not args.only or t.name in args.only) and budget[t.name] > 0]
    header = f"{'loader':<24}{'inputs':>8}{'accepted':>10}{'rejected':>10}"
    header += f"{'uncaught':>10}{'hangs':>7}{'seconds':>9}"
    print(header)
    print("-" * len(header))
    totals = [0, 0, 0, 0, 0]
    start = time.perf_counter()
    failures = 0
    for target in targets:
        outcome = fuzzing.fuzz(target, n=budget[target.name], seed=args.seed, timeout=args.timeout)
        crashes, hangs = len(outcome.crashes), len(outcome.hangs)
        print(
            f"{target.name:<24}{outcome.tried:>8}{outcome.accepted:>10}{outcome.rejected:>10}"
            f"{crashes:>10}{hangs:>7}{outcome.seconds:>9.1f}",
            flush=True,
        )
        for i, value in enumerate(
            (outcome.tried, outcome.accepted, outcome.rejected, crashes, hangs)
        ):
            totals[i] += value
        for data, why, name in outcome.crashes[:20]:
            failures += 1
            _save(args.out, target, data, why, name)
        for data, name in outcome.hangs[:20]:
            failures += 1
            _save(args.out, target, data, "hang", name)
        seen: set[str] = set()
        for _data, why, _name in outcome.crashes:
            first = why.split(":")[0] + ":" + why.split(":")[1][:80] if ":" in why else why
            if first not in seen:
                seen.add(first)
                print(f"    {why[:160]}")
    print("-" * len(header))
    elapsed = time.perf_counter() - start
    print(
        f"{'total':<24}{totals[0]:>8}{totals[1]:>10}{totals[2]:>10}"
        f"{totals[3]:>10}{totals[4]:>7}{elapsed:>9.1f}"
    )
    if failures:
        print(f"failing inputs written to {args.out}")
    return 1 if totals[3] or totals[4] else 0


def _save(folder: Path, target: fuzzing.Target, data: bytes, why: str, name: str) -> None:
    """The input as ``<loader>-<hash>/<seed file name>`` with a ``why.txt`` beside it."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    case = folder / f"{target.name}-{digest}"
    case.mkdir(parents=True, exist_ok=True)
    (case / name).write_bytes(data)
    (case / "why.txt").write_text(f"{why}\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
