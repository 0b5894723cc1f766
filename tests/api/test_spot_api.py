"""``arbiter.simulate_spot`` on synthetic traces whose answer is worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import arbiter
from arbiter.domain.errors import InputError
from arbiter.results import SpotSimulation

POLICIES = ("od", "greedy", "up", "arbiter", "optimal")
FIELDS = {"mean_cost_usd", "p10_cost_usd", "p90_cost_usd", "misses", "windows"}

# the job: 10 h of compute, 14 h to do it in, 0.5 h lost at every (re)start
C, D, d = 10.0, 14.0, 0.5
OD, SPOT = 3.0, 1.0


def job(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "name": "hand",
        "compute_h": C,
        "deadline_h": D,
        "restart_h": d,
        "checkpoint_h": 1.0,
        "chips": 1,
        "on_demand_usd_per_hour": OD,
        "spot_usd_per_hour": SPOT,
    }
    doc.update(overrides)
    return doc


def write_trace(folder: Path, name: str, unavailable: list[int], gap_s: int = 3600) -> None:
    """A single-node trace in the public format, from the readings without spot (1 there):
    written as the format is read by default, 1 = spot available."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"metadata": {"gap_seconds": gap_s}, "data": [1 - u for u in unavailable]}
    (folder / name).write_text(json.dumps(doc), encoding="utf-8")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")


@pytest.fixture
def always(tmp_path) -> Path:
    folder = tmp_path / "always"
    write_trace(folder, "us-test-1a_v100_1.json", [0] * 48)
    return folder


@pytest.fixture
def outage(tmp_path) -> Path:
    """Spot missing for the first 3 of 16 hours, then there throughout: exactly one
    window (start 0) fits a 16-hour deadline."""
    folder = tmp_path / "outage"
    write_trace(folder, "us-test-1a_v100_1.json", [1, 1, 1] + [0] * 13)
    return folder


def test_every_policy_has_the_required_fields(store, always):
    sim = arbiter.simulate_spot(job(), always, windows=20, seed=1)
    assert isinstance(sim, SpotSimulation)
    assert tuple(sim.policies) == POLICIES
    doc = json.loads(sim.to_json())
    assert set(doc["policies"]) == set(POLICIES)
    for name, stats in doc["policies"].items():
        assert set(stats) >= FIELDS, name
        assert stats["windows"] == 20
    assert doc["windows"] == 20
    assert doc["job"]["slack_h"] == pytest.approx(D - C)


def test_an_always_available_trace_costs_compute_plus_one_start(store, always):
    sim = arbiter.simulate_spot(job(), always, windows=50, seed=3)
    od = sim.policies["od"]
    # on-demand: one cold start, then the compute, at the on-demand price
    assert od.mean_cost_usd == pytest.approx((C + d) * OD)
    assert od.p10_cost_usd == od.p90_cost_usd == pytest.approx((C + d) * OD)
    assert od.mean_finish_h == pytest.approx(C + d)
    assert od.spot_share == pytest.approx(0.0)
    assert od.saving_vs_on_demand_share == pytest.approx(0.0)
    for name in ("greedy", "up", "arbiter", "optimal"):
        s = sim.policies[name]
        # spot is never lost: one start and the compute, all at the spot price
        assert s.mean_cost_usd == pytest.approx((C + d) * SPOT), name
        assert s.misses == 0, name
        if name != "optimal":  # the optimum keeps no schedule
            assert s.spot_share == pytest.approx(1.0), name
            assert s.mean_switches == pytest.approx(0.0), name
        assert s.saving_vs_on_demand_share == pytest.approx(1 - SPOT / OD), name
        assert s.cost_vs_optimal == pytest.approx(1.0), name
    assert sim.policies["optimal"].spot_share is None
    assert od.cost_vs_optimal == pytest.approx(OD / SPOT)
    assert sim.traces[0].availability_share == 1.0
    assert sim.traces[0].hours == 48.0
    assert sim.traces[0].gap_s == 3600.0


def test_one_long_outage_greedy_waits_it_out_and_matches_the_optimum(store, outage):
    # 6 h of slack, progress kept on a stop (no checkpoint interval)
    sim = arbiter.simulate_spot(job(deadline_h=16.0, checkpoint_h=None), outage, windows=5)
    assert sim.window_count == 5
    assert set(sim.windows["od"].start_h) == {0.0}
    # on-demand ignores the outage
    assert sim.policies["od"].mean_cost_usd == pytest.approx((C + d) * OD)
    # at hour 3, waiting one more hour would still leave 16 - 4 = 12 h >= 10 h of work plus
    # the 0.5 h start: greedy takes spot there and keeps it to 3 + 0.5 + 10 = 13.5 h
    greedy = sim.policies["greedy"]
    assert greedy.mean_cost_usd == pytest.approx((C + d) * SPOT)
    assert greedy.mean_finish_h == pytest.approx(3 + d + C)
    assert greedy.misses == 0
    assert sim.policies["optimal"].mean_cost_usd == pytest.approx((C + d) * SPOT)
    for name in POLICIES:
        s = sim.policies[name]
        assert s.misses == 0, name
        # no policy beats the hindsight optimum, none costs more than on-demand with
        # one restart of its own
        assert s.mean_cost_usd >= sim.policies["optimal"].mean_cost_usd - 1e-9, name
        assert s.cost_vs_optimal >= 1.0 - 1e-9, name


def test_the_frame_has_one_row_per_window_and_policy(store, always):
    sim = arbiter.simulate_spot(job(), always, policies=["od", "up"], windows=7)
    frame = sim.windows.to_frame()
    assert len(frame) == 14
    assert set(frame["policy"]) == {"od", "up"}
    assert set(frame["trace"]) == {sim.traces[0].name}
    up = frame[frame["policy"] == "up"]["cost_usd"].to_numpy()
    assert np.mean(up) == pytest.approx(sim.policies["up"].mean_cost_usd)
    assert set(sim.policies) == {"od", "up"}


def test_the_statistics_are_those_of_the_windows(store, tmp_path):
    folder = tmp_path / "mixed"
    rng = np.random.default_rng(5)
    for zone in ("us-test-1a", "us-test-1b"):
        blocks = np.repeat(rng.random(20) < 0.4, 6).astype(int).tolist()
        write_trace(folder, f"{zone}_v100_1.json", blocks, gap_s=1800)
    sim = arbiter.simulate_spot(job(), folder, windows=200, seed=11)
    frame = sim.windows.to_frame()
    for name, s in sim.policies.items():
        cost = frame[frame["policy"] == name]["cost_usd"].to_numpy()
        assert s.mean_cost_usd == pytest.approx(cost.mean()), name
        assert s.p10_cost_usd == pytest.approx(np.percentile(cost, 10)), name
        assert s.p90_cost_usd == pytest.approx(np.percentile(cost, 90)), name
        od = frame[frame["policy"] == "od"]["cost_usd"].to_numpy()
        assert s.saving_vs_on_demand_share == pytest.approx(1 - cost.mean() / od.mean())
    rows = [r for r in sim.per_trace if r.policy == "up"]
    assert sum(r.windows for r in rows) == 200
    # the same seed gives the same result; another seed other windows
    again = arbiter.simulate_spot(job(), folder, windows=200, seed=11)
    assert again.to_dict() == sim.to_dict()


def test_the_document_round_trips(store, always):
    sim = arbiter.simulate_spot(job(), always, windows=5, slack=(1.1, 1.4))
    doc = sim.to_dict()
    assert SpotSimulation.model_validate(doc).to_dict() == doc
    assert {p["deadline_over_compute"] for p in doc["slack"]} == {1.1, 1.4}
    assert doc["provenance"]["seed"] == 0
    assert doc["provenance"]["file"] == "<mapping>"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"compute_h": -1.0}, "compute_h"),
        ({"deadline_h": 5.0}, "deadline_h"),
        ({"restart_h": -0.5}, "restart_h"),
    ],
)
def test_a_bad_job_names_its_field(store, always, overrides, field):
    with pytest.raises(InputError) as err:
        arbiter.simulate_spot(job(**overrides), always, windows=5)
    assert field in str(err.value)


def test_an_unknown_policy_and_a_missing_folder_are_input_errors(store, always, tmp_path):
    with pytest.raises(InputError, match="policy"):
        arbiter.simulate_spot(job(), always, policies=["cheapest"])
    with pytest.raises(InputError, match="traces"):
        arbiter.simulate_spot(job(), tmp_path / "nowhere")


def test_an_outage_that_ends_as_the_slack_runs_out(store, tmp_path):
    """Spot back at hour 3 of a 14-hour deadline: greedy looks one hour ahead (at hour 4
    only 10 h would be left for 10 h of work and a 0.5 h start), so it gives up on spot
    and runs on-demand; the optimum, knowing spot stays, takes it and finishes at 13.5 h."""
    folder = tmp_path / "late"
    write_trace(folder, "us-test-1a_v100_1.json", [1, 1, 1] + [0] * 11)
    sim = arbiter.simulate_spot(job(checkpoint_h=None), folder, windows=3)
    greedy, best = sim.policies["greedy"], sim.policies["optimal"]
    assert greedy.mean_cost_usd == pytest.approx((C + d) * OD)
    assert greedy.mean_finish_h == pytest.approx(3 + d + C)
    assert greedy.spot_share == pytest.approx(0.0)
    assert best.mean_cost_usd == pytest.approx((C + d) * SPOT)
    assert best.mean_finish_h == pytest.approx(3 + d + C)
    assert greedy.cost_vs_optimal == pytest.approx(OD / SPOT)
    assert all(s.misses == 0 for s in sim.policies.values())
