"""The README's worked figures, recomputed by the engines: plan (`examples/fleet.yaml`,
`examples/lab-fleet.yaml`), risk, procure and deal. A figure that drifts fails here; run
the command the README shows and update the README with it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from arbiter.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-12-06")
    monkeypatch.setenv("HOME", str(tmp_path))  # no stored capacity file
    monkeypatch.delenv("ARBITER_CAPACITY_FILE", raising=False)
    monkeypatch.chdir(ROOT)

    def go(*args: str) -> dict[str, Any]:
        code = main([*args, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc: dict[str, Any] = json.loads(out)
        return doc

    return go


def m(usd: float) -> str:
    return f"${usd / 1e6:,.2f}M"


def b(usd: float) -> str:
    return f"{'+' if usd >= 0 else '-'}${abs(usd) / 1e9:,.2f}B"


def whole(usd: float) -> str:
    return f"${usd:,.0f}"


def pct(share: float) -> str:
    return f"{share:.0%}"


def thin(estimates: list[dict[str, Any]]) -> str:
    """The chips whose figures rest on a wide band or few cases, as the README lists them."""
    by: dict[str, list[str]] = {}
    for e in estimates:
        if e["thin"]:
            by.setdefault(e["accelerator"], []).append(
                f"{e['class']} +/-{e['error_band_share']:.0%} on {e['band_cases']} cases "
                f"({e['chip_cases']} on the chip)"
            )
    return "; ".join(f"{acc}: {', '.join(sorted(v))}" for acc, v in sorted(by.items()))


def in_readme(*figures: str) -> None:
    missing = [f for f in figures if f not in README]
    assert not missing, f"README figures out of date: {missing}"


def test_the_example_fleet_plan(run):
    doc = run("plan", "examples/fleet.yaml")
    base = doc["baselines"]
    binding = {r["constraint"]: r for r in doc["binding"]}
    in_readme(
        f"the plan costs **{m(doc['total_usd'])}**",
        f"{m(doc['compute_usd'])} of compute and {m(doc['enablement_usd'])[:-4]}",
        f"NVIDIA {pct(doc['shares']['vendor']['NVIDIA'])} of",
        f"`locked_in` costs {m(base['locked_in']['total_usd'])}",
        f"`greedy_per_job`\n{m(base['greedy_per_job']['total_usd'])}",
        f"`cheapest_per_hour` {m(base['cheapest_per_hour']['total_usd'])}",
    )
    assert not any(x["feasible"] for x in base.values())
    # a saving is found by re-solves stopped at a gap or a time share, so the README's
    # figure must lie in what this run proves: at least the plan's own gap below the saving
    # found, at most what the re-solve's bound allows
    slack = doc["mip_gap"] * doc["total_usd"]
    for row, pattern in (
        ("capacity[aws/Trainium2]", r"instance would save \$([\d,]+)"),
        ("vendor_share[NVIDIA]", r"vendor cap \(\$([\d,]+) for"),
    ):
        said = re.search(pattern, README)
        assert said, pattern
        stated = float(said[1].replace(",", ""))
        found = binding[row]
        assert found["shadow_price_usd"] - slack <= stated <= found["at_most_usd"] + 1.0, row
    chips = {a["workload"]: a["accelerator_count"] for a in doc["assignments"]}
    in_readme(f"pre-training runs on {chips['pretrain-70b']:,} B200")


def test_the_lab_fleet_plan_and_its_audit(run):
    doc = run("plan", "examples/lab-fleet.yaml")
    audit = doc["audit"]
    shares = doc["shares"]
    worst = max(s["surplus_tokens_per_s"] / s["demand_tokens_per_s"] for s in audit["surplus"])
    stale = sum(1 for p in audit["prices"] if p["stale"])
    in_readme(
        f"With them it costs **{m(doc['total_usd'])}**",
        f"{m(doc['compute_usd'])} of\ncompute and {whole(doc['enablement_usd'])} to port",
        f"AMD then taking {pct(shares['vendor']['AMD'])} of spend",
        f"no provider more than {pct(max(shares['provider'].values()))}",
        f"the largest surplus is {worst:.1%}",
        f"**Capacity assumptions: {len(audit['capacity_assumptions'])}**",
        f"**Quotas and contracts: {len(audit['quotas_and_contracts'])}.**",
        f"**Prices: {len(audit['prices'])} used, {stale} older than 180 days**",
    )
    assert not audit["padded"] and audit["idle_instances"] == 0
    thin = audit["thin_estimates"]
    in_readme(f"**Thin estimates: {len(thin)}**")
    in_readme(*(f"{t['workload']} on {t['accelerator']}" for t in thin))


def test_the_risk_example(run):
    doc = run("risk", "examples/fleet.yaml", "--scenarios", "examples/scenarios.yaml", "--recourse")
    rows = []
    for name in ("plan", "locked_in"):
        p = doc["plans"][name]
        rows.append(
            f"| {m(p['plan_usd'])} | {m(p['mean_usd'])} | {m(p['p50_usd'])} | "
            f"{m(p['p95_usd'])} | {m(p['cvar95_usd'])} | "
            f"{p['unmet_demand_probability']:.1%} | {p['expected_unmet_share']:.1%} |"
        )
    o = doc["optionality"]
    in_readme(
        *rows,
        f"The optionality value** is {m(o['value_usd'])}",
        f"{m(o['plan_difference_usd'])} of it is the difference",
        f"{m(o['from_shocks_usd'])} comes from the shocks",
        f"from {m(o['p5_usd'])} (P5) to {m(o['p95_usd'])} (P95)",
        f"CVaR95 is {m(o['cvar95_reduction_usd'])} lower",
        f"CVaR95 is\n  {m(doc['plans']['plan']['without_recourse']['cvar95_usd'])}",
        f"and locked-in's {m(doc['plans']['locked_in']['without_recourse']['cvar95_usd'])}",
    )
    conc = doc["concentration"]
    lost = {(s["group"], s["name"]): s["unserved_share"] for s in conc["single_points_of_failure"]}
    in_readme(
        f"NVIDIA holds {pct(conc['top']['vendor']['share'])} of the plan's spend (vendor HHI "
        f"{conc['hhi']['spend']['vendor']:.2f} by spend, {conc['hhi']['compute']['vendor']:.2f} "
        "by compute)",
        f"Losing NVIDIA would stop {pct(lost['vendor', 'NVIDIA'])} of its work",
        f"losing AWS {pct(lost['provider', 'aws'])}.",
    )


def test_the_procure_example(run):
    doc = run("procure", "examples/procure.yaml")
    v = doc["value_of_uncertainty"]
    in_readme(
        f"the expected cost is {m(doc['expected_cost_usd'])}, P95 {m(doc['p95_usd'])}",
        f"CVaR95 {m(doc['cvar_usd'])}",
        f"saves {whole(v['vss_usd'])} (VSS)",
        f"a further {whole(v['evpi_usd'])} (EVPI)",
        f"expected stranded spend is {whole(doc['expected_stranded_usd'])}",
        f"of the chip itself): {thin(doc['estimates'])}.",
    )


def test_the_deal_examples(run):
    ten = run("deal", "examples/deals/trainium-10b.yaml")
    br = ten["breakdown"]
    in_readme(
        f"**NPV {b(ten['npv_usd'])}**, and {b(ten['risk_adjusted_value_usd'])} risk-adjusted",
        f"compute savings **{b(br['compute_savings_usd'])}**",
        f"tranches {b(br['tranches_usd'])}",
        f"credits +${br['credits_usd'] / 1e6:,.0f}M",
        f"with the deal, {thin(ten['sides']['with_deal']['estimates'])}.",
    )
    fifty = run("deal", "examples/deals/trainium-50b-tranched.yaml")
    in_readme(
        f"**{b(fifty['npv_usd'])}** (shortfall ${fifty['breakdown']['shortfall_usd'] / 1e9:,.1f}B)"
    )
    tpu = run("deal", "examples/deals/tpu-commitment.yaml")
    sign = "+" if tpu["npv_usd"] >= 0 else "-"
    in_readme(f"is worth **{sign}${abs(tpu['npv_usd']) / 1e6:,.0f}M**")
