"""Reading a report page back in tests: its charts' figures and its sections."""

from __future__ import annotations

import json
import re
from typing import Any


def figures(page: str) -> dict[str, dict[str, Any]]:
    """The chart figures the page embeds, parsed as JSON, by the div they are drawn in."""
    found = [json.loads(m) for m in re.findall(r"^var fig\d+ = (.*);$", page, re.MULTILINE)]
    divs = re.findall(r'^Plotly\.newPlot\("([^"]+)"', page, re.MULTILINE)
    assert len(divs) == len(found)
    return dict(zip(divs, found, strict=True))


def traces(page: str, div: str) -> dict[str, dict[str, Any]]:
    """The traces of the chart in ``div``, by name."""
    return {t["name"]: t for t in figures(page)[div]["data"]}


def section_of(page: str, ident: str) -> str:
    """The HTML of the section with id ``ident``."""
    start = page.index(f'<section id="{ident}">')
    return page[start : page.index("</section>", start)]
