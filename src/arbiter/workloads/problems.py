"""Pydantic validation errors rendered as arbiter :class:`InputError` messages.

A pydantic location ``("slo", "tpot_s")`` under ``workloads[2]`` becomes the field path
``workloads[2].slo.tpot_s``; list positions render as ``[i]``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from arbiter.domain.errors import InputError


def join_path(prefix: str, part: str | int) -> str:
    """``prefix`` extended by a field name (``a.b``) or a list position (``a[3]``)."""
    if isinstance(part, int):
        return f"{prefix}[{part}]"
    return f"{prefix}.{part}" if prefix else part


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that holds the fields at ``loc`` (``None`` if not a model)."""
    cls = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(part)
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        cls = found
    return cls


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _problem(error: ErrorDetails, root: type[BaseModel], prefix: str, file: str) -> InputError:
    loc = error["loc"]
    path = prefix
    for part in loc:
        path = join_path(path, part)
    field = path or None
    kind, msg, value = error["type"], error["msg"], error.get("input")
    if kind == "missing":
        return InputError("is required", file=file, field=field)
    if kind == "extra_forbidden":
        holder = _model_at(root, loc[:-1])
        valid = ", ".join(holder.model_fields) if holder is not None else None
        return InputError(f"unknown field {loc[-1]!r}", file=file, field=field, valid=valid)
    if kind in {"enum", "literal_error"}:
        expected = (error.get("ctx") or {}).get("expected", "")
        return InputError(f"unknown value {_shown(value)}", file=file, field=field, valid=expected)
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        holder = _model_at(root, loc)
        valid = f"fields {', '.join(holder.model_fields)}" if holder is not None else None
        return InputError(
            f"must be a mapping, got {_shown(value)}", file=file, field=field, valid=valid
        )
    if kind == "value_error":
        return InputError(msg.removeprefix("Value error, "), file=file, field=field)
    if kind == "too_short":
        text = "must not be empty (leave the field out for no restriction)"
    elif kind == "string_too_short":
        text = "must not be empty"
    else:
        text = msg.replace("Input should be a valid", "must be a").replace(
            "Input should be", "must be"
        )
    return InputError(f"{text}, got {_shown(value)}", file=file, field=field)


def validation_problems(
    exc: ValidationError, root: type[BaseModel], prefix: str, file: str
) -> list[InputError]:
    """One :class:`InputError` per pydantic error, with paths under ``prefix``."""
    return [_problem(error, root, prefix, file) for error in exc.errors(include_url=False)]


def with_more(problems: Sequence[InputError]) -> InputError:
    """The first problem, saying how many more there are."""
    first = problems[0]
    if len(problems) == 1:
        return first
    more = len(problems) - 1
    noun = "problem" if more == 1 else "problems"
    return InputError(
        f"{first.message} (and {more} more {noun})",
        file=first.file,
        field=first.field,
        valid=first.valid,
    )


def top_mapping(data: object, file: str, expected: str) -> Mapping[str, object]:
    """``data`` as the mapping a file's top level must be; an empty file or another shape
    is an error naming ``file`` and what was ``expected``."""
    if data is None or data == {}:
        raise InputError("the file is empty", file=file, valid=expected)
    if not isinstance(data, Mapping):
        got = "a list" if isinstance(data, list) else repr(data)
        raise InputError(f"expected {expected}; got {got}", file=file)
    return data
