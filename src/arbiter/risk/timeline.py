"""The time line of a sample: its hours cut where a shock starts or ends, each
placement's capacity, billed share and price on every segment (:class:`Timeline`), and a
job's run along it (:func:`job_run`). The rules are those of :mod:`arbiter.risk.impact`'s
docstring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arbiter.domain.scenario import ShockKind
from arbiter.domain.units import HOURS_PER_DAY
from arbiter.risk.plan_arrays import BoolArray, FloatArray
from arbiter.scenarios.sampling import Samples


def covered(
    start_days: FloatArray, duration_days: FloatArray, lo: FloatArray | float, hi: FloatArray
) -> FloatArray:
    """Days of ``[lo, hi]`` a shock ``[start, start + duration]`` covers, elementwise."""
    end = start_days + duration_days
    return np.asarray(
        np.clip(np.minimum(end, hi) - np.maximum(start_days, lo), 0.0, None), dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class Timeline:
    """Each sample's hours cut where a shock starts or ends: segment ``k`` runs from
    ``start[k]`` to ``end[k]`` (the last one to ``inf``); ``capacity`` is ``c_p``,
    ``price`` is ``M_p`` and ``billed`` is ``b_p M_p`` on each segment, ``P x K x n``
    (``price`` is ``1 x 1 x 1`` when no price shifts)."""

    start: FloatArray  # K x n
    end: FloatArray  # K x n
    capacity: FloatArray  # P x K x n: the share of the work rate left
    billed: FloatArray  # P x K x n: the share still there to be billed, at its price
    price: FloatArray  # P x K x n

    def columns(self, keep: BoolArray) -> Timeline:
        """The samples ``keep`` (``n``) only."""
        price = self.price if self.price.size == 1 else self.price[..., keep]
        return Timeline(
            self.start[:, keep],
            self.end[:, keep],
            self.capacity[..., keep],
            self.billed[..., keep],
            price,
        )

    def integral(self, f: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """The integral of ``f`` (``P x K x n``, >= 0) over ``[lo, hi]`` (``P x n``)."""
        return np.asarray(times(f, self.lengths(lo, hi)).sum(axis=1), dtype=np.float64)

    def lengths(self, lo: FloatArray, hi: FloatArray) -> FloatArray:
        """Hours of each segment inside ``[lo, hi]`` (``P x n``): ``P x K x n``."""
        return inside(np.maximum(self.start[None], lo[:, None, :]), self.end[None], hi)


def inside(a: FloatArray, end: FloatArray, hi: FloatArray) -> FloatArray:
    """Hours of segments from ``a`` to ``end`` (``P x K x n``) before ``hi`` (``P x n``)."""
    b = np.minimum(end, hi[:, None, :])
    with np.errstate(invalid="ignore"):  # inf - inf where b <= a, not kept
        return np.where(b > a, b - a, 0.0)


def times(f: FloatArray, hours: FloatArray) -> FloatArray:
    """``f * hours`` with ``0 * inf = 0``: nothing accrues on an endless segment at 0."""
    finite = np.isfinite(hours)
    return np.where(finite, f * np.where(finite, hours, 0.0), np.where(f > 0, np.inf, 0.0))


def timeline(
    kinds: Sequence[ShockKind],
    samples: Samples,
    selects: BoolArray,
    payg: BoolArray,
    surge_base: FloatArray,
) -> Timeline:
    """The capacity and price over time, for every sample, of placements (or options)
    ``P`` that each shock (of ``kinds``, ``S``) selects (``selects``, ``S x P``),
    pay-as-you-go or not, with their spot surge base ``r R`` (0 off spot); ``payg`` and
    ``surge_base`` are given per placement (``P``) or per placement and sample
    (``P x n``)."""
    loss, gone, shift = effects(kinds, samples.magnitude, payg, surge_base)
    sel = selects[:, :, None]
    spot = ShockKind.SPOT_SURGE in kinds  # the only shock whose loss is still billed
    priced = ShockKind.PRICE_SHIFT in kinds
    return cut(
        samples.occurred,
        samples.start_days * HOURS_PER_DAY,
        (samples.start_days + samples.duration_days) * HOURS_PER_DAY,
        np.where(sel, loss, 0.0),
        np.where(sel, gone, 0.0) if spot else None,
        np.where(sel, shift, 0.0) if priced else None,
    )


def effects(
    kinds: Sequence[ShockKind], magnitude: FloatArray, payg: BoolArray, surge_base: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """What each shock (``S``) does while active to each placement (``P``, with
    ``payg`` and ``surge_base`` per placement or per placement and sample) in each sample
    (``n``), ``S x P x n`` each: the capacity it takes, the part of that no longer there to
    be billed, and the price shift."""
    pay = payg[:, None] if payg.ndim == 1 else payg  # P x 1 or P x n
    base = surge_base[:, None] if surge_base.ndim == 1 else surge_base
    shape = (len(kinds), pay.shape[0], magnitude.shape[1])
    loss, gone, shift = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for s, kind in enumerate(kinds):
        mag = magnitude[s][None, :]
        if kind is ShockKind.SUPPLY_CUT:
            loss[s] = gone[s] = 1.0 - mag
        elif kind in (ShockKind.OUTAGE, ShockKind.ROADMAP_SLIP):
            loss[s] = gone[s] = 1.0
        elif kind is ShockKind.SPOT_SURGE:  # restarts are billed time
            m = np.maximum(mag, 1.0)
            loss[s] = np.where(base > 0, 1.0 - (1.0 + base) / (1.0 + m * base), 0.0)
        elif kind is ShockKind.PRICE_SHIFT:
            shift[s] = np.where(pay, mag - 1.0, 0.0)
    return loss, gone, shift


def cut(
    occurred: BoolArray,
    start_hours: FloatArray,
    end_hours: FloatArray,
    loss: FloatArray,
    gone: FloatArray | None,
    shift: FloatArray | None,
) -> Timeline:
    """The time line of shocks ``S`` (``S x n``: whether each occurred, its hours) doing
    ``loss``, ``gone`` and ``shift`` (``S x P x n``, from :func:`effects`; ``gone`` None
    when it is ``loss``, ``shift`` None when there is none) while active. The segments
    stop at the last cut of the sample with the most shocks: a shock that did not occur
    cuts nothing."""
    n = occurred.shape[1]
    start = np.where(occurred, start_hours, np.inf)
    end = np.where(occurred, end_hours, np.inf)
    # an inf cut (a shock that did not occur, or one to the end of the horizon) only
    # starts empty segments; those past every sample's last real cut are dropped
    keep = 1 + 2 * int(occurred.sum(axis=0).max(initial=0))
    cuts = np.sort(np.concatenate([np.zeros((1, n)), start, end]), axis=0)[:keep]  # K x n
    seg_end = np.concatenate([cuts[1:], np.full((1, n), np.inf)])
    on = occurred[:, None, :] & (start[:, None, :] <= cuts[None]) & (cuts[None] < end[:, None, :])

    def active(what: FloatArray) -> FloatArray:  # sum over shocks of what each does, P x K x n
        out = np.zeros((what.shape[1], keep, n))
        for s in range(len(what)):
            out += what[s][:, None, :] * on[s][None]
        return out

    capacity = 1.0 - np.minimum(active(loss), 1.0)
    paid = capacity if gone is None else 1.0 - np.minimum(active(gone), 1.0)
    if shift is None:
        return Timeline(cuts, seg_end, capacity, paid, np.ones((1, 1, 1)))
    price = np.maximum(1.0 + active(shift), 0.0)
    return Timeline(cuts, seg_end, capacity, paid * price, price)


def job_run(
    tl: Timeline, start: FloatArray, work: FloatArray, deadline: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For jobs started at ``start`` needing ``work`` hours of full capacity, stopped at
    ``deadline`` (each ``P x n``, or broadcasting to it): the work done by the deadline and
    the hour they stop (at the finish or the deadline, whichever comes first; without
    either, at the end of their last hour of work), each ``P x n``, and the hours of each
    segment they hold the placement in, ``P x K x n``."""
    lo = np.broadcast_to(start, work.shape)
    begin = np.maximum(tl.start[None], lo[:, None, :])  # P x K x n
    end = tl.end[None]
    with np.errstate(invalid="ignore"):  # inf - inf where a segment is empty, not kept
        seg = np.where(end > begin, end - begin, 0.0)  # hours of each segment from lo on
    cap = tl.capacity
    done = times(cap, seg)  # work done in each segment
    before = np.zeros_like(done)  # work done before each segment (an inf minus inf is nan)
    np.cumsum(done[:, :-1], axis=1, out=before[:, 1:])
    need = work[:, None, :]
    ends = (cap > 0) & (before < need) & (before + done >= need)
    with np.errstate(invalid="ignore"):
        at = begin + np.where(ends, need - before, 0.0) / np.where(cap > 0, cap, 1.0)
    finish = np.where(ends, at, np.inf).min(axis=1)
    last = np.where((cap > 0) & (seg > 0), begin + seg, lo[:, None, :]).max(axis=1)
    stop = np.minimum(finish, deadline)
    stop = np.maximum(np.where(np.isfinite(stop), stop, last), lo)
    due = np.maximum(np.broadcast_to(deadline, work.shape), lo)
    by_deadline = np.minimum(times(cap, inside(begin, end, due)).sum(axis=1), work)
    return by_deadline, stop, inside(begin, end, stop)
