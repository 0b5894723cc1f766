"""Why a model has no solution: the elastic model, in which the named constraint families
may give at a price, solved for the least violation, and what its solution says must
give, row by row (:func:`what_must_give`); :func:`in_words` makes the one-paragraph
message. The fleet (``fleet_diagnosis.py``) and procurement (``procure/milp.py``) engines
say what each row's violation means in their own units."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from arbiter.optimize.linear import LinearModel, Status

DIAGNOSIS_GAP = 1e-6


@dataclass(frozen=True, slots=True)
class Violation:
    """One row that must give: ``under`` its lower bound or ``over`` its upper one, in
    the row's own units."""

    family: str
    label: str
    under: float
    over: float

    @property
    def name(self) -> str:
        return f"{self.family}[{self.label}]"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The rows of the least-violation solution that give (``violations``); ``found``
    is False when none was found in the time; ``proven`` when that solution is proven
    the least; ``relaxed`` when it is the elastic LP's (fractional units)."""

    violations: tuple[Violation, ...]
    found: bool
    proven: bool
    relaxed: bool


def what_must_give(
    model: LinearModel,
    families: Sequence[str],
    *,
    weights: dict[str, float] | None = None,
    seed: int = 0,
    time_limit_s: float | None = None,
) -> Diagnosis:
    """Solve the elastic version of ``model`` (:meth:`LinearModel.relax`: each row of
    ``families`` may give, at ``weights[family]`` per unit of violation relative to its
    bound) within ``time_limit_s``. Stopped at the limit, the best elastic solution found
    still names what would do (not proven the least); with none, the elastic LP names
    what must give at the least, in fractional units."""
    elastic = model.relax(families, weights)
    began = time.monotonic()
    solution = elastic.model.solve(time_limit_s=time_limit_s, mip_gap=DIAGNOSIS_GAP, seed=seed)
    relaxed = False
    if not solution.found:
        left = None if time_limit_s is None else time_limit_s - (time.monotonic() - began)
        if left is not None and left <= 0.0:
            left = 0.5 * time_limit_s if time_limit_s is not None else None
        solution = elastic.model.solve(time_limit_s=left, seed=seed, relax=True)
        relaxed = True
    if not solution.found:
        return Diagnosis((), found=False, proven=False, relaxed=relaxed)
    violations = [
        Violation(name, label, float(short), float(excess))
        for name, (under, over) in elastic.slack.items()
        for label, short, excess in zip(
            under.labels, solution.values(under), solution.values(over), strict=True
        )
        if short > 0.0 or excess > 0.0
    ]
    proven = solution.status is Status.OPTIMAL and not relaxed
    return Diagnosis(tuple(violations), found=True, proven=proven, relaxed=relaxed)


def in_words(
    diagnosis: Diagnosis,
    parts: Sequence[str],
    *,
    failure: str,
    whole: str,
    time_limit_s: float | None,
) -> str:
    """The message: ``failure`` (what has no solution), then the ``parts`` (each row
    that must give, in words) with the caveat the diagnosis carries; ``whole`` names
    what must give when only a fractional solution exists."""
    if not diagnosis.found:
        spent = "" if time_limit_s is None else f" {time_limit_s:g} s"
        return (
            f"{failure}; the diagnosis ran out of its{spent} time before finding what must "
            "give (a longer --time-limit gives it more)"
        )
    if not parts:
        if not diagnosis.relaxed:
            return failure
        return (
            f"{failure} in whole units, though a fractional one would: {whole} are what must give"
        )
    caveat = ""
    if diagnosis.relaxed:
        caveat = " (from the relaxed model, in fractional units: whole ones need more)"
    elif not diagnosis.proven:
        caveat = " (the diagnosis stopped at its time limit: enough, not proven the least)"
    return f"{failure}; the least that would have to give{caveat}: " + "; ".join(parts)
