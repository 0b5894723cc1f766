"""Workload specs: what has to be computed, read from YAML into domain ``Workload`` objects.

- :func:`load_workloads` / :func:`parse_workloads`: a workload file (or its parsed data);
- :func:`load_fleet` / :func:`parse_fleet`: the same file as a fleet, with its fleet-wide
  constraints, platforms, capacity limits and objective;
- :func:`resolve_model`, :func:`model_names`, :func:`model_aliases`: the model registry;
- :func:`model_from_mapping`: a custom architecture given inline.
"""

from __future__ import annotations

from arbiter.workloads.fleet import load_fleet, parse_fleet
from arbiter.workloads.loading import load_workloads, parse_workloads
from arbiter.workloads.registry import (
    model_aliases,
    model_from_mapping,
    model_names,
    resolve_model,
)

__all__ = [
    "load_fleet",
    "load_workloads",
    "model_aliases",
    "model_from_mapping",
    "model_names",
    "parse_fleet",
    "parse_workloads",
    "resolve_model",
]
