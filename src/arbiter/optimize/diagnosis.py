"""Why a fleet has no plan: the elastic model, in which every constraint family may give
at a price, and what its solution says must give, in words."""

from __future__ import annotations

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
    violation relative to its bound) and say which families must give, and how much."""
    # leaving work undone is the last resort: say what the limits would have to give first
    slack = model.relax(ELASTIC, weights={"assign": 1e4, "demand": 1e4, "class_demand": 1e4})
    solution = model.solve(time_limit_s=time_limit_s, mip_gap=1e-6, seed=seed)
    if solution.status is not Status.OPTIMAL:
        return "no placement meets every constraint of the fleet"
    parts: list[str] = []
    for name, (under, over) in slack.items():
        for label, short, excess in zip(
            under.labels, solution.values(under), solution.values(over), strict=True
        ):
            # share rows are in units of the dearest option
            scale = share_unit if name.endswith("_share") else 1.0
            parts.extend(_violation_words(name, label, float(short), float(excess) * scale))
    if not parts:
        return "no placement meets every constraint of the fleet"
    return (
        "no placement meets every constraint of the fleet; the least that would have to "
        "give: " + "; ".join(parts)
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
