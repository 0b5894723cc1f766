"""The risk engine against an independent brute force (``risk_bruteforce.py``) on small
instances, feasible by construction: a service and a train job, each on one placement
(pay-as-you-go, spot, reserved or a capacity block), one alternative offer each, and up to
four shocks of every kind with outages that may outlast every window (or never end).

Every drawn case is used: nothing is assumed away, filtered or skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from risk_bruteforce import Hit, Place, first_hit, job, replan_job, replan_service, service

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.scenario import (
    ZERO,
    Distribution,
    ScenarioSet,
    Selector,
    Shock,
    ShockKind,
)
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import Option
from arbiter.risk.impact import plan_arrays, without_recourse
from arbiter.risk.recourse import RECOURSE_GAP, option_arrays, with_recourse
from arbiter.scenarios.sampling import Samples

N = 3  # samples per case
PROVIDERS = ("p", "q", "r", "s")  # the service's, the job's, and their alternatives
# a valid magnitude for each kind; the engine reads the drawn samples, not these
MAGNITUDE = {
    ShockKind.SUPPLY_CUT: Distribution.fixed(0.5),
    ShockKind.PRICE_SHIFT: Distribution.fixed(1.5),
    ShockKind.SPOT_SURGE: Distribution.fixed(2.0),
    ShockKind.OUTAGE: ZERO,
    ShockKind.ROADMAP_SLIP: Distribution.fixed(1.0),
    ShockKind.DEMAND_SHIFT: Distribution.fixed(1.2),
}

JOB_REGIMES = [
    PriceRegime.ON_DEMAND,
    PriceRegime.SPOT,
    PriceRegime.RESERVED_1Y,
    PriceRegime.CAPACITY_BLOCK,
]

hours = st.floats(1.0, 200.0)
price = st.floats(0.5, 20.0)
duration = st.one_of(st.floats(0.5, 50.0), st.floats(50.0, 3000.0), st.just(math.inf))
Draw = tuple[bool, float, float, float]  # occurred, start hours, duration hours, magnitude


@dataclass(frozen=True)
class Case:
    replicas: int  # of the service, 10 tokens/s each
    service: Place  # at provider p
    job: Place  # at provider q
    deadline: float  # the job's, in hours
    service_alt: Place  # at provider r
    job_alt: Place  # at provider s
    shocks: list[tuple[str, ShockKind, str, list[Draw]]]  # name, kind, target, N samples
    penalty: float


START = st.one_of(st.just(0.0), st.floats(0.0, 300.0))


@st.composite
def draws(
    draw: st.DrawFn,
    kind: ShockKind,
    starts: st.SearchStrategy[float] = START,
    lengths: st.SearchStrategy[float] = duration,
) -> tuple[bool, float, float, float]:
    """One sample of a shock: (occurred, start hours, duration hours, magnitude)."""
    occurred = draw(st.booleans())
    start = draw(starts)
    length = draw(lengths)
    magnitude = {
        ShockKind.SUPPLY_CUT: st.floats(0.0, 1.0),
        ShockKind.PRICE_SHIFT: st.floats(0.1, 3.0),
        ShockKind.SPOT_SURGE: st.floats(1.0, 20.0),
        ShockKind.OUTAGE: st.just(0.0),
        ShockKind.ROADMAP_SLIP: st.floats(0.0, 30.0),  # days
        ShockKind.DEMAND_SHIFT: st.floats(0.5, 2.0),
    }[kind]
    m = draw(magnitude)
    if kind is ShockKind.ROADMAP_SLIP:
        return occurred, 0.0, 24.0 * m, m
    return occurred, start, length, m


@st.composite
def any_shocks(draw: st.DrawFn) -> list[tuple[str, ShockKind, str, list[Draw]]]:
    """Up to four shocks of any kind on any provider or workload."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(list(ShockKind)))
        target = draw(
            st.sampled_from(("chat", "tune") if kind is ShockKind.DEMAND_SHIFT else PROVIDERS)
        )
        out.append((f"s{i}", kind, target, [draw(draws(kind)) for _ in range(N)]))
    return out


@st.composite
def focused_shocks(
    draw: st.DrawFn, cut_at: str, shift_at: tuple[str, str]
) -> list[tuple[str, ShockKind, str, list[Draw]]]:
    """A long cut of one placement's capacity early on, then price shifts on it or on
    its alternative: where its re-plan starts and what it pays there."""
    kinds = [ShockKind.OUTAGE, ShockKind.SUPPLY_CUT, ShockKind.ROADMAP_SLIP, ShockKind.SPOT_SURGE]
    cut = draw(st.sampled_from(kinds))
    early, long = st.floats(0.0, 30.0), st.one_of(st.floats(30.0, 3000.0), st.just(math.inf))
    out = [("cut", cut, cut_at, [draw(draws(cut, early, long)) for _ in range(N)])]
    targets = draw(st.lists(st.sampled_from(shift_at), min_size=1, max_size=3))
    shift = draws(ShockKind.PRICE_SHIFT, st.floats(0.0, 100.0), st.floats(0.5, 200.0))
    for i, target in enumerate(targets):
        out.append((f"price{i}", ShockKind.PRICE_SHIFT, target, [draw(shift) for _ in range(N)]))
    return out


Focus = Literal["any", "late job", "cut service"]


@st.composite
def cases(draw: st.DrawFn, focus: Focus = "any") -> Case:
    """A service and a job with one alternative each, and shocks: any, or a cut of the
    job's capacity and a tighter deadline, or a cut of the service's capacity; each with
    price shifts where it would re-plan."""
    late_job = focus == "late job"
    replicas = draw(st.integers(1, 4))
    period = draw(hours)
    job_hours = draw(hours)
    slack = st.floats(0.0, 50.0 if late_job else 200.0)
    deadline = job_hours + draw(st.one_of(st.just(0.0), slack))
    shocks = draw(
        {
            "any": any_shocks(),
            "late job": focused_shocks("q", ("q", "s")),
            "cut service": focused_shocks("p", ("p", "r")),
        }[focus]
    )
    return Case(
        replicas=replicas,
        service=Place(
            "p",
            draw(st.sampled_from([PriceRegime.ON_DEMAND, PriceRegime.RESERVED_1Y])),
            draw(price),
            period,
        ),
        job=Place("q", draw(st.sampled_from(JOB_REGIMES)), draw(price), job_hours),
        deadline=deadline,
        service_alt=Place("r", PriceRegime.ON_DEMAND, draw(price), period),
        job_alt=Place(
            "s",
            PriceRegime.ON_DEMAND,
            draw(st.floats(0.5, 5.0) if late_job else price),
            draw(hours),
        ),
        shocks=shocks,
        penalty=draw(st.sampled_from([1.5, 3.0, 10.0])),
    )


def _offer(p: Place) -> Offer:
    term = 1 if p.regime is PriceRegime.RESERVED_1Y else None  # 730 h, as in Place
    return offer(p.provider, p.usd_per_hour, regime=p.regime, term_months=term)


def build(case: Case) -> tuple[Fleet, list[Option], list[Option], ScenarioSet, Samples]:
    svc, jb = case.service, case.job
    chat = serve("chat", 10.0 * case.replicas, hours=svc.hours)
    tune = train("tune")
    tune = replace(tune, job=replace(tune.job, deadline_days=case.deadline / 24.0))
    fleet = Fleet(workloads=(chat, tune))
    plan = [
        serve_option(0, _offer(svc), tokens_per_s=10.0, hours=svc.hours),
        train_option(1, _offer(jb), hours=jb.hours),
    ]
    alt = [
        serve_option(0, _offer(case.service_alt), tokens_per_s=10.0, hours=svc.hours),
        train_option(1, _offer(case.job_alt), hours=case.job_alt.hours),
    ]
    shocks = []
    for name, kind, target, _ in case.shocks:
        select = (
            Selector(workloads=(target,))
            if kind is ShockKind.DEMAND_SHIFT
            else Selector(providers=(target,))
        )
        slip = kind is ShockKind.ROADMAP_SLIP
        shocks.append(
            Shock(
                name=name,
                kind=kind,
                selector=select,
                probability=1.0,
                magnitude=MAGNITUDE[kind],
                start_days=ZERO,
                duration_days=MAGNITUDE[kind] if slip else Distribution.fixed(1.0),
            )
        )
    scenarios = ScenarioSet(shocks=tuple(shocks), penalty=case.penalty)
    occurred = np.array([[d[0] for d in ds] for *_, ds in case.shocks], dtype=bool)
    start = np.array([[d[1] for d in ds] for *_, ds in case.shocks]) / 24.0
    length = np.array([[d[2] for d in ds] for *_, ds in case.shocks]) / 24.0
    magnitude = np.array([[d[3] for d in ds] for *_, ds in case.shocks])
    samples = Samples(
        occurred=occurred, magnitude=magnitude, start_days=start, duration_days=length
    )
    return fleet, plan, alt, scenarios, samples


def hits(case: Case, samples: Samples, n: int) -> list[Hit]:
    out = []
    for s, (_, kind, target, _) in enumerate(case.shocks):
        if samples.occurred[s, n]:
            start = samples.start_days[s, n] * 24.0
            end = (samples.start_days[s, n] + samples.duration_days[s, n]) * 24.0
            out.append(Hit(kind, target, start, end, float(samples.magnitude[s, n])))
    return out


@settings(max_examples=200, deadline=None)
@given(case=cases())
def test_risk_matches_the_brute_force(case: Case) -> None:
    check(case)


@settings(max_examples=100, deadline=None)
@given(case=cases("late job"))
def test_a_late_jobs_replan_matches_the_brute_force(case: Case) -> None:
    check(case)


# the service's capacity cut 3.6 ms in: its undone share 0.9999995 needs 2.9999985
# replicas again, a count HiGHS's presolve once rounded down (2 replicas and a third undone)
_EARLY_CUT = Case(
    replicas=3,
    service=Place("p", PriceRegime.ON_DEMAND, 1.0, 2.0),
    job=Place("q", PriceRegime.ON_DEMAND, 1.0, 1.0),
    deadline=1.0,
    service_alt=Place("r", PriceRegime.ON_DEMAND, 1.0, 2.0),
    job_alt=Place("s", PriceRegime.ON_DEMAND, 1.0, 1.0),
    shocks=[
        (
            "cut",
            ShockKind.SUPPLY_CUT,
            "p",
            [(False, 0.0, math.inf, 0.0), (False, 0.0, 30.0, 0.0), (True, 1e-6, 30.0, 0.0)],
        ),
        ("price0", ShockKind.PRICE_SHIFT, "p", [(False, 0.0, 1.0, 1.0)] * N),
    ],
    penalty=1.5,
)


@settings(max_examples=100, deadline=None)
@given(case=cases("cut service"))
@example(case=_EARLY_CUT)
def test_a_cut_services_replan_matches_the_brute_force(case: Case) -> None:
    check(case)


def check(case: Case) -> None:
    """The engine's cost, undone shares and missed deadlines without re-planning, and its
    cost with re-planning, against the brute force, sample by sample."""
    fleet, plan, alt, scenarios, samples = build(case)
    sol = solve_fleet(fleet, plan)
    pa = plan_arrays(fleet, sol, scenarios)
    out = without_recourse(pa, scenarios, samples)
    rec, _, _ = with_recourse(
        fleet, sol, pa, option_arrays([*plan, *alt], scenarios), scenarios, samples, out
    )
    svc, jb, penalty = case.service, case.job, case.penalty
    svc_spend = case.replicas * svc.usd_per_hour * svc.billed
    job_spend = jb.usd_per_hour * jb.billed
    assert sol.total_usd == pytest.approx(svc_spend + job_spend)
    for n in range(N):
        h = hits(case, samples, n)
        a = service(h, svc, case.replicas, "chat")
        b = job(h, jb, case.deadline, "tune")
        penalties = penalty * (svc_spend * a.undone + job_spend * b.undone)
        fixed = a.compute_usd + b.compute_usd + penalties
        assert out.cost_usd[n] == pytest.approx(fixed, rel=1e-9, abs=1e-6)
        assert out.unmet[:, n] == pytest.approx([a.undone, b.undone], rel=1e-9, abs=1e-9)
        assert out.missed_deadlines[n] == int(b.missed)

        # re-planning: the cheapest residual plan by enumeration
        best = 0.0
        if a.undone > 1e-9:
            options = [svc, case.service_alt]
            best += replan_service(h, 10.0 * case.replicas, a.undone, penalty * svc_spend, options)
        if b.undone > 1e-9:
            start = first_hit(h, "q", "tune")
            options = [jb, case.job_alt]
            best += replan_job(h, b.undone, penalty * job_spend, options, start, case.deadline)
        exact = fixed - penalties + best if (a.undone > 1e-9 or b.undone > 1e-9) else fixed
        event(f"job {jb.regime.value}: {'late' if b.missed else 'on time'}")
        event("service work undone" if a.undone > 1e-9 else "service whole")
        event("re-planning pays" if exact < fixed - 1e-6 else "re-planning does not pay")
        if any(x.target == "q" and x.end > jb.hours and x.kind is ShockKind.OUTAGE for x in h):
            event("an outage on the job outlasts its window")
        # the residual MILP stops within RECOURSE_GAP of its optimum
        assert exact - 1e-6 * max(1.0, exact) <= rec[n]
        assert rec[n] <= exact + 1.01 * RECOURSE_GAP * best + 1e-6 * max(1.0, exact)
