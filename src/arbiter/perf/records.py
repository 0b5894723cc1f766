"""An estimate as a JSON record (``arbiter estimate --json``; :func:`arbiter.estimate`):
the configuration, the cheapest offer, the cost per unit of work and the error band."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from arbiter.domain.workload import Workload
from arbiter.perf.result import Estimate


def estimate_record(e: Estimate, today: dt.date | None = None) -> dict[str, Any]:
    """A feasible estimate (``workload_record`` lists the infeasible ones apart); the
    offer's price with its date, source and age on ``today`` (when given)."""
    record: dict[str, Any] = {
        "accelerator": e.accelerator,
        "vendor": e.vendor,
        "platform": e.platform,
        "feasible": e.feasible,
        "precision": e.precision,
        "source": e.source,
    }
    if e.class_requests_per_s:
        record["class_requests_per_s"] = list(e.class_requests_per_s)  # per replica
    layout = e.layout
    record |= {
        "chips": e.chips,
        "layout": None
        if layout is None
        else {
            "tp": layout.tp,
            "cp": layout.cp,
            "pp": layout.pp,
            "replicas": layout.replicas,
            "recompute": layout.recompute,
            "sharded_optimizer": layout.sharded_optimizer,
            "batch": layout.batch,
        },
        "tokens_per_s": e.tokens_per_s,
        "hours": e.hours,
        "hbm_gb_per_chip": e.hbm_gb_per_chip,
        "ttft_s": e.ttft_s,
        "tpot_s": e.tpot_s,
        "offer": None
        if e.offer is None
        else {
            "offer_id": e.offer.offer_id,
            "provider": e.offer.provider,
            "region": e.offer.region,
            "instance_type": e.offer.instance_type,
            "price_regime": e.offer.price_regime,
            "usd_per_accelerator_hour": e.offer.usd_per_accelerator_hour,
            "instances": e.instances,
            "as_of": None if e.offer.as_of is None else e.offer.as_of.text,
            "price_source": e.offer.source,
            "price_age_days": None
            if e.offer.as_of is None or today is None
            else e.offer.as_of.age_days(today),
        },
        "usd_per_job": e.usd_per_job,
        "usd_per_million_tokens": e.usd_per_million_tokens,
        "error_band_share": e.error_band_share,
        "band_cases": e.band_cases,
        "chip_cases": e.chip_cases,
        "band_basis": e.band_basis,
        "notes": list(e.notes),
    }
    return record


def workload_record(
    w: Workload, estimates: Sequence[Estimate], top: int, today: dt.date | None = None
) -> dict[str, Any]:
    feasible = [e for e in estimates if e.feasible]
    return {
        "name": w.name,
        "kind": w.kind.value,
        "model": w.model.name,
        "precision": w.precision.value,
        "work_tokens": w.work_tokens,
        "unit": "trained tokens" if w.kind.value in ("train", "finetune") else "generated tokens",
        "estimates": [estimate_record(e, today) for e in feasible[:top]],
        "infeasible": [
            {"accelerator": e.accelerator, "reason": e.reason} for e in estimates if not e.feasible
        ],
    }
