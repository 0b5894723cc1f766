"""How far the published sources disagree on the same question: the replicate floor.

A *replicate* is a case that asks the same question as a case from another source (the
grouping of the cross-validation, :data:`.out_of_sample.GROUPINGS`). The same question:
equal kind, model, precision, accelerator, input and output tokens, sequence length,
batch, concurrency, latency limits, layout (``tp``, ``pp``) and metric. A whole system's
rate (:data:`RATE_METRICS`: tokens per second) is compared per chip, ``value /
accelerator_count``, and the chip count may differ; any other metric (MFU, TFLOPS per
chip, time per output token) needs the same chip count and is compared as published.

A replicate's *replicate prediction* is the median of the other sources' values for its
question (per chip for a rate), its error ``|median - value| / value``: what the best
model that reads only the other sources could do on it, one source's result taken as
the forecast of another's. Its MAPE is a floor the model's out-of-sample MAPE on the same
cases (:meth:`ReplicateSpread.model_mape_percent`) cannot be expected to beat by much.
MLPerf rounds after v4.1 (:func:`.out_of_sample.held_out`) are left out, as from the
cross-validated MAPE.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from arbiter.perf.bands import Residual
from arbiter.perf.cases import BenchmarkCase, CaseMetric
from arbiter.perf.out_of_sample import held_out, source_group

RATE_METRICS = frozenset({CaseMetric.OUTPUT_TOKENS_PER_S, CaseMetric.TRAIN_TOKENS_PER_S})
DEFINITION = (
    "a case whose question (kind, model, precision, chip, tokens, sequence length, batch, "
    "concurrency, latency limits, layout and metric; a whole system's tokens/s per chip, any "
    "other metric at the same chip count) another source also published, predicted by the "
    "median of the other sources' values: |median - value| / value"
)

Question = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class ReplicateSpread:
    """The replicates (module docstring), in case order, and each one's error share."""

    case_ids: tuple[str, ...] = ()
    error_shares: tuple[float, ...] = ()

    @property
    def mape_percent(self) -> float:
        """The mean of the error shares in percent; NaN without replicates."""
        return _mean_percent(self.error_shares)

    def only(self, keep: Callable[[str], bool]) -> ReplicateSpread:
        """The replicates whose case id ``keep`` accepts."""
        kept = [(c, e) for c, e in zip(self.case_ids, self.error_shares, strict=True) if keep(c)]
        return ReplicateSpread(tuple(c for c, _ in kept), tuple(e for _, e in kept))

    def excluding(self, case_ids: Collection[str]) -> ReplicateSpread:
        """The replicates not in ``case_ids`` (the outlier submissions)."""
        return self.only(lambda c: c not in case_ids)

    def model_mape_percent(self, residuals: Iterable[Residual]) -> float:
        """The model's MAPE in percent on exactly these cases, from its out-of-sample
        ``residuals`` (matched by case id); raises KeyError if a replicate has none."""
        by_id = {r.case_id: r for r in residuals}
        return _mean_percent([abs(by_id[c].error_share) for c in self.case_ids])


def _mean_percent(shares: Sequence[float]) -> float:
    return 100.0 * sum(shares) / len(shares) if shares else float("nan")


def question_of(case: BenchmarkCase) -> Question:
    """What a case asks: every field but its source, its value and (for a rate) its chip
    count."""
    chips = None if case.metric in RATE_METRICS else case.accelerator_count
    return (
        case.kind,
        case.model,
        case.precision,
        case.accelerator,
        chips,
        case.input_tokens,
        case.output_tokens,
        case.seq_len,
        case.batch,
        case.concurrency,
        case.ttft_limit_s,
        case.tpot_limit_s,
        case.tp,
        case.pp,
        case.metric,
    )


def comparable_value(case: BenchmarkCase) -> float:
    """The value compared across sources: per chip for a whole system's rate."""
    if case.metric in RATE_METRICS:
        return case.value / case.accelerator_count
    return case.value


def replicate_spread(
    cases: Iterable[BenchmarkCase],
    grouping: Callable[[BenchmarkCase], str] = source_group,
) -> ReplicateSpread:
    """Every replicate among ``cases`` but the held-out rounds, and its error share
    against the median of the other sources' values (module docstring)."""
    fitted = [c for c in cases if not held_out(c)]
    asked: dict[Question, list[tuple[str, float]]] = defaultdict(list)
    for case in fitted:
        asked[question_of(case)].append((grouping(case), comparable_value(case)))
    ids: list[str] = []
    errors: list[float] = []
    for case in fitted:
        group = grouping(case)
        others = [v for g, v in asked[question_of(case)] if g != group]
        if not others:
            continue
        value = comparable_value(case)
        ids.append(case.case_id)
        errors.append(abs(statistics.median(others) - value) / value)
    return ReplicateSpread(tuple(ids), tuple(errors))
