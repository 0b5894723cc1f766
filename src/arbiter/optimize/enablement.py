"""Platforms not yet enabled, in any model: one switch per platform (``z_p in {0, 1}``,
its one-off cost ``E_p`` where the model prices it), and the rows that keep work off a
platform until it is switched on,

    enable[label]   usage_r - bound_r z_p(r) <= 0

with ``usage_r`` in the model's units (placements or instances of the fleet, blocks or
work of procurement) and ``bound_r`` the most it can be: tight rows, not one big M. The
fleet model (``fleet_model.py``) and procurement (``procure/milp.py``) build theirs here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from arbiter.domain.fleet import PlatformState
from arbiter.optimize.linear import Block, Family, FloatArray, IntArray, LinearModel, Terms


def define_platform_switches(
    model: LinearModel,
    pending: Sequence[PlatformState],
    *,
    usd_weight: float = 0.0,
    fixed: Sequence[str] | None = None,
) -> Block:
    """``enable[platform]``, one binary per platform of ``pending``, costing
    ``usd_weight`` times its enablement cost in the objective (0: the model counts it in
    its own rows); ``fixed`` (platform names) fixes each switch on (listed) or off."""
    lower: FloatArray | float = 0.0
    upper: FloatArray | float = 1.0
    if fixed is not None:
        lower = upper = np.array([float(s.platform.value in fixed) for s in pending])
    return model.add_variables(
        "enable",
        [s.platform.value for s in pending],
        cost=np.array([usd_weight * s.enable_usd for s in pending]),
        lower=lower,
        upper=upper,
        integer=True,
    )


def define_enablement(
    model: LinearModel,
    switches: Block,
    labels: Sequence[str],
    usage: Terms,
    platform: IntArray,
    bound: FloatArray,
) -> Family | None:
    """The rows ``usage_r <= bound_r z_platform[r]`` (``usage``: their terms, by local
    row; ``platform``: the position in ``switches`` of each row's platform)."""
    if not len(labels):
        return None
    rows = np.arange(len(labels), dtype=np.int64)
    switch = Terms(rows, switches.columns[platform], -np.asarray(bound, dtype=np.float64))
    return model.add_rows("enable", labels, Terms.join(usage, switch), upper=0.0)
