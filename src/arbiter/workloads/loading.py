"""Read workload files into domain :class:`~arbiter.domain.workload.Workload` objects.

A file is a mapping with a ``workloads:`` list, or one bare workload mapping. A file with a
list may also hold the fleet-wide keys (``constraints``, ``platforms``, ``capacity``,
``objective``); :func:`load_workloads` accepts and ignores them, and
:func:`arbiter.workloads.fleet.load_fleet` reads them. Every problem
becomes an :class:`InputError` (or :class:`UnknownNameError`) that names the file and the
field path, such as ``workloads[2].slo.tpot_s``, and says what is valid; when a file has
several problems the first is reported with "(and N more problems)".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.limits import MAX_NESTING, check_nesting, shown
from arbiter.domain.workload import Workload, WorkloadKind
from arbiter.workloads.convert import spec_to_workload
from arbiter.workloads.fleet_spec import FLEET_KEYS
from arbiter.workloads.problems import join_path, top_mapping, validation_problems, with_more
from arbiter.workloads.spec import KINDS, SPEC_BY_KIND, WorkloadSpec, fields_of, kinds_with_field

_EXPECTED = "a mapping with a `workloads:` list, or one workload mapping with name, kind and model"


# The most values aliases may add to a file once resolved, beyond those written out in it
# (a large fleet file writes out hundreds of thousands; that is its size, not a bomb). A
# "billion laughs" alias bomb expands nine aliases nine levels deep to 9**9.
MAX_YAML_NODES = 100_000

# libyaml's parser when PyYAML was built with it (ten times faster on a large fleet file),
# with the same safe constructor and the same checks either way
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_BaseLoader):
    """A safe YAML loader that refuses duplicate keys (YAML would keep the last silently),
    aliases that add more than :data:`MAX_YAML_NODES` values, and recursive aliases."""

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it by more than :data:`MAX_YAML_NODES`
    values beyond the nodes written in it (counted over the node graph, without expanding
    it; checked as each value closes, against the nodes seen by then) or refer to
    themselves."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > len(sizes) + MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"aliases expand the file by more than {MAX_YAML_NODES:,} values"
                    " (an alias bomb?); write the values out or use fewer aliases",
                    node.start_mark,
                )
            continue
        if key in sizes:
            continue
        if key in open_:
            raise yaml.composer.ComposerError(
                None, None, "an alias refers to the value that contains it", node.start_mark
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def yaml_error(exc: yaml.YAMLError, file: str) -> InputError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or "cannot be parsed"
        context = f" ({exc.context})" if exc.context else ""
        return InputError(
            f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}{context}",
            file=file,
        )
    return InputError(f"invalid YAML: {exc}", file=file)


def load_workloads(path: Path) -> tuple[Workload, ...]:
    """The workloads in the YAML (or JSON) file at ``path`` (fleet-wide keys are ignored)."""
    return parse_workloads(read_data(path), file=str(path))


def read_data(path: Path, what: str = "workload") -> object:
    """The parsed YAML (or JSON) in the ``what`` file (workload, scenario) at ``path``."""
    file = str(path)
    try:
        if not path.exists():
            raise InputError("file not found", file=file, valid=f"a path to a YAML {what} file")
        if path.is_dir():
            raise InputError(f"is a directory, not a {what} file", file=file)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"is not UTF-8 text; expected a YAML {what} file", file=file) from None
    except OSError as exc:  # also a name too long for the file system
        raise InputError(f"cannot be read: {exc.strerror or exc}", file=file) from None
    return parse_text(text, file, what)


def parse_text(text: str, file: str, what: str = "workload") -> object:
    """The parsed YAML (or JSON) ``text`` of a ``what`` file; ``file`` names it in errors."""
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (UniqueKeyLoader is a SafeLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, file) from None
    except RecursionError:
        raise InputError(
            f"lists and mappings nest too deeply to read; expected a YAML {what} file",
            file=file,
            valid=f"at most {MAX_NESTING} levels of nesting",
        ) from None
    check_nesting(data, file=file)
    return data


def _items(data: object, file: str) -> list[tuple[str, object]]:
    """The workload mappings in ``data``, each with its field path prefix."""
    data = top_mapping(data, file, _EXPECTED)
    if "workloads" not in data:
        if not {"name", "kind", "model"} & set(data):
            keys = ", ".join(str(k) for k in data)
            raise InputError(f"expected {_EXPECTED}; got a mapping of {keys}", file=file)
        return [("", data)]
    extra = [str(k) for k in data if k != "workloads" and k not in FLEET_KEYS]
    if extra:
        raise InputError(
            f"unknown top-level field {extra[0]!r}",
            file=file,
            field=extra[0],
            valid=", ".join(("workloads", *FLEET_KEYS)),
        )
    listed = data["workloads"]
    if not isinstance(listed, list):
        raise InputError(
            f"must be a list of workloads, got {shown(listed)}", file=file, field="workloads"
        )
    if not listed:
        raise InputError("lists no workloads", file=file, field="workloads")
    return [(f"workloads[{i}]", item) for i, item in enumerate(listed)]


def _kind_problems(
    item: object, prefix: str, file: str
) -> tuple[WorkloadKind | None, list[InputError]]:
    """The workload's kind, and problems that need it: a missing kind, another kind's fields."""
    if not isinstance(item, Mapping):
        problem = InputError(
            f"each workload must be a mapping with name, kind and model, got {shown(item)}",
            file=file,
            field=prefix or None,
        )
        return None, [problem]
    raw = item.get("kind")
    where = join_path(prefix, "kind")
    if raw is None:
        return None, [InputError("is required", file=file, field=where, valid=", ".join(KINDS))]
    key = raw.strip().lower() if isinstance(raw, str) else raw
    if key not in KINDS:
        return None, [UnknownNameError("workload kind", str(raw), KINDS, file=file, field=where)]
    kind = WorkloadKind(key)
    own = fields_of(kind)
    problems = []
    for name in item:
        others = kinds_with_field(str(name))
        if name not in own and others:
            problems.append(
                InputError(
                    f"{name} belongs to {' and '.join(others)} workloads, not {kind}",
                    file=file,
                    field=join_path(prefix, str(name)),
                    valid=f"a {kind} workload takes {', '.join(own)}",
                )
            )
    return kind, problems


def parse_workloads(data: object, *, file: str) -> tuple[Workload, ...]:
    """Workloads from already-parsed YAML/JSON ``data``; ``file`` names it in errors."""
    problems: list[InputError] = []
    specs: list[tuple[str, WorkloadSpec]] = []
    for prefix, item in _items(data, file):
        kind, found = _kind_problems(item, prefix, file)
        problems.extend(found)
        if kind is None or found:
            continue
        spec_cls = SPEC_BY_KIND[kind]
        try:
            specs.append((prefix, spec_cls.model_validate(item)))
        except ValidationError as exc:
            problems.extend(validation_problems(exc, spec_cls, prefix, file))
    seen: dict[str, str] = {}
    for prefix, spec in specs:
        where = join_path(prefix, "name")
        if spec.name in seen:
            problems.append(
                InputError(
                    f"duplicate workload name {spec.name!r} (also at {seen[spec.name]})",
                    file=file,
                    field=where,
                    valid="a name no other workload in the file uses",
                )
            )
        seen.setdefault(spec.name, where)
    workloads = []
    for prefix, spec in specs:
        try:
            workloads.append(spec_to_workload(spec, file=file, prefix=prefix))
        except InputError as exc:
            problems.append(exc)
    if problems:
        raise with_more(problems)
    return tuple(workloads)
