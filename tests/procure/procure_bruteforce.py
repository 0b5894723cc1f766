"""An independent evaluation of small procurement problems with one class of work: every
first-stage decision (blocks of each product and start, platforms enabled) enumerated,
and the second stage in closed form.

The second stage of one class in one period is a fractional knapsack: each source of
work (the chip-hours of a commitment bought in some period, an on-demand offer, work left
undone) has a cost per unit of work, and the cheapest sources are taken first. A budget
limits on-demand spend only (committed chips are paid for while active whether used or
not), and the greedy order stays optimal under it when used committed hours cost nothing
extra (``resale_share`` 0): callers keep to that when they set a budget.

Nothing here calls the solver: it reads the model's inputs (prices, rates, demand,
discount factors) from :class:`~arbiter.procure.model.Data` and nothing else.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from arbiter.procure.model import Data, products

Decision = tuple[tuple[tuple[int, ...], ...], frozenset[str]]
"""Blocks (K x T, as nested tuples) and the pending platforms enabled."""


@dataclass(frozen=True)
class Brute:
    data: Data

    @property
    def pending(self) -> dict[str, float]:
        """Platforms not yet enabled -> their one-off cost."""
        return {
            s.platform.value: s.enable_usd for s in self.data.problem.platforms if not s.enabled
        }

    def discount(self, t: int) -> float:
        return self.data.problem.discount(t)

    def block_bounds(self) -> np.ndarray:
        """K x T: the most blocks of each product that can start in each period."""
        p, data = self.data.problem, self.data
        out = np.zeros((data.n_products, p.periods), dtype=int)
        for k, prod in enumerate(products(data)):
            assert prod.max_chips is not None, "enumeration needs max_chips"
            for t in range(p.periods):
                fits = p.salvage != "none" or t + prod.term_periods <= p.periods
                if data.available[k, t] and fits:
                    out[k, t] = prod.max_chips // prod.min_chips
        return out

    def decisions(self) -> Iterator[Decision]:
        bounds = self.block_bounds()
        n_products, periods = bounds.shape
        pending = sorted(self.pending)
        ranges = [range(int(b) + 1) for b in bounds.ravel()]
        for flat in itertools.product(*ranges):
            blocks = tuple(tuple(flat[k * periods : (k + 1) * periods]) for k in range(n_products))
            for on in itertools.product((False, True), repeat=len(pending)):
                enabled = frozenset(q for q, flag in zip(pending, on, strict=True) if flag)
                # blocks on a platform not enabled cannot be bought
                if any(
                    sum(blocks[k]) and self.data.resources[k].platform in self.pending
                    and self.data.resources[k].platform not in enabled
                    for k in range(n_products)
                ):  # fmt: skip
                    continue
                yield blocks, enabled

    # --- costs --------------------------------------------------------------------------

    def first_stage_usd(self, decision: Decision) -> float:
        """Commitments (paid inside the horizon, or for the whole term with ``full``; net
        of the resale of every active hour, which used hours give back) and ports."""
        blocks, enabled = decision
        p, data = self.data.problem, self.data
        hours, periods = p.period_hours, p.periods
        total = sum(self.pending[q] for q in enabled)
        for k, prod in enumerate(products(data)):
            for t0 in range(periods):
                n = blocks[k][t0]
                if not n:
                    continue
                chip_hours = n * prod.min_chips * hours
                usd = data.price[k, t0]
                inside = range(t0, min(periods, t0 + prod.term_periods))
                billed = range(t0, t0 + prod.term_periods) if p.salvage == "full" else inside
                pay = prod.upfront_share * len(billed) * self.discount(t0) + (
                    1 - prod.upfront_share
                ) * sum(self.discount(t) for t in billed)
                credit = prod.resale_share * sum(self.discount(t) for t in inside)
                total += chip_hours * usd * (pay - credit)
        return total

    def period_usd(self, decision: Decision, work: float, t: int) -> float | None:
        """The discounted cost of doing ``work`` units in period ``t`` (cheapest sources
        first); None when the committed spend alone breaks the budget."""
        blocks, enabled = decision
        p, data = self.data.problem, self.data
        n_products, period_hours = data.n_products, p.period_hours
        d = self.discount(t)
        sources = []  # (usd per unit of work, units available or inf, usd per chip-hour)
        committed_spend = 0.0
        for k, prod in enumerate(products(data)):
            rate = data.rate[0, k]
            for t0 in range(p.periods):
                if blocks[k][t0] and t0 <= t < t0 + prod.term_periods:
                    hours = blocks[k][t0] * prod.min_chips * period_hours
                    committed_spend += hours * data.price[k, t0]
                    if rate > 0:
                        used = prod.resale_share * data.price[k, t0] * d
                        sources.append((used / rate, hours * rate, 0.0))
        for o, res in enumerate(data.resources[n_products:], start=n_products):
            rate = data.rate[0, o]
            usable = res.platform not in self.pending or res.platform in enabled
            if rate > 0 and usable and data.available[o, t]:
                q = data.price[o, t]
                sources.append((q * d / rate, np.inf, q / rate))
        sources.append((data.unmet_usd[0, t] * d, np.inf, 0.0))
        budget = p.budget_per_period_usd
        room = np.inf if budget is None else budget - committed_spend
        if room < -1e-9 * max(1.0, committed_spend):
            return None
        cost, left = 0.0, work
        for usd_per_unit, units, spend_per_unit in sorted(sources, key=lambda x: x[0]):
            if left <= 0:
                break
            take = min(left, units)
            if spend_per_unit > 0:
                take = min(take, max(room, 0.0) / spend_per_unit)
                room -= take * spend_per_unit
            cost += take * usd_per_unit
            left -= take
        return cost

    def scenario_usd(self, decision: Decision, demand: np.ndarray) -> float | None:
        """Discounted cost of one scenario with work ``demand`` (T) under ``decision``."""
        total = self.first_stage_usd(decision)
        for t, work in enumerate(demand.tolist()):
            c = self.period_usd(decision, work, t)
            if c is None:
                return None
            total += c
        return total

    def expected_usd(self, decision: Decision, demand: np.ndarray, prob: np.ndarray) -> float:
        """Expected cost over scenarios (``demand`` S x T); inf if some scenario fails."""
        costs = [self.scenario_usd(decision, demand[s]) for s in range(len(prob))]
        if any(c is None for c in costs):
            return np.inf
        return float(np.dot(prob, np.array(costs, dtype=np.float64)))


@dataclass(frozen=True)
class Values:
    rp: float  # min over decisions of the expected cost
    ws: float  # expected value of each scenario's own best decision
    ev_best: float  # min over decisions of the cost under the expected demand


def values(brute: Brute) -> Values:
    """RP, WS and the EV problem's optimum, by enumeration."""
    data = brute.data
    prob = np.array([s.probability for s in data.problem.scenarios])
    demand = data.demand[0]  # S x T
    mean = prob @ demand
    rp, ev_best = np.inf, np.inf
    best_each = np.full(len(prob), np.inf)
    for decision in brute.decisions():
        rp = min(rp, brute.expected_usd(decision, demand, prob))
        ev_best = min(ev_best, brute.expected_usd(decision, mean[None, :], np.ones(1)))
        for s in range(len(prob)):
            c = brute.scenario_usd(decision, demand[s])
            if c is not None:
                best_each[s] = min(best_each[s], c)
    return Values(rp=rp, ws=float(prob @ best_each), ev_best=ev_best)


def decision_of(blocks: np.ndarray, enabled: tuple[str, ...]) -> Decision:
    """A solver's first stage as a :data:`Decision`."""
    rounded = np.round(blocks).astype(int)
    return tuple(tuple(int(v) for v in row) for row in rounded), frozenset(enabled)
