"""arbiter from Python: plan the example fleet, stress it, sweep the vendor cap, and read
the results as DataFrames (docs/python.md). Run from the repository root:

    .venv/bin/python examples/api.py
"""

import os

import arbiter


def main() -> tuple[arbiter.Plan, arbiter.RiskReport, arbiter.Rows[arbiter.SweepPoint]]:
    plan = arbiter.plan("examples/fleet.yaml")  # a path, YAML text or a dict
    print(f"plan: ${plan.total_usd:,.0f} ({plan.status}), vendor HHI {plan.hhi['vendor']:.2f}")
    print(plan.assignments.to_frame()[["workload", "accelerator", "provider", "usd"]])

    samples = int(os.environ.get("ARBITER_API_EXAMPLE_SAMPLES", "1000"))
    report = arbiter.risk(plan, "examples/scenarios.yaml", samples=samples)
    costs = report.samples.to_frame().groupby("plan")["cost_usd"]
    print(costs.describe(percentiles=[0.5, 0.95])[["mean", "50%", "95%"]])
    print(f"optionality value: ${report.optionality_value_usd:,.0f}")

    sweep = arbiter.sweep(plan, "vendor", [0.9, 0.75, 0.6, 0.5])
    print(sweep.to_frame()[["cap", "total_usd", "feasible"]])
    return plan, report, sweep


if __name__ == "__main__":  # the risk samples run in worker processes that import this file
    plan, report, sweep = main()
