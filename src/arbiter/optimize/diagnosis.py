"""Why a fleet has no plan: the elastic model, in which every constraint family may give
at a price, and what its solution says must give, in words."""

from __future__ import annotations

import time

from arbiter.domain.fleet import GROUPS
from arbiter.optimize.linear import LinearModel, Status

ELASTIC = (
    "assign",
    "demand",
    "class_demand",
    "capacity",
    "budget",
    *(f"{g}_share" for g in GROUPS),
)
VIOLATION = 1e-6


def explain_infeasible(
    model: LinearModel, *, seed: int, time_limit_s: float | None, share_unit: float = 1.0
) -> str:
    """Solve the elastic model (every constraint family may give, at a cost per unit of
    violation relative to its bound) within ``time_limit_s`` and say which families must
    give, and how much. Stopped at the limit, the best elastic plan found still names
    what would do (not proven the least); with none, the elastic LP (fractional
    instances) names what must give at the least; and if even that finds nothing in the
    time, the sentence says the diagnosis ran out of time."""
    # leaving work undone is the last resort: say what the limits would have to give first
    slack = model.relax(ELASTIC, weights={"assign": 1e4, "demand": 1e4, "class_demand": 1e4})
    start = time.monotonic()
    solution = model.solve(time_limit_s=time_limit_s, mip_gap=1e-6, seed=seed)
    caveat = ""
    relaxed = False
    if solution.status is Status.FEASIBLE:
        caveat = " (the diagnosis stopped at its time limit: enough, not proven the least)"
    elif not solution.found:
        left = None if time_limit_s is None else time_limit_s - (time.monotonic() - start)
        if left is not None and left <= 0.0:
            left = 0.5 * time_limit_s if time_limit_s is not None else None
        solution = model.solve(time_limit_s=left, seed=seed, relax=True)
        relaxed = True
        caveat = " (from the relaxed model, in fractional instances: whole ones need more)"
        if not solution.found:
            spent = "" if time_limit_s is None else f" {time_limit_s:g} s"
            return (
                "no placement meets every constraint of the fleet; the diagnosis ran out of "
                f"its{spent} time before finding what must give (a longer --time-limit "
                "gives it more)"
            )
    parts: list[str] = []
    for name, (under, over) in slack.items():
        for label, short, excess in zip(
            under.labels, solution.values(under), solution.values(over), strict=True
        ):
            # share rows are in units of the dearest option
            scale = share_unit if name.endswith("_share") else 1.0
            parts.extend(_violation_words(name, label, float(short), float(excess) * scale))
    if not parts and not relaxed:
        return "no placement meets every constraint of the fleet"
    if not parts:
        return (
            "no placement meets every constraint of the fleet in whole units, though a "
            "fractional one would: whole replicas and instances are what must give"
        )
    return (
        "no placement meets every constraint of the fleet; the least that would have to "
        "give" + caveat + ": " + "; ".join(parts)
    )


def _violation_words(name: str, label: str, short: float, excess: float) -> list[str]:
    where = f"{name}[{label}]"
    if name == "assign" and short > VIOLATION:
        return [f"{where}: the workload cannot be placed within the other constraints"]
    if name in ("demand", "class_demand") and short > VIOLATION:
        amount = f"{short:,.0f} tokens/s" if name == "demand" else f"{short:,.2f} requests/s"
        return [f"{where}: {amount} cannot be served"]
    if name == "capacity" and excess > VIOLATION:
        return [f"{where}: needs {excess:,.1f} more instances"]
    if name == "budget" and excess > VIOLATION:
        return [f"budget: needs ${excess:,.0f} more"]
    if name.endswith("_share") and excess > VIOLATION:
        return [f"{where}: ${excess:,.0f} of spend above the cap"]
    return []
