"""``arbiter spot simulate`` end to end on synthetic traces and the example job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import arbiter

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spot-job.yaml"
POLICIES = {"od", "greedy", "up", "arbiter", "optimal"}
FIELDS = {
    "mean_cost_usd",
    "p10_cost_usd",
    "p90_cost_usd",
    "misses",
    "windows",
    "spot_share",
    "mean_switches",
    "saving_vs_on_demand_share",
    "cost_vs_optimal",
}
C, D, d, OD, SPOT = 10.0, 14.0, 0.5, 3.0, 1.0


def write_job(folder: Path, **overrides: object) -> Path:
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
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def write_traces(folder: Path, **zones: list[int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for zone, data in zones.items():
        doc = {"metadata": {"gap_seconds": 3600}, "data": data}
        (folder / f"{zone.replace('_', '-')}_v100_1.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture
def setting(tmp_path) -> tuple[Path, Path]:
    traces = write_traces(
        tmp_path / "traces",
        us_test_1a=[0] * 30,
        us_test_1b=([1] * 5 + [0] * 3) * 4,
    )
    return write_job(tmp_path), traces


def test_all_policies_print_the_five_keys_each_with_the_required_fields(cli, setting):
    job, traces = setting
    code, out, err = cli(
        "spot", "simulate", str(job), "--traces", str(traces), "--policy", "all",
        "--windows", "40", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc["policies"]) == POLICIES
    for name, stats in doc["policies"].items():
        assert set(stats) >= FIELDS, name
        assert stats["windows"] == 40
        assert stats["p10_cost_usd"] <= stats["mean_cost_usd"] + 1e-9 or stats["misses"]
        assert stats["p10_cost_usd"] <= stats["p90_cost_usd"] + 1e-9
    od = doc["policies"]["od"]
    assert od["mean_cost_usd"] == pytest.approx((C + d) * OD)
    assert doc["policies"]["optimal"]["cost_vs_optimal"] == pytest.approx(1.0)


def test_the_json_is_the_api_result(cli, setting, tmp_path, monkeypatch):
    job, traces = setting
    code, out, err = cli(
        "spot", "simulate", str(job), "--traces", str(traces), "--windows", "25",
        "--seed", "4", "--json",
    )  # fmt: skip
    assert code == 0, err
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    api = arbiter.simulate_spot(job, traces, windows=25, seed=4)
    assert json.loads(out) == json.loads(api.to_json())


def test_one_policy_and_the_table(cli, setting):
    job, traces = setting
    code, out, err = cli(
        "spot", "simulate", str(job), "--traces", str(traces), "--policy", "up", "--json",
        "--windows", "10",
    )  # fmt: skip
    assert code == 0, err
    assert set(json.loads(out)["policies"]) == {"up"}
    code, out, err = cli("spot", "simulate", str(job), "--traces", str(traces), "--windows", "10")
    assert code == 0, err
    for word in ("greedy", "arbiter", "optimal", "saving vs on-demand", f"${(C + d) * OD:,.2f}"):
        assert word in out


def test_the_html_report(cli, setting, tmp_path):
    job, traces = setting
    page = tmp_path / "spot.html"
    code, _, err = cli(
        "spot", "simulate", str(job), "--traces", str(traces), "--windows", "10",
        "--html", str(page), "--slack", "1.2,1.4",
    )  # fmt: skip
    assert code == 0, err
    text = page.read_text()
    assert "Cost against deadline slack" in text
    assert "us-test-1b" in text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"compute_h": -4}, "compute_h"),
        ({"restart_h": -0.1}, "restart_h"),
        ({"deadline_h": 9}, "deadline_h"),
    ],
)
def test_a_bad_job_file_exits_2_naming_file_and_field(cli, tmp_path, setting, overrides, field):
    _, traces = setting
    job = write_job(tmp_path, **overrides)
    code, out, err = cli("spot", "simulate", str(job), "--traces", str(traces))
    assert code == 2
    assert "job.yaml" in err
    assert field in err
    assert "Traceback" not in err + out


def test_an_unknown_policy_exits_2(cli, setting):
    job, traces = setting
    code, _, err = cli("spot", "simulate", str(job), "--traces", str(traces), "--policy", "cheap")
    assert code == 2
    assert "--policy" in err or "policy" in err


def test_a_missing_traces_folder_exits_2(cli, setting, tmp_path):
    job, _ = setting
    code, _, err = cli("spot", "simulate", str(job), "--traces", str(tmp_path / "nowhere"))
    assert code == 2
    assert "nowhere" in err
    assert "traces" in err


def test_a_broken_trace_file_exits_2_naming_it(cli, setting):
    job, traces = setting
    (traces / "us-test-1c_v100_1.json").write_text('{"metadata": {}, "data": [0, 1')
    code, out, err = cli("spot", "simulate", str(job), "--traces", str(traces))
    assert code == 2
    assert "us-test-1c_v100_1.json" in err
    assert "Traceback" not in err + out


@pytest.mark.skipif(not EXAMPLE.exists(), reason="the example job is not there")
def test_the_example_job_states_the_published_setting():
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert (doc["compute_h"], doc["deadline_h"], doc["restart_h"]) == (48, 52, 0.2)
    assert (doc["on_demand_usd_per_hour"], doc["spot_usd_per_hour"]) == (3.06, 0.97)


def test_ones_says_what_a_1_means_in_the_public_files(cli, tmp_path):
    job = write_job(tmp_path)
    traces = write_traces(tmp_path / "zeros", us_test_1a=[0] * 30)
    shares = {}
    for ones in ("available", "unavailable"):
        code, out, err = cli(
            "spot", "simulate", str(job), "--traces", str(traces), "--policy", "greedy",
            "--windows", "5", "--ones", ones, "--json",
        )  # fmt: skip
        assert code == 0, err
        doc = json.loads(out)
        assert doc["ones"] == ones
        shares[ones] = doc["policies"]["greedy"]["spot_share"]
    # all zeros: spot never there, or always there
    assert shares == {"available": 0.0, "unavailable": 1.0}
    code, _, err = cli("spot", "simulate", str(job), "--traces", str(traces), "--ones", "maybe")
    assert code == 2 and "Traceback" not in err
