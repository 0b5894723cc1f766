"""Inputs from a path, YAML text or a mapping: fleets, scenario sets and the catalog.

A ``str`` holding a line break is YAML text; any other ``str`` is a path. Problems are
reported as from a file: an :class:`~arbiter.domain.errors.InputError` naming the source
(the path, ``<string>`` or ``<mapping>``) and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arbiter.api.settings import Settings
from arbiter.api.stores import catalog_store, settings
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import Fleet
from arbiter.domain.scenario import ScenarioSet
from arbiter.scenarios import parse_scenarios
from arbiter.workloads import parse_fleet
from arbiter.workloads.loading import parse_text, read_data

Source = Path | str | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Loaded:
    """Parsed YAML/JSON data, the name its errors use, and the hash of its text (the
    ``input_hash`` of a result's provenance)."""

    data: object
    name: str
    sha256: str


def read_source(source: Source, what: str) -> Loaded:
    """The data of ``source`` (a ``what`` file: fleet, scenario)."""
    if isinstance(source, Mapping):
        text = json.dumps(source, sort_keys=True, default=str)
        return Loaded(dict(source), "<mapping>", sha12(text.encode()))
    if isinstance(source, str) and "\n" in source:
        return Loaded(parse_text(source, "<string>", what), "<string>", sha12(source.encode()))
    path = Path(source)
    data = read_data(path, what)
    return Loaded(data, str(path), sha12(path.read_bytes()))


def sha12(raw: bytes) -> str:
    """The first 12 hex digits of the SHA-256 of ``raw`` (an input's hash)."""
    return hashlib.sha256(raw).hexdigest()[:12]


def fleet_source(source: Source | Fleet) -> tuple[Fleet, str, str]:
    """The fleet of ``source``, the name its errors use and its input hash (a
    :class:`~arbiter.domain.fleet.Fleet` given as is: ``<fleet>``, the hash of its repr)."""
    if isinstance(source, Fleet):
        return source, "<fleet>", sha12(repr(source).encode())
    loaded = read_source(source, "fleet")
    return parse_fleet(loaded.data, file=loaded.name), loaded.name, loaded.sha256


def scenarios_source(source: Source | ScenarioSet) -> tuple[ScenarioSet, str]:
    """The scenario set of ``source`` and the name its errors use."""
    if isinstance(source, ScenarioSet):
        return source, "<scenarios>"
    loaded = read_source(source, "scenario")
    return parse_scenarios(loaded.data, file=loaded.name), loaded.name


def load_fleet(source: Source | Fleet) -> Fleet:
    """A fleet: a fleet file's path, its YAML text, its parsed mapping, or a
    :class:`~arbiter.domain.fleet.Fleet` (returned as is)."""
    return fleet_source(source)[0]


def load_scenarios(source: Source | ScenarioSet) -> ScenarioSet:
    """A scenario set: a scenario file's path, its YAML text or its parsed mapping."""
    return scenarios_source(source)[0]


def load_catalog(version: str | None = None, *, config: Settings | None = None) -> Catalog:
    """The catalog ``version`` (a hash, a unique prefix or ``default``; default: the
    current one) of the store the settings name (``ARBITER_DB_URL``)."""
    store = catalog_store(config or settings())
    return store.load(version or store.current())
