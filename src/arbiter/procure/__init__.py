"""Procurement planning: what to commit to ahead, period by period, and what to leave to
on-demand, under uncertain demand.

- :func:`load_procurement` / :func:`parse_procurement`: a procurement file (or its parsed
  data) as a domain :class:`~arbiter.domain.procurement.ProcurementProblem` (format in
  :mod:`arbiter.procure.spec`);
- :func:`ramp`: the per-period multipliers of a scenario's growth factor;
- :func:`term_periods`: whole periods a commitment term covers.
"""

from __future__ import annotations

from arbiter.procure.commitments import term_periods
from arbiter.procure.loading import load_procurement, parse_procurement, ramp

__all__ = ["load_procurement", "parse_procurement", "ramp", "term_periods"]
