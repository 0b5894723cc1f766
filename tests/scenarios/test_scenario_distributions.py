"""The inverse CDFs against scipy.stats, which is an independent implementation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from arbiter.domain.scenario import Distribution
from arbiter.scenarios.distributions import ppf

U = np.concatenate([[0.0, 1e-9, 0.001], np.linspace(0.01, 0.99, 99), [0.999, 1 - 1e-9, 1.0]])


def reference(dist: Distribution):
    """The scipy.stats frozen distribution equal to ``dist``."""
    p = dist.params
    if dist.kind == "uniform":
        return stats.uniform(loc=p[0], scale=p[1] - p[0])
    if dist.kind == "triangular":
        lo, mode, hi = p
        return stats.triang(c=(mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    if dist.kind == "lognormal":
        return stats.lognorm(s=p[1], scale=p[0])
    a, b, lo, hi = p
    return stats.beta(a, b, loc=lo, scale=hi - lo)


CASES = [
    Distribution("uniform", (0.0, 60.0)),
    Distribution("uniform", (1.2, 1.8)),
    Distribution("triangular", (0.3, 0.6, 0.9)),
    Distribution("triangular", (30.0, 30.0, 120.0)),  # mode at lo
    Distribution("triangular", (1.0, 2.0, 2.0)),  # mode at hi
    Distribution("triangular", (-1.0, 0.25, 3.0)),
    Distribution("lognormal", (30.0, 0.5)),
    Distribution("lognormal", (1.0, 1.5)),
    Distribution("lognormal", (0.2, 0.05)),
    Distribution("beta", (2.0, 5.0, 0.0, 1.0)),
    Distribution("beta", (0.5, 0.5, 0.2, 0.9)),
    Distribution("beta", (8.0, 2.0, 1.0, 4.0)),
]


@pytest.mark.parametrize("dist", CASES, ids=[f"{d.kind}{d.params}" for d in CASES])
def test_ppf_matches_scipy(dist):
    got = ppf(dist, U)
    want = reference(dist).ppf(U)
    assert got.shape == U.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dist", CASES, ids=[f"{d.kind}{d.params}" for d in CASES])
def test_mean_matches_scipy(dist):
    assert dist.mean == pytest.approx(reference(dist).mean(), rel=1e-12)


def test_fixed_is_constant_and_keeps_the_shape():
    u = np.random.default_rng(1).random((3, 4))
    got = ppf(Distribution.fixed(7.0), u)
    assert got.shape == (3, 4)
    assert np.all(got == 7.0)
    assert Distribution.fixed(7.0).mean == 7.0
    assert np.all(ppf(Distribution.fixed(math.inf), u) == math.inf)


def test_degenerate_ranges_are_their_single_value():
    u = np.array([0.0, 0.3, 1.0])
    for dist in (
        Distribution("uniform", (2.0, 2.0)),
        Distribution("triangular", (2.0, 2.0, 2.0)),
        Distribution("beta", (2.0, 3.0, 2.0, 2.0)),
    ):
        np.testing.assert_array_equal(ppf(dist, u), [2.0, 2.0, 2.0])
        assert dist.mean == 2.0


def test_ppf_is_vectorised_over_any_shape():
    u = np.random.default_rng(2).random((2, 3, 5))
    dist = Distribution("lognormal", (30.0, 0.5))
    got = ppf(dist, u)
    assert got.shape == u.shape
    np.testing.assert_allclose(got.ravel(), reference(dist).ppf(u.ravel()), rtol=1e-9)


families = st.sampled_from(["uniform", "triangular", "lognormal", "beta"])
positive = st.floats(0.05, 20, allow_nan=False)


@st.composite
def distributions(draw):
    kind = draw(families)
    lo = draw(st.floats(-100, 100))
    width = draw(st.floats(0.01, 100))
    if kind == "uniform":
        return Distribution(kind, (lo, lo + width))
    if kind == "triangular":
        frac = draw(st.floats(0, 1))
        return Distribution(kind, (lo, lo + frac * width, lo + width))
    if kind == "lognormal":
        return Distribution(kind, (draw(positive), draw(st.floats(0.01, 3))))
    return Distribution(kind, (draw(positive), draw(positive), lo, lo + width))


@settings(max_examples=200, deadline=None)
@given(distributions(), st.lists(st.floats(0, 1, exclude_max=True), min_size=2, max_size=20))
def test_ppf_is_monotone_and_stays_in_the_support(dist, us):
    u = np.sort(np.array(us))
    got = ppf(dist, u)
    lo, hi = dist.support
    assert np.all(np.diff(got) >= -1e-9 * max(1.0, abs(hi) if math.isfinite(hi) else 1.0))
    assert np.all(got >= lo - 1e-9 * max(1.0, abs(lo)))
    assert np.all(got <= hi + (1e-9 * max(1.0, abs(hi)) if math.isfinite(hi) else 0))


def test_beta_deep_in_the_tail_is_finite_and_follows_the_asymptote():
    # scipy's betaincinv returns NaN here; I_x(a, b) ~ x^a / (a B(a, b)) as x -> 0, and
    # B(2, 4) = 1! 3! / 5! = 1/20, so x = (u * 2 / 20) ** (1/2)
    u = np.array([1e-280, 1e-300, 0.0])
    got = ppf(Distribution("beta", (2.0, 4.0, 0.0, 1.0)), u)
    np.testing.assert_allclose(got[:2], np.sqrt(u[:2] / 10), rtol=1e-9)
    assert got[2] == 0.0
    stretched = ppf(Distribution("beta", (2.0, 4.0, 1.0, 3.0)), u)
    np.testing.assert_allclose(stretched, 1.0 + 2.0 * got, rtol=1e-12)
