"""A deadline job on spot: its availability traces replayed under each execution policy
(what ``arbiter spot simulate`` prints)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from arbiter.api.loading import Source, load_catalog, read_source, sha12
from arbiter.api.provenance import provenance
from arbiter.api.settings import Settings
from arbiter.api.stores import settings
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError
from arbiter.measures import quantile
from arbiter.results.spot import (
    PolicyStats,
    PolicyWindows,
    SpotSimulation,
    SpotWindows,
)
from arbiter.spotsim.job import SpotJob, SpotOption, parse_spot_job
from arbiter.spotsim.simulate import POLICIES, Outcomes, simulate, windows
from arbiter.spotsim.traces import Trace, read_traces

__all__ = ["POLICIES", "simulate_spot"]

DEFAULT_WINDOWS = 1000
"""Trace windows replayed when the call does not say."""

_REFERENCES = ("od", "optimal")
"""Policies every run replays: the saving against on-demand and the ratio to the
hindsight optimum are measured against them on the same windows."""


def simulate_spot(
    job: Source | SpotJob,
    traces: Path | str | Sequence[Trace],
    *,
    policies: Sequence[str] = POLICIES,
    windows: int | None = DEFAULT_WINDOWS,
    seed: int = 0,
    nodes: int = 1,
    ones: str = "available",
    slack: Sequence[float] = (),
    catalog: Catalog | str | None = None,
    config: Settings | None = None,
) -> SpotSimulation:
    """The spot job ``job`` (a path, YAML text, a mapping or a
    :class:`~arbiter.spotsim.job.SpotJob`) replayed on ``traces`` (a folder of trace
    files read with ``nodes`` nodes per reading and ``ones`` the meaning of a 1 in a public
    0/1 file, ``available`` or ``unavailable``, or traces already read) under each of
    ``policies`` (``od``, ``greedy``, ``up``, ``arbiter``, ``optimal``), on the same
    ``windows`` windows (a trace and a start time, drawn with ``seed``; ``None``: every
    start the engine allows). On-demand and the hindsight optimum are replayed on the
    same windows whether asked for or not: the saving and the ratio to the optimum are
    measured against them. With ``slack`` (deadlines as multiples of the compute hours,
    e.g. ``(1.05, 1.25, 1.5)``), each policy's cost at each of those deadlines too.
    ``catalog`` (a catalog or a version; default: the store's current one) is recorded in
    the provenance."""
    chosen = _policies(policies)
    if windows is not None and windows < 1:
        raise InputError(f"{windows} windows", field="windows", valid="a whole number >= 1")
    if nodes < 1:
        raise InputError(f"{nodes} nodes", field="nodes", valid="a whole number >= 1")
    the_job, name, input_hash = _job(job)
    _check_deadline(the_job, name)
    replayed = _traces(traces, nodes, ones)
    config = config or settings()
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog, config=config)

    runs = _replay(the_job, replayed, chosen, windows, seed)
    stats = _stats(runs, chosen)
    doc: dict[str, Any] = {
        "job": _job_doc(the_job),
        "windows": len(runs["od"].cost_usd),
        "seed": seed,
        "nodes": nodes,
        "ones": ones,
        "policies": stats,
        "per_trace": _per_trace(runs, chosen, replayed),
        "traces": [_trace_doc(t) for t in replayed],
    }
    if slack:
        doc["slack"] = _slack(the_job, replayed, chosen, windows, seed, slack)
    doc["provenance"] = provenance(catalog, name=name, input_hash=input_hash, seed=seed)
    result = SpotSimulation.model_validate(doc)
    return result.with_windows(
        SpotWindows({p: _windows_of(runs[p]) for p in chosen}, tuple(t.name for t in replayed))
    )


def _policies(policies: Sequence[str] | str) -> tuple[str, ...]:
    names = (policies,) if isinstance(policies, str) else tuple(policies)
    if "all" in names:
        names = POLICIES
    if not names:
        raise InputError("no policy", field="policy", valid=", ".join((*POLICIES, "all")))
    for p in names:
        if p not in POLICIES:
            raise InputError(
                f"unknown policy {p!r}", field="policy", valid=", ".join((*POLICIES, "all"))
            )
    return tuple(dict.fromkeys(names))


def _job(source: Source | SpotJob) -> tuple[SpotJob, str, str]:
    if isinstance(source, SpotJob):
        return source, "<job>", sha12(repr(source).encode())
    loaded = read_source(source, "spot job")
    return parse_spot_job(loaded.data, file=loaded.name), loaded.name, loaded.sha256


def _check_deadline(job: SpotJob, name: str) -> None:
    if job.deadline_h < job.compute_h:
        raise InputError(
            f"the deadline ({job.deadline_h:g} h) is shorter than the compute "
            f"({job.compute_h:g} h): no policy can finish in time",
            file=name,
            field="deadline_h",
            valid=f"at least compute_h ({job.compute_h:g} h)",
        )


def _traces(traces: Path | str | Sequence[Trace], nodes: int, ones: str) -> tuple[Trace, ...]:
    if isinstance(traces, Path | str):
        folder = Path(traces)
        if not folder.is_dir():
            raise InputError(
                "no such folder of traces",
                file=str(folder),
                field="traces",
                valid="a folder of availability trace files (JSON or CSV)",
            )
        found = tuple(read_traces(folder, nodes=nodes, ones=ones))
    else:
        found = tuple(traces)
    if not found:
        raise InputError(
            "no trace to replay",
            file=str(traces) if isinstance(traces, Path | str) else None,
            field="traces",
            valid="at least one availability trace",
        )
    return found


def _replay(
    job: SpotJob,
    traces: tuple[Trace, ...],
    chosen: tuple[str, ...],
    count: int | None,
    seed: int,
) -> dict[str, Outcomes]:
    picked = windows(list(traces), job, count=count, seed=seed)
    if len(picked) == 0:
        raise InputError(
            f"no trace is long enough for the deadline of {job.deadline_h:g} h",
            field="deadline_h",
            valid="a deadline no longer than the longest trace",
        )
    names = dict.fromkeys((*_REFERENCES, *chosen))
    return {p: simulate(job, list(traces), p, picked) for p in names}


def _q(values: np.ndarray[Any, Any], q: float) -> float:
    return quantile(values, q)


def _policy_stats(run: Outcomes, od: Outcomes, best: Outcomes) -> dict[str, Any]:
    cost = np.asarray(run.cost_usd, dtype=np.float64)
    finish = np.asarray(run.finish_h, dtype=np.float64)
    missed = np.asarray(run.missed, dtype=bool)
    od_mean = float(np.mean(od.cost_usd))
    optimum = np.asarray(best.cost_usd, dtype=np.float64)
    ratio = np.divide(cost, optimum, out=np.ones_like(cost), where=optimum > 0)
    return {
        "windows": len(cost),
        "mean_cost_usd": float(np.mean(cost)),
        "p10_cost_usd": _q(cost, 0.10),
        "p50_cost_usd": _q(cost, 0.50),
        "p90_cost_usd": _q(cost, 0.90),
        "misses": int(missed.sum()),
        "miss_share": float(missed.mean()),
        "mean_finish_h": float(np.mean(finish)),
        "p90_finish_h": _q(finish, 0.90),
        "spot_share": _mean_or_none(np.asarray(run.spot_share, dtype=np.float64)),
        "mean_switches": _mean_or_none(np.asarray(run.switches, dtype=np.float64)),
        "saving_vs_on_demand_share": 1.0 - float(np.mean(cost)) / od_mean if od_mean else 0.0,
        "cost_vs_optimal": float(np.mean(ratio)),
    }


def _mean_or_none(values: np.ndarray[Any, Any]) -> float | None:
    """The mean, or ``None`` where the engine does not report the figure (NaN or a
    negative count: the hindsight optimum keeps no schedule)."""
    if values.size == 0 or np.isnan(values).any() or (values < 0).any():
        return None
    return float(values.mean())


def _stats(runs: dict[str, Outcomes], chosen: tuple[str, ...]) -> dict[str, PolicyStats]:
    return {
        p: PolicyStats.model_validate(_policy_stats(runs[p], runs["od"], runs["optimal"]))
        for p in chosen
    }


def _per_trace(
    runs: dict[str, Outcomes], chosen: tuple[str, ...], traces: tuple[Trace, ...]
) -> list[dict[str, Any]]:
    rows = []
    which = np.asarray(runs["od"].trace, dtype=np.int64)
    for i, trace in enumerate(traces):
        on = which == i
        if not on.any():
            continue
        for p in chosen:
            cost = np.asarray(runs[p].cost_usd, dtype=np.float64)[on]
            rows.append(
                {
                    "trace": trace.name,
                    "policy": p,
                    "windows": int(on.sum()),
                    "mean_cost_usd": float(cost.mean()),
                    "p10_cost_usd": _q(cost, 0.10),
                    "p90_cost_usd": _q(cost, 0.90),
                    "misses": int(np.asarray(runs[p].missed, dtype=bool)[on].sum()),
                }
            )
    return rows


def _slack(
    job: SpotJob,
    traces: tuple[Trace, ...],
    chosen: tuple[str, ...],
    count: int | None,
    seed: int,
    ratios: Sequence[float],
) -> list[dict[str, Any]]:
    rows = []
    for r in ratios:
        if not (math.isfinite(r) and r >= 1.0):
            raise InputError(f"deadline {r} x compute", field="slack", valid="numbers >= 1")
        at = dataclasses.replace(job, deadline_h=r * job.compute_h)
        runs = _replay(at, traces, chosen, count, seed)
        for p in chosen:
            cost = np.asarray(runs[p].cost_usd, dtype=np.float64)
            rows.append(
                {
                    "deadline_over_compute": float(r),
                    "deadline_h": at.deadline_h,
                    "policy": p,
                    "mean_cost_usd": float(cost.mean()),
                    "p10_cost_usd": _q(cost, 0.10),
                    "p90_cost_usd": _q(cost, 0.90),
                    "misses": int(np.asarray(runs[p].missed, dtype=bool).sum()),
                }
            )
    return rows


def _job_doc(job: SpotJob) -> dict[str, Any]:
    return {
        "name": job.name,
        "compute_h": job.compute_h,
        "deadline_h": job.deadline_h,
        "slack_h": job.deadline_h - job.compute_h,
        "restart_h": job.restart_h,
        "checkpoint_h": job.checkpoint_h,
        "chips": job.chips,
        "on_demand_usd_per_hour": job.on_demand_usd_per_hour,
        "spot_usd_per_hour": job.spot_usd_per_hour,
        "options": [_option_doc(o) for o in job.options],
    }


def _option_doc(option: SpotOption) -> dict[str, Any]:
    return {
        "traces": option.traces,
        "spot_usd_per_hour": option.spot_usd_per_hour,
        "on_demand_usd_per_hour": option.on_demand_usd_per_hour,
        "speed": option.speed,
        "move_h": option.move_h,
    }


def _trace_doc(trace: Trace) -> dict[str, Any]:
    available = np.asarray(trace.available, dtype=bool)
    return {
        "name": trace.name,
        "region": trace.region,
        "chip": trace.chip,
        "gap_s": float(trace.gap_s),
        "hours": len(available) * float(trace.gap_s) / 3600.0,
        "availability_share": float(available.mean()) if len(available) else 0.0,
    }


def _windows_of(run: Outcomes) -> PolicyWindows:
    return PolicyWindows(
        trace=np.asarray(run.trace, dtype=np.int64),
        start_h=np.asarray(run.start_h, dtype=np.float64),
        cost_usd=np.asarray(run.cost_usd, dtype=np.float64),
        finish_h=np.asarray(run.finish_h, dtype=np.float64),
        missed=np.asarray(run.missed, dtype=bool),
        spot_share=np.asarray(run.spot_share, dtype=np.float64),
        switches=np.asarray(run.switches, dtype=np.int64),
    )
