"""Monotonicity of the whole planning step (performance model, options, pruning, MILP) on
small random fleets over a small catalog of real chips: a looser deadline, a higher share
cap, more capacity or one more offer never raises the optimum, and the plan on thinned
and pruned options equals the brute-force optimum of the raw options. Every fleet is
drawn with a witness plan (``strategies.fleet_files``), so every one has a plan and
nothing is skipped; a relaxed fleet found infeasible counts as an infinite optimum, and
fails."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from plan_bruteforce import brute_force, close, evaluate, picks_of, within

from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.offer import Offer
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import build_options
from arbiter.optimize.pruning import prune
from arbiter.workloads.fleet import parse_fleet
from strategies import CATALOG, EFF, FleetFile, catalog_offers, fleet_files, raw_options

GAP = 1e-9
EXAMPLES = settings(max_examples=25, deadline=None)


def optimum(doc: dict[str, Any], sold: list[Offer]) -> float:
    fleet = parse_fleet(doc, file="test.yaml")
    catalog = Catalog.of(CATALOG.accelerators.values(), sold)
    options, _ = build_options(fleet, catalog, EFF)
    try:
        return solve_fleet(fleet, prune(options, fleet), mip_gap=GAP, explain=False).total_usd
    except InfeasibleError:
        return math.inf


def at_most(a: float, b: float) -> bool:
    return a <= b * (1 + 1e-6) + 1e-6


@EXAMPLES
@given(case=fleet_files(), data=st.data())
def test_relaxing_the_fleet_never_raises_the_optimum(case: FleetFile, data: st.DataObject) -> None:
    doc, sold = case.doc, case.offers
    base = optimum(doc, sold)
    # the fleet has a plan, no dearer than the witness it was drawn with
    fleet, raw = raw_options(doc, sold)
    witness_usd = evaluate(fleet, case.witness, raw)
    assert witness_usd is not None
    assert at_most(base, witness_usd)
    # a looser deadline on every job (without caps: under caps a new, cheaper option
    # lowers what the work outside a group needs, which can tighten a cap on purpose)
    factor = data.draw(st.sampled_from([1.5, 2.0, 5.0]))
    looser = {**doc, "workloads": [_looser(w, factor) for w in doc["workloads"]]}
    if "constraints" not in doc:
        assert at_most(optimum(looser, sold), base)
    # a higher share cap
    if "constraints" in doc:
        cap = doc["constraints"]["max_share"]["provider"]
        higher = {"constraints": {"max_share": {"provider": min(1.0, round(cap + 0.1, 2))}}}
        assert at_most(optimum({**doc, **higher}, sold), base)
    # more capacity
    if "capacity" in doc:
        more = [{**c, "max_instances": c["max_instances"] + 2} for c in doc["capacity"]]
        assert at_most(optimum({**doc, "capacity": more}, sold), base)
    # one more offer (without caps, as above)
    extra = data.draw(catalog_offers(len(sold)))
    if "constraints" not in doc:
        assert at_most(optimum(doc, [*sold, extra]), base)


def _looser(w: dict[str, Any], factor: float) -> dict[str, Any]:
    if "deadline_hours" in w:
        return {**w, "deadline_hours": w["deadline_hours"] * factor}
    if "deadline_days" in w:
        return {**w, "deadline_days": w["deadline_days"] * factor}
    return w


@EXAMPLES
@given(case=fleet_files())
def test_the_plan_equals_brute_force_on_the_raw_options(case: FleetFile) -> None:
    """Thinning and pruning against every placement of the options before either."""
    fleet, raw = raw_options(case.doc, case.offers)
    catalog = Catalog.of(CATALOG.accelerators.values(), case.offers)
    thinned, _ = build_options(fleet, catalog, EFF)
    best = brute_force(fleet, raw)
    assert best is not None  # the witness is one placement
    sol = solve_fleet(fleet, prune(thinned, fleet), mip_gap=GAP, explain=False)
    cost = evaluate(fleet, picks_of(sol), raw)
    assert cost is not None  # meets every row, and pads nothing
    assert close(cost, sol.total_usd)
    # no padding: no service has a replica more than its options' rounding, so every
    # placement worth having is among those enumerated
    assert within(fleet, sol, 0)
    assert close(sol.total_usd, best)
