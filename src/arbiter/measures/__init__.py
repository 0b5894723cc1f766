"""Measures every engine shares: the tail of a distribution of costs (CVaR) and a
weighted quantile, each defined once (:mod:`arbiter.measures.tail`)."""

from __future__ import annotations

from arbiter.measures.tail import cvar, weighted_quantile

__all__ = ["cvar", "weighted_quantile"]
