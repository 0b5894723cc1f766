"""``arbiter plan`` and ``arbiter export`` end to end on a small fleet."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from arbiter.api.planning import solve
from arbiter.catalog.embedded import default_catalog
from arbiter.cli.app import main
from arbiter.domain.errors import InfeasibleError, SolverError
from arbiter.optimize.baselines import baselines
from arbiter.optimize.fleet import FleetSolution
from arbiter.workloads.fleet import load_fleet

FLEET = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5}
constraints:
  max_share: {vendor: 0.8, provider: 0.8}
"""


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.setenv("COLUMNS", "240")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def fleet(tmp_path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET, encoding="utf-8")
    return path


def test_plan_json_meets_its_caps_and_is_deterministic(cli, fleet):
    code, out, err = cli("plan", str(fleet), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "optimal"
    assert {a["workload"] for a in doc["assignments"]} == {"chat", "tune"}
    for a in doc["assignments"]:
        for key in (
            "offer_id",
            "provider",
            "region",
            "instance_type",
            "accelerator",
            "vendor",
            "price_regime",
            "instance_count",
            "accelerator_count",
            "hours",
            "usd",
        ):
            assert key in a
    # the caps hold on the plan's own spend shares, and the total adds up
    for group, cap in (("vendor", 0.8), ("provider", 0.8)):
        assert max(doc["shares"][group].values()) <= cap + 1e-9
        assert doc["hhi"][group] == pytest.approx(sum(s * s for s in doc["shares"][group].values()))
    assert doc["total_usd"] == pytest.approx(
        sum(a["usd"] for a in doc["assignments"]) + doc["enablement_usd"]
    )
    # serving capacity covers the request rate: 20 req/s x 200 tokens
    served = sum(a["tokens_per_s"] for a in doc["assignments"] if a["workload"] == "chat")
    assert served >= 20 * 200
    assert set(doc["baselines"]) == {"locked_in", "cheapest_per_hour", "greedy_per_job"}
    # greedy's total is not below the plan's when it enables a platform the plan does not
    # need; its compute is: each workload at its own cheapest, without the shared rows
    planned = solve(fleet)
    greedy = baselines(planned.fleet, planned.everything)["greedy_per_job"]
    assert isinstance(greedy, FleetSolution)
    assert greedy.compute_usd <= planned.solution.compute_usd * (1 + 1e-6)
    assert doc["baselines"]["greedy_per_job"]["total_usd"] == pytest.approx(greedy.total_usd)
    assert doc["provenance"]["solver"] == "HiGHS"
    assert len(doc["provenance"]["input_hash"]) == 12
    again = cli("plan", str(fleet), "--json")[1]
    assert again == out


def test_every_assignment_carries_its_price_source_and_age(cli, fleet):
    code, out, err = cli("plan", str(fleet), "--json")
    assert code == 0, err
    offers = {o.offer_id: o for o in default_catalog().offers}
    for a in json.loads(out)["assignments"]:
        offer = offers[a["offer_id"]]
        assert a["price_source"] == offer.source and a["price_as_of"] == offer.as_of.text
        # ARBITER_TODAY is 2026-11-29 in these tests
        assert a["price_age_days"] == (dt.date(2026, 11, 29) - offer.as_of.end).days


def test_plan_html_save_list_and_export(cli, fleet, tmp_path):
    report = tmp_path / "plan.html"
    code, out, err = cli("plan", str(fleet), "--html", str(report), "--save")
    assert code == 0, err
    assert "saved as plan" in out
    html = report.read_text(encoding="utf-8")
    assert "chat" in html and "tune" in html
    assert 'src="http' not in html
    code, listed, _ = cli("plans", "list", "--json")
    assert code == 0
    (saved,) = json.loads(listed)
    code, shown, _ = cli("plans", "show", saved["plan_id"], "--json")
    assert code == 0
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(shown, encoding="utf-8")
    code, out, err = cli(
        "export", str(plan_file), "--format", "skypilot", "--out", str(tmp_path / "sky")
    )
    assert code == 0, err
    files = sorted((tmp_path / "sky").iterdir())
    assert len(files) == len(json.loads(shown)["assignments"])
    task = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    assert "resources" in task


def test_a_region_allow_list_no_offer_matches_exits_3_naming_the_workload(cli, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(
        FLEET.replace(
            "max_share: {vendor: 0.8, provider: 0.8}",
            "max_share: {vendor: 0.8}\n  regions: ['nowhere-*']",
        ),
        encoding="utf-8",
    )
    code, _, err = cli("plan", str(path))
    assert code == 3
    assert "chat" in err or "tune" in err


def test_a_bad_fleet_file_exits_2_with_the_field(cli, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(FLEET.replace("vendor: 0.8", "vendor: 1.5"), encoding="utf-8")
    code, _, err = cli("plan", str(path))
    assert code == 2
    assert "constraints.max_share.vendor" in err


def test_the_example_fleet_plan_meets_its_caps_and_beats_every_baseline(cli):
    path = Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml"
    code, out, err = cli("plan", str(path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "optimal"
    for group, cap in doc["caps"].items():
        if cap is not None:
            assert max(doc["shares"][group].values()) <= cap + 1e-9, group
    budget = load_fleet(path).budget_usd
    assert budget is not None
    assert doc["total_usd"] <= budget
    for name, baseline in doc["baselines"].items():
        # a baseline that meets the fleet's constraints never beats the plan; one that
        # breaks them (greedy per job, which ignores the vendor cap) may cost less
        if baseline["total_usd"] is not None and baseline["feasible"]:
            assert baseline["total_usd"] > doc["total_usd"], name
    assert doc["baselines"]["greedy_per_job"]["feasible"] is False
    # every workload placed
    assert {a["workload"] for a in doc["assignments"]} == {
        w["name"] for w in yaml.safe_load(path.read_text("utf-8"))["workloads"]
    }
    # a spot assignment, and only one, shows the spot model's rate and its basis
    for a in doc["assignments"]:
        assert ("spot" in a) == (a["price_regime"] == "spot")
        if "spot" in a:
            assert a["spot"]["basis"] and a["spot"]["as_of"]
            assert 0 < a["spot"]["throughput_factor"] < 1


# --- solver limits -------------------------------------------------------------------------


def test_time_limit_and_mip_gap_are_accepted_and_an_optimal_plan_has_no_note(cli, fleet):
    code, out, err = cli("plan", str(fleet), "--time-limit", "30", "--mip-gap", "0.01", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "optimal"
    assert doc["mip_gap"] <= 0.01
    assert "solver_note" not in doc


def test_a_plan_stopped_at_the_limit_exits_0_feasible_with_its_gap_in_words(
    cli, fleet, monkeypatch
):
    """The solve is cut short by a node limit (deterministic): whatever plan HiGHS has by
    then is the answer, marked feasible, with the sentence naming the limit and gap."""
    from dataclasses import replace

    from arbiter.api import planning
    from arbiter.optimize.linear import Status, Stop

    seen: dict[str, object] = {}
    real = planning.solve_fleet

    def stopped(*args, **kwargs):
        seen.update(kwargs)
        found = real(*args, **kwargs)
        return replace(found, status=Status.FEASIBLE, stop=Stop.TIME, mip_gap=0.008)

    # the limit counts from the command's start: the solve gets what building the
    # options left of it, and never less than a tenth. The clock is the test's: building
    # the options takes 20 s of it, then 29 s, and nothing else takes any.
    clock = [0.0]
    build = planning.build_capacity_options

    def slow_build(*args, **kwargs):
        clock[0] += taken
        return build(*args, **kwargs)

    monkeypatch.setattr(planning, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(planning, "build_capacity_options", slow_build)
    monkeypatch.setattr(planning, "solve_fleet", stopped)
    taken = 29.0
    code, _, err = cli("plan", str(fleet), "--time-limit", "30", "--json")
    assert code == 0, err
    assert seen["time_limit_s"] == 3.0
    taken = 20.0
    code, out, err = cli("plan", str(fleet), "--time-limit", "30", "--mip-gap", "0.001", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert seen["time_limit_s"] == 10.0
    assert seen["mip_gap"] == 0.001
    assert doc["status"] == "feasible"
    assert doc["mip_gap"] == pytest.approx(0.008)
    assert doc["solver_note"] == (
        "Stopped at the 30 s time limit with the best plan found, within 0.8% of the best possible."
    )
    code, out, err = cli("plan", str(fleet), "--time-limit", "30")
    assert code == 0, err
    assert "Stopped at the 30 s time limit with the best plan found" in out


def test_nothing_found_within_the_time_limit_exits_4(cli, fleet):
    # a real limit, not a stand-in: HiGHS stops before its first incumbent
    code, out, err = cli("plan", str(fleet), "--time-limit", "0")
    assert code == SolverError.exit_code == 4
    assert "found no plan within the 0 s time limit" in err
    assert "Traceback" not in err
    assert "\n\n" not in err.strip()  # one paragraph
    assert out == ""


def test_the_sweep_takes_the_time_limit_and_gap(cli, fleet, monkeypatch):
    from arbiter.api import planning

    limits: list[tuple[float, float]] = []
    real = planning.solve_fleet

    def spy(*args, **kwargs):
        if kwargs.get("explain") is False:  # the sweep's solves, not the plan's own
            limits.append((kwargs["time_limit_s"], kwargs["mip_gap"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(planning, "solve_fleet", spy)
    code, out, err = cli(
        "plan", str(fleet), "--sweep", "vendor=1.0:0.8:0.2", "--time-limit", "7",
        "--mip-gap", "0.02", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert limits == [(7.0, 0.02), (7.0, 0.02)]
    assert [row["cap"] for row in json.loads(out)["sweep"]] == [1.0, 0.8]


TWO_PROVIDERS = """
workloads:
  - {name: chat, kind: serve, model: llama-3.1-8b, precision: fp8, requests_per_s: 20,
     input_tokens: 500, output_tokens: 200, slo: {ttft_s: 2, tpot_s: 0.05}, hours: 720,
     providers: [aws, gcp]}
  - {name: tune, kind: finetune, model: llama-3.1-8b, tokens: 1B, seq_len: 4096, deadline_days: 5,
     providers: [aws, gcp]}
constraints:
  max_share: {provider: 0.9}
"""


def test_the_sweep_curve_is_the_fleet_solved_at_each_cap(cli, tmp_path):
    """Each point of ``--sweep`` against the fleet file with that cap written in, planned
    on its own from scratch (options built and pruned for that cap): the same cost, or
    infeasible where it is. Two providers: each under 40% cannot hold all the work."""
    path = tmp_path / "fleet.yaml"
    path.write_text(TWO_PROVIDERS, encoding="utf-8")
    gap = 1e-6
    code, out, err = cli(
        "plan", str(path), "--sweep", "provider=1.0:0.4:0.2", "--mip-gap", str(gap), "--json"
    )
    assert code == 0, err
    points = json.loads(out)["sweep"]
    assert [(p["group"], p["cap"]) for p in points] == [
        ("provider", 1.0),
        ("provider", 0.8),
        ("provider", 0.6),
        ("provider", 0.4),
    ]
    found = []
    for point in points:
        doc = yaml.safe_load(TWO_PROVIDERS)
        doc["constraints"]["max_share"]["provider"] = point["cap"]
        try:
            alone = solve(doc, catalog=default_catalog(), mip_gap=gap, time_limit_s=None)
        except InfeasibleError:
            assert point["feasible"] is False
            assert point["total_usd"] is None
            found.append(None)
            continue
        assert point["feasible"] is True
        assert point.get("status") is None  # proven within the gap, not stopped at a limit
        assert point["total_usd"] == pytest.approx(alone.solution.total_usd, rel=3 * gap)
        found.append(alone.solution.total_usd)
    # the curve has both kinds of point, and a tighter cap never costs less
    assert found[0] is not None
    assert found[-1] is None
    costs = [c for c in found if c is not None]
    assert all(a <= b * (1 + 3 * gap) for a, b in itertools.pairwise(costs))
    assert costs[-1] > costs[0]  # diversifying has a price here


def test_identical_jobs_are_folded_and_listed_one_by_one(cli, tmp_path):
    # three tunes equal but for the name: solved as one workload standing for three, the
    # plan lists each under its own name, at the optimum of the fleet solved unfolded
    one = {"kind": "finetune", "model": "llama-3.1-8b", "tokens": "1B", "seq_len": 4096}
    doc = yaml.safe_load(FLEET)
    doc["workloads"] = [doc["workloads"][0], *({"name": f"tune-{k}", **one} for k in range(3))]
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out, _ = cli("plan", str(path), "--json", "--mip-gap", "0")
    assert code == 0
    plan = json.loads(out)
    tunes = [a for a in plan["assignments"] if a["kind"] == "finetune"]
    assert sorted(a["workload"] for a in tunes) == ["tune-0", "tune-1", "tune-2"]
    assert set(plan["alternatives"]) >= {"tune-0", "tune-1", "tune-2"}
    unfolded = solve(path, seed=0, mip_gap=0.0, fold=False)
    folded = solve(path, seed=0, mip_gap=0.0, fold=True)
    assert folded.folded is not None and folded.fleet.copies == (1, 3)
    assert plan["total_usd"] == pytest.approx(unfolded.solution.total_usd, rel=1e-9)
    assert sum(a["usd"] for a in plan["assignments"]) == pytest.approx(plan["compute_usd"])
    for group, cap in plan["caps"].items():  # the share rows are scaled to the plan
        assert cap is None or max(plan["shares"][group].values()) <= cap + 1e-9
