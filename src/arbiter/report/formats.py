"""The cell formatters of the report templates (their filters).

Each returns HTML that is safe in a page (``Markup``): digits, signs, ``$``, ``%`` and
``&ndash;`` where a value is missing (``None``: a figure the result does not have). Text
from a result never goes through them; the templates escape it. An undefined value (an
attribute the result does not have) raises, as it does everywhere in the templates: a
renamed field fails the report instead of printing as missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup

from arbiter.results import money

__all__ = ["FILTERS", "by_share", "delta", "dollars", "num", "pct", "short", "usd"]

MISSING = "&ndash;"


def _number(value: object) -> float | None:
    """``value`` if it is a finite number, ``None`` if not; an undefined value raises."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # noqa: SLF001 - Jinja's documented way to raise
    return value if money.is_number(value) else None


def _html(formatted: str) -> Markup:
    """A formatter's output as HTML: digits, signs, ``$``, ``%`` and entities only."""
    return Markup(formatted)  # noqa: S704 - no text from a result reaches a formatter


def usd(value: object, digits: int = 2) -> Markup:
    """``$1,234.56`` (``digits`` decimals), ``-$1,234.56`` below zero."""
    return _html(money.usd(_number(value), digits, missing=MISSING))


def dollars(value: object) -> Markup:
    """Whole dollars: expectations over samples and scenarios have no meaningful cents."""
    return usd(value, 0)


def delta(value: object) -> Markup:
    """Whole dollars with their sign in front: ``-$1,234``, ``+$5``."""
    number = _number(value)
    if number is None:
        return _html(MISSING)
    return _html(("-" if number < 0 else "+") + money.usd(abs(number)))


def short(value: object) -> Markup:
    """``$1.62B``, ``-$4.33B``, ``$476.7M``, ``$12,345``: figures over orders of magnitude."""
    return _html(money.usd_short(_number(value), missing=MISSING))


def num(value: object, digits: int = 0) -> Markup:
    """``1,234`` with ``digits`` decimals."""
    number = _number(value)
    if number is None:
        return _html(MISSING)
    return _html(f"{number:,.{digits}f}")


def pct(value: object, missing: str = MISSING) -> Markup:
    """A fraction as ``12.3%``; ``missing`` (HTML) when there is none."""
    number = _number(value)
    if number is None:
        return _html(missing)
    return _html(f"{number * 100:.1f}%")


def by_share(shares: Mapping[str, float]) -> list[tuple[str, float]]:
    """``(name, share)`` pairs, largest share first, then by name."""
    return sorted(shares.items(), key=lambda item: (-item[1], item[0]))


FILTERS: dict[str, Any] = {
    "usd": usd,
    "dollars": dollars,
    "delta": delta,
    "short": short,
    "num": num,
    "pct": pct,
    "by_share": by_share,
}
