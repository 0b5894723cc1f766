"""One quantile for risk, deals and procurement: against the definition worked by hand and
a brute force that walks the sorted values, with and without weights."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.measures import quantile

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
levels = st.floats(min_value=0.0, max_value=1.0)


def by_rank(values: list[float], q: float) -> float:
    """Definition 7 by hand: rank h = (n - 1) q between the sorted values."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def by_mass(values: list[float], weights: list[float], q: float) -> float:
    """The weighted rule walked run by run: equal (positive-weight) values form a run over
    their mass, standing from half their mean weight after its start to half before its
    end; positions rescaled to [0, 1], straight lines between them."""
    runs: dict[float, list[float]] = {}
    for v, w in zip(values, weights, strict=True):
        if w > 0:
            runs.setdefault(v, []).append(w)
    points, before = [], 0.0
    for v in sorted(runs):
        mass, k = sum(runs[v]), len(runs[v])
        points.append((before + mass / k / 2, v))
        if k > 1:
            points.append((before + mass - mass / k / 2, v))
        before += mass
    if len(points) == 1:
        return points[0][1]
    first, last = points[0][0], points[-1][0]
    points = [((p - first) / (last - first), v) for p, v in points]
    for (p0, v0), (p1, v1) in itertools.pairwise(points):
        if p0 <= q <= p1:
            return v0 + (q - p0) / (p1 - p0) * (v1 - v0)
    return points[-1][1]


def test_by_hand():
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert quantile([10.0, 20.0, 30.0, 40.0, 50.0], 0.95) == pytest.approx(48.0)  # 4 x 0.95
    # three scenarios of 0.25, 0.5, 0.25 stand at 0, 0.5 and 1
    assert quantile([30.0, 10.0, 20.0], 0.95, [0.25, 0.25, 0.5]) == pytest.approx(29.0)
    assert quantile([30.0, 10.0, 20.0], 0.25, [0.25, 0.25, 0.5]) == pytest.approx(15.0)
    # weights in proportion, and a value of weight 0 that does not count
    assert quantile([1.0, 2.0, 100.0], 0.5, [2.0, 2.0, 0.0]) == pytest.approx(1.5)
    # a tie of weights 1 and 3 (mean 2) over the mass 0..4 runs from 1 to 3, then 4 stands
    # at 5.5 and 6 at 8.5 (rescaled: 0, 0.2667, 0.6, 1); the tie's order does not matter
    for tie in ([1.0, 3.0], [3.0, 1.0]):
        got = quantile([2.0, 2.0, 4.0, 6.0], 0.5, [*tie, 3.0, 3.0])
        assert got == pytest.approx(2.0 + (0.5 - 2 / 7.5) / (2.5 / 7.5) * 2.0)


def test_the_ends_are_the_extremes_and_one_value_is_itself():
    assert quantile([3.0, -1.0, 7.0], 0.0) == -1.0 and quantile([3.0, -1.0, 7.0], 1.0) == 7.0
    assert quantile([5.0], 0.3) == 5.0 and quantile([5.0, 9.0], 0.7, [1.0, 0.0]) == 5.0


@pytest.mark.parametrize(
    ("values", "q", "weights", "match"),
    [
        ([], 0.5, None, "no values"),
        ([1.0], 1.5, None, r"not in \[0, 1\]"),
        ([1.0, 2.0], 0.5, [1.0], "one finite"),
        ([1.0, 2.0], 0.5, [1.0, -1.0], "non-negative"),
        ([1.0, 2.0], 0.5, [0.0, 0.0], "every weight is 0"),
    ],
)
def test_bad_arguments(values, q, weights, match):
    with pytest.raises(ValueError, match=match):
        quantile(values, q, weights)


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), levels)
def test_equally_likely_values_match_the_rank_rule_and_numpy(values, q):
    expected = by_rank(values, q)
    assert quantile(values, q) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert quantile(values, q) == float(np.quantile(values, q))  # what reports printed
    # equal weights, of any size, are the same rule
    equal = [0.37] * len(values)
    assert quantile(values, q, equal) == pytest.approx(expected, rel=1e-9, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(finite, st.floats(min_value=0.0, max_value=5.0)), min_size=1, max_size=30),
    levels,
)
def test_weighted_values_match_the_brute_force(pairs, q):
    values = [v for v, _ in pairs]
    weights = [w if w > 1e-3 else 0.0 for _, w in pairs]
    if not any(weights):
        weights[0] = 1.0
    got = quantile(values, q, weights)
    assert got == pytest.approx(by_mass(values, weights, q), rel=1e-9, abs=1e-6)
    # it lies between the values that count, and mirrors: Q(-x, 1 - q) = -Q(x, q)
    counted = [v for v, w in zip(values, weights, strict=True) if w > 0]
    assert min(counted) - 1e-9 <= got <= max(counted) + 1e-9
    mirrored = quantile([-v for v in values], 1.0 - q, weights)
    assert mirrored == pytest.approx(-got, rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(finite, st.floats(min_value=0.01, max_value=5.0)), min_size=2, max_size=20),
    levels,
    levels,
)
def test_a_higher_level_never_gives_a_lower_quantile(pairs, a, b):
    values, weights = [v for v, _ in pairs], [w for _, w in pairs]
    lo, hi = min(a, b), max(a, b)
    assert quantile(values, lo, weights) <= quantile(values, hi, weights) + 1e-9
