"""Hours in the calendar units arbiter bills and plans in, defined once.

A year is 365 days (8,760 h), as cloud price lists count a reserved term; a month is a
twelfth of it (730 h), a quarter a quarter of it (2,190 h).
"""

from __future__ import annotations

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 7 * HOURS_PER_DAY  # 168
HOURS_PER_YEAR = 365 * HOURS_PER_DAY  # 8,760
HOURS_PER_MONTH = HOURS_PER_YEAR / 12  # 730
HOURS_PER_QUARTER = HOURS_PER_YEAR / 4  # 2,190
