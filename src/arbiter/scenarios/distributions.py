"""Inverse CDFs of the scenario distributions, vectorised over NumPy arrays.

:func:`ppf` maps probabilities ``u`` in [0, 1] to values of a
:class:`~arbiter.domain.scenario.Distribution`, so a sampler draws uniforms once and turns
them into any family (inverse-transform sampling). Lognormal quantiles use
:func:`scipy.special.ndtri` and beta quantiles :func:`scipy.special.betaincinv` (with its
tail asymptote where it gives up).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import beta, betaincinv, ndtri  # type: ignore[import-untyped]

from arbiter.domain.scenario import Distribution

FloatArray = npt.NDArray[np.float64]


def _triangular(lo: float, mode: float, hi: float, u: FloatArray) -> FloatArray:
    width = hi - lo
    if width == 0:
        return np.full_like(u, lo)
    cut = (mode - lo) / width
    left = lo + np.sqrt(u * width * (mode - lo))
    right = hi - np.sqrt((1.0 - u) * width * (hi - mode))
    return np.where(u < cut, left, right)


def ppf(dist: Distribution, u: FloatArray) -> FloatArray:
    """The ``u`` quantiles of ``dist``, element by element (same shape as ``u``).

    ``u`` must lie in [0, 1]; at 0 and 1 the result is the support's end (for a lognormal
    0 and ``inf``).
    """
    u = np.asarray(u, dtype=np.float64)
    p = dist.params
    if dist.kind == "fixed":
        return np.full_like(u, p[0])
    if dist.kind == "uniform":
        lo, hi = p
        return lo + (hi - lo) * u
    if dist.kind == "triangular":
        return _triangular(p[0], p[1], p[2], u)
    if dist.kind == "lognormal":
        median, sigma = p
        return np.asarray(median * np.exp(sigma * ndtri(u)), dtype=np.float64)
    a, b, lo, hi = p
    return lo + (hi - lo) * _beta_quantile(a, b, u)


def _beta_quantile(a: float, b: float, u: FloatArray) -> FloatArray:
    """Quantiles of Beta(a, b) on [0, 1].

    ``betaincinv`` gives up (NaN) deep in a tail (``u`` below about 1e-200); there the
    leading term of the incomplete beta function, I_x(a, b) ~ x^a / (a B(a, b)), is exact
    to double precision, so it is inverted instead (and likewise for the upper tail).
    """
    x = np.asarray(betaincinv(a, b, u), dtype=np.float64)
    lost = np.isnan(x) & ~np.isnan(u)
    if lost.any():
        scale = float(beta(a, b))
        lower = (u * a * scale) ** (1.0 / a)
        upper = 1.0 - ((1.0 - u) * b * scale) ** (1.0 / b)
        x = np.where(lost, np.clip(np.where(u < 0.5, lower, upper), 0.0, 1.0), x)
    return x
