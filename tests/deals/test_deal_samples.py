"""Sampled futures of a deal: how shocks land on a procurement plan's periods, and that the
draws depend only on the seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from deal_worlds import CATALOG, H100, MIXED, TRN1, a_deal, lab

from arbiter.deals.evaluate import Settings, evaluate, prepared, world_data
from arbiter.deals.samples import Draw, draws, overlap, shocked, value_distribution
from arbiter.domain.catalog import Catalog
from arbiter.domain.deal import Obligation, Porting, Tranche
from arbiter.domain.procurement import CommitmentProduct
from arbiter.domain.scenario import Distribution
from arbiter.perf.efficiency import default_efficiency
from arbiter.scenarios import parse_scenarios

QUARTER_DAYS = 2190.0 / 24.0


def world(catalog: Catalog = MIXED):  # type: ignore[no-untyped-def]
    deal = a_deal()
    base = world_data(deal, catalog, default_efficiency())
    return deal, prepared(base, deal, Settings())


def shocks(*items: dict[str, object]):  # type: ignore[no-untyped-def]
    """A scenario set of ``items``; the windows and magnitudes come from each draw."""
    window = {"start_days": 0, "duration_days": 30}
    return parse_scenarios(
        {"shocks": [{**window, **i} if i["kind"] != "roadmap_slip" else i for i in items]},
        file="s.yaml",
    )


def one_draw(n_shocks: int, magnitude: float, start: float, duration: float) -> Draw:
    return Draw(
        scenario=0,
        efficiency=1.0,
        paid=np.zeros(0),
        occurred=np.ones(n_shocks),
        magnitude=np.full(n_shocks, magnitude),
        start_days=np.full(n_shocks, start),
        duration_days=np.full(n_shocks, duration),
    )


def index(data, accelerator: str) -> int:  # type: ignore[no-untyped-def]
    return next(i for i, r in enumerate(data.resources) if r.accelerator == accelerator)


def test_overlap_is_the_share_of_each_period_inside_the_window() -> None:
    _, data = world()
    q = QUARTER_DAYS
    assert overlap(data, 0.5 * q, q).tolist() == pytest.approx([0.5, 0.5, 0.0, 0.0])
    assert overlap(data, 0.0, float("inf")).tolist() == [1.0, 1.0, 1.0, 1.0]
    assert overlap(data, 10 * q, q).tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_price_shift_moves_on_demand_prices_in_its_window_only() -> None:
    _, data = world()
    set_ = shocks({"name": "p", "kind": "price_shift", "select": {"vendor": "NVIDIA"},
                   "probability": 1, "price_factor": 2.0})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 2.0, QUARTER_DAYS, QUARTER_DAYS / 2), set_)
    h, t = index(data, "H100-SXM"), index(data, "Trainium1")
    assert out.price[h].tolist() == pytest.approx(
        (data.price[h] * np.array([1.0, 1.5, 1.0, 1.0])).tolist()
    )
    assert np.array_equal(out.price[t], data.price[t])


def test_an_outage_removes_an_offer_and_a_supply_cut_makes_it_scarcer() -> None:
    _, data = world()
    outage = shocks({"name": "o", "kind": "outage", "select": {"provider": "aws"},
                     "probability": 1})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 0.0, 0.0, QUARTER_DAYS), outage)
    t = index(data, "Trainium1")
    assert out.available[t].tolist() == [False, True, True, True]
    cut = shocks({"name": "c", "kind": "supply_cut", "select": {"accelerator": "Trainium1"},
                  "probability": 1, "capacity_factor": 0.5})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 0.5, 0.0, float("inf")), cut)
    assert out.price[t].tolist() == pytest.approx((data.price[t] / 0.5).tolist())
    assert out.available[t].all()


def test_a_supply_cut_loses_committed_hours_and_a_slip_delays_the_chip() -> None:
    product = CommitmentProduct("trn1", "aws", "Trainium1", "us-east-1", 0.8, 4, min_chips=16)
    deal = a_deal(dataclasses.replace(lab(), products=(product,)))
    base = world_data(deal, MIXED, default_efficiency())
    data = prepared(base, deal, Settings())
    cut = shocks({"name": "c", "kind": "supply_cut", "select": {"provider": "aws"},
                  "probability": 1, "capacity_factor": 0.6})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 0.6, QUARTER_DAYS, QUARTER_DAYS), cut)
    assert out.usable is not None
    assert out.usable[0].tolist() == pytest.approx([1.0, 0.6, 1.0, 1.0])
    slip = shocks({"name": "s", "kind": "roadmap_slip", "select": {"accelerator": "Trainium1"},
                   "probability": 1, "delay_days": 2 * QUARTER_DAYS})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 2 * QUARTER_DAYS, 0.0, 2 * QUARTER_DAYS), slip)
    t = index(data, "Trainium1")  # the committed product comes first; the offer later
    offer = max(i for i, r in enumerate(data.resources) if r.accelerator == "Trainium1")
    assert out.usable is not None
    assert out.usable[t].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert out.available[offer].tolist() == [False, False, True, True]


def test_a_demand_shift_hits_the_named_class_in_the_drawn_scenario() -> None:
    _, data = world()
    surge = shocks({"name": "d", "kind": "demand_shift", "select": {"workload": "chat"},
                    "probability": 1, "demand_factor": 1.5})  # fmt: skip
    out = shocked(data, 0, one_draw(1, 1.5, 2 * QUARTER_DAYS, float("inf")), surge)
    assert (out.demand[0, 0] / data.demand[0, 0]).tolist() == pytest.approx([1, 1, 1.5, 1.5])


def test_draws_depend_on_the_seed_only_and_follow_the_probabilities() -> None:
    deal = a_deal(
        tranches=(Tranche(usd=1e3, period=1, probability=0.3, condition="milestone: m"),),
        porting=Porting(platform=CATALOG.accelerators["Trainium1"].platform,
                        efficiency=Distribution("uniform", (0.5, 1.0))),
    )  # fmt: skip
    base = world_data(deal, MIXED, default_efficiency())
    a, b = draws(deal, base, None, 600, seed=3), draws(deal, base, None, 600, seed=3)
    assert [d.efficiency for d in a] == [d.efficiency for d in b]
    c = draws(deal, base, None, 600, seed=4)
    assert [d.efficiency for d in a] != [d.efficiency for d in c]
    eff = np.array([d.efficiency for d in a])
    assert eff.min() >= 0.5
    assert eff.max() <= 1.0
    paid = np.array([d.paid[0] for d in a])
    assert 0.24 < paid.mean() < 0.36  # 0.3 within about three standard errors
    # the first 250 futures do not depend on how many are drawn
    short = draws(deal, base, None, 250, seed=3)
    assert [d.efficiency for d in short] == [d.efficiency for d in a[:250]]


def test_without_shocks_the_sampled_worth_averages_to_the_npv() -> None:
    # one scenario, fixed efficiency, certain tranches: every future is the planned one
    deal = a_deal(discount=0.2, tranches=(Tranche(usd=500.0, period=1),),
                  obligation=Obligation(min_spend_usd_per_year=(0.0,), min_share=0.3))  # fmt: skip
    base = world_data(deal, Catalog.of(
        [CATALOG.accelerators["Trainium1"], CATALOG.accelerators["H100-SXM"]], [TRN1, H100]
    ), default_efficiency())  # fmt: skip
    ev = evaluate(deal, base)
    dist = value_distribution(ev, base, samples=12, seed=0)
    assert dist.value_usd.tolist() == pytest.approx([ev.npv_usd] * 12, rel=1e-6)
