"""Measure the performance model's error bands out of sample and ship them.

    python scripts/build_error_bands.py           # write error_bands.json and docs/perf.md
    python scripts/build_error_bands.py --check   # fail if they differ from a rebuild
    python scripts/build_error_bands.py --reuse-residuals  # the shipped residuals, new rule

Predicts every calibration case (``src/arbiter/perf/data/calibration_cases.csv``) by the
model fitted without the case's source (:mod:`arbiter.perf.out_of_sample`; one refit per
source, run in parallel, a few minutes), then takes the 80th percentile of the absolute
log error by platform and workload kind (:mod:`arbiter.perf.bands`). Writes
``src/arbiter/perf/data/error_bands.json`` (provenance: the date, the SHA-256 of the cases
file and of ``efficiency.json``; every residual; the bands) and the band section of
``docs/perf.md``. Deterministic but for the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from arbiter.catalog.embedded import default_accelerators
from arbiter.perf.bands import (
    BAND_QUANTILE,
    DATA_FILE,
    FALLBACK_MIN_SHARE,
    FALLBACK_WIDENING,
    MIN_CASES,
    PRIOR_CASES,
    ErrorBand,
    Residual,
    bands_from_rows,
    bands_to_rows,
    compute_bands,
)
from arbiter.perf.cases import BenchmarkCase, read_cases
from arbiter.perf.cross_validation import CrossValidation, cross_validate
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.out_of_sample import groups_of, held_out
from arbiter.perf.validation import outlier_cases

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "arbiter" / "perf" / "data"
CASES = DATA / "calibration_cases.csv"
PARAMETERS = DATA / "efficiency.json"
OUTPUT = DATA / DATA_FILE
DOC = ROOT / "docs" / "perf.md"
BEGIN, END = "<!-- bands:begin -->", "<!-- bands:end -->"
CV_BEGIN, CV_END = "<!-- cv:begin -->", "<!-- cv:end -->"
DIGITS = 6


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def residual_rows(residuals: list[Residual]) -> list[dict[str, Any]]:
    return [
        {
            "case_id": r.case_id,
            "group": r.group,
            "platform": r.platform,
            "accelerator": r.accelerator,
            "kind": r.kind,
            "predicted": _round(r.predicted),
            "published": r.published,
        }
        for r in residuals
    ]


def residuals_from_rows(rows: list[dict[str, Any]]) -> list[Residual]:
    return [
        Residual(
            case_id=str(r["case_id"]),
            group=str(r["group"]),
            platform=str(r["platform"]),
            accelerator=str(r.get("accelerator", "")),
            kind=str(r["kind"]),
            predicted=float(r["predicted"]),
            published=float(r["published"]),
        )
        for r in rows
    ]


def publisher_summary(cv: CrossValidation) -> dict[str, Any]:
    """The stricter figure: a whole publisher (repository or site) left out at once."""
    return {
        "sources": cv.sources,
        "mape": round(cv.mape_percent, 2),
        "by_platform": {k: v.to_dict() for k, v in cv.by("platform").items()},
    }


def document(
    cases: tuple[BenchmarkCase, ...],
    residuals: list[Residual],
    by_publisher: dict[str, Any],
) -> dict[str, Any]:
    """Everything but the date: the part ``--check`` and the tests compare."""
    rows = residual_rows(residuals)
    bands = compute_bands(residuals_from_rows(rows))
    return {
        "built_by": "scripts/build_error_bands.py",
        "cases_file": "src/arbiter/perf/data/calibration_cases.csv",
        "cases_sha256": sha256(CASES),
        "efficiency_sha256": sha256(PARAMETERS),
        "method": (
            "leave one source out (a published document: an MLPerf round's submitter, a "
            "vendor's page, a repository's folder, a paper): each "
            "source predicted by the model refitted without it; MLPerf rounds after v4.1 "
            "never fitted, predicted by the shipped parameters; q = q80 |log("
            "predicted/published)| over the cell's n cases, shrunk toward the kind's q over "
            f"every platform with the weight of {PRIOR_CASES:g} cases: band = exp(sqrt((n q^2 + "
            f"{PRIOR_CASES:g} q_kind^2) / (n + {PRIOR_CASES:g}))) - 1; fewer than {MIN_CASES} "
            "cases: the widest of "
            f"{FALLBACK_WIDENING:g} x the pooled band of the kind, +/-"
            f"{100 * FALLBACK_MIN_SHARE:.0f}% and the largest error seen"
        ),
        "quantile": BAND_QUANTILE,
        "sources": len(groups_of(cases)),
        "held_out_cases": sum(held_out(c) for c in cases),
        "residuals": rows,
        "bands": bands_to_rows(bands),
        "by_publisher": by_publisher,
    }


def band_markdown(doc: dict[str, Any]) -> list[str]:
    table = bands_from_rows(doc["bands"])
    lines = [
        (
            "(generated by `scripts/build_error_bands.py`; shipped in "
            "`src/arbiter/perf/data/error_bands.json`)"
        ),
        "",
        (
            f"- {len(doc['residuals'])} cases predicted out of sample from {doc['sources']} "
            f"sources; {doc['held_out_cases']} held-out cases (MLPerf after v4.1)"
        ),
        f"- cases file SHA-256 `{doc['cases_sha256'][:16]}...`",
        "",
        "| platform | kind | band (80%) | cases | basis |",
        "|---|---|---:|---:|---|",
    ]
    for (platform, kind), band in sorted(table.items()):
        lines.append(_row(platform, kind, band))
    return [*lines, ""]


def _row(platform: str, kind: str, band: ErrorBand) -> str:
    basis = "measured" if band.basis.startswith("measured") else "set (too few cases)"
    return f"| {platform} | {kind} | +/-{100 * band.share:.0f}% | {band.cases} | {basis} |"


def _between(text: str, begin: str, end: str, lines: list[str]) -> str:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n" + "\n".join(lines) + f"{end}{tail}"


def doc_with_bands(text: str, doc: dict[str, Any]) -> str:
    text = _between(text, BEGIN, END, band_markdown(doc))
    return _between(text, CV_BEGIN, CV_END, cv_markdown(doc))


def build(workers: int) -> dict[str, Any]:
    cases = read_cases(CASES)
    shipped = Efficiency.from_json(PARAMETERS.read_text("utf-8"))
    cv = cross_validate(cases, default_accelerators(), shipped, workers=workers)
    wide = cross_validate(cases, default_accelerators(), shipped, workers=workers, by="publisher")
    return document(cases, [*cv.residuals, *cv.held_out], publisher_summary(wide))


def cv_markdown(doc: dict[str, Any]) -> list[str]:
    """The leave-one-source-out error by platform, kind and accelerator (docs/perf.md);
    the same figures as ``arbiter perf validate --cv``."""
    residuals = residuals_from_rows(doc["residuals"])
    held = {c.case_id for c in read_cases(CASES) if held_out(c)}
    fitted = [r for r in residuals if r.case_id not in held]
    cv = CrossValidation(
        residuals=tuple(fitted),
        held_out=tuple(r for r in residuals if r.case_id in held),
        sources=doc["sources"],
        outliers=outlier_cases(c for c in read_cases(CASES) if not held_out(c)),
        unpredicted=0,
    )
    lines = [
        (
            "(generated by `scripts/build_error_bands.py`; `arbiter perf validate --cv` prints "
            "the same)"
        ),
        "",
        (
            f"- {len(fitted)} cases from {doc['sources']} sources, each predicted by the model "
            "refitted without its source"
        ),
        (
            f"- MAPE, all cases: **{cv.mape_percent:.1f}%**; without the "
            f"{len(cv.outliers)} outlier submissions: **{cv.mape_excluding_outliers_percent:.1f}%**"
        ),
        "",
    ]
    wide = doc["by_publisher"]
    lines[-1:-1] = [
        (
            f"- leaving out a whole publisher at once instead ({wide['sources']} repositories "
            "or sites: every Neuron SDK page together, every Intel Gaudi page together), "
            f"which for a platform with one publisher measures the pooled model: "
            f"**{wide['mape']:.1f}%**"
        )
    ]
    for title in ("platform", "kind", "accelerator"):
        publisher = title == "platform"
        extra = " | by publisher" if publisher else ""
        lines += [f"| {title} | cases | MAPE{extra} |", "|---|---:|---:|" + ("---:|" * publisher)]
        for k, cell in cv.by(title).items():
            row = f"| {k} | {cell.cases} | {cell.mape_percent:.1f}% |"
            if publisher:
                row += f" {wide['by_platform'][k]['mape']:.1f}% |"
            lines.append(row)
        lines.append("")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--reuse-residuals",
        action="store_true",
        help="recompute the bands from the shipped residuals (after a change of the band rule "
        "only; the cases and parameters must be those they were measured on)",
    )
    args = parser.parse_args()
    if args.reuse_residuals:
        shipped_doc = json.loads(OUTPUT.read_text("utf-8"))
        residuals = residuals_from_rows(shipped_doc["residuals"])
        doc = document(read_cases(CASES), residuals, shipped_doc["by_publisher"])
    else:
        doc = build(args.workers)
    markdown = doc_with_bands(DOC.read_text("utf-8"), doc)
    if args.check:
        shipped = json.loads(OUTPUT.read_text("utf-8")) if OUTPUT.is_file() else {}
        shipped.pop("built_on", None)
        stale = [name for name, ok in ((OUTPUT.name, shipped == doc),) if not ok]
        if DOC.read_text("utf-8") != markdown:
            stale.append(DOC.name)
        if stale:
            print(f"stale: {', '.join(stale)}; run scripts/build_error_bands.py", file=sys.stderr)
            return 1
        print("error_bands.json and docs/perf.md are current")
        return 0
    out = {"built_on": dt.datetime.now(dt.UTC).date().isoformat(), **doc}
    OUTPUT.write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    DOC.write_text(markdown, "utf-8")
    for row in doc["bands"]:
        print(
            f"{row['platform']:7} {row['kind']:6} +/-{100 * row['share']:.0f}% "
            f"({row['cases']} cases)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
