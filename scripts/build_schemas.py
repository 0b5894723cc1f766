"""Write the JSON Schema of every typed result into docs/schemas/ (--check: fail if stale).

The schemas are generated from the result models (``arbiter.results``); the tests check
that every command's ``--json`` validates against its model and that these files are the
models' schemas.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arbiter.results import (
    AcceleratorSpec,
    CatalogDiff,
    CatalogOffer,
    CatalogRefresh,
    CatalogSummary,
    CatalogVersion,
    DealValuation,
    EstimateReport,
    Plan,
    PriceHistory,
    ProcurementPlan,
    Result,
    RiskReport,
    Rows,
    SavedPlanInfo,
    SpotSimulation,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS: dict[str, type[Result]] = {
    "catalog-diff": CatalogDiff,
    "catalog-history": PriceHistory,
    "catalog-refresh": CatalogRefresh,
    "catalog-summary": CatalogSummary,
    "deal": DealValuation,
    "estimate": EstimateReport,
    "plan": Plan,
    "procure": ProcurementPlan,
    "risk": RiskReport,
    "spot": SpotSimulation,
}


# commands that print a list of these rows
LISTS: dict[str, type[Result]] = {
    "catalog-accelerators": AcceleratorSpec,
    "catalog-offers": CatalogOffer,
    "catalog-versions": CatalogVersion,
    "plans-list": SavedPlanInfo,
}


def schemas() -> dict[str, dict[str, Any]]:
    """Every published schema, by the name of its file."""
    out = {name: model.json_schema() for name, model in SCHEMAS.items()}
    out.update({name: Rows.json_schema(row) for name, row in LISTS.items()})
    return out


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a schema is stale")
    args = parser.parse_args()
    stale = []
    for name, schema in schemas().items():
        path = ROOT / "docs" / "schemas" / f"{name}.schema.json"
        text = schema_text(schema)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run `python scripts/build_schemas.py`")
        return 1
    print("up to date" if not stale else f"wrote {', '.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
