"""The date of a price observation: a day, a month, or an interval of either."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass(frozen=True, slots=True, order=True)
class AsOf:
    """When a price was observed. ``start``..``end`` (inclusive) bound the observation.

    ``text`` keeps the source's own form: ``2026-01-21`` (a day), ``2026-07`` (a month)
    or ``2024-12/2025-06`` (an ISO-8601 interval, for undated snapshots).
    """

    end: dt.date
    start: dt.date
    text: str

    @classmethod
    def parse(cls, text: str) -> AsOf:
        """Parse a day, a month or an interval ``A/B`` of days or months.

        Raises ``ValueError`` naming the accepted forms.
        """
        raw = text.strip()
        if "/" in raw:
            left, _, right = raw.partition("/")
            start = _bounds(left)[0]
            end = _bounds(right)[1]
        else:
            start, end = _bounds(raw)
        if end < start:
            raise ValueError(f"as_of interval {text!r} ends before it starts")
        return cls(end=end, start=start, text=raw)

    @classmethod
    def of_day(cls, day: dt.date) -> AsOf:
        return cls(end=day, start=day, text=day.isoformat())

    def age_days(self, today: dt.date) -> int:
        """Days from the latest possible observation date to ``today``."""
        return (today - self.end).days


def _bounds(part: str) -> tuple[dt.date, dt.date]:
    part = part.strip()
    if _DAY.match(part):
        day = dt.date.fromisoformat(part)
        return day, day
    if _MONTH.match(part):
        year, month = int(part[:4]), int(part[5:7])
        if not 1 <= month <= 12:
            raise ValueError(f"month out of range in {part!r}")
        last = calendar.monthrange(year, month)[1]
        return dt.date(year, month, 1), dt.date(year, month, last)
    raise ValueError(f"{part!r} is not a date: use YYYY-MM-DD, YYYY-MM or an interval A/B of those")
