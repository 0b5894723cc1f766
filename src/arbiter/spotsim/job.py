"""A deadline job to run on spot: its work, deadline, restart cost and prices.

A spot job file is YAML (or JSON), one mapping (optionally under a ``spot_job:`` key)::

    name: train-48h
    compute_h: 48              # C: hours of work on the reference chip
    deadline_h: 52             # D: hours from submission to the deadline
    restart_h: 0.2             # d: cold start plus checkpoint loss, paid on every (re)start
    checkpoint_h: null         # checkpoint interval in hours of work; null: progress kept
    chips: 1                   # chips the job holds while it runs (prices are per chip-hour)
    on_demand_usd_per_hour: 3.06
    spot_usd_per_hour: 0.97
    options:                   # other regions or chips the arbiter policy may move to
      - traces: "*_v100_1"     # glob over trace names, matched in the window's own folder
        spot_usd_per_hour: 0.97        # default: the job's
        on_demand_usd_per_hour: 3.06   # default: the job's
        speed: 1.0             # work per hour relative to the reference chip (default 1)
        move_h: 0.0            # hours to move the checkpoint there, paid on top of restart_h

Every problem is an :class:`~arbiter.domain.errors.InputError` naming the file, the field
path (``options[1].speed``) and what is valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from arbiter.domain.errors import InputError
from arbiter.workloads.loading import read_data

_JOB_FIELDS = (
    "name",
    "compute_h",
    "deadline_h",
    "restart_h",
    "checkpoint_h",
    "chips",
    "on_demand_usd_per_hour",
    "spot_usd_per_hour",
    "options",
)
_OPTION_FIELDS = ("traces", "spot_usd_per_hour", "on_demand_usd_per_hour", "speed", "move_h")


@dataclass(frozen=True, slots=True)
class SpotOption:
    """Another place the job may run on spot: the traces named by ``traces`` (a glob over
    trace names such as ``"*_v100_1"``), at ``spot_usd_per_hour`` and ``speed`` (work per
    hour relative to the reference chip), paying ``move_h`` hours on top of the restart to
    get there. ``on_demand_usd_per_hour`` is carried for reports: the policies run
    on-demand at the window's own site, at the job's on-demand price."""

    traces: str
    spot_usd_per_hour: float
    on_demand_usd_per_hour: float
    speed: float = 1.0
    move_h: float = 0.0


@dataclass(frozen=True, slots=True)
class SpotJob:
    """A job of ``compute_h`` hours of work due ``deadline_h`` hours after it is submitted.

    Prices are per chip-hour; a job holding ``chips`` chips pays ``chips`` times them.
    """

    name: str
    compute_h: float
    deadline_h: float
    restart_h: float
    checkpoint_h: float | None
    chips: int
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float
    options: tuple[SpotOption, ...] = ()


def load_spot_job(path: Path) -> SpotJob:
    """The spot job in the YAML (or JSON) file at ``path``."""
    return parse_spot_job(read_data(path, "spot job"), file=str(path))


def parse_spot_job(data: object, *, file: str) -> SpotJob:
    """The spot job in ``data`` (a parsed file); ``file`` names it in errors."""
    if isinstance(data, Mapping) and set(data) == {"spot_job"}:
        data = data["spot_job"]
    if not isinstance(data, Mapping):
        raise InputError(
            "a spot job must be a mapping",
            file=file,
            valid="a mapping with compute_h, deadline_h, restart_h and the prices",
        )
    _no_unknown(data, _JOB_FIELDS, file, "")
    name = data.get("name", Path(file).stem)
    if not isinstance(name, str) or not name:
        raise InputError("name must be a non-empty text", file=file, field="name")
    compute_h = _number(data, "compute_h", file, "", positive=True)
    deadline_h = _number(data, "deadline_h", file, "", positive=True)
    restart_h = _number(data, "restart_h", file, "", default=0.0)
    checkpoint = data.get("checkpoint_h")
    checkpoint_h = (
        None if checkpoint is None else _number(data, "checkpoint_h", file, "", positive=True)
    )
    chips = data.get("chips", 1)
    if isinstance(chips, bool) or not isinstance(chips, int) or chips < 1:
        raise InputError(
            f"chips must be a whole number of 1 or more, got {chips!r}",
            file=file,
            field="chips",
            valid="1, 2, ...",
        )
    od = _number(data, "on_demand_usd_per_hour", file, "")
    spot = _number(data, "spot_usd_per_hour", file, "")
    raw_options = data.get("options", [])
    if raw_options is None:
        raw_options = []
    if not isinstance(raw_options, list):
        raise InputError(
            "options must be a list", file=file, field="options", valid="a list of mappings"
        )
    options = tuple(
        _option(item, file, f"options[{i}]", spot=spot, od=od) for i, item in enumerate(raw_options)
    )
    return SpotJob(
        name=name,
        compute_h=compute_h,
        deadline_h=deadline_h,
        restart_h=restart_h,
        checkpoint_h=checkpoint_h,
        chips=chips,
        on_demand_usd_per_hour=od,
        spot_usd_per_hour=spot,
        options=options,
    )


def _option(item: object, file: str, path: str, *, spot: float, od: float) -> SpotOption:
    if not isinstance(item, Mapping):
        raise InputError(
            "an option must be a mapping", file=file, field=path, valid="{traces: GLOB, ...}"
        )
    _no_unknown(item, _OPTION_FIELDS, file, path)
    traces = item.get("traces")
    if not isinstance(traces, str) or not traces:
        raise InputError(
            "traces must be a glob over trace names",
            file=file,
            field=f"{path}.traces",
            valid='a text such as "*_v100_1" or "aws-02-15-2023/us-east-1*"',
        )
    return SpotOption(
        traces=traces,
        spot_usd_per_hour=_number(item, "spot_usd_per_hour", file, path, default=spot),
        on_demand_usd_per_hour=_number(item, "on_demand_usd_per_hour", file, path, default=od),
        speed=_number(item, "speed", file, path, default=1.0, positive=True),
        move_h=_number(item, "move_h", file, path, default=0.0),
    )


def _no_unknown(
    data: Mapping[object, object], known: tuple[str, ...], file: str, path: str
) -> None:
    for key in data:
        if key not in known:
            raise InputError(
                f"unknown field {key!r}",
                file=file,
                field=f"{path}.{key}" if path else str(key),
                valid=", ".join(known),
            )


def _number(
    data: Mapping[object, object],
    key: str,
    file: str,
    path: str,
    *,
    default: float | None = None,
    positive: bool = False,
) -> float:
    field = f"{path}.{key}" if path else key
    value = data.get(key, default)
    if value is None:
        raise InputError("missing", file=file, field=field, valid="a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{value!r} is not a number", file=file, field=field, valid="a number")
    if positive and value <= 0:
        raise InputError(f"must be above 0, got {value}", file=file, field=field, valid="> 0")
    if value < 0:
        raise InputError(f"must be 0 or more, got {value}", file=file, field=field, valid=">= 0")
    return float(value)
