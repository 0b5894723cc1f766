"""The LP relaxation of a large fleet model by column generation: the same optimum as the
whole LP, solved over a few serving options at a time.

A large fleet's model is mostly serving options (a service keeps every offer that could
be its cheapest under some cap: one per vendor, provider and region at least), and the LP
over all of them is slow (5,000 workloads: 157,000 options, 21 s in HiGHS's simplex).
Few of them matter to the LP's optimum. The restricted master is the LP with every
serving option outside an *active* set held at zero (its columns' upper bounds; HiGHS's
presolve drops them); pricing then asks whether any held option would lower the
objective at the master's duals ``y``.

Pricing an option. Let ``d = c - A' y`` be the reduced costs with the duals of the
option's *private* rows (rows that touch no other option's columns: ``pack[o]``,
``no_idle[o]``, the enablement link ``n_o <= U_o z_p``) set to zero, which is always a
sign-feasible choice for a row that is slack or tight at ``r_o = n_o = 0``. The option
may keep a dual-feasible extension of ``y`` (so the master's optimum is the whole LP's)
iff some ``mu >= 0`` on ``pack[o]: chips r - per n <= 0`` makes both reduced costs
non-negative: ``d_r + mu chips >= 0`` and ``d_n - mu per >= 0``, that is

    d_n >= 0   and   d_n chips / per + d_r >= 0.

The option's no-padding mark ``v_o`` (``used[o]: r_o <= R_o v_o``, ``least[o]``) changes
nothing: ``v_o`` costs nothing, so the dual of ``used[o]`` must be zero and the test is the
same. An option failing either test (beyond a tolerance of 1e-7 of its cost) enters the
active set, the most negative first, a few per workload per round; options on a
platform the bounds close are left out (their link row holds them at zero). When
no option fails, the master's duals are feasible for the whole LP: its objective is
the LP's optimum and a valid bound on the MILP. Pricing also stops when the Lagrangian
bound (the master's objective plus the least each failing option could add within its
own rows, ``r_o <= R_o`` from ``used[o]``) is within ``close_enough`` of the master: the
solution's ``bound`` is then that bound, not the master's objective. The test is
sufficient, not necessary, so an option may enter that the LP then leaves at zero; that
costs time, never exactness.

Phase one. When the master has no solution (the active options cannot meet a demand, a
cap or a capacity row within the bounds), the least-violation LP (a slack, at a cost per
unit relative to the row's bound, on every row a serving option shares with others; no
other cost) is priced the same way at zero cost, and the options it asks for enter,
until the violation is zero (then pricing goes on as above) or no held option can lower
it (the LP has no solution within the bounds). Only if phase one stops unfinished does
every option enter. Taking every option at once costs a large model seconds per LP (a
set of platforms in ``enablement_bound``: 3.9 s at 1,000 generated workloads, against
0.2 s for phase one's two rounds).

Options of a request mix (``class_load``) and train/batch options (few, one column
each) are always active.

The master. A held option's private rows are slack at its zero, so they leave the
master with it (at 10,000 generated workloads the enablement links of held options
alone were 96,000 of the master's 132,000 rows). Each master starts from the last
one's basis by the primal simplex (the options that entered come in at zero, so the
basis stays primal feasible; HiGHS then skips its presolve): 26,600 iterations and
6 s where a cold start took 10.5 s. A relaxation given a basis (the same LP's within
other bounds, as ``enablement_bound`` solves each set of platforms) keeps the active
options on platforms the bounds close (their links hold them at zero) and starts by
the dual simplex, which a change of bounds leaves dual feasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from arbiter.optimize.fleet_model import FleetModel
from arbiter.optimize.fleet_search import Clock, cheapest_per
from arbiter.optimize.linear import (
    Basis,
    FloatArray,
    IntArray,
    LinearModel,
    Simplex,
    Solution,
    Status,
)
from arbiter.optimize.options import Option

BoolArray = npt.NDArray[np.bool_]

FIRST_PER_WORKLOAD = 3  # cheapest per token/s of each service, active from the start
ENTER_PER_ROUND = 10  # most options of one service that enter per round
REDUCED_COST_TOL = 1e-7  # relative to the option's cost
MAX_ROUNDS = 50
PHASE_ONE_TOL = 1e-9  # violation (relative to each row's bound) that counts as none
WARM_DUAL_SHARE = 0.25  # of the time left, for a master's dual warm start
CLOSE_ENOUGH = 1e-7  # relative, by default: stop pricing when held options could save no more


@dataclass(frozen=True, slots=True)
class Relaxation:
    """The LP relaxation's solution and the serving options active when it was found
    (per position in ``built.rep``); ``status`` is ``optimal`` only when pricing proved
    the master's optimum to be the whole LP's, so only then is ``objective`` a bound."""

    solution: Solution
    active: BoolArray
    rounds: int


def relaxation(
    model: LinearModel,
    built: FleetModel,
    options: Sequence[Option],
    *,
    bounds: tuple[FloatArray, FloatArray] | None = None,
    active: BoolArray | None = None,
    time_limit_s: float | None = None,
    seed: int = 0,
    close_enough: float = CLOSE_ENOUGH,
    target: float = np.inf,
    basis: Basis | None = None,
) -> Relaxation:
    """The LP relaxation of ``model`` (``built.model`` or a copy with more rows) within
    ``bounds`` (the columns' own by default), by column generation over the plain
    serving options of ``built`` from ``active`` (by default :func:`first_active`);
    pricing stops once its Lagrangian bound is within ``close_enough`` (relative) or
    reaches ``target`` (a caller that needs no more: the solution's ``bound`` is that
    Lagrangian bound, and its objective the master's). ``basis`` (say the final basis
    of the same LP within other bounds, over ``active``) starts the first master's dual
    simplex; each later master starts from the one before by the primal simplex."""
    clock = Clock(time_limit_s)
    m = _pricing(model, built, options, bounds)
    on = (first_active(built, options) if active is None else active.copy()) | m.always
    if basis is None:
        on &= m.allowed
    # (with a basis, options on a platform the bounds close stay, held at zero by their
    # links: the basis stays one of the master's)
    elastic: Elastic | None = None
    simplex: Simplex = "dual"  # the given basis's bounds changed; then columns enter
    last: Solution | None = None  # the last master solved to optimality
    rounds = 0
    while True:
        rounds += 1
        found = _restricted(
            model, (m.lower, m.upper), m.held(on), m.rows_of(on), clock, seed, basis, simplex
        )
        basis, simplex = found.basis, "primal"
        if found.status is Status.INFEASIBLE and (on != m.allowed).any():
            # the held options may be what makes it feasible (a cap, a capacity row):
            # price them in by the least violation (phase one), or, if that stops
            # unfinished, take every option and let the whole LP decide
            if elastic is None:
                elastic = _elastic(model, built, m.index, m.columns, m.private)
            bounds_now = (m.lower, m.upper)
            feasible = _phase_one(
                elastic, bounds_now, on, m.rows_of, m.held, clock, seed, m.price_in
            )
            if isinstance(feasible, bool):
                return Relaxation(found, on, rounds)  # no option can make it feasible
            on = m.allowed.copy() if feasible is None else feasible
            continue
        if found.status is not Status.OPTIMAL:
            if last is not None and found.status is Status.TIME_LIMIT:
                # the last master's point is the LP's, with no bound
                return Relaxation(replace(last, status=Status.FEASIBLE, bound=-np.inf), on, rounds)
            return Relaxation(found, on, rounds)
        last = found
        done = m.price(found, on, rounds, clock, close_enough, target)
        if done is not None:
            return done


@dataclass
class _Pricing:
    """What pricing the held serving options against a master's duals needs: the
    model's matrix by entry, which options may enter, their rows and their sizes."""

    built: FleetModel
    lower: FloatArray
    upper: FloatArray
    cost: FloatArray
    index: IntArray
    value: FloatArray
    columns: IntArray  # the column of each entry of the matrix
    allowed: BoolArray
    always: BoolArray
    owner: IntArray  # per row, the serving option it is private to (-1: none)
    private: BoolArray  # owner >= 0
    chips: FloatArray
    per: FloatArray
    workload: IntArray
    most: FloatArray
    skip_cols: BoolArray
    kept: BoolArray

    def held(self, active: BoolArray) -> BoolArray:
        return held_columns(self.built, active) | self.skip_cols

    def rows_of(self, active: BoolArray) -> IntArray:
        """The master's rows: a held option's private rows are slack at its zero (an
        enablement link alone is 96,000 rows at 10,000 workloads), so they go."""
        if not len(active):
            return np.flatnonzero(self.kept)
        return np.flatnonzero(self.kept & ~(self.private & ~active[self.owner.clip(min=0)]))

    def reduced(self, found: Solution, c: FloatArray | float) -> tuple[FloatArray, FloatArray]:
        """``d = c - A' y`` of the options' replicas and instances at the duals of
        ``found``, its private rows' duals set to zero (the module docstring)."""
        y = np.where(self.private, 0.0, found.row_dual)
        d = np.asarray(
            c
            - np.bincount(
                self.columns, weights=self.value * y[self.index], minlength=len(self.cost)
            ),
            dtype=np.float64,
        )
        return d[self.built.replicas.columns], d[self.built.instances.columns]

    def price_in(self, found: Solution, on: BoolArray) -> IntArray:
        """Phase one's pricing: the held options whose columns (at no cost) would lower
        the violation at the duals of ``found``, most negative first, a few per workload."""
        dr, dn = self.reduced(found, 0.0)
        score = dn * self.chips / self.per + dr
        enter = ~on & self.allowed & ~self.always
        enter &= (dn < -PHASE_ONE_TOL) | (score < -PHASE_ONE_TOL)
        return _most_negative(np.flatnonzero(enter), score, self.workload)

    def price(
        self,
        found: Solution,
        on: BoolArray,
        rounds: int,
        clock: Clock,
        close_enough: float,
        target: float,
    ) -> Relaxation | None:
        """Price the held options at the duals of the optimal master ``found``: the
        relaxation when none can enter, the bound is close enough or the limits are
        reached; otherwise the most negative enter ``on`` and ``None`` comes back."""
        dr, dn = self.reduced(found, self.cost)
        tol = REDUCED_COST_TOL * np.maximum(np.abs(self.cost[self.built.instances.columns]), 1.0)
        score = dn * self.chips / self.per + dr
        enter = ~on & self.allowed & ~self.always & ((dn < -tol) | (score < -tol))
        if not enter.any():
            return Relaxation(found, on, rounds)
        # the Lagrangian bound: what the held options could still take off the master
        least = found.objective + _held_least(dr, dn, self.chips, self.per, self.most, enter)
        close = found.objective - least <= close_enough * max(abs(found.objective), 1.0)
        if close or least >= target:
            return Relaxation(replace(found, bound=least), on, rounds)
        left = clock.left()
        if rounds >= MAX_ROUNDS or (left is not None and left <= 0.05):
            # not proven: a feasible LP point, but no bound
            return Relaxation(replace(found, status=Status.FEASIBLE, bound=-np.inf), on, rounds)
        on[_most_negative(np.flatnonzero(enter), score, self.workload)] = True
        return None


def _pricing(
    model: LinearModel,
    built: FleetModel,
    options: Sequence[Option],
    bounds: tuple[FloatArray, FloatArray] | None,
) -> _Pricing:
    lower, upper = model.col_bounds() if bounds is None else bounds
    cost, _, _, start, index, value = model.arrays()
    columns = np.repeat(np.arange(len(cost), dtype=np.int64), np.diff(start))
    allowed, always = _allowed(built, options, upper)
    rep = built.rep.tolist()
    skip_cols, kept_rows = without_no_surplus(model)
    kept = np.zeros(model.n_rows, dtype=bool)
    kept[kept_rows] = True
    owner = _private_rows(model, built, index, columns)
    return _Pricing(
        built=built, lower=lower, upper=upper, cost=cost, index=index, value=value,
        columns=columns, allowed=allowed, always=always,
        owner=owner, private=owner >= 0,
        chips=np.array([float(options[i].chips) for i in rep]),
        per=np.array([float(options[i].offer.accelerators_per_instance) for i in rep]),
        workload=np.array([options[i].workload for i in rep], dtype=np.int64),
        most=_most_replicas(built, options), skip_cols=skip_cols, kept=kept,
    )  # fmt: skip


NO_SURPLUS_ROWS = ("used", "least", "surplus")
NO_SURPLUS_COLUMNS = ("used", "least")


def without_no_surplus(model: LinearModel) -> tuple[BoolArray, IntArray]:
    """The no-surplus columns (a mask) and every row but the no-surplus ones: the LP
    relaxation leaves them out (a relaxation, so its bound still holds; they tighten
    it little and slow HiGHS's simplex threefold), keeping ``r_o <= R_o`` as bounds."""
    cols = np.zeros(model.n_cols, dtype=bool)
    for b in model.blocks:
        if b.name in NO_SURPLUS_COLUMNS:
            cols[b.start : b.start + b.size] = True
    rows = np.ones(model.n_rows, dtype=bool)
    for f in model.families:
        if f.name in NO_SURPLUS_ROWS:
            rows[f.start : f.start + f.size] = False
    return cols, np.flatnonzero(rows)


def _most_replicas(built: FleetModel, options: Sequence[Option]) -> FloatArray:
    """Per serving option, the most replicas its own rows allow (``used[o]``: ``R_o``;
    infinite without that row)."""
    out = np.full(len(built.rep), np.inf)
    if built.used_rep is None:
        return out
    rate = dict(built.serve_rates)
    for j in built.used_rep.tolist():
        o = options[int(built.rep[j])]
        out[j] = max(math.ceil(rate[o.workload] / max(o.tokens_per_s, 1e-12) - 1e-9), 1)
    return out


def _held_least(
    dr: FloatArray,
    dn: FloatArray,
    chips: FloatArray,
    per: FloatArray,
    most: FloatArray,
    held: BoolArray,
) -> float:
    """The least the ``held`` options add to the objective at reduced costs ``dr``,
    ``dn`` (their own rows kept, the others' duals given): each option's least over
    ``chips r <= per n <= chips r + per - 1``, ``0 <= r <= R``, at its vertices (r at 0
    or R, n at either side). Added to the master's objective it is a valid lower bound
    on the whole LP (Lagrangian; the master's columns are at their optimum)."""
    if not held.any():
        return 0.0
    r_top = most[held]
    c, p, a, b = chips[held], per[held], dr[held], dn[held]
    with np.errstate(invalid="ignore"):
        ends = [
            np.zeros(len(c)),
            b * (p - 1) / p,
            np.where(np.isfinite(r_top), a * r_top + b * c * r_top / p, -np.inf),
            np.where(np.isfinite(r_top), a * r_top + b * (c * r_top + p - 1) / p, -np.inf),
        ]
    lowest = np.minimum.reduce(ends)
    lowest = np.where(np.isnan(lowest), -np.inf, lowest)
    return float(np.sum(np.minimum(lowest, 0.0)))


def held_columns(built: FleetModel, active: BoolArray) -> BoolArray:
    """The columns of the serving options outside ``active`` (their replicas, instances
    and no-padding marks), as a mask over the model's columns."""
    held = np.zeros(built.model.n_cols, dtype=bool)
    held[built.replicas.columns[~active]] = held[built.instances.columns[~active]] = True
    if built.used is not None and built.used_rep is not None:
        held[built.used.columns[~active[built.used_rep]]] = True
    return held


def first_active(built: FleetModel, options: Sequence[Option]) -> BoolArray:
    """The starting active set: each service's ``FIRST_PER_WORKLOAD`` options of least
    cost per token/s, and its cheapest per vendor, provider and region (so that every cap
    can be met from the start, and the first master is feasible when the LP is)."""
    rep = built.rep.tolist()
    unit = np.array(
        [
            options[i].usd * options[i].chips
            / options[i].offer.accelerators_per_instance
            / max(options[i].tokens_per_s, 1e-12)
            for i in rep
        ]
    )  # fmt: skip
    workload = np.array([options[i].workload for i in rep], dtype=np.int64)
    on = np.zeros(len(rep), dtype=bool)
    cheapest: dict[tuple[object, ...], int] = {}
    for j, i in enumerate(rep):
        o = options[i]
        for key in ((o.workload, o.estimate.vendor), (o.workload, o.offer.provider)):
            if key not in cheapest or unit[j] < unit[cheapest[key]]:
                cheapest[key] = j
    on[list(cheapest.values())] = True
    on[cheapest_per(np.arange(len(rep)), unit, workload, FIRST_PER_WORKLOAD)] = True
    return on


@dataclass(frozen=True, slots=True)
class Elastic:
    """The model with a slack on every shared row a serving option touches (a demand, a
    cap, a capacity row), at no cost for anything else: its optimum is the least
    violation of those rows."""

    model: LinearModel
    n_cols: int  # the original model's columns come first


def _elastic(
    model: LinearModel,
    built: FleetModel,
    index: IntArray,
    columns: IntArray,
    private: BoolArray,
) -> Elastic:
    serving = np.zeros(model.n_cols, dtype=bool)
    serving[built.replicas.columns] = serving[built.instances.columns] = True
    shared = np.zeros(model.n_rows, dtype=bool)
    shared[index[serving[columns]]] = True
    shared &= ~private
    names = [f.name for f in model.families if shared[f.start : f.start + f.size].any()]
    return Elastic(model.relax(names).model, model.n_cols)


def _phase_one(
    elastic: Elastic,
    bounds: tuple[FloatArray, FloatArray],
    on: BoolArray,
    rows_of: Callable[[BoolArray], IntArray],
    held_of: Callable[[BoolArray], BoolArray],
    clock: Clock,
    seed: int,
    price_in: Callable[[Solution, BoolArray], IntArray],
) -> BoolArray | Literal[False] | None:
    """Phase one of column generation: the active set grown until the master is
    feasible, by pricing held options against the duals of the least-violation LP
    (:class:`Elastic`): the new active set; False when no held option can lower the
    violation (the LP is infeasible within the bounds); None when it stopped unfinished."""
    model = elastic.model
    lower, upper = model.col_bounds()
    lower[: elastic.n_cols], upper[: elastic.n_cols] = bounds
    on = on.copy()
    for _ in range(MAX_ROUNDS):
        held = np.zeros(model.n_cols, dtype=bool)
        held[: elastic.n_cols] = held_of(on)
        found = _restricted(model, (lower, upper), held, rows_of(on), clock, seed)
        if found.status is not Status.OPTIMAL:
            return None
        if found.objective <= PHASE_ONE_TOL:
            return on
        entering = price_in(found, on)
        if not len(entering):
            return False
        on[entering] = True
        left = clock.left()
        if left is not None and left <= 0.05:
            return None
    return None


def _restricted(
    model: LinearModel,
    bounds: tuple[FloatArray, FloatArray],
    held: BoolArray,
    rows: IntArray,
    clock: Clock,
    seed: int,
    basis: Basis | None = None,
    simplex: Simplex = "primal",
) -> Solution:
    """The LP of ``model`` within ``bounds`` over the columns not ``held`` and ``rows``,
    started from ``basis`` by ``simplex`` when a basis is given. A dual warm start gets
    ``WARM_DUAL_SHARE`` of the time left, then the LP starts cold: closing a platform can
    leave the master without a solution, which HiGHS's dual simplex from a basis can
    take a minute to find (its objective climbing to 1e12 at 2,000 generated workloads;
    HiGHS's ``objective_bound`` does not stop it), its presolve a fraction of a second."""

    def solve(start: Basis | None, limit_s: float | None) -> Solution:
        return model.solve(
            relax=True,
            bounds=bounds,
            columns=np.flatnonzero(~held),
            rows=rows,
            time_limit_s=limit_s,
            seed=seed,
            basis=start,
            simplex=simplex,
        )

    if basis is None or simplex != "dual":
        return solve(basis, clock.left())
    left = clock.left()
    warm = solve(basis, None if left is None else left * WARM_DUAL_SHARE)
    if warm.status is not Status.TIME_LIMIT:
        return warm
    return solve(None, clock.left())


def _most_negative(candidates: IntArray, score: FloatArray, workload: IntArray) -> IntArray:
    return cheapest_per(candidates, score, workload, ENTER_PER_ROUND)


def _allowed(
    built: FleetModel, options: Sequence[Option], upper: FloatArray
) -> tuple[BoolArray, BoolArray]:
    """Serving options that may be non-zero within the bounds (not on a platform the
    bounds close: their enablement link holds them at zero, so leaving them out is
    exact), and those always in the master (a request mix's: their class loads ride on
    them)."""
    allowed = np.ones(len(built.rep), dtype=bool)
    closed = {
        s.platform.value
        for s, col in zip(built.pending, built.enable.columns.tolist(), strict=True)
        if upper[col] <= 0.0
    }
    if closed:
        allowed &= np.array(
            [options[i].estimate.platform not in closed for i in built.rep.tolist()]
        )
    always = np.zeros(len(built.rep), dtype=bool)
    if built.load_rep is not None:
        always[built.load_rep] = True
    return allowed, always


def _private_rows(
    model: LinearModel, built: FleetModel, index: IntArray, columns: IntArray
) -> IntArray:
    """Per row, the serving option (its position in ``built.rep``) all of whose columns
    the row's are, enablement variables and a service's least throughput ``m`` aside
    (``m <= T - (T - tput_o) v_o`` is slack at ``v_o = 0``, since ``m <= T``, as the
    enablement link is at ``n_o = 0``); -1 for a row of no one option."""
    owner = np.full(model.n_cols, -1, dtype=np.int64)  # -1: shared (no option's own)
    positions = np.arange(len(built.rep), dtype=np.int64)
    owner[built.replicas.columns] = positions
    owner[built.instances.columns] = positions
    if built.used is not None and built.used_rep is not None:
        owner[built.used.columns] = built.used_rep
    mine = owner[columns]
    aside = built.enable.columns
    if built.least is not None:
        aside = np.concatenate([aside, built.least.columns])
    keep = ~np.isin(columns, aside)
    rows, mine = index[keep], mine[keep]
    low = np.full(model.n_rows, np.iinfo(np.int64).max)
    high = np.full(model.n_rows, -2)
    np.minimum.at(low, rows, mine)
    np.maximum.at(high, rows, mine)
    return np.where((low == high) & (low >= 0), low, -1)
