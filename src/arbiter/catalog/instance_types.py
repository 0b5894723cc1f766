"""Which chips, and how many, each provider's instance types carry.

Feeds such as the Azure Retail API or the AWS Price List name an instance type but not
its accelerator; this table (``data/instance_types.csv``) supplies it.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class InstanceShape:
    provider: str
    instance_type: str
    accelerator: str
    accelerators_per_instance: int


@functools.cache
def instance_shapes() -> dict[tuple[str, str], InstanceShape]:
    """All known shapes, keyed by ``(provider, instance_type)``."""
    text = resources.files("arbiter.catalog.data").joinpath("instance_types.csv").read_text()
    shapes = {}
    for row in csv.DictReader(io.StringIO(text)):
        shape = InstanceShape(
            provider=row["provider"],
            instance_type=row["instance_type"],
            accelerator=row["accelerator"],
            accelerators_per_instance=int(row["accelerators_per_instance"]),
        )
        shapes[(shape.provider, shape.instance_type)] = shape
    return shapes


def shape_of(provider: str, instance_type: str) -> InstanceShape | None:
    """The shape of ``instance_type`` at ``provider``; Azure names match case-insensitively."""
    shapes = instance_shapes()
    hit = shapes.get((provider, instance_type))
    if hit is None and provider == "azure":
        lowered = instance_type.lower()
        for (p, it), shape in shapes.items():
            if p == "azure" and it.lower() == lowered:
                return shape
    return hit
