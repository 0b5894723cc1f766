"""Which chips, and how many, each provider's instance types carry, and how they talk.

Feeds such as the Azure Retail API or the AWS Price List name an instance type but not
its accelerator; this table (``data/instance_types.csv``) supplies it. It also records
the instance type's fabric: how many chips share one scale-up domain (NVLink, xGMI, ICI,
NeuronLink: ``scale_up_chips``, which an UltraServer or a TPU pod makes larger than the
instance), the scale-out fabric between instances (``scale_out_fabric``: infiniband, efa,
roce, gpudirect-tcpx(o), ici, neuronlink/efa or none) and its bandwidth per chip in Gb/s
where the provider publishes one, with ``fabric_source`` naming the provider's page.
A fabric without a published bandwidth counts as none (``docs/fabric.md``).
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

from arbiter.domain.errors import InputError

FABRICS = (
    "infiniband",
    "efa",
    "roce",
    "gpudirect-tcpx",
    "gpudirect-tcpxo",
    "ici",
    "neuronlink/efa",
    "none",
)
TABLE = "arbiter/catalog/data/instance_types.csv"


@dataclass(frozen=True, slots=True)
class InstanceShape:
    provider: str
    instance_type: str
    accelerator: str
    accelerators_per_instance: int
    scale_up_chips: int = 1
    scale_out_fabric: str = "none"
    scale_out_gbps_per_chip: float | None = None  # None: not published, or no fabric
    fabric_source: str = ""

    @property
    def has_scale_out(self) -> bool:
        """A fabric between instances with a published bandwidth."""
        return self.scale_out_fabric != "none" and bool(self.scale_out_gbps_per_chip)


def _positive_int(row: dict[str, str], field: str, line: int) -> int:
    text = row[field].strip()
    if not text.isdigit() or int(text) < 1:
        raise InputError(
            f"row {line}: {text!r} is not a whole number of chips",
            file=TABLE,
            field=field,
            valid="an integer >= 1",
        )
    return int(text)


def parse_shape(row: dict[str, str], line: int) -> InstanceShape:
    """One row of the table, checked."""
    fabric = row["scale_out_fabric"].strip()
    if fabric not in FABRICS:
        raise InputError(
            f"row {line}: unknown fabric {fabric!r}",
            file=TABLE,
            field="scale_out_fabric",
            valid=", ".join(FABRICS),
        )
    gbps_text = row["scale_out_gbps_per_chip"].strip()
    gbps = None
    if gbps_text:
        try:
            gbps = float(gbps_text)
        except ValueError:
            gbps = -1.0
        if not gbps > 0 or fabric == "none":
            raise InputError(
                f"row {line}: {gbps_text!r} is not a bandwidth of a fabric",
                file=TABLE,
                field="scale_out_gbps_per_chip",
                valid="a number > 0 (Gb/s per chip) with a fabric, or empty",
            )
    return InstanceShape(
        provider=row["provider"],
        instance_type=row["instance_type"],
        accelerator=row["accelerator"],
        accelerators_per_instance=_positive_int(row, "accelerators_per_instance", line),
        scale_up_chips=_positive_int(row, "scale_up_chips", line),
        scale_out_fabric=fabric,
        scale_out_gbps_per_chip=gbps,
        fabric_source=row["fabric_source"],
    )


@functools.cache
def instance_shapes() -> dict[tuple[str, str], InstanceShape]:
    """All known shapes, keyed by ``(provider, instance_type)``."""
    text = resources.files("arbiter.catalog.data").joinpath("instance_types.csv").read_text()
    shapes = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        shape = parse_shape(row, line)
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
