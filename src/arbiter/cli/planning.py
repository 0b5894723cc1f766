"""The step ``arbiter plan`` and ``arbiter risk`` share: a fleet file to its options and
its optimal plan."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from arbiter.catalog.capacity import obtainable
from arbiter.cli import shared
from arbiter.cli.capacity_text import no_option_message
from arbiter.domain.capacity import CapacityAssumption
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet
from arbiter.optimize.capacity import build_capacity_options
from arbiter.optimize.fleet import (
    DEFAULT_MIP_GAP,
    DEFAULT_TIME_LIMIT_S,
    FleetSolution,
    solve_fleet,
)
from arbiter.optimize.folding import Folded
from arbiter.optimize.folding import fold as fold_fleet
from arbiter.optimize.options import Option, build_options
from arbiter.optimize.pruning import prune
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads import load_fleet
from arbiter.workloads.capacity_file import load_capacity_file

TimeLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        min=0.0,
        help="Seconds the solver may take; at the limit the best plan found is returned "
        "with its proven gap (default: 60 for a plan, 20 per cap of a sweep, 120 for "
        "procure).",
    ),
]
MipGapOpt = Annotated[
    float | None,
    typer.Option(
        "--mip-gap",
        min=0.0,
        max=1.0,
        help="Relative gap to the best possible plan that counts as optimal, e.g. 0.01 "
        "for 1% (default: 0.001 for a plan, 0.0001 for procure).",
    ),
]


@dataclass(frozen=True, slots=True)
class Planned:
    fleet: Fleet  # the fleet the model solves: the file's, or folded (``folded``)
    catalog: Catalog
    everything: list[Option]  # every option built (baselines and alternatives)
    options: list[Option]  # pruned: what the plan is solved on
    solution: FleetSolution  # on ``fleet``
    input_hash: str
    folded: Folded | None = None  # set when identical workloads were folded
    assumptions: dict[str, CapacityAssumption] | None = None  # obtainable, by offer id
    # the options built without obtainable capacity (the baselines'), on demand, and how
    # long building the options took (so a caller can tell whether there is time for it)
    build_unlimited: Callable[[], list[Option]] | None = None
    options_s: float = 0.0

    def unlimited(self) -> list[Option] | None:
        """The options built without obtainable capacity, where the baselines are found
        (they ignore capacity as they ignore caps); None when not given."""
        return None if self.build_unlimited is None else self.build_unlimited()


def plan_file(
    file: Path,
    *,
    version: str | None,
    seed: int,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    fold: bool = False,
    capacity_file: Path | None = None,
    calibration: CalibrationProfile | None = None,
) -> Planned:
    """Load ``file``, build and prune its options on the catalog ``version`` (default:
    the current one) and solve the fleet within ``time_limit_s`` to ``mip_gap``; a
    workload with no option is named with the reasons of its best chips (exit 3). With
    ``fold``, identical train/finetune/batch workloads are folded into one first
    (:mod:`arbiter.optimize.folding`): the same optimum, far fewer options. The time limit
    counts from the call: building the options uses it too, and the solve gets what is
    left (at least a tenth of it). Obtainable capacity (``docs/capacity.md``): the fleet's
    ``capacity:`` rows, then ``capacity_file`` (default: the stored one, if any), then the
    default rules; the fleet solved carries the capacity limits that can bind.
    ``calibration`` corrects the estimates of the chips it covers (every option on them)."""
    started = time.monotonic()
    fleet = load_fleet(file)
    folded = fold_fleet(fleet) if fold else None
    if folded is not None:
        fleet = folded.fleet
    config = shared.settings()
    store = shared.store(config)
    catalog = store.load(version or store.current())
    capacity_file = capacity_file or shared.default_capacity_file(config)
    stated = load_capacity_file(capacity_file) if capacity_file is not None else ()
    assumptions = obtainable(catalog.offers, fleet.capacity, stated, str(capacity_file or ""))
    eff = default_efficiency()
    unbounded = fleet

    def build_unlimited() -> list[Option]:
        # the baselines ignore capacity, as they ignore caps: their options are built
        # without it (on demand: at thousands of workloads this is seconds)
        return build_options(unbounded, catalog, eff, calibration=calibration)[0]

    built = build_capacity_options(fleet, catalog, eff, assumptions, calibration)
    fleet, everything, estimates = built.fleet, built.options, built.estimates
    options_s = time.monotonic() - started
    placed = {o.workload for o in everything}
    for wi, w in enumerate(fleet.workloads):
        if wi not in placed:
            at = wi if folded is None else folded.members[wi][0]
            alone = [o for o in build_unlimited() if o.workload == wi]
            if alone:  # options without capacity, none within it
                raise InfeasibleError(no_option_message(file, w.name, at, alone, assumptions))
            reasons = "; ".join(
                f"{e.accelerator}: {e.reason}" for e in estimates[wi][:3] if e.reason
            )
            raise InfeasibleError(
                f"In {file}: workload {w.name!r} (workloads[{at}]) has no option: no chip and "
                f"offer it may use meets its deadline or SLO within the fleet's regions and "
                f"platforms{f' ({reasons})' if reasons else ''}"
            )
    options = prune(everything, fleet)
    return Planned(
        fleet=fleet,
        catalog=catalog,
        everything=everything,
        options=options,
        solution=solve_fleet(
            fleet,
            options,
            seed=seed,
            time_limit_s=None
            if time_limit_s is None
            else max(time_limit_s - (time.monotonic() - started), time_limit_s / 10),
            mip_gap=mip_gap,
        ),
        input_hash=hashlib.sha256(file.read_bytes()).hexdigest()[:12],
        folded=folded,
        assumptions=assumptions,
        build_unlimited=build_unlimited,
        options_s=options_s,
    )
