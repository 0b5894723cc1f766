"""Money as every table, report and message prints it: one place for the format.

- :func:`usd`: ``$1,234`` (``digits`` decimals), ``-$1,234`` below zero;
- :func:`usd_short`: ``$1.62B``, ``-$4.33B``, ``$476.7M``, ``$12,345``, for figures
  that span orders of magnitude (deals);
- anything that is not a finite number prints as ``missing``.
"""

from __future__ import annotations

import math
from typing import TypeGuard


def is_number(value: object) -> TypeGuard[float]:
    """A finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def usd(value: object, digits: int = 0, *, missing: str = "-") -> str:
    """``$1,234`` with ``digits`` decimals; ``missing`` when not a number."""
    if not is_number(value):
        return missing
    body = f"{abs(value):,.{digits}f}"
    return ("-" if value < 0 and body.strip("0.,") else "") + "$" + body


def usd_short(value: object, *, missing: str = "n/a") -> str:
    """``$1.62B``, ``$476.7M``, ``$12,345``; ``missing`` when not a number."""
    if not is_number(value):
        return missing
    x = abs(float(value))
    body = f"{x / 1e9:,.2f}B" if x >= 1e9 else f"{x / 1e6:,.1f}M" if x >= 1e6 else f"{x:,.0f}"
    return ("-" if value < 0 and body != "0" else "") + "$" + body
