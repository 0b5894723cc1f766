"""Folding identical workloads before options are built: the folded fleet has the same
optimum as the original (checked by solving both), its plan unfolds to one placement per
original job, and services never fold."""

from __future__ import annotations

import itertools

import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option

from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.folding import fold

OFFERS = [
    (offer("p", 1.0), 100.0, "cuda"),
    (offer("q", 1.2), 90.0, "cuda"),
    (offer("r", 0.6, accelerator="T"), 100.0, "rocm"),
]


def job_options(w: int) -> list:
    return [train_option(w, o, hours=h, platform=p) for o, h, p in OFFERS]


def fleet_of(jobs: int, caps: ShareCaps, capacity: int) -> tuple[Fleet, list]:
    workloads = (*tuple(train(f"j{k}") for k in range(jobs)), serve("s", 30.0))
    platforms = (
        PlatformState(platform=Platform.CUDA, enabled=True),
        PlatformState(platform=Platform.ROCM, enabled=False, enable_usd=150.0),
    )
    fleet = Fleet(
        workloads=workloads,
        caps=caps,
        platforms=platforms,
        capacity=(CapacityLimit("p", "X", capacity),),
    )
    options = [o for k in range(jobs) for o in job_options(k)]
    options.append(serve_option(jobs, offer("q", 1.0), tokens_per_s=20.0, hours=10.0))
    return fleet, options


@pytest.mark.parametrize(
    ("jobs", "cap", "capacity"),
    list(itertools.product((2, 3, 5), (None, 0.5, 0.7), (1, 3))),
)
def test_the_folded_fleet_has_the_original_optimum(jobs, cap, capacity):
    fleet, options = fleet_of(jobs, ShareCaps(provider=cap), capacity)
    folded = fold(fleet)
    assert folded is not None
    assert folded.fleet.copies == (jobs, 1)  # the jobs fold, the service stays alone
    folded_options = [
        *job_options(0),
        serve_option(1, offer("q", 1.0), tokens_per_s=20.0, hours=10.0),
    ]
    try:
        plain = solve_fleet(fleet, options, mip_gap=1e-9, decompose=False)
    except InfeasibleError:
        # a cap only padding would meet (the service's replicas diluting p's share):
        # infeasible folded or not
        with pytest.raises(InfeasibleError):
            solve_fleet(folded.fleet, folded_options, mip_gap=1e-9)
        return
    small = solve_fleet(folded.fleet, folded_options, mip_gap=1e-9)
    assert small.total_usd == pytest.approx(plain.total_usd)
    back = folded.unfold(small)
    assert back.total_usd == pytest.approx(plain.total_usd)
    jobs_placed = sorted(p.option.workload for p in back.placed if not p.option.serve)
    assert jobs_placed == list(range(jobs))  # every job once, on its own index
    assert {p.option.workload for p in back.placed if p.option.serve} == {jobs}


def test_services_and_distinct_jobs_do_not_fold():
    fleet = Fleet(workloads=(serve("a", 10.0), serve("b", 10.0), train("c")))
    assert fold(fleet) is None
