"""What every report chart starts from: plotly, loaded on first use, and the layout.

Plotly is an optional dependency (``pip install 'arbiter[report]'``); :func:`plotly` loads
it or says how to install it.
"""

from __future__ import annotations

from typing import Any

from arbiter.domain.errors import ArbiterError

__all__ = ["layout", "plotly"]


def plotly() -> Any:
    """``plotly.graph_objects``, or an error that says how to install plotly."""
    try:
        import plotly.graph_objects as go  # noqa: PLC0415 - optional dependency
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ArbiterError("The HTML report needs plotly: pip install 'arbiter[report]'") from error
    return go


def layout(go: Any, **extra: Any) -> Any:
    """The layout every report chart starts from."""
    return go.Layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 80},
        **extra,
    )
