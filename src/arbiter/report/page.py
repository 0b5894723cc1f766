"""One offline HTML page from a report template.

The templates (``templates/*.html.j2``) extend one layout, ``base.html.j2``: the title,
the shared CSS, the headline figures, the sections, the provenance footer, plotly.js
inline (no CDN: the file works offline) and each chart's figure drawn into its div. They
read the typed result's attributes; the environment's ``StrictUndefined`` makes a missing
attribute an error, never an empty cell. Text from a result is escaped (autoescape);
chart data is embedded as JSON with ``<``, ``>`` and ``&`` written as unicode escapes
(:func:`safe_json`), so no value can close the ``<script>`` it sits in.

A report module builds a :class:`View` (the template, the charts and what the template
reads) and renders it here; the web app (``arbiter.service.pages``) renders the same
views inside its own layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from arbiter.report.charts import plotly
from arbiter.report.formats import FILTERS

__all__ = [
    "View",
    "environment",
    "figures_json",
    "render",
    "render_view",
    "safe_json",
    "template_environment",
]


@dataclass(frozen=True, slots=True)
class View:
    """A report before rendering: its template, its charts (div id, plotly figure) and
    the names the template reads."""

    template: str
    charts: Sequence[tuple[str, Any]]
    context: Mapping[str, Any] = field(default_factory=dict)


def safe_json(value: str) -> str:
    """JSON text made safe inside ``<script>``."""
    # JSON only has <, > and & inside strings, where the unicode escape is equivalent
    return value.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def environment() -> Environment:
    """The report templates: escaped, strict about undefined names and attributes."""
    return template_environment(PackageLoader("arbiter.report", "templates"))


def template_environment(loader: BaseLoader) -> Environment:
    """An environment of the templates ``loader`` finds, as the reports draw them:
    escaped, strict about undefined names and attributes, with the format filters."""
    env = Environment(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render(
    template: str,
    *,
    title: str,
    charts: Sequence[tuple[str, Any]],
    **context: Any,
) -> str:
    """``template`` rendered with ``context``; ``charts`` are (div id, plotly figure)
    pairs."""
    plotly()
    from plotly.offline import get_plotlyjs  # noqa: PLC0415 - optional dependency

    return (
        environment()
        .get_template(template)
        .render(
            title=title,
            charts=figures_json(charts),
            plotly_js=Markup(get_plotlyjs()),  # noqa: S704 - plotly's own bundle
            **context,
        )
    )


def render_view(view: View, *, title: str) -> str:
    """``view`` as one offline HTML page."""
    return render(view.template, title=title, charts=view.charts, **view.context)


def figures_json(charts: Sequence[tuple[str, Any]]) -> list[tuple[str, Markup]]:
    """Each chart's figure as JSON safe inside ``<script>``, with its div id."""
    return [(div, Markup(safe_json(fig.to_json()))) for div, fig in charts]  # noqa: S704
