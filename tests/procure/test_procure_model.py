"""The procurement MILP on one chip and one provider, where every optimum can be checked
by hand, and its invariants and risk properties on a three-scenario problem."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.fleet import ShareCaps
from arbiter.domain.offer import PriceRegime
from arbiter.domain.procurement import (
    CommitmentProduct,
    DemandClass,
    DemandScenario,
    ProcurementProblem,
)
from arbiter.measures import cvar
from arbiter.perf.efficiency import default_efficiency
from arbiter.procure.milp import ProcurementSolution, solve
from arbiter.procure.model import Data, build_data
from arbiter.procure.report import document, frontier, value_of_uncertainty
from arbiter.workloads import parse_workloads

CATALOG = default_catalog()
ON_DEMAND = min(
    (
        o
        for o in CATALOG.offers
        if o.accelerator == "H100-SXM"
        and o.provider == "aws"
        and o.price_regime.value == "on_demand"
    ),
    key=lambda o: o.usd_per_accelerator_hour,
)
SMALL = Catalog.of([CATALOG.accelerators["H100-SXM"]], [ON_DEMAND])
P = ON_DEMAND.usd_per_accelerator_hour
H = 2190.0
CHAT = parse_workloads(
    {
        "name": "chat", "kind": "serve", "model": "llama-3.1-8b", "requests_per_s": 1,
        "input_tokens": 500, "output_tokens": 200, "slo": {"ttft_s": 2, "tpot_s": 0.05},
    },
    file="t.yaml",
)[0]  # fmt: skip


def problem(
    periods: int = 1,
    scenarios: tuple[DemandScenario, ...] = (DemandScenario("one", 1.0),),
    term: int = 1,
    price: float = 0.7 * P,
    **more: object,
) -> ProcurementProblem:
    product = CommitmentProduct(
        "h100-commit", "aws", "H100-SXM", ON_DEMAND.region, price, term, min_chips=8
    )
    return ProcurementProblem(
        periods=periods,
        period="quarter",
        discount_rate=0.0,
        classes=(DemandClass("chat", CHAT, (1.0,) * periods),),
        scenarios=scenarios,
        products=(product,),
        **more,  # type: ignore[arg-type]
    )


def with_chip_hours(data: Data, chip_hours: np.ndarray) -> Data:
    """The same problem with demand set to ``chip_hours`` (S x T) of on-demand H100 work."""
    rate = data.rate[0, data.n_products]
    return dataclasses.replace(data, demand=(chip_hours * rate)[None, :, :])


@pytest.mark.parametrize(
    ("utilisation", "commits"), [(0.5, False), (0.69, False), (0.71, True), (0.95, True)]
)
def test_a_commitment_is_taken_exactly_above_its_break_even(utilisation, commits):
    # 8 chips for one quarter at 70% of the on-demand price: worth it iff the work would
    # keep more than 70% of them busy (break-even = committed / on-demand price)
    data = with_chip_hours(
        build_data(problem(), SMALL, default_efficiency()), np.array([[utilisation * 8 * H]])
    )
    sol = solve(data)
    assert bool(sol.blocks.sum() == 1) is commits
    need = utilisation * 8 * H
    expected = 8 * H * 0.7 * P if commits else need * P
    assert sol.cost[0] == pytest.approx(expected, rel=1e-6)


def test_one_scenario_is_the_deterministic_plan_by_hand():
    # two quarters, a 2-quarter term; need 6 chips' worth then 10: one block of 8 for both
    # quarters (8 x 2 x H x 0.7P) and 2 chips on demand in quarter 2 (2 x H x P)
    data = build_data(problem(periods=2, term=2), SMALL, default_efficiency())
    data = with_chip_hours(data, np.array([[6 * H, 10 * H]]))
    sol = solve(data)
    assert sol.blocks[0].tolist() == [1.0, 0.0]
    assert sol.cost[0] == pytest.approx(8 * 2 * H * 0.7 * P + 2 * H * P, rel=1e-6)
    assert sol.unmet.sum() == pytest.approx(0.0, abs=1e-6)


SCENARIOS = (
    DemandScenario("low", 0.3, {"chat": (0.4, 0.4)}),
    DemandScenario("mid", 0.4),
    DemandScenario("high", 0.3, {"chat": (1.8, 1.8)}),
)


def three() -> Data:
    data = build_data(problem(periods=2, scenarios=SCENARIOS, term=2), SMALL, default_efficiency())
    base = np.array([[0.4], [1.0], [1.8]]) * np.array([[14 * H, 14 * H]])
    return with_chip_hours(data, base)


def test_risk_weight_zero_is_the_risk_neutral_plan_and_the_frontier_is_monotone():
    data = three()
    neutral = solve(data, risk_weight=0.0)
    prob = np.array([0.3, 0.4, 0.3])
    assert neutral.objective == pytest.approx(float(neutral.cost @ prob))
    points = frontier(data, (0.0, 0.5, 2.0, 10.0))
    assert points[0]["expected_cost_usd"] == pytest.approx(float(neutral.cost @ prob))
    for a, b in itertools.pairwise(points):
        assert b["cvar_usd"] <= a["cvar_usd"] + 1e-6
        assert b["expected_cost_usd"] >= a["expected_cost_usd"] - 1e-6
    assert points[-1]["cvar_usd"] < points[0]["cvar_usd"]  # the risk weight does something


# --- VSS and EVPI from independent solves ------------------------------------------------------
#
# One quarter, two equally likely futures, on-demand H100 at P per chip-hour and two
# commitment products for the quarter: A, blocks of 8 chips at 0.7P, and B, blocks of 4
# at 0.8P. With ``a`` and ``b`` blocks and D chips of work (all in units of H P):
#
#     cost(a, b, D) = 5.6 a + 3.2 b + max(0, D - 8 a - 4 b)
#
# (on demand, at P, is always cheaper than leaving work undone at 3P).


def two_products() -> tuple[CommitmentProduct, CommitmentProduct]:
    return (
        CommitmentProduct("a", "aws", "H100-SXM", ON_DEMAND.region, 0.7 * P, 1, min_chips=8),
        CommitmentProduct("b", "aws", "H100-SXM", ON_DEMAND.region, 0.8 * P, 1, min_chips=4),
    )


def two_futures(chips: tuple[float, float]) -> Data:
    """The instance above with ``chips`` of work in each of the two futures."""
    spec = dataclasses.replace(
        problem(scenarios=(DemandScenario("low", 0.5), DemandScenario("high", 0.5))),
        products=two_products(),
    )
    data = build_data(spec, SMALL, default_efficiency())
    return with_chip_hours(data, np.array([[chips[0] * H], [chips[1] * H]]))


def by_hand(a: int, b: int, chips: float) -> float:
    """cost(a, b, D) above, in USD."""
    return (5.6 * a + 3.2 * b + max(0.0, chips - 8 * a - 4 * b)) * H * P


def enumerated(chips: tuple[float, float]) -> dict[str, float]:
    """RP, EEV and WS of the instance by enumerating the blocks (0-3 of each)."""
    blocks = list(itertools.product(range(4), repeat=2))
    mean = sum(chips) / 2

    def expected(a: int, b: int) -> float:
        return 0.5 * (by_hand(a, b, chips[0]) + by_hand(a, b, chips[1]))

    ev = min(blocks, key=lambda ab: by_hand(*ab, mean))
    return {
        "rp": min(expected(a, b) for a, b in blocks),
        "eev": expected(*ev),
        "ws": 0.5 * sum(min(by_hand(a, b, d) for a, b in blocks) for d in chips),
    }


def solved(data: Data) -> dict[str, float]:
    """RP, EEV and WS from the engine's own solves, put together here: the stochastic
    plan; the plan for the mean demand (one future of probability 1), its first stage
    fixed and evaluated on both futures; and each future planned alone."""
    prob = np.array([s.probability for s in data.problem.scenarios])
    rp = solve(data, risk_weight=0.0)
    mean = dataclasses.replace(
        data,
        demand=np.einsum("jst,s->jt", data.demand, prob)[:, None, :],
        problem=dataclasses.replace(data.problem, scenarios=(DemandScenario("mean", 1.0),)),
    )
    ev = solve(mean, risk_weight=0.0)
    eev = solve(data, risk_weight=0.0, fixed_blocks=ev.blocks, fixed_enabled=ev.enabled)
    alone = [solve(data, risk_weight=0.0, scenarios=[s]).objective for s in range(len(prob))]
    return {"rp": rp.objective, "eev": eev.objective, "ws": float(prob @ np.array(alone))}


@pytest.mark.parametrize(
    ("chips", "rp", "eev", "ws"),
    [
        # 0 or 12 chips. Mean 6: one B block (3.2 + 2 = 5.2, against 5.6 for one A or 6
        # on demand); on the futures 3.2 and 11.2: EEV 7.2. Buying nothing: 0 and 12, RP
        # 6. Alone: nothing, and one A and one B for 12 (8.8): WS 4.4. VSS 1.2, EVPI 1.6.
        ((0.0, 12.0), 6.0, 7.2, 4.4),
        # 4 or 8 chips. Mean 6: one B block (5.2); on the futures 3.2 and 7.2: EEV 5.2.
        # RP: one B block too (one A: 5.6 both ways), 5.2. Alone: one B (3.2), one A
        # (5.6): WS 4.4. VSS 0, EVPI 0.8.
        ((4.0, 8.0), 5.2, 5.2, 4.4),
        # 10 chips in both: the future is known. One A and one B would be 8.8; one A and
        # 2 on demand 7.6; RP = EEV = WS = 7.6: VSS and EVPI 0.
        ((10.0, 10.0), 7.6, 7.6, 7.6),
    ],
    ids=["vss-and-evpi", "evpi-only", "certain"],
)
def test_vss_and_evpi_equal_independent_solves_and_the_figures_by_hand(chips, rp, eev, ws):
    data = two_futures(chips)
    value = value_of_uncertainty(data)
    usd = H * P
    hand = {"rp": rp * usd, "eev": eev * usd, "ws": ws * usd}
    # the hand figures are the enumeration's ...
    assert enumerated(chips) == pytest.approx(hand, rel=1e-12)
    # ... and the engine's own solves, put together here, give the same
    assert solved(data) == pytest.approx(hand, rel=1e-6)
    # ... and so does value_of_uncertainty, whose VSS and EVPI are their differences
    assert value["rp_usd"] == pytest.approx(hand["rp"], rel=1e-6)
    assert value["eev_usd"] == pytest.approx(hand["eev"], rel=1e-6)
    assert value["ws_usd"] == pytest.approx(hand["ws"], rel=1e-6)
    assert value["vss_usd"] == pytest.approx((eev - rp) * usd, rel=1e-6, abs=1e-6 * usd)
    assert value["evpi_usd"] == pytest.approx((rp - ws) * usd, rel=1e-6, abs=1e-6 * usd)
    assert value["warnings"] == []


def test_vss_and_evpi_can_each_be_strictly_positive():
    # the first case above, where neither figure is zero by construction
    value = value_of_uncertainty(two_futures((0.0, 12.0)))
    tolerance = max(value["vss_tolerance_usd"], value["evpi_tolerance_usd"])
    assert value["vss_usd"] > 1.2 * H * P - tolerance > 0
    assert value["evpi_usd"] > 1.6 * H * P - tolerance > 0


def test_knowing_the_scenario_ahead_is_worth_something_on_three_futures():
    # the three-future problem: WS from each future alone, below the stochastic plan
    data = three()
    value = value_of_uncertainty(data)
    figures = solved(data)
    assert value["rp_usd"] == pytest.approx(figures["rp"], rel=1e-6)
    assert value["eev_usd"] == pytest.approx(figures["eev"], rel=1e-6)
    assert value["ws_usd"] == pytest.approx(figures["ws"], rel=1e-6)
    assert figures["rp"] - figures["ws"] > 0.01 * figures["rp"]


def test_invariants_demand_met_or_priced_supply_and_budget():
    data = three()
    budget = 0.9 * 14 * H * P  # per period: forces some work to stay undone when high
    capped = dataclasses.replace(
        data,
        problem=dataclasses.replace(
            data.problem,
            budget_per_period_usd=budget,
            products=(dataclasses.replace(data.problem.products[0], max_chips=16),),
        ),
        resources=(
            dataclasses.replace(
                data.resources[0],
                product=dataclasses.replace(data.resources[0].product, max_chips=16),  # type: ignore[arg-type]
            ),
            *data.resources[1:],
        ),
    )
    sol = solve(capped)
    k = capped.n_products
    # demand met or priced as unmet, per class, scenario and period
    work = (
        np.einsum("jk,jkst->jst", capped.rate[:, :k], sol.committed)
        + np.einsum("jo,jost->jst", capped.rate[:, k:], sol.on_demand)
        + sol.unmet
    )
    assert (work >= capped.demand * (1 - 1e-6)).all()
    # never more than the catalog sells: 16 chips = 2 blocks of 8 per period
    assert (sol.blocks <= 2 + 1e-9).all()
    # committed hours used never exceed those bought
    active = np.array([sol.blocks[0, : t + 1].sum() for t in range(2)]) * 8 * H
    assert (sol.committed.sum(axis=0)[0] <= active[None, :] + 1e-6).all()
    # the budget per period in every scenario (spend: committed hours at price + on demand)
    spend = active * 0.7 * P + sol.on_demand.sum(axis=0)[0] * P
    assert (spend <= budget * (1 + 1e-6)).all()
    assert sol.unmet.sum() > 0  # the budget binds in the high scenario
    doc = document(capped, sol)
    assert doc["expected_unmet_share"]["chat"] > 0
    assert doc["cvar_usd"] >= doc["expected_cost_usd"] - 1e-6


def test_weighted_cvar_by_hand():
    values = np.array([10.0, 20.0, 30.0])
    weights = np.array([0.5, 0.3, 0.2])
    assert cvar(values, 0.9, weights) == pytest.approx(30.0)
    assert cvar(values, 0.6, weights) == pytest.approx((0.2 * 30 + 0.2 * 20) / 0.4)


def test_a_budget_below_what_the_commitments_cost_is_infeasible_and_named():
    # a block of 8 chips is fixed for both quarters (8 x H x 0.7P a quarter), but the
    # budget per quarter is half of that: no plan, and the budget is what must give
    data = three()
    tight = dataclasses.replace(
        data,
        problem=dataclasses.replace(data.problem, budget_per_period_usd=0.5 * 8 * H * 0.7 * P),
    )
    with pytest.raises(InfeasibleError, match=r"budget\[.*\] must give"):
        solve(tight, fixed_blocks=np.array([[1.0, 0.0]]))


def test_salvage_full_pays_the_whole_term_and_prorate_only_the_horizon():
    # one quarter, a 4-quarter term at 0.7P, demand 90% of 8 chips: prorate pays one
    # quarter (8 H 0.7P < 0.9 x 8 H P, so it commits); full pays four (8 x 4 H 0.7P =
    # 2.8 x 8 H P > 0.9 x 8 H P, so it buys on demand)
    for salvage, commits, cost in (
        ("prorate", True, 8 * H * 0.7 * P),
        ("full", False, 0.9 * 8 * H * P),
    ):
        data = build_data(problem(term=4, salvage=salvage), SMALL, default_efficiency())
        sol = solve(with_chip_hours(data, np.array([[0.9 * 8 * H]])))
        assert bool(sol.blocks.sum() == 1) is commits, salvage
        assert sol.cost[0] == pytest.approx(cost, rel=1e-6), salvage


def test_catalog_reserved_offers_become_products_when_asked():
    # a 1-year reserved offer at half the on-demand price, in whole 8-chip instances:
    # with catalog_commitments it is a product (a 4-quarter term) and busy chips take it
    reserved = dataclasses.replace(
        ON_DEMAND,
        price_regime=PriceRegime.RESERVED_1Y,
        usd_per_hour=ON_DEMAND.usd_per_hour * 0.5,
        term_months=12,
    )
    catalog = Catalog.of([CATALOG.accelerators["H100-SXM"]], [ON_DEMAND, reserved])
    plain = build_data(problem(), catalog, default_efficiency())
    data = build_data(problem(catalog_commitments=True), catalog, default_efficiency())
    assert data.n_products == plain.n_products + 1
    product = data.resources[1].product
    assert product is not None
    assert (product.term_periods, product.min_chips) == (4, ON_DEMAND.accelerators_per_instance)
    assert product.usd_per_chip_hour == pytest.approx(0.5 * P)
    sol = solve(with_chip_hours(data, np.array([[0.95 * 8 * H]])))
    assert sol.blocks[1].sum() == 1  # the reserved offer beats the file's 0.7P product


def test_a_vendor_cap_holds_in_every_scenario_and_period():
    # H100 (NVIDIA) and TPU v6e (Google) on demand; no vendor above 60% of a period's
    # spend in any scenario, although the TPU alone would be cheaper
    tpu = min(
        (
            o
            for o in CATALOG.offers
            if o.accelerator == "TPU-v6e" and o.price_regime.value == "on_demand"
        ),
        key=lambda o: o.usd_per_accelerator_hour,
    )
    catalog = Catalog.of(
        [CATALOG.accelerators["H100-SXM"], CATALOG.accelerators["TPU-v6e"]], [ON_DEMAND, tpu]
    )
    capped = problem(periods=2, scenarios=SCENARIOS, term=2, caps=ShareCaps(vendor=0.6))
    data = build_data(capped, catalog, default_efficiency())
    data = dataclasses.replace(
        data, demand=data.demand * 0 + np.array([[[0.4], [1.0], [1.8]]]) * 1e9
    )
    k = data.n_products
    vendors = [r.vendor for r in data.resources[k:]]

    def top_shares(sol: ProcurementSolution) -> list[float]:
        active = np.array([sol.blocks[0, : t + 1].sum() for t in range(2)]) * 8 * H
        out = []
        for s in range(3):
            for t in range(2):
                by = {"NVIDIA": active[t] * data.price[0, t]}
                for o, vendor in enumerate(vendors):
                    spend = sol.on_demand[:, o, s, t].sum() * data.price[k + o, t]
                    by[vendor] = by.get(vendor, 0.0) + spend
                out.append(max(by.values()) / sum(by.values()))
        return out

    assert max(top_shares(solve(data))) <= 0.6 + 1e-6
    # and the cap binds: without it, one vendor takes more
    free = dataclasses.replace(data, problem=dataclasses.replace(data.problem, caps=ShareCaps()))
    assert max(top_shares(solve(free))) > 0.6 + 1e-3


def test_on_demand_is_not_bought_before_the_chip_is_available():
    # H100 (on demand and committed) only from quarter 1: quarter 0's work goes undone
    from arbiter.domain.procurement import PricePath

    path = PricePath(accelerators=("H100-SXM",), available_from=1)
    data = build_data(problem(periods=2, price_paths=(path,)), SMALL, default_efficiency())
    data = with_chip_hours(data, np.array([[4 * H, 4 * H]]))
    sol = solve(data)
    assert sol.on_demand[..., 0].sum() == 0
    assert sol.blocks[:, 0].sum() == 0
    assert sol.unmet[0, 0, 0] == pytest.approx(data.demand[0, 0, 0], rel=1e-9)
    assert sol.on_demand[..., 1].sum() == pytest.approx(4 * H, rel=1e-6)


def test_a_lab_scale_problem_is_as_well_posed_as_a_small_one():
    # the same work a million times over (whole blocks of 8 at both scales): chip-hours
    # and money are rescaled inside, so the plan scales with it (unscaled, HiGHS called
    # such models infeasible)
    small = with_chip_hours(
        build_data(problem(periods=2, term=2), SMALL, default_efficiency()),
        np.array([[8 * H, 16 * H]]),
    )
    big = dataclasses.replace(small, demand=small.demand * 1e6)
    a, b = solve(small), solve(dataclasses.replace(big, problem=dataclasses.replace(
        big.problem, products=(dataclasses.replace(big.problem.products[0], max_chips=None),)
    )))  # fmt: skip
    assert a.cost[0] == pytest.approx((8 * 2 + 8) * H * 0.7 * P, rel=1e-6)
    assert b.cost[0] == pytest.approx(a.cost[0] * 1e6, rel=1e-4)
    assert b.blocks.sum() == pytest.approx(a.blocks.sum() * 1e6, rel=1e-4)
