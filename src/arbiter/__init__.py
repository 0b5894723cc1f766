"""arbiter: where AI workloads should run, and how dependent that makes you.

The library first: ``arbiter.plan(fleet)`` returns a typed :class:`~arbiter.results.Plan`,
``arbiter.sweep(plan, "vendor", caps)`` the price of diversification,
``arbiter.risk(plan, scenarios)`` a :class:`~arbiter.results.RiskReport`; every result
serialises to the document ``--json`` prints and gives DataFrames of its rows
(``plan.assignments.to_frame()``). See ``docs/python.md``.
"""

__version__ = "0.1.0"

from arbiter.api import (
    Settings,
    estimate,
    load_calibration,
    load_catalog,
    load_fleet,
    load_scenarios,
    plan,
    procure,
    risk,
    save_plan,
    sweep,
    sweep_caps,
)
from arbiter.results import EstimateReport, Plan, ProcurementPlan, RiskReport, Rows, SweepPoint

__all__ = [
    "EstimateReport",
    "Plan",
    "ProcurementPlan",
    "RiskReport",
    "Rows",
    "Settings",
    "SweepPoint",
    "__version__",
    "estimate",
    "load_calibration",
    "load_catalog",
    "load_fleet",
    "load_scenarios",
    "plan",
    "procure",
    "risk",
    "save_plan",
    "sweep",
    "sweep_caps",
]
