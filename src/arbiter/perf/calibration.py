"""Calibration from the user's own runs: a per-chip correction of the model's throughput.

A *calibration profile* holds, per (accelerator, regime), one multiplicative factor on
the model's predicted throughput, fitted on runs the user measured on their own systems
(:mod:`arbiter.perf.user_runs` reads them; ``arbiter perf calibrate`` stores the profile).
``arbiter estimate|plan|risk|procure|deal --calibration NAME`` applies it.

Regimes
-------
Two regimes, ``train`` (pre-training and fine-tuning: case kinds ``train`` and
``finetune_lora``; workload kinds ``train`` and ``finetune``) and ``inference`` (every
``infer_*`` case kind; workload kinds ``serve`` and ``batch``). A finer split into
``prefill`` and ``decode`` is not fitted, because the data a user brings cannot tell them
apart: a vLLM ``benchmark_serving.py`` run reports one output throughput for iterations
that mix prefill and decode, and the model's prediction of that run mixes both phases
too, so a run's ratio is one number about their sum. Separating them needs runs whose
input/output ratios differ widely *and* a two-parameter fit per chip, which a handful of
runs at one request shape does not identify (the two factors trade off against each
other); a single ``inference`` factor is what such data supports. Training and inference
stay apart because they stress different parts of a chip (dense matmuls and collectives;
memory bandwidth and small-batch kernels) and the model's published errors differ by
kind (``docs/perf.md``), so a chip's training speed says little about its serving speed.

The fit
-------
For each of the user's cases the model predicts the case (``predict(question_for(case,
accelerators), default_efficiency())``, the same path ``arbiter perf validate`` takes)
and the *ratio* ``r = published / predicted`` is taken in the direction of throughput
(``predicted / published`` for a ``tpot_s`` case, where a faster chip has the smaller
value). Per (accelerator, regime) with ``n`` cases:

    raw     = exp(mean(log r))                        the geometric mean of the ratios
    factor  = exp(n / (n + PRIOR_CASES) * mean(log r))  shrunk toward 1
    spread  = sd(log r)  (n - 1 in the denominator; None for one case)

The shrinkage weighs the model as ``PRIOR_CASES`` (3) cases at ratio 1, as the model's
own fit shrinks a platform's parameters and the error bands shrink a platform's band: one
run moves the estimate a quarter of the way (in log terms) toward it, three runs half
way, twelve runs four fifths. ``spread`` says how consistent the runs are with one factor:
a large spread means the model's error on that chip depends on the workload, and a single
factor corrects the average only. Cases the model cannot predict are kept in ``skipped``
with the reason, never dropped silently.

How a factor is applied
-----------------------
A factor ``f`` on chip ``X`` and regime ``R`` reads "``X`` runs ``R`` work ``f`` times as
fast as the model says": every step time of the model on ``X`` is divided by ``f``
(:func:`arbiter.perf.estimate.estimate_workload` with ``calibration=``). For training and
offline inference that multiplies the throughput by exactly ``f`` (the best layout and
batch do not change); for a service under latency limits the SLO is checked on the
corrected latencies, so the batch a replica may hold changes with them. Only estimates
of the model on chip ``X`` in regime ``R`` change: other chips and other regimes are
untouched (bit for bit), and a throughput the workload file measured itself (``measured:``)
replaces the model as before, uncorrected. The error band of an estimate is the model's,
unchanged: a profile of a few runs does not measure the out-of-sample error.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.errors import InputError
from arbiter.domain.workload import WorkloadKind
from arbiter.perf.cases import BenchmarkCase, CaseKind, CaseMetric
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.predict import Unpredictable, predict
from arbiter.perf.validation import question_for

PRIOR_CASES = 3.0
FORMAT_VERSION = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_VALID = (
    "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit "
    "(e.g. lab-h100-2026q1)"
)


class Regime(enum.StrEnum):
    """Which kind of work a factor corrects (see the module docstring)."""

    TRAIN = "train"
    INFERENCE = "inference"


def case_regime(kind: CaseKind) -> Regime:
    return Regime.TRAIN if kind.is_training else Regime.INFERENCE


def workload_regime(kind: WorkloadKind) -> Regime:
    if kind in (WorkloadKind.TRAIN, WorkloadKind.FINETUNE):
        return Regime.TRAIN
    return Regime.INFERENCE


def check_name(name: str) -> str:
    """``name`` stripped, if it is a valid profile name; else an InputError on ``--name``."""
    text = name.strip()
    if not NAME_PATTERN.match(text):
        raise InputError(f"{text[:70]!r} is not a profile name", field="--name", valid=NAME_VALID)
    return text


def efficiency_fingerprint(eff: Efficiency) -> str:
    """Which fitted parameters the predictions came from: ``fitted_on`` and a hash."""
    digest = hashlib.sha256(eff.to_json().encode("utf-8")).hexdigest()[:12]
    return f"{eff.fitted_on or 'unnamed'} ({digest})"


# --- the profile -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseRatio:
    """One of the user's cases against the model: ``ratio`` is published/predicted in the
    direction of throughput (inverted for ``tpot_s``)."""

    case_id: str
    accelerator: str  # canonical name
    regime: Regime
    kind: str
    metric: str
    predicted: float
    published: float

    @property
    def ratio(self) -> float:
        if self.metric == CaseMetric.TPOT_S.value:
            return self.predicted / self.published
        return self.published / self.predicted


@dataclass(frozen=True, slots=True)
class ChipFactor:
    """The correction of one (accelerator, regime): ``factor`` is applied, ``raw`` is the
    unshrunk geometric mean, ``spread`` the standard deviation of the log ratios."""

    accelerator: str
    regime: Regime
    factor: float
    raw: float
    cases: int
    spread: float | None
    case_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a profile came from."""

    file: str  # the measurements' file name
    file_sha256: str
    created: str  # ISO 8601, UTC
    arbiter_version: str
    cases: int  # cases the factors were fitted on
    format: str  # cases, vllm or train-log
    efficiency: str  # efficiency_fingerprint of the parameters predicted with


@dataclass(frozen=True, slots=True)
class Skipped:
    case_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CalibrationProfile:
    """A named set of per-(accelerator, regime) factors, with what they were fitted on."""

    name: str
    factors: tuple[ChipFactor, ...]
    provenance: Provenance
    ratios: tuple[CaseRatio, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    prior_cases: float = PRIOR_CASES

    def factor(self, accelerator: str, regime: Regime) -> float:
        """The factor on ``accelerator`` (canonical name) for ``regime``; 1 where none."""
        for f in self.factors:
            if f.accelerator == accelerator and f.regime is regime:
                return f.factor
        return 1.0

    def speeds(self, accelerators: Sequence[str], regime: Regime) -> np.ndarray | None:
        """The factor of each of ``accelerators`` for ``regime`` as an array, or None when
        every one is 1 (nothing to correct)."""
        found = np.array([self.factor(a, regime) for a in accelerators], dtype=np.float64)
        return None if bool((found == 1.0).all()) else found

    def key(self) -> tuple[tuple[str, str, float], ...]:
        """What estimates depend on: the factors (a cache key)."""
        return tuple((f.accelerator, f.regime.value, f.factor) for f in self.factors)

    def summary(self) -> dict[str, Any]:
        """What a command's JSON provenance shows of the profile it applied."""
        p = self.provenance
        return {
            "name": self.name,
            "cases": p.cases,
            "file": p.file,
            "file_sha256": p.file_sha256,
            "created": p.created,
            "efficiency": p.efficiency,
            "factors": [
                {
                    "accelerator": f.accelerator,
                    "regime": f.regime.value,
                    "factor": f.factor,
                    "cases": f.cases,
                }
                for f in self.factors
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        p = self.provenance
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "prior_cases": self.prior_cases,
            "factors": [
                {
                    "accelerator": f.accelerator,
                    "regime": f.regime.value,
                    "factor": f.factor,
                    "raw_factor": f.raw,
                    "cases": f.cases,
                    "spread_log": f.spread,
                    "case_ids": list(f.case_ids),
                }
                for f in self.factors
            ],
            "cases": [
                {
                    "case_id": r.case_id,
                    "accelerator": r.accelerator,
                    "regime": r.regime.value,
                    "kind": r.kind,
                    "metric": r.metric,
                    "predicted": r.predicted,
                    "published": r.published,
                    "ratio": r.ratio,
                }
                for r in self.ratios
            ],
            "skipped": [{"case_id": s.case_id, "reason": s.reason} for s in self.skipped],
            "provenance": {
                "file": p.file,
                "file_sha256": p.file_sha256,
                "created": p.created,
                "arbiter_version": p.arbiter_version,
                "cases": p.cases,
                "format": p.format,
                "efficiency": p.efficiency,
            },
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> CalibrationProfile:
        """The profile :meth:`to_dict` wrote; raises ValueError (or KeyError, TypeError)
        on a document of another shape."""
        if doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unknown format_version {doc.get('format_version')!r}")
        p = doc["provenance"]
        factors = tuple(
            ChipFactor(
                accelerator=str(f["accelerator"]),
                regime=Regime(f["regime"]),
                factor=_positive(f["factor"]),
                raw=_positive(f["raw_factor"]),
                cases=int(f["cases"]),
                spread=None if f["spread_log"] is None else float(f["spread_log"]),
                case_ids=tuple(str(c) for c in f["case_ids"]),
            )
            for f in doc["factors"]
        )
        ratios = tuple(
            CaseRatio(
                case_id=str(r["case_id"]),
                accelerator=str(r["accelerator"]),
                regime=Regime(r["regime"]),
                kind=str(r["kind"]),
                metric=str(r["metric"]),
                predicted=_positive(r["predicted"]),
                published=_positive(r["published"]),
            )
            for r in doc.get("cases", [])
        )
        skipped = tuple(
            Skipped(str(s["case_id"]), str(s["reason"])) for s in doc.get("skipped", [])
        )
        return cls(
            name=str(doc["name"]),
            factors=factors,
            provenance=Provenance(
                file=str(p["file"]),
                file_sha256=str(p["file_sha256"]),
                created=str(p["created"]),
                arbiter_version=str(p["arbiter_version"]),
                cases=int(p["cases"]),
                format=str(p["format"]),
                efficiency=str(p["efficiency"]),
            ),
            ratios=ratios,
            skipped=skipped,
            prior_cases=float(doc.get("prior_cases", PRIOR_CASES)),
        )


def _positive(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{value!r} is not a finite number > 0")
    return number


# --- fitting -----------------------------------------------------------------------------


def case_ratios(
    cases: Iterable[BenchmarkCase], accelerators: Mapping[str, Accelerator], eff: Efficiency
) -> tuple[tuple[CaseRatio, ...], tuple[Skipped, ...]]:
    """Each case predicted by the model, or skipped with the reason it cannot be."""
    ratios: list[CaseRatio] = []
    skipped: list[Skipped] = []
    for case in cases:
        try:
            question = question_for(case, accelerators)
            predicted = predict(question, eff)
        except Unpredictable as exc:
            skipped.append(Skipped(case.case_id, str(exc)))
            continue
        if not math.isfinite(predicted) or predicted <= 0:
            skipped.append(Skipped(case.case_id, f"the model predicts {predicted:g}"))
            continue
        ratios.append(
            CaseRatio(
                case_id=case.case_id,
                accelerator=question.accelerator.name,
                regime=case_regime(case.kind),
                kind=case.kind.value,
                metric=case.metric.value,
                predicted=predicted,
                published=case.value,
            )
        )
    return tuple(ratios), tuple(skipped)


def fit_factors(
    ratios: Iterable[CaseRatio], prior_cases: float = PRIOR_CASES
) -> tuple[ChipFactor, ...]:
    """Per (accelerator, regime) of ``ratios``: the shrunk geometric mean (module
    docstring), sorted by accelerator then regime."""
    groups: dict[tuple[str, Regime], list[CaseRatio]] = {}
    for r in ratios:
        groups.setdefault((r.accelerator, r.regime), []).append(r)
    out = []
    for (accelerator, regime), members in sorted(groups.items()):
        logs = np.log(np.array([m.ratio for m in members], dtype=np.float64))
        n = len(members)
        mean = float(logs.mean())
        out.append(
            ChipFactor(
                accelerator=accelerator,
                regime=regime,
                factor=math.exp(n / (n + prior_cases) * mean),
                raw=math.exp(mean),
                cases=n,
                spread=float(logs.std(ddof=1)) if n > 1 else None,
                case_ids=tuple(m.case_id for m in members),
            )
        )
    return tuple(out)


def fit_profile(
    name: str,
    cases: Sequence[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    eff: Efficiency,
    *,
    file: str,
    file_sha256: str,
    arbiter_version: str,
    run_format: str,
    created: dt.datetime | None = None,
    prior_cases: float = PRIOR_CASES,
) -> CalibrationProfile:
    """The profile ``name`` fitted on ``cases`` read from ``file`` (its name is kept in
    the provenance); an InputError naming ``file`` when the model can predict none."""
    ratios, skipped = case_ratios(cases, accelerators, eff)
    if not ratios:
        reasons = "; ".join(f"{s.case_id}: {s.reason}" for s in skipped[:5])
        more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
        raise InputError(
            f"the model can predict none of the {len(cases)} measurements, so there is "
            f"nothing to calibrate on ({reasons}{more})",
            file=file,
            valid="runs of a known model on a known accelerator in a layout the model "
            "can build (`arbiter perf models`, `arbiter catalog accelerators`)",
        )
    when = dt.datetime.now(dt.UTC) if created is None else created.astimezone(dt.UTC)
    return CalibrationProfile(
        name=check_name(name),
        factors=fit_factors(ratios, prior_cases),
        provenance=Provenance(
            file=PurePath(file).name,
            file_sha256=file_sha256,
            created=when.isoformat(timespec="seconds"),
            arbiter_version=arbiter_version,
            cases=len(ratios),
            format=run_format,
            efficiency=efficiency_fingerprint(eff),
        ),
        ratios=ratios,
        skipped=skipped,
        prior_cases=prior_cases,
    )
