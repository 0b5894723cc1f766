"""Leave-one-source-out cross-validation of the performance model: how far off it is on
results it was not fitted on, by platform, chip and kind.

Each source (:func:`.out_of_sample.source_group`: an MLPerf round's submitter, a
repository, a vendor's page, a paper) is predicted by the model refitted on every other
source, with the shipped procedure (:func:`arbiter.perf.fitting.fit`; each fold starts
from the shipped parameters, which only shortens the search). MLPerf rounds after v4.1
are in no fit: they are reported apart (``held_out``), predicted by the shipped
parameters, and are not in the cross-validated MAPE. Outlier submissions
(:func:`.validation.outlier_cases`) are left out of every fit but predicted and counted
here, as a buyer meets them; ``mape_excluding_outliers`` is the figure without them.

``replicates`` (:mod:`.replicates`) sets the model's error beside the sources' own
disagreement: on the predicted cases whose question another source also published, how
far that other source's result is off, and the model's out-of-sample MAPE on the same
cases.

A source is one published document by default (``by="document"``); ``by="publisher"``
leaves out a whole repository or site at once (every Neuron SDK page, every Intel Gaudi
page), which for a platform with one publisher measures the pooled model, not the
platform's fit.

The folds are independent: ``workers`` processes run them at once.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from arbiter.domain.accelerator import Accelerator
from arbiter.perf.bands import Residual
from arbiter.perf.cases import BenchmarkCase
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.out_of_sample import (
    GROUPINGS,
    fold_residuals,
    groups_of,
    held_out,
    out_of_sample_residuals,
)
from arbiter.perf.replicates import DEFINITION, ReplicateSpread, replicate_spread
from arbiter.perf.validation import outlier_cases


@dataclass(frozen=True, slots=True)
class CellError:
    """The mean absolute percentage error of one cell and the cases behind it."""

    mape_percent: float
    cases: int

    def to_dict(self) -> dict[str, Any]:
        return {"mape": round(self.mape_percent, 2), "cases": self.cases}


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Out-of-sample residuals of the fitted cases and of the held-out rounds."""

    residuals: tuple[Residual, ...]
    held_out: tuple[Residual, ...]
    sources: int
    outliers: frozenset[str]
    unpredicted: int
    by_source: str = "document"
    replicates: ReplicateSpread = field(default_factory=ReplicateSpread)

    @property
    def mape_percent(self) -> float:
        return _mape(self.residuals)

    @property
    def mape_excluding_outliers_percent(self) -> float:
        return _mape([r for r in self.residuals if r.case_id not in self.outliers])

    @property
    def replicates_excluding_outliers(self) -> ReplicateSpread:
        return self.replicates.excluding(self.outliers)

    def model_mape_on_replicates_percent(self, *, outliers: bool = True) -> float:
        """The model's out-of-sample MAPE on exactly the replicates (with or without the
        outlier submissions)."""
        spread = self.replicates if outliers else self.replicates_excluding_outliers
        return spread.model_mape_percent(self.residuals)

    def by(self, attribute: str, *, held: bool = False) -> dict[str, CellError]:
        """MAPE per value of ``attribute`` (``platform``, ``accelerator``, ``kind`` or
        ``group``), sorted by name."""
        cells: dict[str, list[Residual]] = defaultdict(list)
        for r in self.held_out if held else self.residuals:
            cells[str(getattr(r, attribute))].append(r)
        return {k: CellError(_mape(v), len(v)) for k, v in sorted(cells.items())}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "leave one source out; MLPerf rounds after v4.1 held out of every fit",
            "source": self.by_source,
            "unit": "percent",
            "mape": round(self.mape_percent, 2),
            "mape_excluding_outliers": round(self.mape_excluding_outliers_percent, 2),
            "cases": len(self.residuals),
            "sources": self.sources,
            "outliers": sorted(self.outliers),
            "unpredicted": self.unpredicted,
            "by_platform": _cells(self.by("platform")),
            "by_accelerator": _cells(self.by("accelerator")),
            "by_kind": _cells(self.by("kind")),
            "by_source": _cells(self.by("group")),
            "held_out": {
                "mape": round(_mape(self.held_out), 2) if self.held_out else None,
                "cases": len(self.held_out),
                "by_platform": _cells(self.by("platform", held=True)),
            },
            "replicates": self._replicates_dict(),
            "residuals": [
                {
                    "case_id": r.case_id,
                    "source": r.group,
                    "platform": r.platform,
                    "accelerator": r.accelerator,
                    "kind": r.kind,
                    "predicted": r.predicted,
                    "published": r.published,
                    "error_percent": round(100 * r.error_share, 2),
                    "held_out": held,
                }
                for held, rs in ((False, self.residuals), (True, self.held_out))
                for r in rs
            ],
        }

    def _replicates_dict(self) -> dict[str, Any]:
        without = self.replicates_excluding_outliers
        return {
            "cases": len(self.replicates.case_ids),
            "mape": _rounded(self.replicates.mape_percent),
            "model_mape": _rounded(self.model_mape_on_replicates_percent()),
            "mape_excluding_outliers": _rounded(without.mape_percent),
            "model_mape_excluding_outliers": _rounded(
                self.model_mape_on_replicates_percent(outliers=False)
            ),
            "definition": DEFINITION,
        }


def _rounded(percent: float) -> float | None:
    """``percent`` to 2 decimals, None for NaN (no cases)."""
    return None if math.isnan(percent) else round(percent, 2)


def _cells(cells: Mapping[str, CellError]) -> dict[str, dict[str, Any]]:
    return {k: v.to_dict() for k, v in cells.items()}


def _mape(residuals: Sequence[Residual]) -> float:
    if not residuals:
        return float("nan")
    return 100.0 * sum(abs(r.error_share) for r in residuals) / len(residuals)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def cross_validate(
    cases: Sequence[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    shipped: Efficiency,
    *,
    workers: int = 1,
    by: str = "document",
) -> CrossValidation:
    """Every predictable case predicted out of sample (module docstring); ``by`` is the
    grouping of the cases into sources (``document`` or ``publisher``)."""
    grouping = GROUPINGS[by]
    groups = groups_of(cases, grouping)
    fold = partial(fold_residuals, cases, accelerators, start=shipped, grouping=grouping)

    def run_folds(names: list[str]) -> list[list[Residual]]:
        if workers <= 1 or len(names) <= 1:
            return [fold(g) for g in names]
        with ProcessPoolExecutor(max_workers=min(workers, len(names))) as pool:
            return list(pool.map(fold, names))

    found = out_of_sample_residuals(cases, accelerators, shipped, run_folds, grouping)
    held = {c.case_id for c in cases if held_out(c)}
    predicted = {r.case_id for r in found if r.case_id not in held}
    return CrossValidation(
        residuals=tuple(r for r in found if r.case_id not in held),
        held_out=tuple(r for r in found if r.case_id in held),
        sources=len(groups),
        outliers=outlier_cases(c for c in cases if not held_out(c)),
        unpredicted=len(cases) - len(found),
        by_source=by,
        replicates=replicate_spread(cases, grouping).only(lambda c: c in predicted),
    )
