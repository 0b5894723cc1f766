"""Obtainable capacity in the fleet plan: limits from the capacity assumptions, only where
they can bind, and the assumptions a plan relies on.

Each offer has a :class:`~arbiter.domain.capacity.CapacityAssumption`
(``arbiter.catalog.capacity.obtainable``). Two things follow from it:

- **Per purchase** (``options.build_options``): an option is one offer, so one region and
  one purchase; it is built only if its chips, in whole units of allocation, are at most
  the assumption's ``job_chips``, and if it meets its deadline after the lead time of the
  quota request or contract it needs. A job's chips are therefore never summed across
  regions or purchases (rule R10).
- **All workloads together** (this module): the chips of one provider, region,
  accelerator and price regime (and instance size) are at most the assumption's
  ``chips``. The limit becomes a :class:`~arbiter.domain.fleet.CapacityLimit`, a
  ``capacity`` row of the fleet MILP, only where it can bind: where the workloads' most
  instances on the group's options, summed, exceed it. Options are built again with the
  new limits (offers under a limit are not thinned, so a dearer alternative stays), until
  no further group can bind; a group left without a row cannot be exceeded by any plan on
  the options built (each workload's use of it is at most its largest option there).
  Offers the fleet's own ``capacity:`` rows cover already have rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from arbiter.domain.capacity import CapacityAssumption
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import CapacityLimit, Fleet
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.workload import ServeJob
from arbiter.optimize.fleet_model import Placed
from arbiter.optimize.options import Option, build_options
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.estimate import Estimate

MAX_ROUNDS = 2  # builds of the options: the second with the limits the first found
# Above this many workloads (after folding) the options are built once and the limits that
# can bind added over them: fast, but an offer thinned away as dearer than one whose limit
# binds is not brought back (as share caps are thinned across places above
# ``options.EXACT_CAPS_WORKLOADS``). Limits are added either way, so no plan exceeds them.
EXACT_CAPACITY_WORKLOADS = 200

Group = tuple[str, str, str, str, int, CapacityAssumption]


def most_instances(option: Option, fleet: Fleet) -> float:
    """The most instances a plan buys through ``option`` (for all copies of its workload):
    a train/batch option's own; a service's whole rate on this option alone, plus the one
    replica the no-surplus rows allow beyond it, in whole instances."""
    copies = fleet.copies[option.workload] if fleet.copies else 1
    if not option.serve:
        return float(option.instances * copies)
    job = fleet.workloads[option.workload].job
    assert isinstance(job, ServeJob)
    if option.class_requests_per_s and job.classes:
        seconds = sum(
            c.share * job.requests_per_s / r
            for c, r in zip(job.classes, option.class_requests_per_s, strict=True)
            if r > 0
        )
        replicas = math.ceil(seconds) + 1
    elif option.tokens_per_s > 0:
        replicas = math.ceil(job.requests_per_s * job.output_tokens / option.tokens_per_s) + 1
    else:
        return math.inf
    per = option.offer.accelerators_per_instance
    return float(math.ceil(replicas * option.chips / per))


def capacity_groups(
    offers: Sequence[Offer], assumptions: Mapping[str, CapacityAssumption]
) -> dict[str, Group]:
    """The group of each offer (by offer id) not under the fleet's own rows: its provider,
    region, accelerator, price regime and instance size, and the assumption itself (two
    products in one place, such as flex-start and calendar mode, are capped apart)."""
    out: dict[str, Group] = {}
    for off in offers:
        found = assumptions.get(off.offer_id)
        if found is not None and found.basis != "fleet":
            out[off.offer_id] = (
                off.provider,
                off.region,
                off.accelerator,
                off.price_regime.value,
                off.accelerators_per_instance,
                found,
            )
    return out


def binding_limits(
    fleet: Fleet, options: Sequence[Option], groups: Mapping[str, Group]
) -> tuple[CapacityLimit, ...]:
    """Limits for the groups whose obtainable chips the options could exceed."""
    most: dict[Group, dict[int, float]] = {}
    for o in options:
        g = groups.get(o.offer.offer_id)
        if g is None:
            continue
        per_workload = most.setdefault(g, {})
        per_workload[o.workload] = max(per_workload.get(o.workload, 0.0), most_instances(o, fleet))
    members: dict[Group, set[str]] = {}
    for oid, g in groups.items():
        if g in most:
            members.setdefault(g, set()).add(oid)
    out = []
    for g, uses in most.items():
        provider, region, accelerator, regime, per, found = g
        if sum(uses.values()) > found.chips // per:
            rule = found.basis.split(" (")[0]
            out.append(
                CapacityLimit(
                    provider=provider,
                    accelerator=accelerator,
                    max_instances=found.chips // per,
                    region=region,
                    price_regime=PriceRegime(regime),
                    offer_ids=frozenset(members[g]),
                    tag=f"{per}-chip instances, {rule}",
                )
            )
    return tuple(sorted(out, key=lambda c: c.label))


@dataclass(frozen=True, slots=True)
class CapacityOptions:
    """The fleet with the limits that can bind added, and its options and estimates."""

    fleet: Fleet
    options: list[Option]
    estimates: list[list[Estimate]]
    added: tuple[CapacityLimit, ...]
    rounds: int


def build_capacity_options(
    fleet: Fleet,
    catalog: Catalog,
    eff: Efficiency,
    assumptions: Mapping[str, CapacityAssumption],
    calibration: CalibrationProfile | None = None,
) -> CapacityOptions:
    """Options under obtainable capacity (see the module docstring): built, limits that
    can bind added, built again until none is added."""
    groups = capacity_groups(catalog.offers, assumptions)
    added: tuple[CapacityLimit, ...] = ()
    current = fleet
    rounds = 0
    while True:
        rounds += 1
        options, estimates = build_options(
            current, catalog, eff, obtainable=assumptions, calibration=calibration
        )
        new = [limit for limit in binding_limits(current, options, groups) if limit not in added]
        most_rounds = MAX_ROUNDS if len(fleet.workloads) <= EXACT_CAPACITY_WORKLOADS else 1
        if not new or rounds >= most_rounds:
            break
        added = added + tuple(new)
        current = replace(fleet, capacity=fleet.capacity + added)
    if new:  # rounds ran out: the limits still apply, without the rebuild
        added = added + tuple(new)
        current = replace(fleet, capacity=fleet.capacity + added)
    return CapacityOptions(current, options, estimates, added, rounds)


def assumptions_used(
    placed: Sequence[Placed], assumptions: Mapping[str, CapacityAssumption]
) -> list[dict[str, Any]]:
    """The capacity assumptions a plan relies on, one per offer it buys, as JSON records."""
    chips: dict[str, int] = {}
    offers: dict[str, Offer] = {}
    for p in placed:
        off = p.option.offer
        offers[off.offer_id] = off
        chips[off.offer_id] = (
            chips.get(off.offer_id, 0) + p.instances * off.accelerators_per_instance
        )
    out = []
    for oid in sorted(offers, key=lambda k: (offers[k].provider, offers[k].region, k)):
        off = offers[oid]
        a = assumptions.get(oid)
        out.append(
            {
                "offer_id": oid,
                "provider": off.provider,
                "region": off.region,
                "accelerator": off.accelerator,
                "instance_type": off.instance_type,
                "price_regime": off.price_regime.value,
                "chips_used": chips[oid],
                "obtainable_chips": None if a is None else a.chips,
                "job_chips": None if a is None else a.job_chips,
                "unit_chips": off.accelerators_per_instance if a is None else a.unit_chips,
                "basis": "none" if a is None else a.basis,
                "needs": "none" if a is None else a.needs.value,
                "lead_days": 0.0 if a is None else a.lead_days,
                "source": "" if a is None else a.source,
                "as_of": "" if a is None else a.as_of,
            }
        )
    return out


def largest_purchase(
    offers: Sequence[Offer], assumptions: Mapping[str, CapacityAssumption]
) -> tuple[int, Offer | None]:
    """The most chips one purchase of any of ``offers`` supplies, and that offer."""
    best: tuple[int, Offer | None] = (0, None)
    for off in offers:
        a = assumptions.get(off.offer_id)
        if a is not None and a.job_chips > best[0]:
            best = (a.job_chips, off)
    return best
