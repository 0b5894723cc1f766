"""Identical workloads folded into one for the solve (:func:`group_identical`), and the
folded plan expanded back per workload (:meth:`Grouped.expand`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from arbiter.domain.fleet import Fleet
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet_model import FleetSolution
from arbiter.optimize.options import Option


@dataclass(frozen=True, slots=True)
class Grouped:
    """A fleet with its identical train/finetune/batch workloads (the same but for the
    name, with the same options) folded into one that stands for ``copies`` of them."""

    fleet: Fleet
    options: list[Option]  # of the folded fleet
    copies: tuple[int, ...]  # per workload of the folded fleet
    members: tuple[tuple[int, ...], ...]  # the original workloads each one stands for
    member_options: tuple[tuple[int, ...], ...]  # per original workload, its options
    position: tuple[int, ...]  # per folded option, its place in its workload's options

    def expand(self, solution: FleetSolution, options: Sequence[Option]) -> FleetSolution:
        """The folded plan per original workload, on the original options: the copies of
        a folded workload placed on an option are its members, in order."""
        index = {id(o): k for k, o in enumerate(self.options)}
        taken = [0] * len(self.members)
        placed = []
        for p in solution.placed:
            k = index[id(p.option)]
            folded = p.option.workload
            # a service (never folded) may be placed on several options: one member
            member = self.members[folded][0 if p.option.serve else taken[folded]]
            taken[folded] += 0 if p.option.serve else 1
            original = options[self.member_options[member][self.position[k]]]
            placed.append(dataclasses.replace(p, option=original))
        return dataclasses.replace(solution, placed=tuple(placed))


def group_identical(fleet: Fleet, options: Sequence[Option]) -> Grouped | None:
    """:class:`Grouped` of ``fleet``, or ``None`` when no two workloads fold together.
    Two workloads fold when they are equal but for the name and their options match one
    for one (offer, chips, instances, hours, cost, chip); services never fold (whole
    replicas are bought per service)."""
    own: list[list[int]] = [[] for _ in fleet.workloads]
    for i, o in enumerate(options):
        own[o.workload].append(i)

    def same(a: int, b: int) -> bool:
        if len(own[a]) != len(own[b]):
            return False
        for i, j in zip(own[a], own[b], strict=True):
            p, q = options[i], options[j]
            if (p.offer.offer_id, p.usd, p.hours, p.instances, p.chips, p.estimate.accelerator) != (
                q.offer.offer_id, q.usd, q.hours, q.instances, q.chips, q.estimate.accelerator
            ):  # fmt: skip
                return False
        return True

    heads: dict[object, list[int]] = {}  # spec: the first workload of each fold of it
    fold_of: list[int] = []
    members: list[list[int]] = []
    for w, work in enumerate(fleet.workloads):
        target = None
        if not isinstance(work.job, ServeJob):
            try:
                spec: object = dataclasses.replace(work, name="")
                hash(spec)
            except TypeError:
                spec = None
            if spec is not None:
                for head in heads.get(spec, []):
                    if same(members[fold_of[head]][0], w):
                        target = fold_of[head]
                        break
                if target is None:
                    heads.setdefault(spec, []).append(w)
        if target is None:
            target = len(members)
            members.append([])
        fold_of.append(target)
        members[target].append(w)
    if len(members) == len(fleet.workloads):
        return None
    folded_options: list[Option] = []
    position: list[int] = []
    for k, group in enumerate(members):
        for q, i in enumerate(own[group[0]]):
            folded_options.append(dataclasses.replace(options[i], workload=k))
            position.append(q)
    return Grouped(
        fleet=dataclasses.replace(fleet, workloads=tuple(fleet.workloads[g[0]] for g in members)),
        options=folded_options,
        copies=tuple(len(g) for g in members),
        members=tuple(tuple(g) for g in members),
        member_options=tuple(tuple(o) for o in own),
        position=tuple(position),
    )
