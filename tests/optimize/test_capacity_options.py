"""Options under obtainable capacity: whole units, one purchase per job, lead times, and
limits added only where they can bind."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import yaml

from arbiter.catalog.capacity import obtainable
from arbiter.catalog.embedded import default_catalog
from arbiter.domain.capacity import CapacityAssumption, Needs, StatedCapacity
from arbiter.optimize.capacity import binding_limits, build_capacity_options, capacity_groups
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import _OfferArrays, build_options
from arbiter.optimize.pruning import prune
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads.fleet import parse_fleet

TUNE = """
workloads:
  - {name: tune, kind: finetune, model: llama-3.1-70b, tokens: 2B, deadline_days: DAYS,
     providers: [aws]}
"""


def _assumption(unit: int, *, pow2: bool = False, job: int = 10**6) -> CapacityAssumption:
    return CapacityAssumption(
        chips=10**6,
        job_chips=job,
        unit_chips=unit,
        needs=Needs.NONE,
        lead_days=0,
        basis="test",
        power_of_two=pow2,
    )


def test_whole_units_of_allocation():
    """12 GPUs on 8-GPU nodes buy 16; on a power-of-two block 40 buy 64; 12 GPUs of
    4-GPU hosts sold in 72-GPU racks buy a rack (18 hosts)."""
    cat = default_catalog()
    p5 = next(o for o in cat.offers if o.instance_type == "p5.48xlarge")
    gb = next(
        o for o in cat.offers if o.accelerators_per_instance == 4 and o.accelerator == "GB200"
    )
    fleet = parse_fleet(yaml.safe_load(TUNE.replace("DAYS", "5")), file="t.yaml")
    plain = _OfferArrays([p5], fleet, {p5.offer_id: _assumption(8)})
    assert plain.instances_for(np.array([12.0]))[0, 0] * 8 == 16
    block = _OfferArrays([p5], fleet, {p5.offer_id: _assumption(8, pow2=True)})
    assert block.instances_for(np.array([40.0]))[0, 0] == 8
    rack = _OfferArrays([gb], fleet, {gb.offer_id: _assumption(72)})
    assert rack.instances_for(np.array([12.0]))[0, 0] == 18


def test_no_option_takes_more_chips_than_one_purchase_supplies():
    """An option is one offer (one region); its chips are within that offer's job cap."""
    cat, eff = default_catalog(), default_efficiency()
    text = TUNE.replace("DAYS", "30").replace("providers: [aws]", "providers: [aws, gcp]")
    fleet = parse_fleet(yaml.safe_load(text), file="t.yaml")
    found = obtainable(cat.offers)
    free, _ = build_options(fleet, cat, eff)
    capped, _ = build_options(fleet, cat, eff, obtainable=found)
    assert any(
        o.instances * o.offer.accelerators_per_instance > found[o.offer.offer_id].job_chips
        for o in free
    )
    assert capped
    for o in capped:
        assert o.instances * o.offer.accelerators_per_instance <= found[o.offer.offer_id].job_chips


@pytest.mark.parametrize(("lead_days", "usable"), [(1, True), (10, False)])
def test_a_deadline_shorter_than_the_lead_time_rules_the_option_out(lead_days, usable):
    cat, eff = default_catalog(), default_efficiency()
    fleet = parse_fleet(yaml.safe_load(TUNE.replace("DAYS", "5")), file="t.yaml")
    stated = (
        StatedCapacity(
            provider="aws", accelerator="H100-SXM", chips=512, needs=Needs.QUOTA,
            lead_days=lead_days, price_regime=None,
        ),
    )  # fmt: skip
    found = obtainable(cat.offers, stated=stated, stated_path="cap.yaml")
    options, _ = build_options(fleet, cat, eff, obtainable=found)
    on_h100 = [o for o in options if o.offer.accelerator == "H100-SXM"]
    assert bool(on_h100) is usable
    assert all(o.hours + lead_days * 24 <= 5 * 24 for o in on_h100)


def test_limits_are_added_only_where_the_workloads_could_exceed_them():
    cat, eff = default_catalog(), default_efficiency()
    two = """
workloads:
  - {name: a, kind: finetune, model: llama-3.1-8b, tokens: 1B, deadline_days: 20,
     providers: [lambda]}
  - {name: b, kind: finetune, model: llama-3.1-8b, tokens: 1B, deadline_days: 20,
     providers: [lambda]}
"""
    fleet = parse_fleet(yaml.safe_load(two), file="t.yaml")
    roomy = obtainable(cat.offers)  # lambda on demand: 16 chips a region (R4)
    options, _ = build_options(fleet, cat, eff, obtainable=roomy)
    groups = capacity_groups(cat.offers, roomy)
    per_workload: dict[tuple[object, int], int] = {}
    for o in options:
        key = (groups[o.offer.offer_id], o.workload)
        per_workload[key] = max(per_workload.get(key, 0), o.instances)
    limits = binding_limits(fleet, options, groups)
    for limit in limits:  # each one could really bind
        g = next(groups[oid] for oid in sorted(limit.offer_ids or ()))
        assert sum(v for (gg, _), v in per_workload.items() if gg == g) > limit.max_instances
    tight = {k: replace(v, chips=v.unit_chips) for k, v in roomy.items()}
    built = build_capacity_options(fleet, cat, eff, tight)
    assert len(built.added) > len(limits)
    solution = solve_fleet(built.fleet, prune(built.options, built.fleet))
    used: dict[object, int] = {}
    for p in solution.placed:
        g = groups[p.option.offer.offer_id]
        used[g] = used.get(g, 0) + p.instances * p.option.offer.accelerators_per_instance
    assert len(solution.placed) == 2
    assert all(
        chips <= tight[oid].chips
        for oid, g in groups.items()
        for gg, chips in used.items()
        if g == gg
    )


def test_runpod_never_sells_more_than_one_mi300x_pod():
    """The plan that bought 1,024 MI300X at RunPod on a committed price: RunPod sells
    MI300X as single 8-GPU pods (rule R4), on any price regime. (A batch job, whose
    replicas do not talk, so the pods' lack of a scale-out fabric is not what limits it.)"""
    cat, eff = default_catalog(), default_efficiency()
    text = """
workloads:
  - {name: big, kind: batch, model: llama-3.1-70b, input_tokens: 200B, output_tokens: 20B,
     request_input_tokens: 3000, request_output_tokens: 300, deadline_hours: 72,
     providers: [runpod]}
"""
    fleet = parse_fleet(yaml.safe_load(text), file="t.yaml")
    free, _ = build_options(fleet, cat, eff)
    capped, _ = build_options(fleet, cat, eff, obtainable=obtainable(cat.offers))

    def mi300x(options):
        return [o.instances * o.offer.accelerators_per_instance
                for o in options if o.offer.accelerator == "MI300X"]  # fmt: skip

    assert max(mi300x(free)) > 8
    assert all(chips <= 8 for chips in mi300x(capped))
