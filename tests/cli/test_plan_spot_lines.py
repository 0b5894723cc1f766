"""The text output of a plan states the spot rate and its basis, once per spot offer, and
the expected outcome of each deadline job on it."""

from __future__ import annotations

from typing import Any

from arbiter.cli.plan_cmd import spot_lines
from arbiter.results.plan import Assignment, SpotBasis


def assignment(workload: str, regime: str, spot: dict[str, Any] | None) -> Assignment:
    # the fields spot_lines reads; the rest of an assignment does not matter here
    return Assignment.model_construct(
        workload=workload,
        provider="aws",
        region="us-east-1",
        instance_type="p5.48xlarge",
        price_regime=regime,
        spot=None if spot is None else SpotBasis(**spot),
    )


SPOT = {
    "interruptions_per_hour": 0.00125519,
    "basis": "feed",
    "source": "AWS Spot Instance Advisor, band >20% (Linux)",
    "as_of": "2025-06-28",
    "restart_hours": 0.25,
    "throughput_factor": 1 / (1 + 0.00125519 * 0.25),
}


def test_one_line_per_spot_offer_with_rate_basis_and_date():
    lines = spot_lines(
        [
            assignment("a", "spot", SPOT),
            assignment("b", "spot", SPOT),  # the same offer: one line
            assignment("c", "on_demand", None),
        ]
    )
    assert len(lines) == 1
    (line,) = lines
    assert line.startswith("spot aws us-east-1 p5.48xlarge: 0.00126 interruptions/h (feed: ")
    assert "band >20%" in line and "2025-06-28" in line and "x0.9997" in line


def test_a_plan_without_spot_prints_nothing():
    assert spot_lines([assignment("c", "on_demand", None)]) == []


def test_a_deadline_job_on_spot_gets_a_line_with_its_outlook():
    outlook = {
        **SPOT,
        "policy": "greedy",
        "available_share": 0.4,
        "mean_outage_hours": 3.0,
        "spot_share": 0.25,
        "on_demand_hours": 1234.0,
        "on_demand_usd_per_hour": 6.88,
        "miss_probability": 0.0,
    }
    lines = spot_lines([assignment("b", "spot", outlook), assignment("a", "spot", SPOT)])
    assert len(lines) == 2 and lines[0].startswith("spot aws us-east-1 p5.48xlarge: ")
    assert lines[1] == (
        "  b: greedy, 25.0% of the work on spot (spot there 40.0% of the time, outages of "
        "3 h), 1,234 chip-h on demand at $6.88/h, late 0.0%"
    )
    alone = spot_lines([assignment("b", "spot", {**outlook, "on_demand_usd_per_hour": None})])
    assert "no on-demand fallback there" in alone[1]
