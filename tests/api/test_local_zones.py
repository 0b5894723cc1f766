"""AWS Local Zones are regions of their own: a fleet may plan there, and
``constraints.local_zones: false`` leaves them all out."""

from __future__ import annotations

import pytest

import arbiter
from arbiter.domain.errors import InfeasibleError, InputError
from arbiter.domain.regions import is_local_zone

FLEET = """
workloads:
  - name: nightly
    kind: batch
    model: llama-3.1-8b
    input_tokens: 4B
    output_tokens: 1B
    request_input_tokens: 2000
    request_output_tokens: 400
    deadline_hours: 200
    interruptible: true
    providers: [aws]
constraints:
  regions: [{regions}]
{local_zones}
"""


def fleet(regions: str, local_zones: str = "") -> str:
    line = f"  local_zones: {local_zones}" if local_zones else ""
    return FLEET.format(regions=regions, local_zones=line)


def test_a_fleet_confined_to_a_local_zone_plans_there():
    plan = arbiter.plan(fleet('"us-east-1-atl-2"'))
    assert plan.assignments
    assert {a.region for a in plan.assignments} == {"us-east-1-atl-2"}


def test_local_zones_false_leaves_them_out():
    with pytest.raises(InfeasibleError):
        arbiter.plan(fleet('"us-east-1-atl-2"', "false"))
    plan = arbiter.plan(fleet('"us-east-1*"', "false"))
    assert plan.assignments
    assert not [a for a in plan.assignments if is_local_zone("aws", a.region)]


def test_local_zones_must_be_a_boolean():
    with pytest.raises(InputError, match="local_zones"):
        arbiter.plan(fleet('"us-*"', '"no"'))
