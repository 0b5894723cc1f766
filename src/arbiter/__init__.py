"""arbiter: where AI workloads should run, and how dependent that makes you.

The library first: ``arbiter.plan(fleet)`` returns a typed :class:`~arbiter.results.Plan`,
``arbiter.sweep(plan, "vendor", caps)`` the price of diversification,
``arbiter.risk(plan, scenarios)`` a :class:`~arbiter.results.RiskReport`,
``arbiter.procure(file)`` a :class:`~arbiter.results.ProcurementPlan` and
``arbiter.deal(file)`` a :class:`~arbiter.results.DealValuation` and
``arbiter.simulate_spot(job, traces)`` a :class:`~arbiter.results.SpotSimulation`; every result
serialises to the document ``--json`` prints and gives DataFrames of its rows
(``plan.assignments.to_frame()``). See ``docs/python.md``.
"""

__version__ = "0.1.0"

from arbiter.api import (
    Settings,
    accelerators,
    catalog_diff,
    catalog_summary,
    catalog_versions,
    deal,
    estimate,
    load_calibration,
    load_catalog,
    load_fleet,
    load_scenarios,
    offers,
    plan,
    price_history,
    procure,
    refresh_catalog,
    risk,
    save_plan,
    saved_plan,
    saved_plans,
    simulate_spot,
    sweep,
    sweep_caps,
)
from arbiter.results import (
    CatalogDiff,
    CatalogRefresh,
    CatalogSummary,
    DealValuation,
    EstimateReport,
    Plan,
    PriceHistory,
    ProcurementPlan,
    RiskReport,
    Rows,
    SavedPlan,
    SpotSimulation,
    SweepPoint,
)

__all__ = [
    "CatalogDiff",
    "CatalogRefresh",
    "CatalogSummary",
    "DealValuation",
    "EstimateReport",
    "Plan",
    "PriceHistory",
    "ProcurementPlan",
    "RiskReport",
    "Rows",
    "SavedPlan",
    "Settings",
    "SpotSimulation",
    "SweepPoint",
    "__version__",
    "accelerators",
    "catalog_diff",
    "catalog_summary",
    "catalog_versions",
    "deal",
    "estimate",
    "load_calibration",
    "load_catalog",
    "load_fleet",
    "load_scenarios",
    "offers",
    "plan",
    "price_history",
    "procure",
    "refresh_catalog",
    "risk",
    "save_plan",
    "saved_plan",
    "saved_plans",
    "simulate_spot",
    "sweep",
    "sweep_caps",
]
