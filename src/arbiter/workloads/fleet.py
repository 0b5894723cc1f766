"""Read a fleet file into a domain :class:`~arbiter.domain.fleet.Fleet`.

A fleet file is a workload file (read by :func:`~arbiter.workloads.loading.parse_workloads`)
whose top level may also hold ``constraints``, ``platforms``, ``capacity`` and
``objective``; a plain workload file is a fleet with every default (no caps, no budget,
every platform enabled, no capacity limits, minimise cost). See :mod:`arbiter.domain.fleet`
for the rules, and :mod:`arbiter.workloads.fleet_spec` for the format. Problems are
reported as by the workload loader: an :class:`InputError` naming the file and the field
path, such as ``constraints.max_share.vendor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.domain.accelerator import Platform
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.fleet import CapacityLimit, Fleet, Objective, PlatformState, ShareCaps
from arbiter.domain.spot import SpotSettings, SpotTraceSource
from arbiter.workloads.convert import _named
from arbiter.workloads.fleet_spec import (
    FLEET_KEYS,
    CapacitySpec,
    FleetKeysSpec,
    PlatformSpec,
    SpotSpec,
)
from arbiter.workloads.loading import parse_workloads, read_data
from arbiter.workloads.problems import join_path, validation_problems, with_more

PLATFORMS: tuple[str, ...] = tuple(p.value for p in Platform)


def load_fleet(path: Path) -> Fleet:
    """The fleet in the YAML (or JSON) file at ``path``."""
    return parse_fleet(read_data(path), file=str(path))


def parse_fleet(data: object, *, file: str) -> Fleet:
    """A fleet from already-parsed YAML/JSON ``data``; ``file`` names it in errors."""
    workloads = parse_workloads(data, file=file)
    keys: dict[str, Any] = {}
    if isinstance(data, Mapping) and "workloads" in data:
        keys = {str(k): v for k, v in data.items() if k in FLEET_KEYS}
    try:
        spec = FleetKeysSpec.model_validate(keys)
    except ValidationError as exc:
        raise with_more(validation_problems(exc, FleetKeysSpec, "", file)) from None
    problems: list[InputError] = []
    platforms = _platforms(spec.platforms, file, problems)
    capacity = _capacity(spec.capacity, file, problems)
    spot = _spot(spec.spot, file, problems)
    if problems:
        raise with_more(problems)
    caps = spec.constraints.max_share
    regions = spec.constraints.regions
    return Fleet(
        workloads=workloads,
        caps=ShareCaps(vendor=caps.vendor, provider=caps.provider, region=caps.region),
        regions=tuple(dict.fromkeys(regions)) if regions is not None else None,
        local_zones=spec.constraints.local_zones,
        budget_usd=spec.constraints.budget_usd,
        platforms=platforms,
        capacity=capacity,
        objective=Objective(
            cost_weight=spec.objective.cost,
            time_usd_per_hour=spec.objective.time_usd_per_hour,
        ),
        after_term=spec.pricing.after_term,
        spot=spot,
    )


def _platforms(
    raw: dict[str, Any] | None, file: str, problems: list[InputError]
) -> tuple[PlatformState, ...]:
    """The usable platforms: all of them, enabled, when the file has no ``platforms`` key."""
    if raw is None:
        return tuple(PlatformState(platform=p, enabled=True) for p in Platform)
    seen: dict[Platform, str] = {}
    out: list[PlatformState] = []
    for name, value in raw.items():
        where = join_path("platforms", name)
        key = name.strip().lower()
        if key not in PLATFORMS:
            problems.append(UnknownNameError("platform", name, PLATFORMS, file=file, field=where))
            continue
        platform = Platform(key)
        if platform in seen:
            problems.append(
                InputError(
                    f"platform {key!r} is listed twice (also at {seen[platform]})",
                    file=file,
                    field=where,
                )
            )
            continue
        seen[platform] = where
        try:
            entry = PlatformSpec.model_validate(value)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, PlatformSpec, where, file))
            continue
        out.append(
            PlatformState(
                platform=platform,
                enabled=entry.enabled,
                enable_usd=entry.enable_usd or 0.0,
                lead_weeks=entry.lead_weeks,
            )
        )
    return tuple(out)


def _capacity(
    specs: list[CapacitySpec], file: str, problems: list[InputError]
) -> tuple[CapacityLimit, ...]:
    known = sorted(known_accelerators())
    seen: dict[tuple[object, ...], str] = {}
    out: list[CapacityLimit] = []
    for i, spec in enumerate(specs):
        where = join_path("capacity", i)
        try:
            provider = _named(
                resolve_provider, spec.provider, PROVIDERS, join_path(where, "provider"), file
            )
            accelerator = _named(
                resolve_accelerator, spec.accelerator, known, join_path(where, "accelerator"), file
            )
        except InputError as exc:
            problems.append(exc)
            continue
        limit = CapacityLimit(
            provider=provider,
            accelerator=accelerator,
            max_instances=spec.max_instances,
            region=spec.region,
            price_regime=spec.price_regime,
        )
        key = (provider, accelerator, spec.region, spec.price_regime)
        if key in seen:
            problems.append(
                InputError(
                    f"a second limit for {accelerator} at {provider} with the same region and "
                    f"price regime (also at {seen[key]})",
                    file=file,
                    field=where,
                    valid="one limit per provider, accelerator, region and price regime",
                )
            )
            continue
        seen[key] = where
        out.append(limit)
    return tuple(out)


def _spot(spec: SpotSpec, file: str, problems: list[InputError]) -> SpotSettings:
    """The ``spot:`` key, provider and accelerator names resolved (the traces are read by
    the API, which knows where the fleet file is)."""
    known = sorted(known_accelerators())
    out: list[SpotTraceSource] = []
    for i, entry in enumerate(spec.traces):
        where = join_path(join_path("spot", "traces"), i)
        try:
            provider = _named(
                resolve_provider, entry.provider, PROVIDERS, join_path(where, "provider"), file
            )
            accelerator = (
                None
                if entry.accelerator is None
                else _named(
                    resolve_accelerator,
                    entry.accelerator,
                    known,
                    join_path(where, "accelerator"),
                    file,
                )
            )
        except InputError as exc:
            problems.append(exc)
            continue
        out.append(
            SpotTraceSource(
                path=entry.path,
                provider=provider,
                region=entry.region,
                accelerator=accelerator,
                instance_type=entry.instance_type,
                select=entry.select,
                nodes=entry.nodes,
            )
        )
    return SpotSettings(outage_hours=spec.outage_hours, traces=tuple(out))
