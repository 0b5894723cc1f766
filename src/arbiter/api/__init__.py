"""The public API: what the CLI, the reports and a notebook call.

Inputs are paths, YAML text or mappings (:mod:`arbiter.api.loading`); results are typed
(:mod:`arbiter.results`), with ``to_dict``/``to_json`` for the documents ``--json``
prints and ``to_frame()`` on their rows.
"""

from __future__ import annotations

from arbiter.api.cataloging import (
    accelerators,
    catalog_diff,
    catalog_summary,
    catalog_versions,
    offers,
)
from arbiter.api.dealing import deal
from arbiter.api.estimating import estimate
from arbiter.api.importing import import_catalog
from arbiter.api.loading import load_catalog, load_fleet, load_scenarios
from arbiter.api.planning import plan, save_plan, sweep, sweep_caps
from arbiter.api.plans import saved_plan, saved_plans
from arbiter.api.price_history import price_history
from arbiter.api.procuring import procure
from arbiter.api.refreshing import refresh_catalog
from arbiter.api.risking import risk
from arbiter.api.settings import Settings
from arbiter.api.spotting import simulate_spot
from arbiter.api.stores import load_calibration

__all__ = [
    "Settings",
    "accelerators",
    "catalog_diff",
    "catalog_summary",
    "catalog_versions",
    "deal",
    "estimate",
    "import_catalog",
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
