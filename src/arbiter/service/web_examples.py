"""The YAML the web app's editors start from (``examples/`` in this package): small
inputs that run in seconds, each pointing at the repository's full example."""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["example", "yaml_text"]

EXAMPLES = ("fleet", "scenarios", "procurement", "deal")
MAX_TEXT = 1_000_000
"""The most characters an editor or an uploaded file may hold."""


@cache
def example(name: str) -> str:
    """The text of the example ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise KeyError(name)
    return (resources.files("arbiter.service") / "examples" / f"{name}.yaml").read_text("utf-8")


def yaml_text(text: str) -> str:
    """An editor's text as the loaders take it: line ends as ``\\n``, and always a line
    break, so that the text is read as YAML, never as a path."""
    flat = text.replace("\r\n", "\n").replace("\r", "\n")
    return flat if flat.endswith("\n") else flat + "\n"
