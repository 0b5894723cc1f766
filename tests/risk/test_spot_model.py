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
from arbiter.domain.spot import Availability, SpotSettings
from arbiter.optimize.fleet import FleetSolution, Placed
from arbiter.optimize.linear import Status
from arbiter.optimize.options import _OfferArrays
from arbiter.optimize.plan import spot_record
from arbiter.risk.impact import plan_arrays
from arbiter.spotsim.outlook import outlook


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


def test_a_rate_measured_on_traces_is_the_one_the_planner_and_the_surge_use(offers):
    spot = offers[0]
    measured = Availability(0.5, 3.0, "trace", "1 trace(s)", "")
    fleet = Fleet(
        workloads=(train("tune"),), spot=SpotSettings(measured=((spot.offer_id, measured),))
    )
    factor = _OfferArrays([spot], fleet).factor[0]
    assert factor == pytest.approx(1.0 / (1.0 + 0.5 * RESTART_HOURS))
    expected = outlook(
        measured, compute_h=10.0, deadline_h=40.0, restart_h=RESTART_HOURS,
        spot_usd_per_hour=1.0, on_demand_usd_per_hour=3.0,
    )  # fmt: skip
    option = replace(train_option(0, spot, hours=10.0), spot=expected)
    placed = (Placed(option=option, units=1, instances=1, usd=1.0),)
    solution = FleetSolution(
        status=Status.OPTIMAL, placed=placed, compute_usd=1.0, enabled=(), enablement_usd=0.0,
        mip_gap=0.0,
    )  # fmt: skip
    surge = Shock(
        name="surge", kind=ShockKind.SPOT_SURGE, selector=Selector(), probability=1.0,
        magnitude=Distribution.fixed(2.0),
    )  # fmt: skip
    base = plan_arrays(fleet, solution, ScenarioSet(shocks=(surge,))).surge_base[0]
    assert base == pytest.approx(0.5 * RESTART_HOURS)
    assert interruptions_per_hour(spot).interruptions_per_hour != 0.5  # not the table's
    record = spot_record(spot, expected, 8)
    assert (record["interruptions_per_hour"], record["basis"]) == (0.5, "trace")
    assert record["on_demand_hours"] == pytest.approx(8 * expected.on_demand_h)
    assert record["spot_share"] == expected.spot_share < 1.0


def test_a_plan_shows_the_rate_and_basis_of_its_spot_placements(offers):
    for o in offers[:-1]:
        record = spot_record(o, None, 1)
        rate = interruptions_per_hour(o)
        assert record["interruptions_per_hour"] == rate.interruptions_per_hour
        assert (record["basis"], record["source"], record["as_of"]) == (
            rate.basis.value,
            rate.source,
            rate.as_of,
        )
        assert record["throughput_factor"] == throughput_factor(o)
