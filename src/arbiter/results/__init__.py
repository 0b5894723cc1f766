"""Typed results: what the engines answer, as the public API returns it.

Every result is a frozen pydantic model (:class:`Result`): attributes to read, ``to_dict``
and ``to_json`` for the ``--json`` documents (keys as the README documents them), a JSON
Schema (``docs/schemas/``), and ``to_frame()`` on its rows for analysts
(:class:`Rows`). A field a document lacks is a validation error, so a renamed key fails
where it is made, not as a "-" in a report.
"""

from __future__ import annotations

from arbiter.results.base import Result, Rows
from arbiter.results.catalog import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogOffer,
    CatalogSummary,
    CatalogVersion,
    PriceHistory,
)
from arbiter.results.deal import DealValuation
from arbiter.results.estimate import ChipEstimate, EstimateReport, WorkloadEstimates
from arbiter.results.plan import (
    Alternative,
    Assignment,
    Baseline,
    BindingRow,
    Plan,
    PlanAudit,
    SweepPoint,
)
from arbiter.results.plans import SavedPlan, SavedPlanInfo
from arbiter.results.procure import ProcurementPlan
from arbiter.results.provenance import Provenance
from arbiter.results.refresh import CatalogRefresh, SourceRefresh
from arbiter.results.risk import PlanRisk, RiskReport, RiskSamples
from arbiter.results.spot import (
    PolicyStats,
    SlackPoint,
    SpotJobSettings,
    SpotSimulation,
    SpotWindows,
    TraceInfo,
    TraceStats,
)

__all__ = [
    "AcceleratorSpec",
    "Alternative",
    "Assignment",
    "Baseline",
    "BindingRow",
    "CatalogDiff",
    "CatalogOffer",
    "CatalogRefresh",
    "CatalogSummary",
    "CatalogVersion",
    "ChipEstimate",
    "DealValuation",
    "EstimateReport",
    "Plan",
    "PlanAudit",
    "PlanRisk",
    "PolicyStats",
    "PriceHistory",
    "ProcurementPlan",
    "Provenance",
    "Result",
    "RiskReport",
    "RiskSamples",
    "Rows",
    "SavedPlan",
    "SavedPlanInfo",
    "SlackPoint",
    "SourceRefresh",
    "SpotJobSettings",
    "SpotSimulation",
    "SpotWindows",
    "SweepPoint",
    "TraceInfo",
    "TraceStats",
    "WorkloadEstimates",
]
