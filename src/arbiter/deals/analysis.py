"""What moves a deal's worth: break-even points and a sensitivity table (tornado).

Both re-solve the two sides many times, so they take the fast settings: fractional
commitment blocks, a 0.1% MIP gap, and the port's efficiency fixed at its mean (the
efficiency break-even and the efficiency bar of the tornado vary it). Worth is the NPV
(expected, in today's dollars) of taking the deal.

**Break-evens** scan a grid of one input with the others at their base values and
interpolate linearly between the two grid points around the change of sign nearest the
base value:

- ``demand_scale``: every class's demand times the scale (1 = the procurement file's);
- ``efficiency``: the share of the estimated performance the port achieves (the
  performance shortfall is 1 minus it);
- ``discount``: the deal's discount off list on covered chips.

**Tornado**: each uncertain input at a low and a high value, the others at base; bars
sorted by their swing. The inputs: demand (x0.7, x1.3), the port's efficiency (its 10th
and 90th percentiles, or -/+10% when fixed), covered list prices and other prices (x0.8,
x1.2), the probabilistic tranches (none paid, all paid), the equity haircut (0, and
halfway to 1), and the discount rate (-/+5 points).

Every solve is one item for an :class:`~arbiter.domain.executor.Executor`; the no-deal
side is solved once per distinct setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from arbiter.deals.evaluate import Settings, prepared, solve_side
from arbiter.deals.model import discounted
from arbiter.domain.deal import Deal
from arbiter.domain.executor import Executor, ProgressFn, map_items
from arbiter.measures import cvar
from arbiter.procure.model import Data
from arbiter.scenarios.distributions import ppf

FAST = Settings(whole_blocks=False, mip_gap=1e-3)
DEMAND_GRID = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
EFFICIENCY_GRID = (1.0, 0.9, 0.75, 0.6, 0.45, 0.3)
DISCOUNT_STEPS = 6


@dataclass(frozen=True, slots=True)
class Task:
    """Solve one side: the deal's (``with_deal``) or the lab's alone, for ``deal`` (a
    variant of the evaluated one) under ``settings``."""

    deal: Deal
    settings: Settings
    with_deal: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    expected_usd: float
    objective_usd: float


def run_task(base: Data, task: Task) -> Outcome:
    """Solve ``task`` on ``base`` (an executor's item function)."""
    data = prepared(base, task.deal, task.settings)
    if task.with_deal:
        side = solve_side(
            discounted(data, task.deal, task.settings.discount), task.deal, task.settings
        )
    else:
        side = solve_side(data, None, task.settings)
    prob = side.probability
    expected = float(prob @ side.net_usd)
    tail = cvar(side.net_usd, data.problem.cvar_level, prob)
    return Outcome(expected, expected + data.problem.risk_weight * tail)


def _key(task: Task) -> Any:
    """Tasks with equal keys have equal outcomes: the no-deal side ignores the deal's
    terms other than its rate and port."""
    if task.with_deal:
        return ("with", id(task.deal), task.settings)
    return ("without", task.deal.discount_rate, replace(task.settings, discount=None))


class Batch:
    """Collects the tasks of many comparisons, runs each distinct one once, and answers
    the NPV of each comparison."""

    def __init__(self) -> None:
        self.tasks: dict[Any, Task] = {}
        self.outcomes: dict[Any, Outcome] = {}
        self._deals: list[Deal] = []  # keep variants alive so that their ids stay unique

    def add(self, deal: Deal, settings: Settings) -> tuple[Any, Any]:
        self._deals.append(deal)
        keys = []
        for with_deal in (False, True):
            task = Task(deal=deal, settings=settings, with_deal=with_deal)
            key = _key(task)
            self.tasks.setdefault(key, task)
            keys.append(key)
        return keys[0], keys[1]

    def run(self, base: Data, executor: Executor | None, progress: ProgressFn | None) -> None:
        keys = list(self.tasks)
        items = [self.tasks[k] for k in keys]
        results = map_items(executor, run_task, base, items, progress=progress)
        self.outcomes = dict(zip(keys, results, strict=True))

    def npv(self, pair: tuple[Any, Any]) -> float:
        return self.outcomes[pair[0]].expected_usd - self.outcomes[pair[1]].expected_usd


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Where the deal's NPV changes sign along one input: ``value`` (interpolated; None
    when it keeps one sign over the grid), between grid points ``bracket``, and the
    scanned ``grid`` with its NPVs."""

    name: str
    base: float
    value: float | None
    bracket: tuple[float, float] | None
    pays_above: bool | None  # the deal pays above value (True) or below it (False)
    grid: tuple[float, ...]
    npv_usd: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.name,
            "base": self.base,
            "break_even": self.value,
            "bracket": None if self.bracket is None else list(self.bracket),
            "pays_above": self.pays_above,
            "grid": list(self.grid),
            "npv_usd": list(self.npv_usd),
        }


def crossing(name: str, base: float, grid: tuple[float, ...], npv: list[float]) -> BreakEven:
    """The change of sign of ``npv`` over ``grid`` nearest ``base``."""
    order = np.argsort(grid)
    xs = [grid[i] for i in order]
    ys = [npv[i] for i in order]
    best: tuple[float, float, float, bool] | None = None
    for i in range(len(xs) - 1):
        y0, y1 = ys[i], ys[i + 1]
        if (y0 >= 0) == (y1 >= 0):
            continue
        x = xs[i] + (xs[i + 1] - xs[i]) * y0 / (y0 - y1)
        if best is None or abs(x - base) < abs(best[0] - base):
            best = (x, xs[i], xs[i + 1], y1 >= 0)
    ordered_npv = tuple(float(y) for y in ys)
    if best is None:
        return BreakEven(name, base, None, None, None, tuple(xs), ordered_npv)
    x, lo, hi, above = best
    return BreakEven(name, base, float(x), (lo, hi), above, tuple(xs), ordered_npv)


@dataclass(frozen=True, slots=True)
class Bar:
    """One input of the tornado: NPV at its ``low`` and ``high`` values."""

    name: str
    low: str
    high: str
    npv_low_usd: float
    npv_high_usd: float

    @property
    def swing_usd(self) -> float:
        return abs(self.npv_high_usd - self.npv_low_usd)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.name,
            "low": self.low,
            "high": self.high,
            "npv_low_usd": self.npv_low_usd,
            "npv_high_usd": self.npv_high_usd,
            "swing_usd": self.swing_usd,
        }


@dataclass(frozen=True, slots=True)
class Sensitivity:
    base_npv_usd: float
    base_efficiency: float
    break_evens: tuple[BreakEven, ...]
    tornado: tuple[Bar, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "settings": "fractional blocks, 0.1% MIP gap, port efficiency at its mean",
            "base_npv_usd": self.base_npv_usd,
            "base_efficiency": self.base_efficiency,
            "break_evens": [b.as_dict() for b in self.break_evens],
            "tornado": [b.as_dict() for b in self.tornado],
        }


def _variants(
    deal: Deal, eff: float
) -> list[tuple[str, tuple[str, Deal, Settings], tuple[str, Deal, Settings]]]:
    """(input, (low label, deal, settings), (high label, deal, settings)) per tornado bar."""
    base = replace(FAST, efficiency=eff)
    out = [
        ("demand", ("x0.7", deal, replace(base, demand_scale=0.7)),
         ("x1.3", deal, replace(base, demand_scale=1.3))),
    ]  # fmt: skip
    if deal.porting is not None:
        dist = deal.porting.efficiency
        if dist.kind == "fixed":
            lo, hi = eff * 0.9, eff * 1.1
        else:
            lo, hi = (float(v) for v in ppf(dist, np.array([0.1, 0.9])))
        out.append(
            ("port efficiency", (f"{lo:.2f}", deal, replace(base, efficiency=lo)),
             (f"{hi:.2f}", deal, replace(base, efficiency=hi)))
        )  # fmt: skip
    out += [
        ("covered list prices", ("x0.8", deal, replace(base, covered_price=0.8)),
         ("x1.2", deal, replace(base, covered_price=1.2))),
        ("other prices", ("x0.8", deal, replace(base, other_price=0.8)),
         ("x1.2", deal, replace(base, other_price=1.2))),
    ]  # fmt: skip
    uncertain = [t for t in deal.tranches if t.probability < 1]
    if uncertain:
        none = replace(deal, tranches=tuple(t for t in deal.tranches if t.probability >= 1))
        every = replace(deal, tranches=tuple(replace(t, probability=1.0) for t in deal.tranches))
        out.append(("conditional tranches", ("none paid", none, base), ("all paid", every, base)))
    if any(t.kind == "equity" for t in deal.tranches):
        h = deal.equity_haircut
        high = h + (1 - h) / 2
        out.append(
            ("equity haircut", ("0%", replace(deal, equity_haircut=0.0), base),
             (f"{high:.0%}", replace(deal, equity_haircut=high), base))
        )  # fmt: skip
    r = deal.discount_rate
    low_r = max(0.0, r - 0.05)
    out.append(
        ("discount rate", (f"{low_r:.0%}", replace(deal, discount_rate=low_r), base),
         (f"{r + 0.05:.0%}", replace(deal, discount_rate=r + 0.05), base))
    )  # fmt: skip
    return out


def mean_efficiency(deal: Deal) -> float:
    return 1.0 if deal.porting is None else deal.porting.efficiency.mean


def sensitivity(
    deal: Deal,
    base: Data,
    *,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> Sensitivity:
    """Break-evens and the tornado of ``deal`` (module docstring)."""
    eff = mean_efficiency(deal)
    plain = replace(FAST, efficiency=eff)
    batch = Batch()
    centre = batch.add(deal, plain)
    demand = [batch.add(deal, replace(plain, demand_scale=x)) for x in DEMAND_GRID]
    eff_grid = tuple(sorted({*EFFICIENCY_GRID, round(eff, 4)}, reverse=True))
    effs = [batch.add(deal, replace(plain, efficiency=x)) for x in eff_grid]
    top = max(0.5, min(1.0, 2 * deal.discount))
    disc_grid = tuple(
        sorted({*(top * i / DISCOUNT_STEPS for i in range(DISCOUNT_STEPS + 1)), deal.discount})
    )
    discs = [batch.add(deal, replace(plain, discount=x)) for x in disc_grid]
    bars = []
    for name, (lo_label, lo_deal, lo_set), (hi_label, hi_deal, hi_set) in _variants(deal, eff):
        bars.append(
            (name, lo_label, batch.add(lo_deal, lo_set), hi_label, batch.add(hi_deal, hi_set))
        )
    batch.run(base, executor, progress)
    npv: Callable[[tuple[Any, Any]], float] = batch.npv
    break_evens = (
        crossing("demand_scale", 1.0, DEMAND_GRID, [npv(k) for k in demand]),
        crossing("efficiency", eff, eff_grid, [npv(k) for k in effs]),
        crossing("discount", deal.discount, disc_grid, [npv(k) for k in discs]),
    )
    tornado = sorted(
        (Bar(name, lo, hi, npv(lo_key), npv(hi_key)) for name, lo, lo_key, hi, hi_key in bars),
        key=lambda b: -b.swing_usd,
    )
    return Sensitivity(
        base_npv_usd=npv(centre),
        base_efficiency=eff,
        break_evens=break_evens,
        tornado=tuple(tornado),
    )
