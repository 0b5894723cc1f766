"""Monte Carlo samples of a :class:`~arbiter.domain.scenario.ScenarioSet`, correlated
through shared factors, vectorised over samples and deterministic in the seed.

One generator per chunk draws, in this fixed order: the factor normals ``F`` (one row per
factor), the shock normals ``eps`` (per shock: occurrence, severity), and the uniforms
(per shock: start, duration). For a shock with factor ``k`` and loading ``rho``:

- it occurs iff ``rho F_k + sqrt(1 - rho^2) eps_occ > Phi^-1(1 - p)``: a standard normal,
  so the marginal probability is exactly ``p``, and a high ``F_k`` makes every shock on
  the factor likelier;
- its severity normal ``z = rho F_k + sqrt(1 - rho^2) eps_sev`` becomes ``u = Phi(z)``
  and its magnitude is the ``1 - u`` quantile for a ``supply_cut`` (less capacity left is
  worse) and the ``u`` quantile otherwise, so a high ``F_k`` also makes them more severe;
- start and duration are quantiles of the uniforms (a ``roadmap_slip`` starts at 0 and
  lasts its magnitude).

Magnitudes, starts and durations are drawn for every sample; they matter only where
``occurred`` is true. :func:`sample_all` splits ``n`` samples into fixed chunks of
:data:`CHUNK_SIZE` seeded by ``SeedSequence(seed).spawn``, so the result depends only on
the scenarios, ``n`` and ``seed``, never on how (or where) the chunks are computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri  # type: ignore[import-untyped]

from arbiter.domain.scenario import ScenarioSet, ShockKind
from arbiter.scenarios.distributions import FloatArray, ppf

BoolArray = npt.NDArray[np.bool_]

CHUNK_SIZE = 250
"""Samples per chunk in :func:`chunk_plan`; part of what fixes the samples for a seed."""

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True, eq=False)
class Samples:
    """Samples of every shock: arrays shaped ``(n_shocks, n)``, rows in the order of
    ``ScenarioSet.shocks``, one column per sample."""

    occurred: BoolArray
    magnitude: FloatArray
    start_days: FloatArray
    duration_days: FloatArray

    def __post_init__(self) -> None:
        shape = self.occurred.shape
        if len(shape) != 2:
            msg = f"samples must be 2-D (n_shocks, n), got shape {shape}"
            raise ValueError(msg)
        for name in ("magnitude", "start_days", "duration_days"):
            if getattr(self, name).shape != shape:
                msg = f"{name} has shape {getattr(self, name).shape}, occurred {shape}"
                raise ValueError(msg)

    @property
    def n(self) -> int:
        """The number of samples."""
        return int(self.occurred.shape[1])

    @classmethod
    def concatenate(cls, parts: Sequence[Samples]) -> Samples:
        """The samples of ``parts`` side by side, in order."""
        if not parts:
            msg = "nothing to concatenate"
            raise ValueError(msg)
        return cls(
            occurred=np.concatenate([p.occurred for p in parts], axis=1),
            magnitude=np.concatenate([p.magnitude for p in parts], axis=1),
            start_days=np.concatenate([p.start_days for p in parts], axis=1),
            duration_days=np.concatenate([p.duration_days for p in parts], axis=1),
        )


def _float(values: object) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def sample(scenarios: ScenarioSet, n: int, seed: np.random.SeedSequence) -> Samples:
    """``n`` samples of every shock in ``scenarios``, drawn from a generator on ``seed``."""
    if n < 0:
        msg = f"n must be >= 0, got {n}"
        raise ValueError(msg)
    shocks = scenarios.shocks
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((len(scenarios.factors), n))
    eps = rng.standard_normal((len(shocks), 2, n))
    uniforms = rng.random((len(shocks), 2, n))

    # A shock without a factor reads an all-zero row appended below the factors.
    padded = np.vstack([factors, np.zeros((1, n))])
    rows = [scenarios.factor_index(s) for s in shocks]
    common = padded[[len(scenarios.factors) if r is None else r for r in rows]]
    rho = _float([s.loading for s in shocks])[:, None]
    rest = np.sqrt(1.0 - rho**2)

    z_occurs = rho * common + rest * eps[:, 0]
    threshold = -_float(ndtri(_float([s.probability for s in shocks])))[:, None]
    occurred = z_occurs > threshold

    z_severity = rho * common + rest * eps[:, 1]
    u = np.clip(_float(ndtr(z_severity)), _EPS, 1.0 - _EPS)
    starts = np.clip(uniforms[:, 0], _EPS, 1.0 - _EPS)
    durations = np.clip(uniforms[:, 1], _EPS, 1.0 - _EPS)

    magnitude = np.empty((len(shocks), n))
    start_days = np.empty((len(shocks), n))
    duration_days = np.empty((len(shocks), n))
    for i, shock in enumerate(shocks):
        worse = 1.0 - u[i] if shock.kind is ShockKind.SUPPLY_CUT else u[i]
        magnitude[i] = ppf(shock.magnitude, worse)
        if shock.kind is ShockKind.ROADMAP_SLIP:
            start_days[i] = 0.0
            duration_days[i] = magnitude[i]
        else:
            start_days[i] = ppf(shock.start_days, starts[i])
            duration_days[i] = ppf(shock.duration_days, durations[i])
    return Samples(
        occurred=occurred,
        magnitude=magnitude,
        start_days=start_days,
        duration_days=duration_days,
    )


def chunk_plan(n: int, seed: int) -> list[tuple[int, np.random.SeedSequence]]:
    """``n`` samples as chunks of :data:`CHUNK_SIZE` (the last may be smaller), each with
    its own child of ``SeedSequence(seed)``; chunk ``i`` is the same for every ``n`` that
    reaches it."""
    if n <= 0:
        msg = f"n must be > 0, got {n}"
        raise ValueError(msg)
    count = math.ceil(n / CHUNK_SIZE)
    children = np.random.SeedSequence(seed).spawn(count)
    sizes = [CHUNK_SIZE] * (count - 1) + [n - CHUNK_SIZE * (count - 1)]
    return list(zip(sizes, children, strict=True))


def sample_all(scenarios: ScenarioSet, n: int, seed: int) -> Samples:
    """``n`` samples of ``scenarios``: :func:`sample` of every chunk of
    :func:`chunk_plan`, side by side in chunk order."""
    return Samples.concatenate(
        [sample(scenarios, size, child) for size, child in chunk_plan(n, seed)]
    )
