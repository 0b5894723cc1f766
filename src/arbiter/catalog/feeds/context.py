"""What every feed parser is given besides the bytes it parses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from arbiter.catalog.feeds.tally import FeedResult


@dataclass(frozen=True, slots=True)
class FeedContext:
    """``file`` names the input in messages; ``known_accelerators`` are canonical names;
    ``observed_on`` dates offers whose feed carries no date of its own; ``provider`` tells
    a multi-cloud format (SkyPilot, gpuhunt) which cloud a file holds when it cannot tell.
    """

    file: str
    known_accelerators: frozenset[str]
    observed_on: dt.date
    provider: str | None = None


Parser = Callable[[bytes, FeedContext], FeedResult]
