"""A deadline job on spot in a plan: priced at its expected cost when it waits for spot and
falls back to on-demand in time (``spotsim/outlook.py``), with spot measured on traces the
fleet names (``spot.traces``) or taken from the spot rate; bad trace entries are bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import arbiter
from arbiter.cli.app import main
from arbiter.domain.errors import InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spotsim"))
from markov import markov_trace

FLEET = """
workloads:
  - name: nightly
    kind: batch
    model: llama-3.1-8b
    input_tokens: 40B
    output_tokens: 8B
    request_input_tokens: 2000
    request_output_tokens: 400
    deadline_hours: {deadline}
    interruptible: true
    providers: [aws]
    regions: ["us-*"]
{spot}
"""


def fleet(deadline: float = 200, spot: str = "") -> str:
    return FLEET.format(deadline=deadline, spot=spot)


def write_trace(folder: Path, stem: str, lam: float, outage_h: float, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t = markov_trace(lam, outage_h, 3000, 0.25, seed)
    rows = "\n".join(f"{i * 15},{int(a)}" for i, a in enumerate(t.available))
    (folder / f"{stem}.csv").write_text(f"minutes,available\n{rows}\n", encoding="utf-8")


def spot_assignment(plan):
    found = [a for a in plan.assignments if a.price_regime == "spot"]
    assert len(found) == 1, [(a.price_regime, a.instance_type) for a in plan.assignments]
    return found[0]


def price_of(offer_id: str) -> float:
    return next(
        o for o in arbiter.load_catalog().offers if o.offer_id == offer_id
    ).usd_per_accelerator_hour


def test_with_spot_rates_alone_the_job_runs_on_spot_and_the_record_says_why():
    plan = arbiter.plan(fleet())
    a = spot_assignment(plan)
    s = a.spot
    assert s is not None and s.policy == "greedy" and s.basis != "trace"
    assert s.mean_outage_hours == 2.0 and 0.98 < s.available_share < 1.0
    assert s.on_demand_usd_per_hour is not None  # the same machine on demand, same place
    # the published rates make spot all but always there: the work is all on spot
    assert s.spot_share == pytest.approx(1.0, abs=1e-9) and s.on_demand_hours == 0.0
    assert s.miss_probability == 0.0
    assert a.usd == pytest.approx(a.accelerator_count * a.hours * price_of(a.offer_id), rel=1e-9)


def traces_entry(region: str, instance_types: list[str]) -> str:
    rows = "".join(
        f"    - {{path: traces, provider: aws, region: {region}, instance_type: {t}}}\n"
        for t in instance_types
    )
    return "spot:\n  traces:\n" + rows


def test_traces_of_scarce_spot_at_the_chosen_offer_never_make_the_plan_cheaper(tmp_path):
    before = arbiter.plan(fleet())
    first = spot_assignment(before)
    write_trace(tmp_path / "traces", f"{first.region}a_x_1", lam=0.5, outage_h=3.0)
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet(spot=traces_entry(first.region, [first.instance_type])), "utf-8")
    after = arbiter.plan(path)
    # one workload: the plan is its cheapest option, and the traces only raise one price
    assert after.total_usd > before.total_usd
    assert first.offer_id not in {a.offer_id for a in after.assignments}  # it moved


def test_a_job_kept_where_traces_say_spot_is_scarce_does_part_of_its_work_on_demand(tmp_path):
    first = spot_assignment(arbiter.plan(fleet()))
    region = first.region
    spot_types = sorted(
        {
            o.instance_type
            for o in arbiter.load_catalog().offers
            if o.provider == "aws" and o.region == region and o.price_regime.value == "spot"
        }
    )
    write_trace(tmp_path / "traces", f"{region}a_x_1", lam=0.5, outage_h=3.0)
    path = tmp_path / "fleet.yaml"
    text = fleet(spot=traces_entry(region, spot_types)).replace('"us-*"', f'"{region}"')
    path.write_text(text, "utf-8")
    a = spot_assignment(arbiter.plan(path))
    s = a.spot
    assert s is not None and s.basis == "trace" and "1 trace(s)" in s.source
    assert 0.3 < s.available_share < 0.5
    assert 0.0 < s.spot_share < 1.0 and s.on_demand_hours > 0.0 and s.miss_probability == 0.0
    # the cost is the spot hours at the spot price and the fallback's at its price
    spot_usd = a.accelerator_count * a.hours * s.spot_share * price_of(a.offer_id)
    assert a.usd == pytest.approx(spot_usd + s.on_demand_hours * s.on_demand_usd_per_hour, rel=1e-6)
    assert a.usd > a.accelerator_count * a.hours * price_of(a.offer_id)  # dearer than spot alone


def test_a_longer_assumed_outage_is_what_the_record_shows():
    plan = arbiter.plan(fleet(spot="spot: {outage_hours: 6}"))
    s = spot_assignment(plan).spot
    assert s is not None and s.mean_outage_hours == 6.0 and "6 h assumed" in s.source


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (
            "{path: nowhere, provider: aws, region: us-east-1, accelerator: H100-SXM}",
            None,
            "folder not found",
        ),
        (
            (
                "{path: traces, select: 'zz*', provider: aws, region: us-east-1, "
                "accelerator: H100-SXM}"
            ),
            "spot.traces[0].select",
            "no trace file",
        ),
        (
            "{path: traces, provider: aws, region: us-east-1, instance_type: p9.96xlarge}",
            "spot.traces[0]",
            "no spot offer of p9.96xlarge",
        ),
        (
            "{path: traces, provider: aws, region: us-east-1}",
            "spot.traces[0]",
            "accelerator or instance_type",
        ),
        (
            "{path: traces, provider: aws, region: us-east-1, accelerator: V100}",
            "spot.traces[0].accelerator",
            "unknown accelerator",
        ),
    ],
)
def test_a_bad_trace_entry_names_its_field_and_exits_2(tmp_path, capsys, entry, field, words):
    write_trace(tmp_path / "traces", "us-east-1a_x_1", lam=0.5, outage_h=3.0)
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet(spot=f"spot:\n  traces:\n    - {entry}\n"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        arbiter.plan(path)
    assert words in str(info.value)
    if field is not None:
        assert field in str(info.value)
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_two_entries_for_one_offer_are_bad_input(tmp_path):
    write_trace(tmp_path / "traces", "us-east-1a_x_1", lam=0.5, outage_h=3.0)
    one = "{path: traces, provider: aws, region: us-east-1, accelerator: H100-SXM}"
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet(spot=f"spot:\n  traces:\n    - {one}\n    - {one}\n"), encoding="utf-8")
    with pytest.raises(InputError, match=r"also measured by spot.traces\[0\]"):
        arbiter.plan(path)
