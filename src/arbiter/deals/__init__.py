"""Strategic deals: an investment in a lab tied to its committed spend on the investor's
chips.

- :func:`load_deal` / :func:`parse_deal`: a deal file (or its parsed data) as a domain
  :class:`~arbiter.domain.deal.Deal`, with the lab's procurement problem loaded from the
  file it references (format in :mod:`arbiter.deals.spec`);
- :mod:`arbiter.deals.model`: the deal as an extension of the procurement model (the
  formulation), :mod:`arbiter.deals.evaluate`: both sides solved and compared;
- :mod:`arbiter.deals.analysis`: break-evens and the tornado;
  :mod:`arbiter.deals.samples`: the deal's worth over sampled futures;
- :mod:`arbiter.deals.exposure`: spend, delivered compute, effective prices and lock-in
  per year; :mod:`arbiter.deals.report`: the whole evaluation as a document.
"""

from __future__ import annotations

from arbiter.deals.loading import load_deal, parse_deal

__all__ = ["load_deal", "parse_deal"]
