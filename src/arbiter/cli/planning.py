"""The step ``arbiter plan`` and ``arbiter risk`` share: a fleet file to its options and
its optimal plan."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from arbiter.cli import shared
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet
from arbiter.optimize.fleet import FleetSolution, solve_fleet
from arbiter.optimize.options import Option, build_options, prune
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads import load_fleet


@dataclass(frozen=True, slots=True)
class Planned:
    fleet: Fleet
    catalog: Catalog
    everything: list[Option]  # every option built (baselines and alternatives)
    options: list[Option]  # pruned: what the plan is solved on
    solution: FleetSolution
    input_hash: str


def plan_file(file: Path, *, version: str | None, seed: int) -> Planned:
    """Load ``file``, build and prune its options on the catalog ``version`` (default:
    the current one) and solve the fleet; a workload with no option is named with the
    reasons of its best chips (exit 3)."""
    fleet = load_fleet(file)
    config = shared.settings()
    store = shared.store(config)
    catalog = store.load(version or store.current())
    everything, estimates = build_options(fleet, catalog, default_efficiency())
    for wi, w in enumerate(fleet.workloads):
        if not any(o.workload == wi for o in everything):
            reasons = "; ".join(
                f"{e.accelerator}: {e.reason}" for e in estimates[wi][:3] if e.reason
            )
            raise InfeasibleError(
                f"In {file}: workload {w.name!r} (workloads[{wi}]) has no option: no chip and "
                f"offer it may use meets its deadline or SLO within the fleet's regions and "
                f"platforms{f' ({reasons})' if reasons else ''}"
            )
    options = prune(everything, fleet)
    return Planned(
        fleet=fleet,
        catalog=catalog,
        everything=everything,
        options=options,
        solution=solve_fleet(fleet, options, seed=seed),
        input_hash=hashlib.sha256(file.read_bytes()).hexdigest()[:12],
    )
