"""The smallest share caps a fleet can meet, when the ones it states cannot be met.

A share cap can be out of reach for a reason no placement changes: an indivisible job
that is most of the fleet's spend on its own, or a chip only one provider sells. The
diagnosis then names the smallest cap of each family that holds, in whole percentage
points, found by bisection over feasibility solves of the same model with only that
family's cap changed (first of its LP relaxation, then of the MILP from the LP's
answer): ``p`` holds when some plan meets the family's share rows at ``p%``
(``fleet_model.py``) for every group of it. Feasibility is monotone in
``p`` (a plan that meets ``p`` meets every larger cap), so the bisection is exact at that
resolution. The plan at the smallest cap says which group takes it and which workload
weighs most in that group.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.optimize.fleet_model import FleetSolution
from arbiter.optimize.options import Option
from arbiter.optimize.share_caps import cap_shares, group_of

FEASIBILITY_GAP = 1.0  # any plan will do: the solve stops at the first one found


@dataclass(frozen=True, slots=True)
class CapFloor:
    """The smallest ``group`` cap that holds (``smallest_pct``, whole points) when the
    stated one (``cap_pct``) does not; in the plan found at it, ``holder``'s share is
    ``holder_pct`` and ``workload``'s part of it ``workload_pct`` (shares as the caps
    read them: spend against spend plus the need of the work outside the group)."""

    group: str
    cap_pct: float
    smallest_pct: int
    holder: str
    holder_pct: float
    workload: str
    workload_pct: float
    unsettled_pct: int | None = None  # the least cap below ``smallest_pct`` not settled

    def sentence(self) -> str:
        alone = (
            f"{self.workload} alone is {self.workload_pct:.0f}% of the fleet's spend "
            f"(against what the rest needs); "
            if self.workload_pct > self.cap_pct
            else ""
        )
        holds = (
            f"the smallest {self.group} cap that holds is {self.smallest_pct}%"
            if self.unsettled_pct is None
            else f"a {self.group} cap of {self.smallest_pct}% holds (whether "
            f"{self.unsettled_pct}% does was not settled within the time limit)"
        )
        return (
            f"{alone}no placement brings {self.group} <= {self.cap_pct:g}%; {holds} (at "
            f"it, {self.group} {self.holder} is at {self.holder_pct:.1f}%, of which "
            f"{self.workload} {self.workload_pct:.1f}%)"
        )


def cap_floors(
    fleet: Fleet,
    options: Sequence[Option],
    solve: Callable[[Fleet], FleetSolution],
    relaxed_feasible: Callable[[Fleet], bool],
    *,
    time_limit_s: float | None,
) -> list[CapFloor]:
    """The :class:`CapFloor` of each capped family that must give for ``fleet`` to have
    a plan, taken in turn (vendor, provider, region): each family's smallest cap with the
    families before it at their smallest and those after it lifted, so the caps found
    hold together. ``solve(fleet)`` returns a plan of ``fleet`` over ``options`` or raises
    :class:`InfeasibleError`; ``relaxed_feasible(fleet)`` says whether its LP relaxation
    is feasible (a cap the LP cannot meet, no plan meets: the bisection runs on the LP
    first, which is fast, and the MILP starts from the LP's smallest cap). Empty when
    lifting every cap leaves no plan either (the caps are not what gives) or the search
    does not settle within ``time_limit_s``."""
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    capped = [g for g in GROUPS if (getattr(fleet.caps, g) or 1.0) < 1.0]
    settled: dict[str, float] = {}

    def at(group: str, pct: int) -> Fleet:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        caps: dict[str, float | None] = {g: settled.get(g) for g in capped}
        caps[group] = pct / 100.0
        return dataclasses.replace(fleet, caps=dataclasses.replace(fleet.caps, **caps))

    unsettled: set[tuple[str, int]] = set()

    def attempt(group: str, pct: int) -> FleetSolution | None:
        try:
            return solve(at(group, pct))
        except InfeasibleError:
            return None
        except SolverError:  # neither a plan nor a proof within the solve's limit
            unsettled.add((group, pct))
            return None

    def smallest(lo: int, hi: int, holds: Callable[[int], bool]) -> int:
        """The least p in (lo, hi] with holds(p), given not holds(lo) and holds(hi)."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if holds(mid) else (mid, hi)
        return hi

    out: list[CapFloor] = []
    try:
        for group in capped:
            cap = float(getattr(fleet.caps, group))
            stated = math.floor(cap * 100.0 + 1e-9)
            if relaxed_feasible(at(group, stated)) and attempt(group, stated) is not None:
                settled[group] = cap  # holds as stated, given the ones before it
                continue
            if not relaxed_feasible(at(group, 100)):
                return []  # not the caps: no plan even with this family lifted
            lp = smallest(stated, 100, lambda p: relaxed_feasible(at(group, p)))  # noqa: B023
            found = attempt(group, lp)
            pct = lp
            if found is None:
                top = attempt(group, 100)
                if top is None:
                    return []
                pct = smallest(lp, 100, lambda p: attempt(group, p) is not None)  # noqa: B023
                found = top if pct == 100 else attempt(group, pct)
                assert found is not None
            settled[group] = pct / 100.0
            below = {p for g, p in unsettled if g == group and p < pct}
            out.append(_floor(fleet, options, group, cap, pct, found, max(below, default=None)))
    except TimeoutError:
        return []
    return out


def _floor(
    fleet: Fleet,
    options: Sequence[Option],
    group: str,
    cap: float,
    smallest: int,
    plan: FleetSolution,
    unsettled: int | None,
) -> CapFloor:
    """The group at the top of ``plan`` (its share as the caps read it,
    ``fleet_model.cap_shares``) and its heaviest workload, on the same measure."""
    shares = cap_shares(fleet, plan.placed, options)[group]
    holder = max(shares, key=lambda g: (shares[g], g))
    spend: dict[int, float] = {}
    for p in plan.placed:
        if group_of(p.option, group) == holder:
            spend[p.option.workload] = spend.get(p.option.workload, 0.0) + p.usd
    heaviest = max(spend, key=lambda w: (spend[w], -w))
    mine = sum(spend.values())
    # the group's measure: spend / (spend + need outside); the workload's on it
    measure = mine / shares[holder] if shares[holder] > 0 else 1.0
    return CapFloor(
        group=group,
        cap_pct=round(cap * 100.0, 6),
        smallest_pct=smallest,
        holder=holder,
        holder_pct=100.0 * shares[holder],
        workload=fleet.workloads[heaviest].name,
        workload_pct=100.0 * spend[heaviest] / measure,
        unsettled_pct=unsettled,
    )
