"""Placements and workloads every shock treats alike, evaluated once each: placement
types (:func:`placement_types`) and workload types (:func:`workload_types`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from arbiter.risk.plan_arrays import FloatArray, IntArray, PlanArrays, Speed


def placement_types(pa: PlanArrays, speed: Speed | None = None) -> tuple[IntArray, IntArray]:
    """Placements that every shock treats alike: the same shocks select them, with the
    same regime, hours, billed hours, start, spot surge base, and a workload of the same
    kind, deadline, window and demand shocks (and, with a ``speed``, the same throughput
    error in every sample: the same platform and band). Their outcomes per dollar are the
    same, so each type is evaluated once:
    ``(type of each placement, one placement of each type)``."""
    w = pa.workload
    key = np.column_stack(
        [
            *([] if speed is None else [speed.row.astype(np.float64)]),
            pa.selects.T.astype(np.float64),
            pa.selects_workload.T[w].astype(np.float64),
            pa.payg,
            pa.block,
            pa.billed_hours,
            pa.hours,
            pa.start_hours,
            pa.surge_base,
            pa.serve[w],
            pa.deadline_hours[w],
            pa.window_hours[w],
        ]
    )
    if not len(key):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, first, kind = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return np.asarray(kind, dtype=np.int64).ravel(), np.asarray(first, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class WorkloadTypes:
    """Workloads every shock treats alike (``V`` types): the same kind, window, deadline
    and demand shocks, and the same placement types in the same shares. Sums over a type's
    members are products with these columns."""

    of: IntArray  # W: the type of each workload
    first: IntArray  # V: one workload of each type
    share: sparse.csr_array  # V x T: a service's share of its rate on each placement type
    count: sparse.csr_array  # V x T: a job's placements of each placement type
    members: FloatArray  # V: workloads of the type
    spend_usd: FloatArray  # V: the plan's spend on its members
    weight: FloatArray  # V: their share of the plan's compute spend
    types: tuple[IntArray, ...]  # V: the placement types each holds


def workload_types(pa: PlanArrays, kind_of: IntArray, n_t: int) -> WorkloadTypes:
    """:class:`WorkloadTypes` of a plan whose placements have the types ``kind_of``."""
    n_w = len(pa.serve)
    held: list[dict[int, float]] = [{} for _ in range(n_w)]
    for p, (w, t) in enumerate(zip(pa.workload.tolist(), kind_of.tolist(), strict=True)):
        amount = float(pa.work_share[p]) if pa.serve[w] else 1.0
        held[w][t] = held[w].get(t, 0.0) + amount
    index: dict[tuple[object, ...], int] = {}
    of = np.empty(n_w, dtype=np.int64)
    for w in range(n_w):
        key = (
            bool(pa.serve[w]),
            float(pa.window_hours[w]),
            float(pa.deadline_hours[w]),
            pa.selects_workload[:, w].tobytes(),
            tuple(sorted(held[w].items())),
        )
        of[w] = index.setdefault(key, len(index))
    n_v = len(index)
    first = np.zeros(n_v, dtype=np.int64)
    first[of[::-1]] = np.arange(n_w)[::-1]  # the first member of each type
    rows, cols, values = [], [], []
    for v, w in enumerate(first.tolist()):
        for t, amount in held[w].items():
            rows.append(v)
            cols.append(t)
            values.append(amount)
    matrix = sparse.csr_array((values, (rows, cols)), shape=(n_v, n_t))
    serve = pa.serve[first][:, None]
    return WorkloadTypes(
        of=of,
        first=first,
        share=sparse.csr_array(matrix.multiply(serve)),
        count=sparse.csr_array(matrix.multiply(~serve)),
        members=np.bincount(of, minlength=n_v).astype(np.float64),
        spend_usd=np.bincount(of, weights=pa.spend_usd, minlength=n_v).astype(np.float64),
        weight=np.bincount(of, weights=pa.weight, minlength=n_v).astype(np.float64),
        types=tuple(np.array(sorted(held[w]), dtype=np.int64) for w in first.tolist()),
    )
