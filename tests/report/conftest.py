"""What the report tests share: the head of the plotly.js bundle every page embeds."""

from __future__ import annotations

import pytest

pytest.importorskip("plotly")
from plotly.offline import get_plotlyjs


@pytest.fixture(scope="module")
def plotly_head() -> str:
    return get_plotlyjs()[:400]
