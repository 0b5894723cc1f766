"""What a job costs per chip on each offer, a commitment covering only its term.

For ``hours`` of use of an offer at ``p`` USD per chip-hour (``docs/price-regimes.md``,
"Hours past the term"):

- pay-as-you-go (``on_demand``, ``spot``): ``p * hours``;
- ``capacity_block``: ``p * 24 * ceil(hours / 24)`` (whole days booked);
- ``reserved_*`` / ``committed`` with a term of ``T`` hours: ``p * T`` when
  ``hours <= T`` (the whole term, whatever the job uses of it); past the term, with
  ``after_term`` = ``renew``, ``p * T * ceil(hours / T)`` (whole terms), and with
  ``on_demand``, ``p * T + q * (hours - T)`` where ``q`` is the on-demand price per
  chip-hour of :func:`remainder_prices`. Without such a price the cost is infinite:
  the offer is ruled out for a job longer than its term.

Hours paid (:meth:`TermBilling.billed`) are ``hours`` (pay-as-you-go), whole days
(blocks), ``max(T, hours)`` (``on_demand`` after the term) or whole terms (``renew``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from arbiter.domain.after_term import AfterTerm
from arbiter.domain.offer import PAY_AS_YOU_GO, Offer, PriceRegime
from arbiter.domain.units import HOURS_PER_DAY, HOURS_PER_MONTH

FloatArray = npt.NDArray[np.float64]

TERM_MONTHS_DEFAULT = {PriceRegime.RESERVED_1Y: 12, PriceRegime.RESERVED_3Y: 36}
_SLACK = 1e-9  # a job of exactly one term is one term, whatever the rounding


def term_hours(offer: Offer) -> float:
    """The hours a reserved or committed offer's term covers (12 months if unstated)."""
    months = offer.term_months or TERM_MONTHS_DEFAULT.get(offer.price_regime, 12)
    return months * HOURS_PER_MONTH


def terms_started(hours: FloatArray | float, term: FloatArray | float) -> FloatArray:
    """Whole terms a job of ``hours`` needs (at least one)."""
    ratio = np.asarray(hours, dtype=np.float64) / np.asarray(term, dtype=np.float64)
    return np.maximum(np.ceil(ratio - _SLACK), 1.0)


def remainder_prices(offers: Sequence[Offer]) -> FloatArray:
    """Per offer, the on-demand USD per chip-hour for hours past its term: the on-demand
    offer of the same provider, region and instance type, else the cheapest on-demand
    offer per chip of the same provider, region and accelerator; NaN when there is none
    (and for offers without a term)."""
    same_instance: dict[tuple[str, str, str], float] = {}
    cheapest: dict[tuple[str, str, str], float] = {}
    for o in offers:
        if o.price_regime is not PriceRegime.ON_DEMAND:
            continue
        price = o.usd_per_accelerator_hour
        key = (o.provider, o.region, o.instance_type)
        same_instance[key] = min(price, same_instance.get(key, math.inf))
        place = (o.provider, o.region, o.accelerator)
        cheapest[place] = min(price, cheapest.get(place, math.inf))
    out = np.full(len(offers), np.nan)
    for i, o in enumerate(offers):
        if o.price_regime in PAY_AS_YOU_GO or o.price_regime is PriceRegime.CAPACITY_BLOCK:
            continue
        found = same_instance.get((o.provider, o.region, o.instance_type))
        if found is None:
            found = cheapest.get((o.provider, o.region, o.accelerator))
        if found is not None:
            out[i] = found
    return out


class TermBilling:
    """The billing rule of a list of offers as arrays (offers along the first axis)."""

    def __init__(self, offers: Sequence[Offer], after_term: AfterTerm) -> None:
        regime = [o.price_regime for o in offers]
        self.payg = np.array([r in PAY_AS_YOU_GO for r in regime], dtype=bool)
        self.block = np.array([r is PriceRegime.CAPACITY_BLOCK for r in regime], dtype=bool)
        self.term = np.array([term_hours(o) for o in offers], dtype=np.float64)
        self.price = np.array([o.usd_per_accelerator_hour for o in offers], dtype=np.float64)
        self.renew = after_term is AfterTerm.RENEW
        self.remainder = remainder_prices(offers)

    def _shaped(self, a: FloatArray, hours: FloatArray) -> FloatArray:
        return a.reshape((-1,) + (1,) * (np.ndim(hours) - 1))

    def billed(self, hours: FloatArray) -> FloatArray:
        """Hours paid for ``hours`` of use."""
        payg, block = self._shaped(self.payg, hours), self._shaped(self.block, hours)
        term = self._shaped(self.term, hours)
        committed = term * terms_started(hours, term) if self.renew else np.maximum(term, hours)
        return np.where(
            payg, hours, np.where(block, np.ceil(hours / HOURS_PER_DAY) * HOURS_PER_DAY, committed)
        )

    def usd_per_chip(self, hours: FloatArray) -> FloatArray:
        """USD per chip for ``hours`` of use (infinite where the offer is ruled out)."""
        price, term = self._shaped(self.price, hours), self._shaped(self.term, hours)
        paid = self.billed(hours)
        if self.renew:
            return price * paid
        committed = self._shaped(~(self.payg | self.block), hours)
        extra = np.where(committed, np.maximum(hours - term, 0.0), 0.0)
        past = extra > _SLACK * term
        remainder = self._shaped(self.remainder, hours)
        extra_usd = np.where(past, np.where(np.isnan(remainder), np.inf, remainder * extra), 0.0)
        return np.where(committed, price * np.minimum(paid, term) + extra_usd, price * paid)
