"""Estimates of workloads that differ only in name, computed once.

A large fleet repeats itself: many workloads run the same model with the same job,
precision and placement rules under different names. The performance model's answer
depends on everything but the name, so :func:`estimates_of` keys a cache on the workload
with its name blanked and hands each caller copies carrying its own workload's name (an
:class:`Estimate` may be amended in place later, so copies are never shared). The cache is
per (accelerators, efficiency object, calibration factors) and holds at most
``MAX_ENTRIES`` specs."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.workload import Workload
from arbiter.perf.calibration import CalibrationProfile
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.perf.topology import Host

MAX_ENTRIES = 4096

_cache: OrderedDict[tuple[object, ...], tuple[Estimate, ...]] = OrderedDict()
_alive: dict[int, Efficiency] = {}  # keeps each keyed efficiency alive, so its id is its own


def estimates_of(
    workload: Workload,
    accelerators: Sequence[Accelerator],
    eff: Efficiency,
    hosts: Sequence[Host | None] | None = None,
    calibration: CalibrationProfile | None = None,
) -> tuple[Estimate, ...]:
    """:func:`estimate_workload` of ``workload`` (unpriced, on ``hosts`` where given,
    corrected by ``calibration`` if any), once per distinct spec."""
    try:
        key: tuple[object, ...] = (
            dataclasses.replace(workload, name=""),
            tuple(accelerators),
            None if hosts is None else tuple(hosts),
            id(eff),
            None if calibration is None else (calibration.name, calibration.key()),
        )
        hash(key)
    except TypeError:  # a spec that cannot be a key is estimated afresh
        return estimate_workload(workload, accelerators, eff, hosts=hosts, calibration=calibration)
    _alive.setdefault(id(eff), eff)
    found = _cache.get(key)
    if found is None:
        found = estimate_workload(
            dataclasses.replace(workload, name=""),
            accelerators,
            eff,
            hosts=hosts,
            calibration=calibration,
        )
        _cache[key] = found
        if len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return tuple(dataclasses.replace(e, workload=workload.name) for e in found)


def clear() -> None:
    _cache.clear()
    _alive.clear()
