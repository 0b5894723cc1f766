"""What hours past a commitment's term cost: the fleet-wide ``pricing.after_term`` setting.

A reserved or committed offer is bought for its term (``term_months``; 12 or 36 months
for ``reserved_1y`` / ``reserved_3y``) and billed for the whole term even when the job is
shorter. A job longer than the term is not covered by it past the term; the hours after
it are priced as the fleet says:

- ``on_demand`` (the default): the term at the committed rate, then the remaining hours at
  the on-demand rate of the same instance type in the same provider and region, or, if
  that instance type has no on-demand price there, the cheapest on-demand price per chip
  of the same accelerator at the same provider and region. With neither, the offer is
  not offered for a job longer than its term.
- ``renew``: another whole term at the committed rate for each term started
  (a 3-month commitment for a 3.2-month job is two terms: 6 months paid).

Never the committed rate for a part of a term that was not bought.
"""

from __future__ import annotations

import enum


class AfterTerm(enum.StrEnum):
    ON_DEMAND = "on_demand"
    RENEW = "renew"
