"""Reading a report page back in tests: its charts' figures, its sections, table cells
and headline figures."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
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


class _Cells(HTMLParser):
    """The text of every cell of every table row, by row (``th`` rows left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str) -> list[list[str]]:
    """The cells of the table rows in ``html`` as text (entities resolved)."""
    parser = _Cells()
    parser.feed(html)
    return [r for r in parser.rows if r]


def metric(page: str, label: str) -> str:
    """The value of the headline figure ``label`` as text."""
    found = re.search(
        rf'<div class="label">{re.escape(label)}</div><div class="value">(.*?)</div>', page
    )
    assert found, label
    return unescape(found.group(1))


def section_titled(page: str, heading: str) -> str:
    """The HTML of the section headed ``heading``."""
    start = page.index(f"<h2>{heading}</h2>")
    return page[start : page.index("</section>", start)]


class Stripped:
    """``result`` as if its model had lost the fields ``missing``; ``replaced`` fields
    read as given instead. Stands in for a result whose schema changed under a report."""

    def __init__(self, result: Any, missing: set[str] | None = None, **replaced: Any) -> None:
        self._result, self._missing, self._replaced = result, missing or set(), replaced

    def __getattr__(self, name: str) -> Any:
        if name in self._missing:
            raise AttributeError(name)
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._result, name)
