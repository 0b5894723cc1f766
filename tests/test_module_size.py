"""Modules stay small and named after what they hold: none in the package is over 600 lines
(split by what the parts hold, as ``procure/solution.py`` and ``procure/spend_rows.py`` were
from ``procure/milp.py``)."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "arbiter"
MOST_LINES = 600


def test_no_module_is_over_600_lines():
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text("utf-8").splitlines()) for p in SRC.rglob("*.py")
    }
    assert len(sizes) > 100  # the package was found
    over = {name: n for name, n in sizes.items() if n > MOST_LINES}
    assert not over, f"modules over {MOST_LINES} lines: {over}"
