"""Error bands of the performance model, by software platform and workload kind.

A band says how far, out of sample, the model's throughput is from published results on
a platform for a kind of work. It is measured (``scripts/build_error_bands.py``) on the
calibration cases by leave-one-source-out: each source (an MLPerf round's submitter, a
vendor's documentation, a paper) is predicted by the model fitted without it; MLPerf
rounds after v4.1 are never fitted and are scored against the shipped parameters. With
``r = predicted / published`` per case:

    q = q80(|log r|)                                  over the cell's own n cases
    band = exp(sqrt((n q^2 + k q_kind^2) / (n + k))) - 1

the 80th percentile of the absolute log error, as a share (``0.38`` reads "+/- 38%": 80%
of out-of-sample cases fell within ``[1 / (1 + band), 1 + band]`` of the truth), shrunk
toward the kind's band over every platform ``q_kind`` with the weight of ``k =``
:data:`PRIOR_CASES` cases, as the fit shrinks its platform parameters: four cases from
one or two sources do not make a platform better known than one with eighty.

Where a platform has fewer than :data:`MIN_CASES` cases of a kind, its band is not
measured but set: the widest of :data:`FALLBACK_MIN_SHARE`, :data:`FALLBACK_WIDENING`
times the band of the kind pooled over every platform, and the largest error its own
few cases showed. A tight band never stands on no data.

Workload kinds map onto case kinds: ``train`` and ``finetune`` onto train and
LoRA fine-tuning cases, ``serve`` onto server, interactive and batch-1 latency cases,
``batch`` onto offline (maximum throughput) cases.

Risk samples the band as a lognormal throughput factor, ``exp(sigma Z)`` with
``sigma = log(1 + band) / Z80`` (:func:`sigma_of`), so 80% of draws fall inside the band.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from arbiter.perf.efficiency import PLATFORMS

BAND_KINDS = ("train", "serve", "batch")
MIN_CASES = 3
PRIOR_CASES = 3.0
FALLBACK_MIN_SHARE = 0.5
FALLBACK_WIDENING = 2.0
BAND_QUANTILE = 0.8
Z80 = 1.2815515655446004  # the standard normal's 90th percentile: an 80% two-sided band
SHARE_DIGITS = 3

_BY_CASE_KIND = {
    "train": "train",
    "finetune_lora": "train",
    "infer_server": "serve",
    "infer_interactive": "serve",
    "infer_latency": "serve",
    "infer_offline": "batch",
}
_BY_WORKLOAD_KIND = {"train": "train", "finetune": "train", "serve": "serve", "batch": "batch"}
DATA_FILE = "error_bands.json"


@dataclass(frozen=True, slots=True)
class ErrorBand:
    """``share``: the 80% band as a share (0.38: +/- 38%); ``cases``: the published cases
    it was measured on (0 for a set band); ``basis``: how it was obtained."""

    share: float
    cases: int
    basis: str

    @property
    def sigma(self) -> float:
        return sigma_of(self.share)


MEASURED = ErrorBand(0.0, 0, "measured by the user: the model is not used")


def sigma_of(share: float) -> float:
    """The lognormal sigma whose 80% two-sided band is ``+/- share``."""
    return math.log1p(share) / Z80


def band_kind_of_case(case_kind: str) -> str:
    return _BY_CASE_KIND[case_kind]


def band_kind(workload_kind: str) -> str:
    """The band kind of a workload kind (``train``, ``finetune``, ``serve``, ``batch``)."""
    return _BY_WORKLOAD_KIND[workload_kind]


@dataclass(frozen=True, slots=True)
class Residual:
    """One case predicted out of sample: ``log_error = log(predicted / published)``."""

    case_id: str
    group: str
    platform: str
    kind: str
    predicted: float
    published: float
    accelerator: str = ""

    @property
    def error_share(self) -> float:
        """``predicted / published - 1``: what the MAPE averages (in absolute value)."""
        return self.predicted / self.published - 1.0

    @property
    def log_error(self) -> float:
        return math.log(self.predicted / self.published)


def _quantile(errors: list[float]) -> float:
    return float(np.quantile(np.abs(np.array(errors)), BAND_QUANTILE))


def _quantile_share(errors: list[float]) -> float:
    return round(math.expm1(_quantile(errors)), SHARE_DIGITS)


def compute_bands(
    residuals: Iterable[Residual], platforms: Iterable[str] = PLATFORMS
) -> dict[tuple[str, str], ErrorBand]:
    """Every (platform, kind) band from out-of-sample ``residuals`` (module docstring)."""
    by_cell: dict[tuple[str, str], list[float]] = {}
    by_kind: dict[str, list[float]] = {}
    everything: list[float] = []
    for r in residuals:
        by_cell.setdefault((r.platform, r.kind), []).append(r.log_error)
        by_kind.setdefault(r.kind, []).append(r.log_error)
        everything.append(r.log_error)
    table: dict[tuple[str, str], ErrorBand] = {}
    for platform in platforms:
        for kind in BAND_KINDS:
            errors = by_cell.get((platform, kind), [])
            pooled = by_kind.get(kind, [])
            if len(errors) >= MIN_CASES:
                n, own, prior = len(errors), _quantile(errors), _quantile(pooled)
                q = math.sqrt((n * own**2 + PRIOR_CASES * prior**2) / (n + PRIOR_CASES))
                table[platform, kind] = ErrorBand(
                    round(math.expm1(q), SHARE_DIGITS),
                    n,
                    f"measured: 80th percentile out of sample (+/-{100 * math.expm1(own):.0f}% "
                    f"alone), shrunk toward the {kind} band of every platform with the "
                    f"weight of {PRIOR_CASES:g} cases",
                )
                continue
            pool = pooled if len(pooled) >= MIN_CASES else everything
            widened = FALLBACK_WIDENING * _quantile_share(pool) if pool else 0.0
            seen = round(math.expm1(max((abs(e) for e in errors), default=0.0)), SHARE_DIGITS)
            share = round(max(FALLBACK_MIN_SHARE, widened, seen), SHARE_DIGITS)
            table[platform, kind] = ErrorBand(
                share,
                len(errors),
                f"set: {len(errors)} case(s) < {MIN_CASES}; the widest of "
                f"{FALLBACK_WIDENING:g} x the pooled {kind if pool is pooled else 'all-kind'} "
                f"band, +/-{100 * FALLBACK_MIN_SHARE:.0f}% and its own largest error",
            )
    return table


def bands_to_rows(table: Mapping[tuple[str, str], ErrorBand]) -> list[dict[str, Any]]:
    return [
        {"platform": p, "kind": k, "share": b.share, "cases": b.cases, "basis": b.basis}
        for (p, k), b in sorted(table.items())
    ]


def bands_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], ErrorBand]:
    return {
        (str(r["platform"]), str(r["kind"])): ErrorBand(
            float(r["share"]), int(r["cases"]), str(r["basis"])
        )
        for r in rows
    }


@functools.cache
def shipped_document() -> dict[str, Any]:
    """The shipped ``error_bands.json``: provenance, residuals and bands."""
    text = resources.files("arbiter.perf.data").joinpath(DATA_FILE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@functools.cache
def default_bands() -> dict[tuple[str, str], ErrorBand]:
    return bands_from_rows(shipped_document()["bands"])


@functools.cache
def _cases_by_chip() -> Counter[tuple[str, str]]:
    return Counter(
        (str(r.get("accelerator", "")), str(r["kind"])) for r in shipped_document()["residuals"]
    )


def chip_cases(accelerator: str, kind: str) -> int:
    """Of the published cases a band was measured on, those of workload ``kind`` (train,
    finetune, serve, batch) on ``accelerator`` itself: a platform's band may rest on many
    cases of its other chips and few of this one."""
    return _cases_by_chip()[(accelerator, band_kind(kind))]


def band_for(platform: str, kind: str) -> ErrorBand:
    """The shipped band of ``platform`` for workload ``kind`` (train, finetune, serve,
    batch); a platform the table does not know gets the widest band of that kind."""
    table = default_bands()
    key = (platform, band_kind(kind))
    if key in table:
        return table[key]
    widest = max(
        (b.share for (_, k), b in table.items() if k == key[1]), default=FALLBACK_MIN_SHARE
    )
    return ErrorBand(widest, 0, f"set: platform {platform!r} has no cases; the widest band")
