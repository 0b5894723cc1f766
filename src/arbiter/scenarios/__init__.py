"""Dependency-risk scenarios: shocks read from a scenario file and sampled by Monte Carlo.

- :func:`load_scenarios` / :func:`parse_scenarios`: a scenario file (or its parsed data)
  as a domain :class:`~arbiter.domain.scenario.ScenarioSet` (format in
  :mod:`arbiter.scenarios.spec`);
- :func:`ppf`: the inverse CDF of a scenario distribution, vectorised;
- :func:`sample`, :func:`chunk_plan`, :func:`sample_all`: correlated, deterministic
  samples of every shock, as :class:`Samples`.
"""

from __future__ import annotations

from arbiter.scenarios.distributions import ppf
from arbiter.scenarios.loading import load_scenarios, parse_scenarios
from arbiter.scenarios.sampling import CHUNK_SIZE, Samples, chunk_plan, sample, sample_all

__all__ = [
    "CHUNK_SIZE",
    "Samples",
    "chunk_plan",
    "load_scenarios",
    "parse_scenarios",
    "ppf",
    "sample",
    "sample_all",
]
