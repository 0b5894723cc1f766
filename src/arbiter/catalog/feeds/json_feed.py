"""Reading the JSON envelope of a feed: bad bytes become one clear :class:`FeedError`."""

from __future__ import annotations

import json
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.domain.errors import FeedError
from arbiter.domain.limits import MAX_NESTING, nesting_depth


def load_json(data: bytes, ctx: FeedContext, valid: str) -> Any:
    """The parsed JSON of ``data``; empty, truncated or non-text input raises."""
    if not data.strip():
        raise FeedError("the file is empty", file=ctx.file, valid=valid)
    try:
        doc = json.loads(data)
    except RecursionError:
        raise FeedError(
            f"lists and objects nest too deeply to read (more than {MAX_NESTING} levels)",
            file=ctx.file,
            valid=valid,
        ) from None
    except json.JSONDecodeError as exc:
        raise FeedError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno});"
            " the file may be truncated",
            file=ctx.file,
            valid=valid,
        ) from None
    except ValueError as exc:  # bytes that are not UTF-8/16/32 text
        raise FeedError(f"not JSON text ({exc})", file=ctx.file, valid=valid) from None
    if nesting_depth(doc) > MAX_NESTING:
        raise FeedError(
            f"lists and objects nest more than {MAX_NESTING} levels deep",
            file=ctx.file,
            valid=f"{valid} (a real feed nests fewer than 10 levels)",
        )
    return doc


def load_json_object(data: bytes, ctx: FeedContext, valid: str) -> dict[str, Any]:
    """The top-level JSON object of ``data``; anything but an object raises."""
    doc = load_json(data, ctx, valid)
    if not isinstance(doc, dict):
        raise FeedError(
            f"the top level is a JSON {type(doc).__name__}, not an object",
            file=ctx.file,
            valid=valid,
        )
    return doc


def list_field(data: bytes, key: str, ctx: FeedContext, valid: str) -> list[Any]:
    """The list under top-level ``key`` (Azure ``Items``, GCP ``skus``)."""
    value = load_json_object(data, ctx, valid).get(key)
    if not isinstance(value, list):
        found = "missing" if value is None else f"a {type(value).__name__}"
        raise FeedError(f"{key} is {found}, not a list", file=ctx.file, field=key, valid=valid)
    return value


def string_field(container: dict[str, Any], name: str, ctx: FeedContext, record: str) -> str:
    """``container[name]`` as a string (``""`` when absent); any other JSON type raises."""
    value = container.get(name, "")
    if not isinstance(value, str):
        raise FeedError(
            f"{name} is a JSON {type(value).__name__}, not a string",
            file=ctx.file,
            record=record,
            field=name,
            valid="a string",
        )
    return value
