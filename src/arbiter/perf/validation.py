"""Predict every benchmark case and score the model against the published values.

Every case either gets a prediction or is listed in ``skipped`` with the reason (unknown
model or accelerator, a layout the model cannot build); none is silently dropped.
``error_share = predicted / published - 1``; MAPE is the mean of its absolute value.

Outlier submissions are flagged, never dropped: a case whose published value per chip is
below ``OUTLIER_SHARE`` of the median of its peers (same kind, model, accelerator,
precision, metric and lengths, any system size, at least two cases) is reported as an
outlier, and the MAPE is given with and without them. The rule looks only at the
published values, never at the model's errors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from arbiter.catalog.names import canonical_accelerator
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import UnknownNameError
from arbiter.perf.cases import BenchmarkCase
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.predict import Question, Unpredictable, predict
from arbiter.workloads.registry import resolve_model


@dataclass(frozen=True, slots=True)
class CaseResult:
    case_id: str
    kind: str
    accelerator: str
    model: str
    metric: str
    predicted: float
    published: float

    @property
    def error_share(self) -> float:
        return self.predicted / self.published - 1.0


@dataclass(frozen=True, slots=True)
class Skipped:
    case_id: str
    reason: str


OUTLIER_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class ValidationReport:
    results: tuple[CaseResult, ...]
    skipped: tuple[Skipped, ...]
    outliers: frozenset[str] = frozenset()

    @property
    def mape(self) -> float:
        return _mape(self.results)

    @property
    def mape_excluding_outliers(self) -> float:
        return _mape(r for r in self.results if r.case_id not in self.outliers)

    def mape_by(self, attribute: str, *, exclude_outliers: bool = False) -> dict[str, float]:
        groups: dict[str, list[CaseResult]] = defaultdict(list)
        for r in self.results:
            if not (exclude_outliers and r.case_id in self.outliers):
                groups[str(getattr(r, attribute))].append(r)
        return {k: _mape(v) for k, v in sorted(groups.items())}

    def count_by(self, attribute: str) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for r in self.results:
            counts[str(getattr(r, attribute))] += 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, object]:
        return {
            "cases": [
                {
                    "case_id": r.case_id,
                    "kind": r.kind,
                    "accelerator": r.accelerator,
                    "metric": r.metric,
                    "predicted": r.predicted,
                    "published": r.published,
                    "error_share": r.error_share,
                }
                for r in self.results
            ],
            "mape": self.mape,
            "mape_excluding_outliers": self.mape_excluding_outliers,
            "outliers": sorted(self.outliers),
            "mape_by_accelerator": self.mape_by("accelerator"),
            "mape_by_kind": self.mape_by("kind"),
            "mape_by_metric": self.mape_by("metric"),
            "skipped": [{"case_id": s.case_id, "reason": s.reason} for s in self.skipped],
        }


def _mape(results: Iterable[CaseResult]) -> float:
    errors = [abs(r.error_share) for r in results]
    return sum(errors) / len(errors) if errors else float("nan")


def question_for(case: BenchmarkCase, accelerators: Mapping[str, Accelerator]) -> Question:
    """The model's question for ``case``; raises :class:`Unpredictable` with the reason."""
    name = canonical_accelerator(case.accelerator, accelerators)
    if name is None or name not in accelerators:
        raise Unpredictable(f"unknown accelerator {case.accelerator!r}")
    try:
        model = resolve_model(case.model)
    except UnknownNameError as exc:
        raise Unpredictable(str(exc)) from exc
    return Question(
        kind=case.kind.value,
        metric=case.metric.value,
        model=model,
        accelerator=accelerators[name],
        precision=case.precision,
        chips=case.accelerator_count,
        input_tokens=case.input_tokens,
        output_tokens=case.output_tokens,
        seq_len=case.seq_len,
        ttft_limit_s=case.ttft_limit_s,
        tpot_limit_s=case.tpot_limit_s,
        in_flight=case.in_flight,
        global_batch=case.global_batch,
        layout=case.layout,
    )


def outlier_cases(cases: Iterable[BenchmarkCase]) -> frozenset[str]:
    """Cases far below their peers' published value per chip (see the module docstring)."""
    groups: dict[tuple[object, ...], list[tuple[str, float]]] = defaultdict(list)
    for c in cases:
        key = (
            c.kind,
            c.model,
            c.accelerator,
            c.precision,
            c.metric,
            c.input_tokens,
            c.output_tokens,
            c.seq_len,
        )
        per_chip = c.value / c.accelerator_count if c.metric.value.endswith("_per_s") else c.value
        if c.metric.value == "tpot_s":
            per_chip = 1.0 / c.value
        groups[key].append((c.case_id, per_chip))
    flagged: set[str] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        values = sorted(v for _, v in members)
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        flagged.update(cid for cid, v in members if v < OUTLIER_SHARE * median)
    return frozenset(flagged)


def validate(
    cases: Iterable[BenchmarkCase], accelerators: Mapping[str, Accelerator], eff: Efficiency
) -> ValidationReport:
    cases = tuple(cases)
    results: list[CaseResult] = []
    skipped: list[Skipped] = []
    for case in cases:
        try:
            q = question_for(case, accelerators)
            value = predict(q, eff)
        except Unpredictable as exc:
            skipped.append(Skipped(case.case_id, str(exc)))
            continue
        results.append(
            CaseResult(
                case_id=case.case_id,
                kind=case.kind.value,
                accelerator=q.accelerator.name,
                model=q.model.name,
                metric=case.metric.value,
                predicted=value,
                published=case.value,
            )
        )
    return ValidationReport(tuple(results), tuple(skipped), outlier_cases(cases))
