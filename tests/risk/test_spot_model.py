"""The planner, the risk engine and procurement price spot with one model: the same
offer gets the same throughput factor everywhere."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fleet_helpers import train, train_option

from arbiter.catalog.embedded import default_catalog
from arbiter.catalog.spot import RESTART_HOURS, interruptions_per_hour, throughput_factor
from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.scenario import Distribution, ScenarioSet, Selector, Shock, ShockKind
from arbiter.optimize.fleet import FleetSolution, Placed
from arbiter.optimize.linear import Status
from arbiter.optimize.options import _OfferArrays
from arbiter.optimize.plan import spot_record
from arbiter.risk.impact import plan_arrays


def spot_offers() -> list[Offer]:
    """One spot offer per (provider, basis) of the default catalog, one with its own rate,
    and an on-demand offer."""
    picked: dict[tuple[str, str], Offer] = {}
    on_demand = None
    for o in default_catalog().offers:
        if o.price_regime is PriceRegime.SPOT:
            picked.setdefault((o.provider, interruptions_per_hour(o).basis.value), o)
        elif on_demand is None and o.price_regime is PriceRegime.ON_DEMAND:
            on_demand = o
    assert on_demand is not None
    first = next(iter(picked.values()))
    own = replace(first, instance_type=first.instance_type + "-own", interruption_rate=0.2)
    return [*picked.values(), own, on_demand]


@pytest.fixture(scope="module")
def offers() -> list[Offer]:
    return spot_offers()


def test_options_and_risk_give_the_same_factor_for_the_same_offer(offers):
    fleet = Fleet(workloads=(train("tune"),))
    planner = _OfferArrays(offers, fleet).factor
    placed = tuple(
        Placed(option=train_option(0, o, hours=10.0), units=1, instances=1, usd=1.0) for o in offers
    )
    solution = FleetSolution(
        status=Status.OPTIMAL,
        placed=placed,
        compute_usd=float(len(placed)),
        enabled=(),
        enablement_usd=0.0,
        mip_gap=0.0,
    )
    surge = Shock(
        name="surge",
        kind=ShockKind.SPOT_SURGE,
        selector=Selector(),
        probability=1.0,
        magnitude=Distribution.fixed(2.0),
    )
    surge_base = plan_arrays(fleet, solution, ScenarioSet(shocks=(surge,))).surge_base
    for o, factor, base in zip(offers, planner, surge_base, strict=True):
        assert factor == pytest.approx(throughput_factor(o))
        assert factor == pytest.approx(1.0 / (1.0 + base))
        if o.price_regime is PriceRegime.SPOT:
            rate = interruptions_per_hour(o).interruptions_per_hour
            assert base == pytest.approx(rate * RESTART_HOURS) and base > 0
        else:
            assert (factor, base) == (1.0, 0.0)
    # the offer's own rate wins over every table
    assert surge_base[-2] == pytest.approx(0.2 * RESTART_HOURS)


def test_a_plan_shows_the_rate_and_basis_of_its_spot_placements(offers):
    for o in offers[:-1]:
        record = spot_record(o)
        rate = interruptions_per_hour(o)
        assert record["interruptions_per_hour"] == rate.interruptions_per_hour
        assert (record["basis"], record["source"], record["as_of"]) == (
            rate.basis.value,
            rate.source,
            rate.as_of,
        )
        assert record["throughput_factor"] == throughput_factor(o)
