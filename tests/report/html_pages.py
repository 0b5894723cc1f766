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


def assert_self_contained(page: str, plotly_head: str) -> None:
    """The page loads nothing from the network and embeds plotly.js exactly once."""
    assert page.startswith("<!DOCTYPE html>")
    srcs = re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]*)",
        page,
        re.IGNORECASE,
    )
    assert not [s for s in srcs if s.startswith(("http://", "https://", "//"))]
    assert not re.search(r"<script[^>]*\bsrc=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref=", page, re.IGNORECASE)
    assert page.count(plotly_head) == 1
