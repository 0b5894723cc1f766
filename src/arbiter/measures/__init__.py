"""Measures every engine shares: the tail of a distribution of costs (CVaR) and its
quantiles, each defined once (:mod:`arbiter.measures.tail`)."""

from __future__ import annotations

from arbiter.measures.tail import cvar, quantile

__all__ = ["cvar", "quantile"]
