"""The plan audit: surplus, idle instances, capacity needs, price ages and thin bands,
counted from the plan itself (``optimize/audit.py``)."""

from __future__ import annotations

import dataclasses
from datetime import date

from fleet_helpers import offer, serve, serve_option, train, train_option

from arbiter.domain.as_of import AsOf
from arbiter.domain.fleet import Fleet
from arbiter.optimize.audit import plan_audit
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.fleet_model import FleetSolution, Placed


def _plan() -> tuple[Fleet, FleetSolution]:
    # 100 tokens/s at 30 per replica: 4 replicas (120), 2 per 2-chip instance
    fleet = Fleet(workloads=(serve("chat", 100.0), train("job")))
    old = dataclasses.replace(offer("q", 1.0), as_of=AsOf.parse("2025-01-15"))
    options = [
        serve_option(0, offer("p", 2.0, chips=2), tokens_per_s=30.0, hours=100.0),
        train_option(1, old, hours=10.0),
    ]
    return fleet, solve_fleet(fleet, options)


def test_a_plan_without_padding_has_a_clean_surplus_and_ages_its_prices():
    fleet, sol = _plan()
    audit = plan_audit(fleet, sol, [], today=date(2026, 12, 1))
    (chat,) = audit.surplus
    assert (chat.demand_tokens_per_s, chat.bought_tokens_per_s) == (100.0, 120.0)
    assert chat.within_one_replica and not audit.padded
    assert audit.idle_instances == 0 and audit.extra_placements == 0
    ages = {p.provider: p.age_days for p in audit.prices}
    assert ages == {"p": (date(2026, 12, 1) - date(2026, 11, 1)).days, "q": 685}
    assert audit.stale_prices == 1 and [p.provider for p in audit.prices if p.stale] == ["q"]


def test_an_idle_instance_or_a_replica_too_many_is_padding():
    fleet, sol = _plan()
    serving = next(p for p in sol.placed if p.option.serve)
    more = dataclasses.replace(serving, units=serving.units + 1, instances=serving.instances + 1)
    idle = dataclasses.replace(serving, instances=serving.instances + 1)
    for placed in (more, idle):
        padded = dataclasses.replace(
            sol, placed=tuple(placed if p is serving else p for p in sol.placed)
        )
        assert plan_audit(fleet, padded, [], today=date(2026, 12, 1)).padded
    job = next(p for p in sol.placed if not p.option.serve)
    twice = dataclasses.replace(sol, placed=(*sol.placed, Placed(job.option, 1, 1, job.usd)))
    assert plan_audit(fleet, twice, [], today=date(2026, 12, 1)).extra_placements == 1


def _assumption(offer_id: str, needs: str, lead_days: float) -> dict[str, object]:
    """A capacity assumption record as ``optimize.capacity.assumptions_used`` writes it."""
    return {
        "offer_id": offer_id,
        "provider": "aws",
        "region": "us-east-1",
        "accelerator": "H100-SXM",
        "instance_type": "p5.48xlarge",
        "price_regime": "on_demand",
        "chips_used": 8,
        "obtainable_chips": 64,
        "job_chips": 64,
        "unit_chips": 8,
        "basis": "rule R1",
        "needs": needs,
        "lead_days": lead_days,
        "source": "https://example.com",
        "as_of": "current",
    }


def test_thin_estimates_and_needed_contracts_are_listed():
    fleet, sol = _plan()
    thin = [
        dataclasses.replace(
            p,
            option=dataclasses.replace(
                p.option,
                estimate=dataclasses.replace(p.option.estimate, error_band_share=0.6, band_cases=0),
            ),
        )
        for p in sol.placed
    ]
    assumptions = [_assumption("a", "contract", 91.0), _assumption("b", "none", 0.0)]
    audit = plan_audit(
        fleet, dataclasses.replace(sol, placed=tuple(thin)), assumptions, today=date(2026, 12, 1)
    )
    assert {t.workload for t in audit.thin_estimates} == {"chat", "job"}
    assert [a.offer_id for a in audit.quotas_and_contracts] == ["a"]
    assert audit.to_dict()["padded"] is False
