"""Why a fleet has no plan, in words: the shared elastic diagnosis
(:mod:`arbiter.optimize.diagnosis`) over the fleet model's families, each row's
violation read in its units (workloads, tokens/s, requests/s, instances, dollars)."""

from __future__ import annotations

from arbiter.domain.fleet import GROUPS
from arbiter.optimize.diagnosis import Violation, in_words, what_must_give
from arbiter.optimize.linear import LinearModel

ELASTIC = (
    "assign",
    "demand",
    "class_demand",
    "capacity",
    "budget",
    *(f"{g}_share" for g in GROUPS),
)
# leaving work undone is the last resort: say what the limits would have to give first
WEIGHTS = {"assign": 1e4, "demand": 1e4, "class_demand": 1e4}
VIOLATION = 1e-6
NO_PLACEMENT = "no placement meets every constraint of the fleet"


def explain_infeasible(
    model: LinearModel, *, seed: int, time_limit_s: float | None, share_unit: float = 1.0
) -> str:
    """Which families of the fleet model must give, and how much, within
    ``time_limit_s`` (:func:`what_must_give`); share rows are in units of
    ``share_unit`` dollars."""
    diagnosis = what_must_give(
        model, ELASTIC, weights=WEIGHTS, seed=seed, time_limit_s=time_limit_s
    )
    parts = [words for v in diagnosis.violations for words in _words(v, share_unit)]
    return in_words(
        diagnosis,
        parts,
        failure=NO_PLACEMENT,
        whole="whole replicas and instances",
        time_limit_s=time_limit_s,
    )


def _words(v: Violation, share_unit: float) -> list[str]:
    name, short = v.family, v.under
    excess = v.over * (share_unit if name.endswith("_share") else 1.0)
    if name == "assign" and short > VIOLATION:
        return [f"{v.name}: the workload cannot be placed within the other constraints"]
    if name in ("demand", "class_demand") and short > VIOLATION:
        amount = f"{short:,.0f} tokens/s" if name == "demand" else f"{short:,.2f} requests/s"
        return [f"{v.name}: {amount} cannot be served"]
    if name == "capacity" and excess > VIOLATION:
        return [f"{v.name}: needs {excess:,.1f} more instances"]
    if name == "budget" and excess > VIOLATION:
        return [f"budget: needs ${excess:,.0f} more"]
    if name.endswith("_share") and excess > VIOLATION:
        return [f"{v.name}: ${excess:,.0f} of spend above the cap"]
    return []
