"""Which layouts an instance type can host: the one rule the performance model and the
option builder share (``docs/fabric.md``).

A :class:`Host` is what a layout sees of an instance type: how many chips share the
scale-up link (NVLink, xGMI, ICI, NeuronLink), the scale-out bandwidth per chip between
instances, and, without a scale-out fabric, the most chips that can talk at all. The rule:

- tensor parallelism stays within one scale-up domain: ``tp <= scale_up_chips``;
- the chips that talk (a training job's, or one inference replica's ``tp x pp``) may
  span instances only over a scale-out fabric the instance type has; without one they
  fit in one instance (or one scale-up domain, where that is larger):
  ``talking_chips <= span_chips``;
- data-parallel replicas of a service or a batch job do not talk: any number of them
  run on separate instances.

Communication beyond the scale-up domain uses the instance type's scale-out bandwidth
per chip; without a fabric, chips of one instance outside its scale-up domain talk over
PCIe (``PCIE_GBYTES_PER_S``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arbiter.catalog.instance_types import shape_of
from arbiter.domain.accelerator import Accelerator
from arbiter.domain.offer import Offer

UNLIMITED_CHIPS = 2**40  # a fabric: no limit on the chips that talk
PCIE_GBYTES_PER_S = 32.0  # PCIe Gen4 x16, one direction: chips of one instance, no fabric
GBITS_PER_GBYTE = 8.0


@dataclass(frozen=True, slots=True, order=True)
class Host:
    """The fabric of an instance type, as a layout sees it. Two instance types with equal
    hosts admit the same layouts at the same speed (``instance_chips`` is 0 where a
    fabric makes the instance size irrelevant)."""

    scale_up_chips: int
    scale_out_gbps_per_chip: float  # 0: no scale-out fabric
    instance_chips: int = 0

    @property
    def has_scale_out(self) -> bool:
        return self.scale_out_gbps_per_chip > 0

    @property
    def span_chips(self) -> int:
        """The most chips that may talk: unlimited over a fabric, else one instance (or
        one scale-up domain, where larger)."""
        if self.has_scale_out:
            return UNLIMITED_CHIPS
        return max(self.instance_chips, self.scale_up_chips)

    @property
    def scale_out_bytes_per_s(self) -> float:
        """Bandwidth per chip beyond the scale-up domain (PCIe within one instance when
        there is no fabric: nothing else is reachable)."""
        if self.has_scale_out:
            return self.scale_out_gbps_per_chip / GBITS_PER_GBYTE * 1e9
        return PCIE_GBYTES_PER_S * 1e9

    @property
    def text(self) -> str:
        if self.has_scale_out:
            return (
                f"scale-up {self.scale_up_chips} chips, "
                f"{self.scale_out_gbps_per_chip:g} Gb/s per chip between instances"
            )
        return f"{self.span_chips}-chip instances without a scale-out fabric"


def host(scale_up_chips: int, scale_out_gbps_per_chip: float, instance_chips: int) -> Host:
    """A host in its canonical form (instance size dropped where a fabric makes it moot)."""
    up = max(int(scale_up_chips), 1)
    if scale_out_gbps_per_chip > 0:
        return Host(up, float(scale_out_gbps_per_chip), 0)
    return Host(up, 0.0, max(int(instance_chips), 1))


@functools.lru_cache(maxsize=4096)
def instance_host(
    provider: str, instance_type: str, chips_per_instance: int, chip_scale_up: int
) -> Host:
    """The host of an instance type from ``data/instance_types.csv``. A type the table
    does not know is taken conservatively: no fabric, its own chips (at most the chip's
    scale-up domain) sharing the scale-up link."""
    shape = shape_of(provider, instance_type)
    if shape is None:
        per = max(chips_per_instance, 1)
        return host(min(per, max(chip_scale_up, 1)), 0.0, per)
    gbps = shape.scale_out_gbps_per_chip if shape.has_scale_out else 0.0
    return host(shape.scale_up_chips, gbps or 0.0, shape.accelerators_per_instance)


def offer_host(offer: Offer, accelerator: Accelerator | None) -> Host:
    """The host of the instance type ``offer`` sells."""
    chip_up = accelerator.chips_per_node if accelerator is not None else None
    return instance_host(
        offer.provider,
        offer.instance_type,
        offer.accelerators_per_instance,
        chip_up or offer.accelerators_per_instance,
    )


def layouts_fit(
    tp: npt.ArrayLike,
    talking_chips: npt.ArrayLike,
    scale_up_chips: npt.ArrayLike,
    span_chips: npt.ArrayLike,
) -> npt.NDArray[np.bool_]:
    """The rule, elementwise: ``tp`` within the scale-up domain and the chips that talk
    within the span (unlimited over a fabric)."""
    up = np.maximum(np.asarray(scale_up_chips), 1)
    return np.asarray(
        (np.asarray(tp) <= up) & (np.asarray(talking_chips) <= np.asarray(span_chips)),
        dtype=bool,
    )


def fits(h: Host, tp: int, talking_chips: int) -> bool:
    """Whether ``h`` hosts a layout of ``tp``-way tensor parallelism whose ``talking_chips``
    talk to each other (a training job's chips, or one inference replica's)."""
    return bool(layouts_fit(tp, talking_chips, h.scale_up_chips, h.span_chips))


def estimate_targets(
    accelerators: Sequence[Accelerator], hosted: Iterable[tuple[str, Host]]
) -> tuple[list[Accelerator], list[Host | None]]:
    """What to estimate: each accelerator once per fabric it is offered on (``hosted``:
    (accelerator name, host) pairs, in order), an accelerator without offers once on
    its best cluster. Parallel lists for ``estimate_workload(..., hosts=...)``."""
    by_name: dict[str, list[Host]] = {}
    for name, h in hosted:
        by_name.setdefault(name, []).append(h)
    accs: list[Accelerator] = []
    hosts: list[Host | None] = []
    for a in accelerators:
        found: list[Host | None] = list(dict.fromkeys(by_name.get(a.name, ()))) or [None]
        accs.extend([a] * len(found))
        hosts.extend(found)
    return accs, hosts
