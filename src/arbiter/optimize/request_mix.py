"""Serving a request mix (Mélange): per option and class the requests/s served, with each
replica dividing its time between classes. The rows are part of the fleet formulation in
:mod:`arbiter.optimize.fleet_model`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from arbiter.domain.fleet import Fleet
from arbiter.domain.workload import ServeJob
from arbiter.optimize.linear import Block, IntArray, LinearModel
from arbiter.optimize.options import Option

MIX_IDLE_TOL = 1e-6  # "less than one whole replica idle" made a closed row


def classes_of(fleet: Fleet, w: int) -> int:
    job = fleet.workloads[w].job
    return len(job.classes) if isinstance(job, ServeJob) else 0


def class_demand(
    model: LinearModel,
    fleet: Fleet,
    options: Sequence[Option],
    rep: IntArray,
    r_cols: IntArray,
    labels: Sequence[str],
    unmet: Block | None = None,
) -> tuple[Block, IntArray, IntArray]:
    """Request mixes: ``x_oc`` requests/s of class c served on option o, with

        class_demand[w/c]   sum_{o in w} x_oc >= share_c rate_w
        load[o]             -(1 - 1e-6) <= sum_c x_oc / rps_oc - r_o <= 0

    (a replica divides its time between classes; ``x_oc`` exists where ``rps_oc > 0``; an
    option carries at most one replica short of full: no replica bought only to pad).
    Returns the block of ``x`` with the position in ``rep`` and the class of each."""
    demand_labels: list[str] = []
    first_row: dict[int, int] = {}
    rate: list[float] = []
    for w in sorted({options[i].workload for i in rep.tolist()}):
        job = fleet.workloads[w].job
        assert isinstance(job, ServeJob)
        first_row[w] = len(demand_labels)
        for c, klass in enumerate(job.classes):
            demand_labels.append(f"{fleet.workloads[w].name}/class {c}")
            rate.append(job.requests_per_s * klass.share)
    o_idx, c_idx, x_rps = [], [], []
    for k, i in enumerate(rep.tolist()):
        for c, v in enumerate(options[i].class_requests_per_s):
            if v > 0:
                o_idx.append(k)
                c_idx.append(c)
                x_rps.append(v)
    k_arr = np.array(o_idx, dtype=np.int64)
    c_arr = np.array(c_idx, dtype=np.int64)
    x = model.add_variables(
        "class_load",
        [f"{labels[rep[k]]}/class {c}" for k, c in zip(o_idx, c_idx, strict=True)],
    )
    start = np.array([first_row[options[rep[k]].workload] for k in o_idx], dtype=np.int64)
    rows, cols, vals = start + c_arr, x.columns, np.ones(len(o_idx))
    if unmet is not None:  # u_w of each class's rate: sum x + share_c rate_w u_w >= ...
        for w, first in first_row.items():
            job = fleet.workloads[w].job
            assert isinstance(job, ServeJob)
            at = first + np.arange(len(job.classes))
            rows = np.append(rows, at)
            cols = np.append(cols, np.full(len(at), unmet.columns[w]))
            vals = np.append(vals, np.array(rate)[at])
    model.add_constraints("class_demand", demand_labels, rows, cols, vals, lower=np.array(rate))
    m = np.arange(len(rep), dtype=np.int64)
    model.add_constraints(
        "load",
        [labels[i] for i in rep.tolist()],
        np.concatenate([k_arr, m]),
        np.concatenate([x.columns, r_cols]),
        np.concatenate([1.0 / np.array(x_rps), -np.ones(len(rep))]),
        lower=-(1.0 - MIX_IDLE_TOL),
        upper=0.0,
    )
    return x, k_arr, c_arr
