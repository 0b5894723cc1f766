"""Solving the fleet model (its formulation: ``fleet_model.py``): identical workloads
grouped, small models straight to HiGHS, large ones searched first (``fleet_search.py``),
an infeasible fleet explained, and the solution read back as a plan."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import Fleet
from arbiter.optimize.cap_floor import FEASIBILITY_GAP, CapFloor, cap_floors
from arbiter.optimize.fleet_columns import Relaxation, held_columns, relaxation
from arbiter.optimize.fleet_diagnosis import explain_infeasible
from arbiter.optimize.fleet_model import (
    HALF,
    FleetModel,
    FleetSolution,
    Placed,
    build_fleet_model,
)
from arbiter.optimize.fleet_search import (
    Clock,
    enablement_bound,
    greedy_start,
    plan_start,
    relative_gap,
    relax_and_fix,
    serve_floors,
)
from arbiter.optimize.grouping import group_identical
from arbiter.optimize.linear import (
    FloatArray,
    IntArray,
    LinearModel,
    Solution,
    Status,
    Stop,
)
from arbiter.optimize.options import Option, share_capped
from arbiter.optimize.share_caps import group_of

__all__ = [
    "DEFAULT_MIP_GAP",
    "DEFAULT_TIME_LIMIT_S",
    "FleetModel",
    "FleetSolution",
    "Placed",
    "build_fleet_model",
    "greedy_start",
    "group_identical",
    "group_of",
    "limit_sentence",
    "plan_start",
    "solve_fleet",
    "solve_model",
]


BoolArray = npt.NDArray[np.bool_]
DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_GAP = 1e-3
DECOMPOSE_ABOVE = 20_000  # integer columns: above this, LP bound then relax-and-fix first
DIAGNOSIS_SHARE = 0.25  # of the time limit, set aside to explain an infeasible fleet
DIAGNOSIS_MIN_S = 2.0
# up to this many options an infeasible capped fleet is told the smallest caps that hold
# (a bisection of whole solves: beyond it, each solve is too long to repeat)
CAP_FLOOR_OPTIONS = 20_000


def solve_fleet(
    fleet: Fleet,
    options: Sequence[Option],
    *,
    caps: bool = True,
    capacity: bool = True,
    seed: int = 0,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    explain: bool = True,
    unmet_usd: Sequence[float] | None = None,
    node_limit: int | None = None,
    decompose: bool | None = None,
    start: FleetSolution | None = None,
    export_model: Path | None = None,
) -> FleetSolution:
    """Solve the formulation above for ``options``; ``caps=False`` drops the share caps,
    ``capacity=False`` the capacity limits, ``unmet_usd`` prices leaving work undone (see
    :func:`build_fleet_model`). ``time_limit_s`` bounds the whole solve (options are
    not counted), ``mip_gap`` is the relative gap that counts as optimal. Stopped at a
    limit with a plan, the best plan found comes back with status ``feasible`` and its
    proven gap (:func:`limit_sentence` says so in words). An infeasible fleet raises
    :class:`InfeasibleError`, with what must give when ``explain`` (a bounded share of
    the limit); nothing feasible found within the limit raises :class:`SolverError`.
    ``start``, a plan of the same fleet (say, before one row was relaxed), seeds the
    search when it is feasible. ``export_model`` writes the model solved (``.mps`` or
    ``.lp``; for a large fleet, the one with identical workloads grouped) first."""
    if not options and unmet_usd is None:
        raise InfeasibleError("no workload of the fleet has an option to place it on")
    large = len(options) > DECOMPOSE_ABOVE if decompose is None else decompose
    grouped = (
        group_identical(fleet, options)
        if large and unmet_usd is None and not fleet.copies
        else None
    )
    if grouped is not None:
        built = build_fleet_model(
            grouped.fleet, grouped.options, caps=caps, capacity=capacity, copies=grouped.copies
        )
        if export_model is not None:
            built.model.export(export_model)
        found = solve_model(
            built, grouped.options, seed=seed, time_limit_s=time_limit_s, mip_gap=mip_gap,
            explain=explain, node_limit=node_limit, decompose=True,
        )  # fmt: skip
        return grouped.expand(found, options)
    built = build_fleet_model(fleet, options, caps=caps, capacity=capacity, unmet_usd=unmet_usd)
    if export_model is not None:
        built.model.export(export_model)
    began = time.monotonic()
    try:
        return solve_model(
            built, options, seed=seed, time_limit_s=time_limit_s, mip_gap=mip_gap,
            explain=explain, node_limit=node_limit, decompose=decompose,
            start=None if start is None else plan_start(built, options, start),
        )  # fmt: skip
    except InfeasibleError as error:
        if not (explain and caps and share_capped(fleet)) or len(options) > CAP_FLOOR_OPTIONS:
            raise
        spent = time.monotonic() - began
        left = None if time_limit_s is None else max(time_limit_s - spent, DIAGNOSIS_MIN_S * 5)
        floors = _cap_floors(fleet, options, capacity, seed, unmet_usd, decompose, left)
        if not floors:
            raise
        raise InfeasibleError("; ".join(f.sentence() for f in floors) + f". {error}") from error


def _cap_floors(
    fleet: Fleet,
    options: Sequence[Option],
    capacity: bool,
    seed: int,
    unmet_usd: Sequence[float] | None,
    decompose: bool | None,
    left: float | None,
) -> list[CapFloor]:
    """The smallest caps that hold, for an infeasible capped fleet, within ``left``."""

    def relaxed_feasible(f: Fleet) -> bool:
        model = build_fleet_model(f, options, capacity=capacity, unmet_usd=unmet_usd).model
        return model.solve(relax=True, time_limit_s=left).status is not Status.INFEASIBLE

    return cap_floors(
        fleet,
        options,
        lambda f: solve_fleet(
            f,
            options,
            capacity=capacity,
            seed=seed,
            mip_gap=FEASIBILITY_GAP,
            time_limit_s=None if left is None else max(left / 8, DIAGNOSIS_MIN_S),
            explain=False,
            unmet_usd=unmet_usd,
            decompose=decompose,
        ),
        relaxed_feasible,
        time_limit_s=left,
    )


@dataclass
class _Search:
    """The state of one fleet solve: its limits, the best plan found and the best bound
    proven so far, and the LP the large-model path works from."""

    built: FleetModel
    options: Sequence[Option]
    seed: int
    mip_gap: float
    clock: Clock
    reserve: float  # seconds kept back to explain an infeasible fleet
    explain: bool
    start: FloatArray | None
    bound: float = -float("inf")
    best: Solution | None = None
    relaxed: Relaxation | None = None
    tight: LinearModel | None = None
    bounded_by_sets: bool = False  # the platform sets' bound (enablement_bound) has run

    def left(self, share: float) -> float | None:
        return self.clock.left(share, self.reserve)

    def above_gap(self) -> bool:
        return self.best is not None and relative_gap(self.best.objective, self.bound) > (
            self.mip_gap
        )


def solve_model(
    built: FleetModel,
    options: Sequence[Option],
    *,
    seed: int = 0,
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    explain: bool = True,
    node_limit: int | None = None,
    decompose: bool | None = None,
    start: FloatArray | None = None,
) -> FleetSolution:
    """Solve a model of :func:`build_fleet_model` and read the placement from it.

    Large models (``decompose``; by default above ``DECOMPOSE_ABOVE`` integer columns)
    are solved in steps: the LP relaxation (a valid lower bound; by column generation
    over the serving options, ``fleet_columns.py``, which proves it the whole LP's
    optimum), then the MILP over the options the LP uses and each service's own best
    plan alone, everything else fixed at zero (relax-and-fix, ``fleet_search.py``): its
    plan is feasible for the whole model, and its gap against the LP bound is proven.
    Above ``mip_gap``, and with platforms to enable, the bound is raised by bounding
    each set of platforms apart (``enablement_bound``, most of the time left: the LP
    opens a platform by a sliver of its cost), then relax-and-fix runs again over every
    option priced in. Only when the gap is still above ``mip_gap`` does the MILP run
    over the options priced in, in the time left, seeded with the best plan (or,
    without one, the greedy plan: each workload on its cheapest option, which HiGHS
    keeps when it meets every constraint); when relax-and-fix found no plan, the sets
    are bounded after the MILP has one. Smaller models go straight to the MILP, seeded
    with ``start`` when one is given."""
    # an infeasible fleet is explained within its own share of the limit, kept back
    reserve = 0.0 if not explain or time_limit_s is None else _diagnosis_s(time_limit_s)
    if decompose is None:
        decompose = len(built.model.integer_columns()) > DECOMPOSE_ABOVE
    # a small model goes straight to HiGHS, unseeded (a seed can change which of several
    # equally good plans comes back); a large one is seeded with the greedy plan, or
    # better, the relax-and-fix plan
    search = _Search(
        built, options, seed, mip_gap, Clock(time_limit_s), reserve, explain,
        start=greedy_start(built, options) if decompose and start is None else start,
    )  # fmt: skip
    if decompose:
        done = _search_large(search)
        if done is not None:
            return done
    return _final_milp(search, node_limit, time_limit_s, decompose=decompose)


def _search_large(s: _Search) -> FleetSolution | None:
    """The large-model path: the LP bound, tightened by each service's own least
    whole-instance cost and found by column generation, then relax-and-fix (and the
    platform sets bounded apart); the plan when it is proven within the gap."""
    built, options = s.built, s.options
    s.tight = s.built.model.copy()
    alone = serve_floors(s.tight, built, options, s.left(0.1))
    # by column generation over the serving options (fleet_columns.py)
    # (pricing stops when the bound is within a tenth of the gap asked for)
    s.relaxed = relaxation(
        s.tight, built, options, time_limit_s=s.left(0.4), seed=s.seed,
        close_enough=s.mip_gap / 10,
    )  # fmt: skip
    lp = s.relaxed.solution
    if lp.status is Status.INFEASIBLE:
        _infeasible(built, s.explain, s.seed, s.clock)
    if lp.status not in (Status.OPTIMAL, Status.FEASIBLE):
        return None
    s.bound = lp.bound if lp.status is Status.OPTIMAL else s.bound
    # rounding may take a service to its own best plan alone, which the LP may not use
    s.best = relax_and_fix(built, options, lp, s.seed, s.mip_gap, s.left(0.3), also=alone)
    if s.above_gap() and len(built.pending) and np.isfinite(s.bound):
        _bound_platform_sets(s, lp, alone)
    if s.above_gap():
        # again over every option priced in, seeded with that plan: room for a service
        # to round its replicas without a surplus
        assert s.best is not None
        wider = relax_and_fix(
            built, options, lp, s.seed, s.mip_gap, s.left(0.3),
            also=s.relaxed.active | alone, start=s.best.x,
        )  # fmt: skip
        if wider is not None and wider.objective < s.best.objective:
            s.best = wider
    if s.best is None:
        return None
    s.start = s.best.x
    if relative_gap(s.best.objective, s.bound) <= s.mip_gap:
        return _read(built, options, s.best, Status.OPTIMAL, s.bound, None)
    return None


def _bound_platform_sets(s: _Search, lp: Solution, alone: BoolArray) -> None:
    """The LP opens a platform by a sliver: bound each set of platforms apart (most of
    what is left: the sets' LPs are what proves the plan), and round again from the
    best set's LP when that leaves the plan above the gap."""
    assert s.best is not None
    assert s.tight is not None
    assert s.relaxed is not None
    built, options = s.built, s.options
    within = _relax_within(s.tight, built, options, s.relaxed, s.seed, s.mip_gap)
    target = s.best.objective * (1.0 - s.mip_gap)
    floor, lp_of_best_set = enablement_bound(s.tight, built, lp, target, s.left(0.9), within)
    s.bound = max(s.bound, floor)
    s.bounded_by_sets = True
    if lp_of_best_set is not None and s.above_gap():
        again = relax_and_fix(
            built, options, lp_of_best_set, s.seed, s.mip_gap, s.left(0.3), also=alone
        )
        if again is not None and again.objective < s.best.objective:
            s.best = again


def _final_milp(
    s: _Search, node_limit: int | None, time_limit_s: float | None, *, decompose: bool
) -> FleetSolution:
    """The MILP, in the time left, seeded with the best plan. A large model's runs over
    the options the LP priced in (and the start's): HiGHS's presolve of the whole one
    can overrun the limit by tens of seconds, and the LP's bound holds for the whole
    model either way."""
    built = s.built

    def milp(columns: IntArray | None) -> Solution:
        return built.model.solve(
            time_limit_s=s.left(1.0), mip_gap=s.mip_gap, seed=s.seed, node_limit=node_limit,
            start=s.start, columns=columns,
        )  # fmt: skip

    columns = None if not decompose or s.relaxed is None else _priced_in(built, s.relaxed, s.start)
    solution = milp(columns)
    if columns is not None and solution.status is Status.INFEASIBLE:
        columns = None  # the options held out may be what makes it feasible
        solution = milp(columns)
    if columns is not None and solution.found:
        solution = dataclasses.replace(solution, bound=-float("inf"))  # not the whole's
    if solution.status is Status.INFEASIBLE:
        _infeasible(built, s.explain, s.seed, s.clock)
    if solution.found and (s.best is None or solution.objective <= s.best.objective):
        s.best = solution
    if s.best is None:
        raise _no_plan(solution, time_limit_s)
    s.bound = max(s.bound, solution.bound if solution.found else s.bound)
    if s.relaxed is not None and s.tight is not None and not s.bounded_by_sets:
        _late_set_bound(s)
    proven = columns is None and s.best is solution and solution.status is Status.OPTIMAL
    within_gap = proven or relative_gap(s.best.objective, s.bound) <= s.mip_gap
    status = Status.OPTIMAL if within_gap else Status.FEASIBLE
    stop = None if status is Status.OPTIMAL else (solution.stop or Stop.TIME)
    return _read(built, s.options, s.best, status, s.bound, stop)


def _late_set_bound(s: _Search) -> None:
    """Relax-and-fix found no plan, so the platform sets were not bounded apart: now
    that the MILP has one, bound them in the time left."""
    assert s.best is not None
    assert s.tight is not None
    assert s.relaxed is not None
    if not (len(s.built.pending) and np.isfinite(s.bound) and s.above_gap()):
        return
    floor, _ = enablement_bound(
        s.tight,
        s.built,
        s.relaxed.solution,
        s.best.objective * (1.0 - s.mip_gap),
        s.left(1.0),
        _relax_within(s.tight, s.built, s.options, s.relaxed, s.seed, s.mip_gap),
    )
    s.bound = max(s.bound, floor)


def _no_plan(solution: Solution, time_limit_s: float | None) -> SolverError:
    within = ""
    if solution.stop is Stop.TIME and time_limit_s is not None:
        within = f" within the {time_limit_s:g} s time limit"
    elif solution.stop is not None:
        within = " within the solver's limit"
    return SolverError(
        f"HiGHS found no plan{within} and could not prove there is none "
        f"({solution.status.value}); a longer --time-limit, a looser cap or fewer "
        "options may help"
    )


def _relax_within(
    tight: LinearModel,
    built: FleetModel,
    options: Sequence[Option],
    relaxed: Relaxation,
    seed: int,
    mip_gap: float,
) -> Callable[[tuple[FloatArray, FloatArray], float | None, float], Solution]:
    """The LP of ``tight`` within given column bounds, by column generation from the
    columns ``relaxed`` priced in (what :func:`enablement_bound` solves per set),
    stopped once its bound reaches ``target``."""

    def relax_within(
        bounds: tuple[FloatArray, FloatArray], limit_s: float | None, target: float
    ) -> Solution:
        return relaxation(
            tight,
            built,
            options,
            bounds=bounds,
            active=relaxed.active,
            time_limit_s=limit_s,
            seed=seed,
            close_enough=mip_gap / 10,
            target=target,
            basis=relaxed.solution.basis,
        ).solution

    return relax_within


def _priced_in(built: FleetModel, relaxed: Relaxation, start: FloatArray | None) -> IntArray:
    """Every column but those of the serving options the column generation held out and
    the start does not use."""
    out = relaxed.active.copy()
    if start is not None:
        out |= (start[built.replicas.columns] > 0) | (start[built.instances.columns] > 0)
    return np.flatnonzero(~held_columns(built, out))


def _diagnosis_s(time_limit_s: float) -> float:
    return min(max(time_limit_s * DIAGNOSIS_SHARE, DIAGNOSIS_MIN_S), time_limit_s / 2)


def _infeasible(built: FleetModel, explain: bool, seed: int, clock: Clock) -> NoReturn:
    if not explain:
        raise InfeasibleError("no placement meets every constraint of the fleet")
    left = clock.left()
    budget = (
        None if clock.limit_s is None or left is None else max(left, _diagnosis_s(clock.limit_s))
    )
    raise InfeasibleError(
        explain_infeasible(built.model, seed=seed, time_limit_s=budget, share_unit=built.share_unit)
    )


def _read(
    built: FleetModel,
    options: Sequence[Option],
    solution: Solution,
    status: Status,
    bound: float,
    stop: Stop | None,
) -> FleetSolution:
    """The placement of ``solution``, with ``status`` and the gap against ``bound``."""
    y, r, n, z = built.choose, built.replicas, built.instances, built.enable
    one, rep, pending = built.one, built.rep, built.pending
    placed: list[Placed] = []
    yv, rv, nv = solution.values(y), solution.values(r), solution.values(n)
    for j, i in enumerate(one.tolist()):
        if yv[j] > HALF:
            o = options[i]
            count = round(float(yv[j])) if built.copies else 1
            placed.extend(
                Placed(option=o, units=1, instances=o.instances, usd=o.usd) for _ in range(count)
            )
    served = _class_loads(built, solution, options)
    for j, i in enumerate(rep.tolist()):
        if nv[j] > HALF:
            o = options[i]
            count = round(float(nv[j]))
            units = round(float(rv[j]))
            placed.append(
                Placed(
                    option=o,
                    units=units,
                    instances=count,
                    usd=count * o.usd,
                    class_requests_per_s=served.get(j, ()),
                )
            )
    zv = solution.values(z)
    enabled = tuple(s.platform for j, s in enumerate(pending) if zv[j] > HALF)
    enable_cost = sum(s.enable_usd for j, s in enumerate(pending) if zv[j] > HALF)
    compute = float(sum(p.usd for p in placed))
    unmet: tuple[float, ...] = ()
    if built.unmet is not None:
        unmet = tuple(min(max(float(v), 0.0), 1.0) for v in solution.values(built.unmet))
    gap = solution.mip_gap if solution.status is status and bound == solution.bound else None
    return FleetSolution(
        status=status,
        placed=tuple(placed),
        compute_usd=compute,
        enabled=enabled,
        enablement_usd=enable_cost,
        mip_gap=relative_gap(solution.objective, bound) if gap is None else gap,
        unmet=unmet,
        unmet_usd=sum(f * c for f, c in zip(unmet, built.unmet_usd, strict=True)),
        stop=stop,
    )


def limit_sentence(solution: FleetSolution, time_limit_s: float | None) -> str | None:
    """What a plan stopped at a limit is, in one sentence (``None`` for an optimal one)."""
    if solution.status is not Status.FEASIBLE:
        return None
    gap = solution.mip_gap
    within = (
        f"within {gap:.1%} of the best possible"
        if np.isfinite(gap)
        else "with no bound on how far it is from the best possible"
    )
    if solution.stop is Stop.NODES:
        return f"Stopped at the node limit with the best plan found, {within}."
    if solution.stop is Stop.TIME and time_limit_s is not None:
        return f"Stopped at the {time_limit_s:g} s time limit with the best plan found, {within}."
    return f"Stopped at a solver limit with the best plan found, {within}."


def _class_loads(
    built: FleetModel, solution: Solution, options: Sequence[Option]
) -> dict[int, tuple[float, ...]]:
    """Requests/s of each class served, per position in ``rep`` of a mix serving option."""
    if built.class_load is None or built.load_rep is None or built.load_class is None:
        return {}
    out: dict[int, list[float]] = {}
    for j, c, v in zip(
        built.load_rep.tolist(),
        built.load_class.tolist(),
        solution.values(built.class_load).tolist(),
        strict=True,
    ):
        width = len(options[int(built.rep[j])].class_requests_per_s)
        out.setdefault(j, [0.0] * width)[c] = max(float(v), 0.0)
    return {j: tuple(v) for j, v in out.items()}
