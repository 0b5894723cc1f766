"""Building blocks shared by arbiter's self-contained HTML reports.

Cell formatters return HTML that is safe to put in a page: text from a document goes
through :func:`text`, which escapes it; numbers come out as plain digits or ``&ndash;``.
Chart data goes through :func:`safe_json`, which writes ``<``, ``>`` and ``&`` as unicode
escapes so no value can close the ``<script>`` it sits in. :func:`page` puts the sections,
the charts and plotly.js (inline: no CDN, works offline) together in one file.

Plotly is an optional dependency (``pip install 'arbiter[report]'``); :func:`plotly` loads
it or says how to install it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from arbiter.domain.errors import ArbiterError
from arbiter.results import money

__all__ = [
    "CSS",
    "as_list",
    "as_mapping",
    "chart_div",
    "footer",
    "js",
    "layout",
    "metrics",
    "num",
    "page",
    "pct",
    "plain_usd",
    "plotly",
    "safe_json",
    "section",
    "table",
    "text",
    "usd",
]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.headline { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.metric { background: #f5f7fa; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.metric .label { font-size: .8rem; color: #666; }
.metric .value { font-size: 1.3rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .3rem .5rem; text-align: left; }
th { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; font-size: .85rem; }
.chart { width: 100%; height: 380px; }
footer { margin-top: 2rem; color: #777; font-size: .8rem; }
"""


def plotly() -> Any:
    """``plotly.graph_objects``, or an error that says how to install plotly."""
    try:
        import plotly.graph_objects as go  # noqa: PLC0415 - optional dependency
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ArbiterError("The HTML report needs plotly: pip install 'arbiter[report]'") from error
    return go


# --- values ---------------------------------------------------------------------------


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` as a list if it is a sequence other than a string, else an empty list."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def usd(value: Any, digits: int = 2) -> str:
    """``$1,234.56`` (HTML), ``&ndash;`` when ``value`` is not a number."""
    return money.usd(value, digits, missing="&ndash;")


def num(value: Any, digits: int = 0) -> str:
    """``1,234`` (HTML), ``&ndash;`` when ``value`` is not a number."""
    if not _is_number(value):
        return "&ndash;"
    return f"{value:,.{digits}f}"


def pct(value: Any, *, missing: str = "&ndash;") -> str:
    """A fraction as ``12.3%``; ``missing`` (HTML) when ``value`` is not a number."""
    if not _is_number(value):
        return missing
    return f"{value * 100:.1f}%"


def plain_usd(value: Any) -> str:
    """Whole dollars as plain text for chart labels; ``n/a`` when not a number."""
    if not _is_number(value):
        return "n/a"
    return f"${value:,.0f}"


def text(value: Any) -> str:
    """Any value as escaped HTML text (``None`` is empty)."""
    return escape("" if value is None else str(value))


def js(value: str) -> str:
    """A JavaScript string literal that is safe inside ``<script>``."""
    return safe_json(json.dumps(value))


def safe_json(value: str) -> str:
    """JSON text made safe inside ``<script>``."""
    # JSON only has <, > and & inside strings, where the unicode escape is equivalent
    return value.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- page pieces ----------------------------------------------------------------------


def section(heading: str, body: str, *, section_id: str | None = None) -> str:
    """A ``<section>`` with a (plain-text) heading around ``body`` (HTML)."""
    ident = f' id="{escape(section_id)}"' if section_id else ""
    return f"<section{ident}>\n<h2>{escape(heading)}</h2>\n{body}\n</section>"


def chart_div(div_id: str) -> str:
    """The container a chart of :func:`page` is drawn into."""
    return f'<div class="chart" id="{escape(div_id)}"></div>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table from already-escaped cells; ``numeric`` holds right-aligned column indexes."""

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    if not body:
        return '<p class="muted">None.</p>'
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def metrics(items: Iterable[tuple[str, str]]) -> str:
    """A row of headline figures: (plain-text label, HTML value) pairs."""
    cells = "".join(
        f'<div class="metric"><div class="label">{escape(label)}</div>'
        f'<div class="value">{value}</div></div>'
        for label, value in items
    )
    return f'<div class="headline">{cells}</div>'


def footer(doc: Mapping[str, Any]) -> str:
    """The provenance of ``doc`` (its ``provenance`` mapping), or nothing."""
    prov = as_mapping(doc.get("provenance"))
    if not prov:
        return ""
    items = ", ".join(f"{text(k)}: {text(v)}" for k, v in sorted(prov.items()))
    return f"\n<footer>Provenance &mdash; {items}</footer>"


def layout(go: Any, **extra: Any) -> Any:
    """The layout every report chart starts from."""
    return go.Layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
        **extra,
    )


def page(
    *,
    title: str,
    sections: Sequence[str],
    charts: Sequence[tuple[str, Any]],
    footer_html: str = "",
    extra_css: str = "",
) -> str:
    """One offline HTML page: ``sections`` (HTML) under the title, then ``footer_html``,
    plotly.js inline and each (div id, plotly figure) of ``charts`` drawn into its div.
    ``extra_css`` follows the shared :data:`CSS`."""
    plotly()
    from plotly.offline import get_plotlyjs  # noqa: PLC0415 - optional dependency

    scripts = "\n".join(
        f"Plotly.newPlot({js(div)}, fig{i}.data, fig{i}.layout, "
        f"{{responsive: true, displaylogo: false}});"
        for i, (div, _fig) in enumerate(charts)
    )
    data = "\n".join(
        f"var fig{i} = {safe_json(fig.to_json())};" for i, (_div, fig) in enumerate(charts)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{CSS}{extra_css}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        + "\n".join(sections)
        + footer_html
        + f'\n<script type="text/javascript">\n{data}\n{scripts}\n</script>\n'
        "</body>\n</html>\n"
    )
