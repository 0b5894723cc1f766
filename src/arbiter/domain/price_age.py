"""How old a price is, and where it comes from: what a plan audit shows beside each price."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from arbiter.domain.offer import Offer


@dataclass(frozen=True, slots=True)
class PriceAge:
    """The age of an offer's price on ``on``: days from the latest date the observation
    may have been made (the end of its ``as_of`` interval), so an undated snapshot is never
    taken for older than it can be; negative if ``on`` is before that date."""

    age_days: int
    as_of: str
    source: str
    on: dt.date


def price_age(offer: Offer, on: dt.date | None = None) -> PriceAge:
    """The age in days of ``offer``'s price on ``on`` (today if not given) and its source."""
    day = on if on is not None else dt.date.today()
    return PriceAge(
        age_days=offer.as_of.age_days(day), as_of=offer.as_of.text, source=offer.source, on=day
    )
