"""Price history: the observations a catalog build set aside as no longer current.

The table has the offer columns of ``schema.py`` followed by what replaced each row
(``superseded_by_region``, ``superseded_by_usd_per_hour``, ``superseded_by_as_of``) and
why (``superseded_reason``; the rules are in :mod:`arbiter.domain.current_prices`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from arbiter.catalog.tables import offers_from_csv, offers_to_csv
from arbiter.domain.current_prices import Superseded
from arbiter.domain.offer import Offer

HISTORY_COLUMNS = (
    "superseded_by_region",
    "superseded_by_usd_per_hour",
    "superseded_by_as_of",
    "superseded_reason",
)


@dataclass(frozen=True, slots=True)
class HistoricalPrice:
    """A price that was observed and is no longer current, with what replaced it."""

    offer: Offer
    superseded_by_region: str
    superseded_by_usd_per_hour: float
    superseded_by_as_of: str
    superseded_reason: str


def history_to_csv(superseded: Iterable[Superseded]) -> str:
    """The history table, sorted by offer key then date, so a build is byte-stable."""
    rows = sorted(superseded, key=lambda s: (s.offer.key, s.offer.as_of, s.offer.usd_per_hour))
    offer_lines = offers_to_csv(s.offer for s in rows).splitlines()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    head = next(csv.reader([offer_lines[0]]))
    writer.writerow([*head, *HISTORY_COLUMNS])
    for line, s in zip(offer_lines[1:], rows, strict=True):
        cells = next(csv.reader([line]))
        by = s.by
        writer.writerow([*cells, by.region, repr(by.usd_per_hour), by.as_of.text, s.reason])
    return buf.getvalue()


def history_from_csv(text: str, file: str = "price_history.csv") -> list[HistoricalPrice]:
    offers = offers_from_csv(text, file)
    extra = list(csv.DictReader(io.StringIO(text)))
    return [
        HistoricalPrice(
            offer=o,
            superseded_by_region=row["superseded_by_region"],
            superseded_by_usd_per_hour=float(row["superseded_by_usd_per_hour"]),
            superseded_by_as_of=row["superseded_by_as_of"],
            superseded_reason=row["superseded_reason"],
        )
        for o, row in zip(offers, extra, strict=True)
    ]
