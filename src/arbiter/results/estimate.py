"""Cost per unit of work (``arbiter estimate``; :func:`arbiter.estimate`): each workload's
best configuration per accelerator, priced by the cheapest matching offer, cheapest per
unit of work first, with the performance model's error band and the cases behind it."""

from __future__ import annotations

from typing import Any

from arbiter.results.base import Result, Rows
from arbiter.results.provenance import Provenance


def layout_text(
    *,
    tp: int,
    pp: int,
    replicas: int,
    cp: int = 1,
    recompute: str | None = None,
    sharded_optimizer: bool | None = None,
    batch: float | None = None,
) -> str:
    """``TP4 PP2 x8 recompute=full FSDP``: a layout as the tables show it."""
    parts = [f"TP{tp}", f"PP{pp}", f"x{replicas}"]
    if cp > 1:
        parts.insert(1, f"CP{cp}")
    if recompute is not None and recompute != "none":
        parts.append(f"recompute={recompute}")
    if sharded_optimizer:
        parts.append("FSDP")
    if batch is not None:
        parts.append(f"batch={batch:g}")
    return " ".join(parts)


class EstimateLayout(Result):
    """``replicas`` x (``tp`` x ``cp`` x ``pp``) chips; training's recomputation and
    optimizer sharding; a serving replica's batch."""

    tp: int
    cp: int
    pp: int
    replicas: int
    recompute: str | None
    sharded_optimizer: bool | None
    batch: float | None

    @property
    def text(self) -> str:
        return layout_text(**self.model_dump())


class EstimateOffer(Result):
    """The cheapest offer that runs the configuration, how many instances it takes, and
    what its price rests on: the day it was observed (``as_of``), the source, and its age
    in days on the settings' date (``ARBITER_TODAY``)."""

    offer_id: str
    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_accelerator_hour: float
    instances: int
    as_of: str | None = None
    price_source: str | None = None
    price_age_days: int | None = None


class ChipEstimate(Result):
    """A workload's best configuration on one accelerator."""

    accelerator: str
    vendor: str
    platform: str
    feasible: bool
    precision: str
    source: str
    class_requests_per_s: tuple[float, ...] | None = None
    chips: int
    layout: EstimateLayout | None
    tokens_per_s: float
    hours: float
    hbm_gb_per_chip: float
    ttft_s: float | None
    tpot_s: float | None
    offer: EstimateOffer | None
    usd_per_job: float | None
    usd_per_million_tokens: float | None
    error_band_share: float
    band_cases: int
    chip_cases: int
    band_basis: str
    notes: tuple[str, ...]


class Infeasible(Result):
    accelerator: str
    reason: str


class WorkloadEstimates(Result):
    """One workload: its best ``estimates`` (cheapest per unit of work first, the top
    ones) and the accelerators that cannot run it, with why."""

    name: str
    kind: str
    model: str
    precision: str
    work_tokens: float
    unit: str
    estimates: Rows[ChipEstimate]
    infeasible: Rows[Infeasible]


class EstimateReport(Result):
    """Every workload's estimates on one catalog version, with the model parameters'
    provenance (``efficiency``) and any calibration profile applied."""

    catalog_version: str
    efficiency: str
    workloads: Rows[WorkloadEstimates]
    calibration: dict[str, Any] | None = None
    provenance: Provenance
