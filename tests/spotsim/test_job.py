"""Reading spot job files."""

from __future__ import annotations

import pytest

from arbiter.domain.errors import InputError
from arbiter.spotsim.job import SpotOption, load_spot_job, parse_spot_job

PUBLISHED = {
    "name": "published",
    "compute_h": 48,
    "deadline_h": 52,
    "restart_h": 0.2,
    "on_demand_usd_per_hour": 3.06,
    "spot_usd_per_hour": 0.97,
}


def test_published_setting_with_defaults():
    j = parse_spot_job(PUBLISHED, file="job.yaml")
    assert (j.compute_h, j.deadline_h, j.restart_h, j.checkpoint_h, j.chips) == (
        48,
        52,
        0.2,
        None,
        1,
    )
    assert j.options == ()


def test_options_default_to_the_job_prices(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(
        "spot_job:\n  compute_h: 10\n  deadline_h: 12\n  on_demand_usd_per_hour: 3\n"
        "  spot_usd_per_hour: 1\n  options:\n    - traces: '*_k80_1'\n      speed: 0.25\n"
    )
    j = load_spot_job(path)
    assert j.name == "job"
    assert j.options == (SpotOption("*_k80_1", 1.0, 3.0, speed=0.25, move_h=0.0),)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"compute_h": 0}, "compute_h"),
        ({"deadline_h": "soon"}, "deadline_h"),
        ({"restart_h": -1}, "restart_h"),
        ({"chips": 0}, "chips"),
        ({"checkpoint_h": 0}, "checkpoint_h"),
        ({"deadline": 3}, "deadline"),
        ({"options": [{"traces": "*", "speed": 0}]}, "options[0].speed"),
        ({"options": [{"speed": 1}]}, "options[0].traces"),
    ],
)
def test_bad_fields_are_named(change, field):
    with pytest.raises(InputError) as err:
        parse_spot_job({**PUBLISHED, **change}, file="job.yaml")
    assert (err.value.file, err.value.field) == ("job.yaml", field)


def test_missing_price_is_named():
    data = {k: v for k, v in PUBLISHED.items() if k != "spot_usd_per_hour"}
    with pytest.raises(InputError) as err:
        parse_spot_job(data, file="job.yaml")
    assert err.value.field == "spot_usd_per_hour"
