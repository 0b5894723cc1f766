"""The greedy-per-job baseline is solved workload by workload (without caps, capacity or
enablement nothing ties them); it must cost what the whole uncapped fleet solved at once
costs, with the platforms it uses enabled at their price."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import given, settings
from hypothesis import strategies as st

from arbiter.domain.accelerator import Platform
from arbiter.domain.fleet import CapacityLimit, Fleet, PlatformState, ShareCaps
from arbiter.optimize.baselines import _greedy
from arbiter.optimize.fleet import solve_fleet


def fleet_of(seed: int, jobs: int, services: int, twins: bool) -> tuple[Fleet, list]:
    rng = np.random.default_rng(seed)
    workloads, options = [], []
    for k in range(jobs):
        workloads.append(train(f"t{k}"))
        for p, platform in (("a", "cuda"), ("b", "rocm"), ("c", "cuda")):
            o = offer(p, float(rng.uniform(1, 5)), accelerator=f"{platform}-x")
            hours = float(rng.uniform(10, 90))
            options.append(train_option(k, o, hours=hours, platform=platform))
    first = None
    for k in range(services):
        w = jobs + k
        workloads.append(serve(f"s{k}", float(rng.integers(20, 500))))
        own = []
        for p, platform in (("a", "cuda"), ("b", "rocm")):
            for chips in (1, 2, 4):
                o = offer(
                    p,
                    float(rng.uniform(1, 4)) * chips,
                    chips=chips,
                    accelerator=f"{platform}{chips}",
                )
                tokens = float(rng.uniform(20, 120)) * chips**0.9
                own.append(serve_option(w, o, tokens_per_s=tokens, hours=10.0, platform=platform))
        if twins and first is not None:  # a twin of the first service: solved once
            workloads[-1] = replace(workloads[jobs], name=f"s{k}")
            own = [replace(o, workload=w) for o in first]
        first = first or own
        options += own
    fleet = Fleet(
        workloads=tuple(workloads),
        caps=ShareCaps(provider=0.5),
        platforms=(
            PlatformState(Platform.CUDA, enabled=True),
            PlatformState(Platform.ROCM, enabled=False, enable_usd=float(rng.uniform(0, 300))),
        ),
        capacity=(CapacityLimit(provider="a", accelerator="cuda4", max_instances=1),),
    )
    return fleet, options


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    jobs=st.integers(0, 3),
    services=st.integers(1, 4),
    twins=st.booleans(),
)
def test_the_greedy_baseline_is_the_uncapped_fleet_with_every_platform_free(
    seed, jobs, services, twins
):
    fleet, options = fleet_of(seed, jobs, services, twins)
    greedy = _greedy(fleet, options)
    assert greedy is not None
    free = Fleet(
        workloads=fleet.workloads,
        platforms=tuple(PlatformState(s.platform, enabled=True) for s in fleet.platforms),
    )
    whole = solve_fleet(free, options, caps=False, capacity=False, mip_gap=0.0)
    assert greedy.compute_usd == pytest.approx(whole.compute_usd, rel=2e-3)
    used = {Platform(p.option.estimate.platform) for p in greedy.placed}
    assert set(greedy.enabled) == used - {Platform.CUDA}
    assert greedy.enablement_usd == pytest.approx(
        sum(s.enable_usd for s in fleet.platforms if s.platform in greedy.enabled)
    )
    # every workload is placed, on its own options, and every service's rate is served
    assert {p.option.workload for p in greedy.placed} == set(range(len(fleet.workloads)))
    for p in greedy.placed:
        assert p.option in options
    for w, work in enumerate(fleet.workloads):
        if work.kind.value == "serve":
            served = sum(
                p.units * p.option.tokens_per_s for p in greedy.placed if p.option.workload == w
            )
            assert served >= work.job.requests_per_s * work.job.output_tokens - 1e-6
