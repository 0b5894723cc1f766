"""The smallest share cap that holds, when the stated one cannot: a hand-computed case
and, on tiny fleets, the brute-force least cap (``plan_bruteforce.py``)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fleet_helpers import offer, train, train_option
from hypothesis import event, given, settings
from hypothesis import strategies as st
from plan_bruteforce import brute_force

from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import Fleet, ShareCaps
from arbiter.optimize.cap_floor import cap_floors
from arbiter.optimize.fleet import build_fleet_model, solve_fleet
from arbiter.optimize.linear import Status
from arbiter.optimize.pruning import prune
from strategies import FleetCase, fleet_cases


def _floors(fleet: Fleet, options: list) -> list:
    def solve(f: Fleet):  # type: ignore[no-untyped-def]
        return solve_fleet(f, prune(options, f), explain=False, mip_gap=1.0)

    def relaxed(f: Fleet) -> bool:
        model = build_fleet_model(f, options).model
        return model.solve(relax=True).status is not Status.INFEASIBLE

    return cap_floors(fleet, options, solve, relaxed, time_limit_s=None)


def test_an_indivisible_job_that_is_most_of_the_spend_names_the_least_cap():
    # big: $60 at p or $80 at q; small: $20 at p or $30 at q. Provider shares (a group's
    # spend against itself plus what the work outside it needs there):
    #   big@p small@q: p 60/(60+30) = 66.7%, q 30/(30+60) = 33.3%   <- the least, 66.7%
    #   big@q small@p: q 80/(80+20) = 80%;  both on one provider: 100%
    fleet = Fleet(workloads=(train("big"), train("small")), caps=ShareCaps(provider=0.45))
    options = [
        train_option(0, offer("p", 6.0), hours=10.0),
        train_option(0, offer("q", 8.0), hours=10.0),
        train_option(1, offer("p", 2.0), hours=10.0),
        train_option(1, offer("q", 3.0), hours=10.0),
    ]
    with pytest.raises(InfeasibleError) as caught:
        solve_fleet(fleet, options)
    message = str(caught.value)
    assert "big alone is 67% of the fleet's spend (against what the rest needs)" in message
    assert "no placement brings provider <= 45%" in message
    assert "the smallest provider cap that holds is 67%" in message
    (floor,) = _floors(fleet, options)
    assert (floor.smallest_pct, floor.holder, floor.workload) == (67, "p", "big")
    assert floor.holder_pct == pytest.approx(66.67, abs=0.01)
    # and 67% does hold, 66% does not
    solve_fleet(replace(fleet, caps=ShareCaps(provider=0.67)), options)
    with pytest.raises(InfeasibleError):
        solve_fleet(replace(fleet, caps=ShareCaps(provider=0.66)), options, explain=False)


def test_caps_that_are_not_what_gives_name_no_floor():
    # a budget no placement meets: lifting the cap does not help
    fleet = Fleet(workloads=(train("job"),), caps=ShareCaps(provider=0.5), budget_usd=10.0)
    options = [train_option(0, offer("p", 6.0), hours=10.0)]
    assert _floors(fleet, options) == []


@settings(max_examples=30, deadline=None)
@given(fleet_cases(), st.sampled_from(["vendor", "provider", "region"]), st.integers(5, 40))
def test_the_smallest_cap_is_the_brute_force_least(case: FleetCase, group: str, pct: int) -> None:
    """One family capped at ``pct``: where that leaves a plan, the solver finds one; where
    it leaves none, the floor found is the least whole percentage with a brute-force plan
    (its predecessor has none). Without the cap the fleet has a plan by construction
    (its witness), so the cap is always what gives."""
    caps = ShareCaps(**{group: pct / 100})
    fleet = replace(case.fleet, caps=caps)

    def holds(p: int) -> bool:
        return (
            brute_force(replace(fleet, caps=ShareCaps(**{group: p / 100})), case.options)
            is not None
        )

    assert holds(100)
    if holds(pct):
        event("the cap holds")
        solve_fleet(fleet, prune(case.options, fleet), explain=False)  # no InfeasibleError
        return
    event("a floor")
    (floor,) = _floors(fleet, case.options)
    assert floor.group == group
    assert holds(floor.smallest_pct)
    assert not holds(floor.smallest_pct - 1)
