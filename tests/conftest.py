from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.feeds.context import FeedContext

FEEDS = Path(__file__).parent / "data" / "feeds"
REPO = Path(__file__).resolve().parent.parent

# the small fleets every engine's tests build (fleet_helpers, plan_bruteforce) and the
# shared Hypothesis strategies (strategies.py, beside this file) import from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent / "optimize"))


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
