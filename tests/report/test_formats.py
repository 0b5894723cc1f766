"""The template filters: money and numbers as the tables print them, a dash for a
figure the result does not have, and an error for an attribute it lacks."""

from __future__ import annotations

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from arbiter.report import formats
from arbiter.report.page import environment


@pytest.mark.parametrize(
    ("value", "usd", "dollars", "delta", "short", "pct"),
    [
        (1234.567, "$1,234.57", "$1,235", "+$1,235", "$1,235", "123456.7%"),
        (-1234.4, "-$1,234.40", "-$1,234", "-$1,234", "-$1,234", "-123440.0%"),
        (
            1.62e9,
            "$1,620,000,000.00",
            "$1,620,000,000",
            "+$1,620,000,000",
            "$1.62B",
            "162000000000.0%",
        ),
        (0.125, "$0.12", "$0", "+$0", "$0", "12.5%"),
        (None, "&ndash;", "&ndash;", "&ndash;", "&ndash;", "&ndash;"),
        (float("nan"), "&ndash;", "&ndash;", "&ndash;", "&ndash;", "&ndash;"),
    ],
)
def test_filters(value, usd, dollars, delta, short, pct):
    assert formats.usd(value) == usd
    assert formats.dollars(value) == dollars
    assert formats.delta(value) == delta
    assert formats.short(value) == short
    assert formats.pct(value) == pct


def test_by_share_orders_largest_first_then_by_name():
    shares = {"b": 0.25, "a": 0.25, "c": 0.5}
    assert formats.by_share(shares) == [("c", 0.5), ("a", 0.25), ("b", 0.25)]


@pytest.mark.parametrize("name", ["usd", "dollars", "delta", "short", "num", "pct"])
def test_an_undefined_value_raises_in_every_filter(name):
    env = Environment(undefined=StrictUndefined)
    env.filters.update(formats.FILTERS)
    template = env.from_string(f"{{{{ result.total_usd|{name} }}}}")
    with pytest.raises(UndefinedError, match="total_usd"):
        template.render(result=object())


def test_the_report_environment_escapes_and_is_strict():
    env = environment()
    assert env.from_string("{{ name }}").render(name="<b>") == "&lt;b&gt;"
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()
