"""How a large fleet model is searched before HiGHS sees the whole MILP: the LP relaxation
tightened by each service's least whole-instance cost, a bound for each set of platforms
to enable, relax-and-fix, and starting points (the greedy plan, or a plan found before)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.optimize.fleet_model import HALF, FleetModel, FleetSolution, mark_used
from arbiter.optimize.linear import (
    FloatArray,
    IntArray,
    LinearModel,
    Solution,
    Status,
)
from arbiter.optimize.options import Option

EPS = 1e-6
ROOM_PER_WORKLOAD = 3  # relax-and-fix: options off crowded capacity rows kept per workload


class Clock:
    """Seconds left of a time limit (``None``: no limit)."""

    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.start = time.monotonic()

    def left(self, share: float = 1.0, reserve: float = 0.0) -> float | None:
        if self.limit_s is None:
            return None
        rest = self.limit_s - (time.monotonic() - self.start) - reserve
        return max(rest * share, 0.01)


def relative_gap(objective: float, bound: float) -> float:
    """HiGHS's relative gap: (objective - bound) / |objective|."""
    if not np.isfinite(bound):
        return float("inf")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def serve_floors(
    model: LinearModel, built: FleetModel, options: Sequence[Option], time_limit_s: float | None
) -> npt.NDArray[np.bool_]:
    """Rows ``serve_floor[w]: sum_o usd_o n_o >= L_w``: a plain service's spend is at least
    the least it could cost alone in whole replicas and instances (``L_w``: the proven
    bound of that small MILP, one per distinct service, so never above the true least).
    Valid for every plan, since the fleet's other rows only add to what a service must
    meet; they lift the LP bound by the rounding the relaxation otherwise ignores.
    Returns the serving options (per position in ``built.rep``) of each service's plan
    alone: where relax-and-fix can round it to without the LP's help."""
    clock = Clock(time_limit_s)
    rates = dict(built.serve_rates)
    by_workload: dict[int, list[int]] = {}
    for j, i in enumerate(built.rep.tolist()):
        if options[i].workload in rates and not options[i].class_requests_per_s:
            by_workload.setdefault(options[i].workload, []).append(j)
    known: dict[tuple[object, ...], tuple[float, npt.NDArray[np.bool_]]] = {}
    alone = np.zeros(len(built.rep), dtype=bool)
    rows: list[int] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    floors: list[float] = []
    labels: list[str] = []
    for w, js in by_workload.items():
        at = built.rep[np.array(js)]
        usd = np.array([options[i].usd for i in at.tolist()])
        tput = np.array([options[i].tokens_per_s for i in at.tolist()])
        chips = np.array([float(options[i].chips) for i in at.tolist()])
        per = np.array([float(options[i].offer.accelerators_per_instance) for i in at.tolist()])
        key = (rates[w], usd.tobytes(), tput.tobytes(), chips.tobytes(), per.tobytes())
        if key not in known:
            left = clock.left()
            if left is not None and left <= 0.05:
                break
            known[key] = _alone(rates[w], usd, tput, chips, per, left)
        floor, best = known[key]
        alone[np.array(js)[best]] = True
        if floor <= 0:
            continue
        rows.append(len(labels))
        labels.append(str(w))
        cols.append(built.instances.columns[np.array(js)])
        vals.append(usd)
        floors.append(floor)
    if labels:
        model.add_constraints(
            "serve_floor",
            labels,
            np.repeat(np.array(rows, dtype=np.int64), [len(c) for c in cols]),
            np.concatenate(cols),
            np.concatenate(vals),
            lower=np.array(floors),
        )
    return alone


def _alone(
    rate: float,
    usd: FloatArray,
    tput: FloatArray,
    chips: FloatArray,
    per: FloatArray,
    time_limit_s: float | None,
) -> tuple[float, npt.NDArray[np.bool_]]:
    """A proven lower bound on the least spend serving ``rate`` tokens/s on these
    options alone, in whole replicas and instances (0 when none is proven), and the
    options of the best plan found."""
    m = LinearModel()
    k = len(usd)
    r = m.add_variables("replicas", [str(i) for i in range(k)], integer=True)
    n = m.add_variables("instances", [str(i) for i in range(k)], cost=usd, integer=True)
    m.add_constraints("demand", ["w"], np.zeros(k, dtype=np.int64), r.columns, tput, lower=rate)
    ks = np.arange(k)
    m.add_constraints(
        "pack",
        [str(i) for i in range(k)],
        np.concatenate([ks, ks]),
        np.concatenate([r.columns, n.columns]),
        np.concatenate([chips, -per]),
        upper=0.0,
    )
    found = m.solve(time_limit_s=time_limit_s, mip_gap=1e-6)
    bound = found.bound if found.found else 0.0
    best = found.x[n.columns] > HALF if found.found else np.zeros(k, dtype=bool)
    return (float(bound) * (1.0 - 1e-9) if np.isfinite(bound) else 0.0), best


def enablement_bound(
    tight: LinearModel,
    built: FleetModel,
    lp: Solution,
    enough: float,
    time_limit_s: float | None,
    relax: Callable[[tuple[FloatArray, FloatArray], float | None, float], Solution] | None = None,
) -> tuple[float, Solution | None]:
    """A lower bound on the MILP far above the LP's when platforms wait to be enabled,
    and the LP of the set of platforms that attains it.

    The enablement links ``n_o <= U_o z_p`` have a large ``U_o`` (a share cap may ask
    for many instances), so the LP opens a platform for a sliver of its cost. Fixing
    ``z`` at each set ``P`` of pending platforms and solving the LP gives a bound
    ``b(P) = LP(P)`` for the plans enabling exactly ``P``; the MILP's optimum is at
    least ``min_P b(P)``. The cost of compute ``LP(P) - E(P)`` (``E``: enablement cost)
    only falls as ``P`` grows, so ``LP(Q) - E(Q) + E(P)`` bounds ``b(P)`` without a solve
    for any ``Q`` solved that holds ``P`` (and a ``Q`` with no plan leaves none to any set
    it holds); a set whose cheap bound already reaches ``enough`` is not solved (it
    cannot lower the bound below ``enough``), and sets are taken largest first, then
    cheapest, so that each is bounded by the most sets that hold it. A set not solved within
    ``time_limit_s`` keeps its cheap bound, so the result is always valid. ``relax``
    solves the LP of ``tight`` within given column bounds and a time limit (by default
    HiGHS on the whole LP; ``fleet_columns.relaxation`` for a large model), and may stop
    once its bound reaches a target (``enough``: such a set cannot lower the result
    below it); only an ``optimal`` result of it counts, by its ``bound``."""
    z = built.enable.columns
    k = len(z)
    if k > 10:  # 1,024 sets: the plain LP bound
        return lp.bound, None
    clock = Clock(time_limit_s)
    lower, upper = tight.col_bounds()
    enable_cost = tight.arrays()[0][z]

    def whole(
        bounds: tuple[FloatArray, FloatArray], limit_s: float | None, target: float
    ) -> Solution:
        del target  # the whole LP is solved to its optimum
        return tight.solve(relax=True, bounds=bounds, time_limit_s=limit_s)

    within = whole if relax is None else relax

    def solve(bits: tuple[int, ...]) -> Solution:
        lo, up = lower.copy(), upper.copy()
        lo[z] = up[z] = np.array(bits, dtype=np.float64)
        return within((lo, up), clock.left(), enough)

    every = solve(tuple([1] * k))
    if every.status is not Status.OPTIMAL:
        return lp.bound, None
    # the LP's cost of compute (its bound less the enablement it pays) of each set solved;
    # inf for a set with no plan
    compute: dict[tuple[int, ...], float] = {tuple([1] * k): every.bound - float(enable_cost.sum())}
    # larger sets first: a set's compute is at least that of any set that holds it
    sets = sorted(
        itertools.product((0, 1), repeat=k),
        key=lambda b: (-sum(b), float(enable_cost @ b)),
    )
    bound = float("inf")
    best: Solution | None = None
    for bits in sets:
        floor = max(
            c for q, c in compute.items() if all(a <= b for a, b in zip(bits, q, strict=True))
        )
        cheap = floor + float(enable_cost @ np.array(bits))
        if all(bits):
            found: Solution | None = every
        elif cheap >= enough or (clock.limit_s is not None and (clock.left() or 0) <= 0.01):
            found = None
        else:
            found = solve(bits)
        if found is not None and found.status is Status.INFEASIBLE:
            compute[bits] = float("inf")  # and no set it holds has a plan either
        elif found is None or found.status is not Status.OPTIMAL:
            bound = min(bound, cheap)  # not solved (or stopped): the cheap bound stands
        else:
            compute[bits] = max(found.bound - float(enable_cost @ np.array(bits)), floor)
            if found.bound < bound:
                bound, best = found.bound, found
    return max(bound, lp.bound), best


def relax_and_fix(
    built: FleetModel,
    options: Sequence[Option],
    lp: Solution,
    seed: int,
    mip_gap: float,
    time_limit_s: float | None,
    also: npt.NDArray[np.bool_] | None = None,
    start: FloatArray | None = None,
) -> Solution | None:
    """The MILP restricted by the LP relaxation: a plan feasible for the whole model,
    or None.

    Platforms. The enablement link is a big-M, so the LP opens a platform by a sliver
    (``z`` as small as 1e-8 under options it uses whole); ``z`` says little. A pending
    platform is enabled when the LP spends at least its enablement cost on it (or sets
    its ``z`` above one half); one the LP uses for less is closed, its workloads moved.
    If that has no plan, every platform the LP uses at all is enabled instead.

    Options. Every workload keeps the options the LP uses on open platforms and, per
    serving option, ``also`` (say each service's own best plan alone, or every option
    the column generation priced in: room to round without a surplus). A workload the
    LP places in part on a closed platform, on none of its open options, or on a
    capacity row its point fills too closely to round up within (``_crowded``) also
    keeps its ``ROOM_PER_WORKLOAD`` cheapest open options off such rows; a train/batch
    workload not moved that the LP places whole is fixed there. Replicas and instances
    stay whole numbers to choose; class loads, spend and unmet work stay free."""
    clock = Clock(time_limit_s)
    point = _point(built, options, lp.x)
    cost = built.model.arrays()[0]
    spend = cost[point.cols] * lp.x[point.cols]
    in_use, worth = set(), set()
    for s, c in zip(built.pending, built.enable.columns.tolist(), strict=True):
        name = s.platform.value
        on = point.platform == name
        if point.used[on].any() or lp.x[c] > EPS:
            in_use.add(name)
        if lp.x[c] > HALF or float(spend[on].sum()) >= cost[c]:
            worth.add(name)
    tries = [worth, in_use] if worth != in_use else [in_use]
    for k, opened in enumerate(tries):
        share = 0.6 if k == 0 and len(tries) > 1 else 1.0
        found = _fix(built, point, opened, seed, mip_gap, clock.left(share), also, start)
        if found is not None:
            return found
    return None


@dataclass(frozen=True, slots=True)
class _Point:
    """The LP point relax-and-fix rounds, per option (``built.one``, then ``built.rep``):
    its column (``y`` or ``n``), platform, workload and unit cost (dollars, or dollars
    per token/s), whether the LP uses it, and whether it is on a crowded capacity row."""

    x: FloatArray
    cols: IntArray
    platform: npt.NDArray[np.str_]
    work: IntArray
    unit: FloatArray
    used: npt.NDArray[np.bool_]
    on_tight: npt.NDArray[np.bool_]


def _point(built: FleetModel, options: Sequence[Option], x: FloatArray) -> _Point:
    at = np.concatenate([built.one, built.rep])
    cols = np.concatenate([built.choose.columns, built.instances.columns])
    serving = np.maximum(x[built.instances.columns], x[built.replicas.columns])
    return _Point(
        x=x,
        cols=cols,
        platform=np.array([options[i].estimate.platform for i in at.tolist()]),
        work=np.array([options[i].workload for i in at.tolist()], dtype=np.int64),
        unit=np.array(
            [options[i].usd for i in built.one.tolist()]
            + [options[i].usd / max(options[i].tokens_per_s, 1e-12) for i in built.rep.tolist()]
        ),
        used=np.concatenate([x[built.choose.columns], serving]) > EPS,
        on_tight=_crowded(built.model, x, cols),
    )


def _fix(
    built: FleetModel,
    point: _Point,
    opened: set[str],
    seed: int,
    mip_gap: float,
    time_limit_s: float | None,
    also: npt.NDArray[np.bool_] | None,
    start: FloatArray | None,
) -> Solution | None:
    """:func:`relax_and_fix` with the pending platforms ``opened`` enabled, the others
    closed."""
    model = built.model
    lower, upper = model.col_bounds()
    x, cols, work, used, on_tight = point.x, point.cols, point.work, point.used, point.on_tight
    y, r, n, z = built.choose, built.replicas, built.instances, built.enable
    zv = np.array([1.0 if s.platform.value in opened else 0.0 for s in built.pending])
    lower[z.columns] = upper[z.columns] = zv
    closed = [s.platform.value for s in built.pending if s.platform.value not in opened]
    is_open = ~np.isin(point.platform, closed)
    keep = used & is_open
    if also is not None:
        keep[len(built.one) :] |= also & is_open[len(built.one) :]
    moves = np.zeros(int(work.max(initial=-1)) + 1, dtype=bool)
    moves[work[used & (~is_open | on_tight)]] = True
    moves[np.setdiff1d(work, work[keep])] = True  # on no open option at all
    room = np.flatnonzero(is_open & ~on_tight & moves[work] & ~keep)
    keep[cheapest_per(room, point.unit, work, ROOM_PER_WORKLOAD)] = True
    # a count the LP gives whole (one for a single workload) is fixed at that count
    yv = x[y.columns]
    whole = np.zeros(len(cols), dtype=bool)
    whole[: len(built.one)] = (yv >= 1.0 - EPS) & (np.abs(yv - np.round(yv)) <= EPS)
    whole &= ~moves[work]
    counts = np.zeros(len(cols))
    counts[: len(built.one)] = np.round(yv)
    upper[cols[~keep]] = 0.0
    lower[cols[whole & keep]] = upper[cols[whole & keep]] = counts[whole & keep]
    # replicas and the no-padding mark follow their option's instances
    held = upper[n.columns] == 0.0
    upper[r.columns[held]] = 0.0
    if built.used is not None and built.used_rep is not None:
        upper[built.used.columns[held[built.used_rep]]] = 0.0
    if start is not None and (np.any(start < lower - 1e-9) or np.any(start > upper + 1e-9)):
        start = None  # not within these bounds: no seed
    # only the columns left free go to HiGHS: its presolve of the whole model, most
    # columns fixed at zero, can overrun the time limit by a minute
    free = np.flatnonzero((upper != 0.0) | (lower != 0.0))
    found = model.solve(
        bounds=(lower, upper),
        columns=free,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap / 2,
        seed=seed,
        start=start,
    )
    return found if found.found else None


def cheapest_per(candidates: IntArray, score: FloatArray, group: IntArray, k: int) -> IntArray:
    """The ``k`` lowest-``score`` of ``candidates`` in each ``group`` (ties by position)."""
    order = candidates[np.lexsort((score[candidates], group[candidates]))]
    g = group[order]
    first = np.searchsorted(g, g, side="left")
    return order[np.arange(len(order)) - first < k]


CROWDING_ROWS = ("capacity",)


def _crowded(model: LinearModel, x: FloatArray, cols: IntArray) -> npt.NDArray[np.bool_]:
    """Of ``cols``, those with an entry in a row of ``CROWDING_ROWS`` whose slack at ``x``
    is less than rounding up every integer column in it could add (``sum a_j (ceil x_j -
    x_j)`` over positive ``a_j``)."""
    families = [f for f in model.families if f.name in CROWDING_ROWS and f.size]
    out = np.zeros(len(cols), dtype=bool)
    if not families:
        return out
    _, _, _, start, index, value = model.arrays()
    _, row_upper = model.row_bounds()
    column = np.repeat(np.arange(model.n_cols, dtype=np.int64), np.diff(start))
    integer = np.zeros(model.n_cols, dtype=bool)
    integer[model.integer_columns()] = True
    on = np.zeros(model.n_cols, dtype=bool)
    for family in families:
        mine = (index >= family.start) & (index < family.start + family.size)
        row, col, a = index[mine] - family.start, column[mine], value[mine]
        activity = np.bincount(row, weights=a * x[col], minlength=family.size)
        up = np.where(integer[col], (np.ceil(x[col] - EPS) - x[col]).clip(min=0.0), 0.0)
        rounding = np.bincount(row, weights=a.clip(min=0.0) * up, minlength=family.size)
        bound = row_upper[family.start : family.start + family.size]
        tight = bound - activity < rounding - EPS * np.maximum(np.abs(bound), 1.0)
        on[col[tight[row]]] = True
    return on[cols]


def greedy_start(built: FleetModel, options: Sequence[Option]) -> FloatArray | None:
    """Each workload on its own cheapest option (serving: the fewest dollars per token/s,
    whole replicas and instances), its platform enabled: a starting plan for the search
    when it meets the caps and limits (HiGHS checks, and drops it otherwise). ``None``
    for a fleet with a request mix or priced unmet work."""
    if built.class_load is not None or built.unmet is not None:
        return None
    model = built.model
    x = np.zeros(model.n_cols)
    best: dict[int, tuple[float, int]] = {}
    for j, i in enumerate(built.one.tolist()):
        o = options[i]
        if o.workload not in best or o.usd < best[o.workload][0]:
            best[o.workload] = (o.usd, j)
    for w, (_, j) in best.items():
        x[built.choose.start + j] = built.copies[w] if built.copies else 1.0
    cheapest: dict[int, tuple[float, int]] = {}
    for j, i in enumerate(built.rep.tolist()):
        o = options[i]
        per = o.offer.accelerators_per_instance
        replicas_per_usd = (per // o.chips) if o.chips <= per else 1.0 / math.ceil(o.chips / per)
        unit = o.usd / max(o.tokens_per_s * replicas_per_usd, 1e-12)
        if o.workload not in cheapest or unit < cheapest[o.workload][0]:
            cheapest[o.workload] = (unit, j)
    rate = dict(built.serve_rates)
    for w, (_, j) in cheapest.items():
        o = options[int(built.rep[j])]
        replicas = math.ceil(rate.get(w, 0.0) / max(o.tokens_per_s, 1e-12) - 1e-9)
        per = o.offer.accelerators_per_instance
        x[built.replicas.start + j] = replicas
        x[built.instances.start + j] = math.ceil(o.chips * replicas / per - 1e-9)
    mark_used(built, options, x)
    used = {options[int(built.one[j])].estimate.platform for _, j in best.values()}
    used |= {options[int(built.rep[j])].estimate.platform for _, j in cheapest.values()}
    for k, state in enumerate(built.pending):
        if state.platform.value in used:
            x[built.enable.start + k] = 1.0
    _set_need(built, x)
    return x


def plan_start(
    built: FleetModel, options: Sequence[Option], plan: FleetSolution
) -> FloatArray | None:
    """``plan`` as a point of ``built`` (a model of the same fleet, perhaps one row
    looser, over options that include the plan's own objects): a seed for its search.
    ``None`` when an option of the plan is not among ``options`` or the fleet has a
    request mix or priced unmet work."""
    if built.class_load is not None or built.unmet is not None:
        return None
    model = built.model
    x = np.zeros(model.n_cols)
    one = {id(options[i]): j for j, i in enumerate(built.one.tolist())}
    rep = {id(options[i]): j for j, i in enumerate(built.rep.tolist())}
    for p in plan.placed:
        o = p.option
        if id(o) in one:
            x[built.choose.start + one[id(o)]] += 1.0
        elif id(o) in rep:
            x[built.replicas.start + rep[id(o)]] += p.units
            x[built.instances.start + rep[id(o)]] += p.instances
        else:
            return None
    mark_used(built, options, x)
    enabled = {platform.value for platform in plan.enabled}
    for k, state in enumerate(built.pending):
        if state.platform.value in enabled:
            x[built.enable.start + k] = 1.0
    _set_need(built, x)
    return x


def _set_need(built: FleetModel, x: FloatArray) -> None:
    """The share caps' total need (``N``, in units of their rows) at the point ``x``."""
    need = next((b for b in built.model.blocks if b.name == "need"), None)
    if need is None or built.need is None:
        return
    v = built.need
    total = v[built.one] @ x[built.choose.columns] + v[built.rep] @ x[built.replicas.columns]
    x[need.start] = total / built.share_unit
