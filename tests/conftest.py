from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.feeds.context import FeedContext

FEEDS = Path(__file__).parent / "data" / "feeds"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def feeds_dir() -> Path:
    return FEEDS


def make_context(file: str, provider: str | None = None) -> FeedContext:
    return FeedContext(
        file=file,
        known_accelerators=known_accelerators(),
        observed_on=dt.date(2026, 11, 1),
        provider=provider,
    )
