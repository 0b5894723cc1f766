import datetime as dt

import pytest

from arbiter.domain.as_of import AsOf


def test_day_month_and_interval_forms():
    day = AsOf.parse("2026-01-21")
    assert (day.start, day.end) == (dt.date(2026, 1, 21), dt.date(2026, 1, 21))
    month = AsOf.parse("2026-02")
    assert (month.start, month.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    interval = AsOf.parse("2024-12/2025-06")
    assert (interval.start, interval.end) == (dt.date(2024, 12, 1), dt.date(2025, 6, 30))
    assert interval.text == "2024-12/2025-06"


def test_ordering_is_by_latest_possible_date():
    assert AsOf.parse("2025-10/2026-09") > AsOf.parse("2026-08-22")
    assert AsOf.parse("2026-04-14") < AsOf.parse("2026-04")


def test_age_is_measured_from_the_end_of_the_interval():
    assert AsOf.parse("2026-09").age_days(dt.date(2026, 10, 30)) == 30


@pytest.mark.parametrize("text", ["2026-13", "yesterday", "2026-02-30", "2026-06/2026-01", ""])
def test_bad_dates_are_rejected(text):
    with pytest.raises(ValueError):
        AsOf.parse(text)
