from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.feeds.context import FeedContext

# Property tests draw the same examples on every run and machine (a suite that passes
# today passes on a fresh install next month); `HYPOTHESIS_PROFILE=explore` draws new ones.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test`` runs ``-n auto --dist loadgroup``), the tests that
    start a local Ray instance run one after another on one worker: two Ray instances at
    once would each take every core the machine has."""
    for item in items:
        if item.get_closest_marker("ray") is not None:
            item.add_marker(pytest.mark.xdist_group("ray"))
