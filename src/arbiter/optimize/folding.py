"""Identical workloads folded into one before anything is built, and the plan unfolded.

A real lab's fleet repeats itself: many teams tune and batch the same few models with the
same settings. Two train, finetune or batch workloads that are equal but for the name
have the same estimates and options, so the fleet model can carry one of them with
``copies`` (``Fleet.copies``): ``y_o`` counts how many of the copies take option ``o``,
``sum_o y_o = copies_w``, and every share, capacity and enablement row counts ``y_o``
times. That is exact: any plan of the original fleet maps onto the folded one at the
same cost and back (members are interchangeable), so both have the same optimum.

Services are never folded: whole replicas are bought per service, and two services
sharing replicas would be a cheaper plan than the fleet allows. Folding happens before
options are built, so the 10,000 generated workloads of ``bench/scale.py`` build, prune
and solve options for 2,180 (``bench/RESULTS.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from arbiter.domain.fleet import Fleet
from arbiter.domain.workload import ServeJob, Workload
from arbiter.optimize.fleet import FleetSolution
from arbiter.optimize.options import spec_key

__all__ = ["Folded", "fold"]


@dataclass(frozen=True, slots=True)
class Folded:
    """``fleet`` (one workload per distinct train/finetune/batch spec, each service on its
    own, ``fleet.copies`` set) stands for ``original``; ``members[k]`` are the original
    workloads folded workload ``k`` stands for, in order."""

    original: Fleet
    fleet: Fleet
    members: tuple[tuple[int, ...], ...]

    def unfold(self, solution: FleetSolution) -> FleetSolution:
        """A plan of the folded fleet as one of the original: the copies placed on an
        option of a folded workload go to its members in turn (a service, never folded,
        keeps its one member on every option it uses)."""
        taken = [0] * len(self.members)
        placed = []
        for p in solution.placed:
            k = p.option.workload
            if p.option.serve:
                member = self.members[k][0]
            else:
                member = self.members[k][taken[k]]
                taken[k] += 1
            option = dataclasses.replace(p.option, workload=member)
            placed.append(dataclasses.replace(p, option=option))
        return dataclasses.replace(solution, placed=tuple(placed))


def fold(fleet: Fleet) -> Folded | None:
    """``fleet`` with its identical train/finetune/batch workloads folded, or ``None``
    when no two fold together (or ``fleet`` is folded already)."""
    if fleet.copies:
        return None
    heads: dict[Workload, int] = {}
    members: list[list[int]] = []
    for w, work in enumerate(fleet.workloads):
        key = _spec(work)
        target = None if key is None else heads.get(key)
        if target is None:
            target = len(members)
            members.append([])
            if key is not None:
                heads[key] = target
        members[target].append(w)
    if len(members) == len(fleet.workloads):
        return None
    folded = dataclasses.replace(
        fleet,
        workloads=tuple(fleet.workloads[group[0]] for group in members),
        copies=tuple(len(group) for group in members),
    )
    return Folded(original=fleet, fleet=folded, members=tuple(tuple(g) for g in members))


def _spec(work: Workload) -> Workload | None:
    """What decides a workload's options (everything but its name); ``None`` for one that
    never folds (a service, or a spec that cannot be compared)."""
    return None if isinstance(work.job, ServeJob) else spec_key(work)
