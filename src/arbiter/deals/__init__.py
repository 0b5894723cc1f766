"""Strategic deals: an investment in a lab tied to its committed spend on the investor's
chips.

- :func:`load_deal` / :func:`parse_deal`: a deal file (or its parsed data) as a domain
  :class:`~arbiter.domain.deal.Deal`, with the lab's procurement problem loaded from the
  file it references (format in :mod:`arbiter.deals.spec`).
"""

from __future__ import annotations

from arbiter.deals.loading import load_deal, parse_deal

__all__ = ["load_deal", "parse_deal"]
