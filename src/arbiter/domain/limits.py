"""Limits every input file is held to before any of it is used.

Parsed YAML and JSON may nest no deeper than :data:`MAX_NESTING` (arbiter's own files nest a
handful of levels; deeper input is a broken or hostile file, and Python code that walks it
would hit the recursion limit). Text shown back in messages is cut to :data:`SHOWN_CHARS`.
"""

from __future__ import annotations

from arbiter.domain.errors import InputError

MAX_NESTING = 64
SHOWN_CHARS = 60

# The dearest price a feed may quote. Real instances cost at most a few hundred USD an hour
# (a GPU a few tens); the bounds leave a wide margin and stop a corrupt 1e308 before it
# overflows a cost sum or reaches the solver.
MAX_USD_PER_HOUR = 1_000_000
MAX_USD_PER_GPU_HOUR = 100_000
# Any one price a feed quotes, including the upfront total of a multi-year reservation.
MAX_USD_PRICE = 1_000_000_000


def nesting_depth(value: object, limit: int = MAX_NESTING) -> int:
    """How deeply lists and mappings nest in ``value``; stops counting past ``limit``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children)
    return deepest


def check_nesting(value: object, *, file: str | None, what: str = "file") -> None:
    """Raise :class:`InputError` when ``value`` nests deeper than :data:`MAX_NESTING`."""
    if nesting_depth(value) > MAX_NESTING:
        raise InputError(
            f"the {what} nests lists and mappings more than {MAX_NESTING} levels deep",
            file=file,
            valid=f"at most {MAX_NESTING} levels of nesting (arbiter's files use fewer than 10)",
        )


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages; never builds a huge repr."""
    if isinstance(value, dict | list | tuple) and len(value) > limit:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
