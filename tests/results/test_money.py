"""Money prints one way everywhere: whole dollars, short figures, and what is missing."""

from __future__ import annotations

import math

import pytest

from arbiter.results.money import is_number, usd, usd_short


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (1234.4, 0, "$1,234"),
        (1234.5678, 2, "$1,234.57"),
        (-1234.4, 0, "-$1,234"),
        (-0.2, 0, "$0"),  # no "-$0"
        (0, 2, "$0.00"),
        (31_621_167.78, 0, "$31,621,168"),
    ],
)
def test_whole_dollars(value, digits, text):
    assert usd(value, digits) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.62e9, "$1.62B"),
        (-4.334e9, "-$4.33B"),
        (476.74e6, "$476.7M"),
        (12_345.4, "$12,345"),
        (-0.3, "$0"),
    ],
)
def test_short_figures(value, text):
    assert usd_short(value) == text


@pytest.mark.parametrize("value", [None, math.nan, math.inf, True, "12"])
def test_what_is_not_a_number_prints_as_missing(value):
    assert not is_number(value)
    assert usd(value) == "-"
    assert usd(value, missing="&ndash;") == "&ndash;"
    assert usd_short(value) == "n/a"
