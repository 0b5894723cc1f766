"""The worked examples of docs/semantics-risk.md, run through the engine: each figure the
page states is computed here and must appear on the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option
from risk_helpers import at, due, evaluate

from arbiter.domain.fleet import Fleet
from arbiter.domain.offer import PriceRegime
from arbiter.domain.scenario import ZERO, ScenarioSet, Selector, Shock, ShockKind
from arbiter.optimize.fleet import solve_fleet
from arbiter.risk.evaluate import LOCKED_IN, RiskContext, run

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "semantics-risk.md").read_text(
    encoding="utf-8"
)

TUNE = Fleet(workloads=(due(train("tune"), 24.0),))
TUNE_AT_Q = train_option(0, offer("q", 10.0), hours=10.8)
CHAT = Fleet(workloads=(serve("chat", 100.0, hours=100.0),))
CHAT_AT_P = serve_option(0, offer("p", 1.0), tokens_per_s=10.0, hours=100.0)


def on_page(usd: float) -> None:
    """``usd`` is stated on the page, in bold, as the page writes dollars."""
    assert f"**${usd:,.0f}**" in PAGE, f"${usd:,.0f} is not a worked figure of the page"


def test_outage_examples():
    sol, out, _ = evaluate(TUNE, [TUNE_AT_Q], [at(ShockKind.OUTAGE, "q", 0.0, 18.0)])
    assert sol.total_usd == pytest.approx(108.0)
    assert out.unmet[0, 0] == pytest.approx(4.8 / 10.8)
    assert out.unmet_usd[0] == pytest.approx(144.0)
    assert out.cost_usd[0] == pytest.approx(204.0)
    assert out.missed_deadlines[0] == 1
    for usd in (144.0, 204.0):
        on_page(usd)
    # a service out from hour 90 to 110 of its 100: 10 hours count
    _, out, _ = evaluate(CHAT, [CHAT_AT_P], [at(ShockKind.OUTAGE, "p", 90.0, 20.0)])
    assert out.unmet[0, 0] == pytest.approx(0.1)
    assert out.cost_usd[0] == pytest.approx(900.0 + 300.0)
    on_page(1200.0)


def test_catch_up_examples():
    half = [at(ShockKind.SUPPLY_CUT, "q", 0.0, 40.0, 0.5)]
    job = [train_option(0, offer("q", 3.0), hours=100.0)]
    _, out, _ = evaluate(Fleet(workloads=(train("tune"),)), job, half)
    assert out.cost_usd[0] == pytest.approx(300.0)
    _, out, _ = evaluate(Fleet(workloads=(due(train("tune"), 110.0),)), job, half)
    assert out.unmet[0, 0] == pytest.approx(0.1)
    assert out.cost_usd[0] == pytest.approx(360.0)
    reserved = offer("q", 1.0, regime=PriceRegime.RESERVED_1Y, term_months=1)
    out20 = [at(ShockKind.OUTAGE, "q", 0.0, 20.0)]
    fleet = Fleet(workloads=(train("tune"),))
    _, out, _ = evaluate(fleet, [train_option(0, reserved, hours=100.0)], out20)
    assert out.cost_usd[0] == pytest.approx(730.0)
    _, out, _ = evaluate(fleet, [train_option(0, reserved, hours=720.0)], out20)
    assert out.cost_usd[0] == pytest.approx(740.0)
    for usd in (300.0, 360.0, 730.0, 740.0):
        on_page(usd)


def test_recourse_examples():
    r = serve_option(0, offer("r", 1.5), tokens_per_s=10.0, hours=100.0)
    y = serve_option(0, offer("p", 2.0, accelerator="Y"), tokens_per_s=10.0, hours=100.0)
    sol = solve_fleet(CHAT, [CHAT_AT_P])
    cut = Shock(
        name="x-at-p",
        kind=ShockKind.SUPPLY_CUT,
        selector=Selector(providers=("p",), accelerators=("X",)),
        probability=1.0,
        magnitude=ZERO,
    )
    plans = (("plan", sol), (LOCKED_IN, sol))
    ctx = RiskContext(CHAT, plans, (CHAT_AT_P, r, y), ScenarioSet(shocks=(cut,)), True, 0)
    result = run(ctx, 2)
    assert result["plan"].cost_usd == pytest.approx(np.full(2, 3000.0))
    assert result["plan"].recourse_cost_usd == pytest.approx(np.full(2, 1500.0))
    assert result[LOCKED_IN].recourse_cost_usd == pytest.approx(np.full(2, 2000.0))
    alone = RiskContext(CHAT, plans, (CHAT_AT_P, r), ScenarioSet(shocks=(cut,)), True, 0)
    assert run(alone, 2)[LOCKED_IN].recourse_cost_usd == pytest.approx(np.full(2, 3000.0))
    for usd in (3000.0, 1500.0, 2000.0):
        on_page(usd)
    # the fine-tune re-planned onto s at $20/h
    s = train_option(0, offer("s", 20.0), hours=10.8)
    _, out, replanned = evaluate(TUNE, [TUNE_AT_Q], [at(ShockKind.OUTAGE, "q", 0.0, 18.0)], [s])
    assert out.cost_usd[0] == pytest.approx(204.0)
    assert replanned == pytest.approx(60.0 + 96.0)
    on_page(156.0)
