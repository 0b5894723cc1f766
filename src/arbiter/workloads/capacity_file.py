"""A capacity file: the quantities a user knows they can obtain (quotas granted,
reservations held, contracts signed), in YAML or CSV (``docs/capacity.md``).

YAML: a list of rows, or a mapping with a ``capacity`` list. CSV: a header row with the
same field names. Each row: ``provider``, ``accelerator``, exactly one of ``chips`` and
``instances``, and optionally ``region`` (a glob; the quantity applies in each region it
matches), ``price_regime``, ``needs`` (none, quota, contract) and ``lead_days``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.domain.capacity import Needs, StatedCapacity
from arbiter.domain.errors import InputError
from arbiter.workloads.convert import _named
from arbiter.workloads.fleet_spec import RegimeName
from arbiter.workloads.loading import read_data
from arbiter.workloads.problems import join_path, validation_problems, with_more
from arbiter.workloads.spec import Text, _Spec, lowered, plain_number

FIELDS = ("provider", "accelerator", "chips", "instances", "region", "price_regime", "needs",
          "lead_days")  # fmt: skip


def _whole(value: object) -> object:
    """``"64"`` (a CSV cell) is 64; ``8.0`` is 8."""
    number = plain_number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


Count = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=100_000_000, strict=True)]
NeedsName = Annotated[Needs, BeforeValidator(lowered)]
Days = Annotated[
    float, BeforeValidator(plain_number), Field(ge=0, le=3650, strict=True, allow_inf_nan=False)
]


class CapacityRowSpec(_Spec):
    """One row of a capacity file."""

    provider: Text
    accelerator: Text
    chips: Count | None = None
    instances: Count | None = None
    region: Text | None = None
    price_regime: RegimeName | None = None
    needs: NeedsName = Needs.NONE
    lead_days: Days = 0.0

    @model_validator(mode="after")
    def _one_quantity(self) -> CapacityRowSpec:
        if (self.chips is None) == (self.instances is None):
            raise ValueError("give exactly one of chips and instances (a whole number >= 0)")
        return self


def load_capacity_file(path: Path) -> tuple[StatedCapacity, ...]:
    """The rows of the capacity file at ``path`` (``.csv``: CSV, else YAML or JSON)."""
    file = str(path)
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
    else:
        data = read_data(path, what="capacity")
        if isinstance(data, Mapping) and set(data) == {"capacity"}:
            data = data["capacity"]
        if not isinstance(data, list):
            raise InputError(
                "expected a list of capacity rows",
                file=file,
                valid="a YAML list of rows, or a mapping with one key, capacity, holding it",
            )
        rows = [(join_path("capacity", i), item) for i, item in enumerate(data)]
    problems: list[InputError] = []
    out: list[StatedCapacity] = []
    known = sorted(known_accelerators())
    for where, item in rows:
        try:
            spec = CapacityRowSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, CapacityRowSpec, where, file))
            continue
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
        out.append(
            StatedCapacity(
                provider=provider,
                accelerator=accelerator,
                chips=spec.chips,
                instances=spec.instances,
                region=spec.region,
                price_regime=spec.price_regime,
                needs=spec.needs,
                lead_days=spec.lead_days,
            )
        )
    if problems:
        raise with_more(problems)
    return tuple(out)


def _csv_rows(path: Path) -> list[tuple[str, object]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=file, valid="a path to a capacity file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as UTF-8 text: {exc}", file=file) from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        unknown = [h for h in header if h not in FIELDS]
        if unknown or not header:
            raise InputError(
                f"unknown column {unknown[0]!r}" if unknown else "no header row",
                file=file,
                field="header",
                valid="columns " + ", ".join(FIELDS),
            )
        out: list[tuple[str, object]] = []
        for i, row in enumerate(reader):
            if None in row:
                raise InputError(
                    "more cells than header columns",
                    file=file,
                    field=f"row {i + 2}",
                    valid="one cell per column " + ", ".join(header),
                )
            values = {k: v for k, v in row.items() if v is not None and v.strip() != ""}
            out.append((f"row {i + 2}", values))
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", file=file) from None
    return out
