"""Fit the efficiency parameters on benchmark cases (robust least squares, SciPy).

Residuals are ``predicted / published - 1`` per case (the error MAPE averages), with a
soft-L1 loss so a few badly missed cases do not drag the fit. Outlier submissions (the
same chips reported at under half their peers' speed, ``validation.outlier_cases``) are
left out of the fit; validation still reports them. Each platform parameter is shrunk
toward a pooled all-platform value with the weight of ``PRIOR_CASES`` cases: a platform
with many results is fitted by them, a platform with none takes the pooled value, and
one with two or three lands in between.
This keeps per-platform parameters few, physical and hard to over-fit.

SciPy is needed only here (``pip install arbiter[dev]``); the model itself is NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from arbiter.domain.accelerator import Accelerator
from arbiter.perf.cases import BenchmarkCase
from arbiter.perf.efficiency import (
    PLATFORM_PARAMETERS,
    PLATFORMS,
    PRIOR,
    Efficiency,
)
from arbiter.perf.predict import Question, Unpredictable, predict
from arbiter.perf.validation import outlier_cases, question_for

PRIOR_CASES = 3.0
SOFT_L1_SCALE = 0.05  # residuals beyond ~5% count linearly: close to the MAPE itself
FITTED_GLOBALS = (
    "train_bf16_share",
    "inference_bf16_share",
    "server_utilisation",
    "scale_loss_per_doubling",
    "train_activation_bytes",
)
BOUNDS = {
    "train_matmul_efficiency": (0.1, 0.95),
    "prefill_efficiency": (0.1, 0.95),
    "decode_compute_efficiency": (0.05, 0.95),
    "decode_bandwidth_utilisation": (0.2, 0.95),
    "layer_overhead_us": (0.5, 500.0),
    "train_bf16_share": (0.0, 1.0),
    "inference_bf16_share": (0.0, 1.0),
    "server_utilisation": (0.4, 1.0),
    "scale_loss_per_doubling": (0.0, 0.5),
    "train_activation_bytes": (1.0, 3000.0),
}
SIGNIFICANT_DIGITS = 4
FIT_TOLERANCE = 1e-6  # relative: well below the 4 significant digits kept


@dataclass(frozen=True, slots=True)
class FitResult:
    efficiency: Efficiency
    cases_used: int
    cases_by_platform: dict[str, int]
    outliers: tuple[str, ...] = ()


def _fp8_gain(bf16_share: float) -> float:
    """Speed-up of a format with twice the BF16 peak when ``bf16_share`` stays at BF16."""
    return 1.0 / ((1.0 - bf16_share) / 2.0 + bf16_share)


def _round(x: float) -> float:
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


def _layout() -> list[tuple[str, str]]:
    """Parameter vector: (platform, parameter) pairs, pooled values, then globals."""
    names = [(p, k) for p in PLATFORMS for k in PLATFORM_PARAMETERS]
    names += [("pooled", k) for k in PLATFORM_PARAMETERS]
    names += [("global", k) for k in FITTED_GLOBALS]
    return names


def _efficiency(x: np.ndarray, names: list[tuple[str, str]]) -> Efficiency:
    platform: dict[str, dict[str, float]] = {p: {} for p in PLATFORMS}
    globals_ = dict(PRIOR.globals_)
    for (scope, key), value in zip(names, x, strict=True):
        if scope in platform:
            platform[scope][key] = float(value)
        elif scope == "global":
            globals_[key] = float(value)
    return Efficiency(platform=platform, globals_=globals_)


def _start_value(eff: Efficiency, scope: str, key: str) -> float:
    if scope == "global":
        return float(eff.globals_[key])
    if scope == "pooled":  # the geometric mean of the platforms' values
        return float(np.exp(np.mean([math.log(eff.platform[p][key]) for p in PLATFORMS])))
    return float(eff.platform[scope][key])


def _sparsity(names: list[tuple[str, str]], platforms: list[str]) -> np.ndarray:
    """Which residual depends on which parameter: a case on its platform's parameters
    and the globals; a shrinkage row on its platform parameter and the pooled one."""
    shrinkage = [i for i, (scope, _) in enumerate(names) if scope in PLATFORMS]
    out = np.zeros((len(platforms) + len(shrinkage), len(names)), dtype=bool)
    for row, platform in enumerate(platforms):
        for i, (scope, _) in enumerate(names):
            out[row, i] = scope in (platform, "global")
    for k, i in enumerate(shrinkage):
        out[len(platforms) + k, i] = True
        out[len(platforms) + k, names.index(("pooled", names[i][1]))] = True
    return out


@dataclass(frozen=True, slots=True)
class _Problem:
    """The fit's least-squares problem: the cases it fits, the parameter layout and the
    residual function of a parameter vector."""

    questions: list[tuple[Question, float]]
    names: list[tuple[str, str]]
    residuals: Callable[[np.ndarray], np.ndarray]
    outliers: frozenset[str]


def _problem(cases: Sequence[BenchmarkCase], accelerators: Mapping[str, Accelerator]) -> _Problem:
    questions: list[tuple[Question, float]] = []
    outliers = outlier_cases(cases)
    for case in cases:
        if case.case_id in outliers:
            continue
        try:
            questions.append((question_for(case, accelerators), case.value))
        except Unpredictable:
            continue
    names = _layout()
    pooled_index = {k: names.index(("pooled", k)) for k in PLATFORM_PARAMETERS}
    shrink = math.sqrt(PRIOR_CASES)

    def residuals(x: np.ndarray) -> np.ndarray:
        eff = _efficiency(x, names)
        out = []
        for q, published in questions:
            try:
                value = predict(q, eff)
            except Unpredictable:
                value = published * 1e-3  # a layout that vanished is a large, finite miss
            out.append(value / published - 1.0)
        for i, (scope, key) in enumerate(names):
            if scope in PLATFORMS:
                out.append(shrink * math.log(x[i] / x[pooled_index[key]]))
        return np.array(out)

    return _Problem(questions, names, residuals, frozenset(outliers))


def soft_l1_cost(residuals: np.ndarray) -> float:
    """The fit's objective for ``residuals``, as SciPy's ``least_squares`` defines it for
    ``loss="soft_l1"`` and ``f_scale`` :data:`SOFT_L1_SCALE`:
    ``0.5 sum C^2 rho((r / C)^2)`` with ``rho(z) = 2 (sqrt(1 + z) - 1)``."""
    z = (residuals / SOFT_L1_SCALE) ** 2
    return float(0.5 * SOFT_L1_SCALE**2 * np.sum(2.0 * (np.sqrt(1.0 + z) - 1.0)))


def objective(
    cases: Sequence[BenchmarkCase], accelerators: Mapping[str, Accelerator], eff: Efficiency
) -> float:
    """The fit's objective (:func:`soft_l1_cost`) at the parameters of ``eff``: what
    :func:`fit` minimises, so a refit can be compared with committed parameters on it."""
    problem = _problem(cases, accelerators)
    x = np.array([_start_value(eff, s, k) for s, k in problem.names])
    return soft_l1_cost(problem.residuals(x))


def fit(
    cases: Sequence[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    *,
    source: str,
    start: Efficiency | None = None,
) -> FitResult:
    """Fit on ``cases`` (outliers and unpredictable cases left out), from the prior, or
    from ``start`` (say the shipped fit, for a leave-one-source-out fold: the same
    optimum, reached in fewer steps). A case depends only on its own platform's
    parameters and the globals, and the shrinkage rows on one platform parameter and its
    pooled value: the Jacobian's sparsity, so finite differences perturb every platform's
    copy of a parameter at once (9 evaluations per step instead of 32)."""
    from scipy.optimize import (  # type: ignore[import-untyped]  # noqa: PLC0415 - loaded on use
        least_squares,
    )

    problem = _problem(cases, accelerators)
    questions, names, residuals = problem.questions, problem.names, problem.residuals
    x0 = np.array(
        [PRIOR.globals_[k] if s == "global" else PRIOR.platform["cuda"][k] for s, k in names]
    )
    if start is not None:
        x0 = np.array([_start_value(start, s, k) for s, k in names])
    lower = np.array([BOUNDS[k][0] for _, k in names])
    upper = np.array([BOUNDS[k][1] for _, k in names])
    x0 = np.clip(x0, lower, upper)
    sparsity = _sparsity(names, [q.accelerator.platform.value for q, _ in questions])

    solution = least_squares(
        residuals,
        x0,
        bounds=(lower, upper),
        loss="soft_l1",
        f_scale=SOFT_L1_SCALE,
        diff_step=1e-4,
        jac_sparsity=sparsity,
        xtol=FIT_TOLERANCE,
        ftol=FIT_TOLERANCE,
        max_nfev=400,
    )
    x = np.array([_round(v) for v in solution.x])
    eff = _efficiency(x, names)
    counts = dict.fromkeys(PLATFORMS, 0)
    for q, _ in questions:
        counts[q.accelerator.platform.value] += 1
    notes = {
        "method": (
            "robust least squares (soft L1, scale "
            f"{SOFT_L1_SCALE}) on predicted/published - 1; platform values shrunk toward "
            f"the pooled value with the weight of {PRIOR_CASES:g} cases"
        ),
        "latency_headroom": (
            "prior, not fitted: no calibration case has its throughput bound by a latency limit"
        ),
        "train_bf16_share": (
            f"fitted: FP8 training runs {_fp8_gain(eff.globals_['train_bf16_share']):.2f}x as "
            "fast as BF16 on a chip whose FP8 peak is twice its BF16 peak (Amdahl's law); "
            "told apart from scale effects once the memory-bound work of a step "
            "(train_activation_bytes) is modelled apart from the matmuls"
        ),
        "train_activation_bytes": (
            "bytes per token, layer and hidden unit that a training step's memory-bound "
            "operations move through HBM (norms, activation functions, residuals, casts)"
        ),
        "layer_overhead_us": (
            "per platform: fixed time per decoder layer and pass of an inference step "
            "(launches, synchronisation, small collectives), fitted on the batch-1 cases"
        ),
        "cases_by_platform": ", ".join(f"{p} {n}" for p, n in counts.items()),
    }
    result = Efficiency(platform=eff.platform, globals_=eff.globals_, fitted_on=source, notes=notes)
    return FitResult(
        efficiency=result,
        cases_used=len(questions),
        cases_by_platform=counts,
        outliers=tuple(sorted(problem.outliers)),
    )
