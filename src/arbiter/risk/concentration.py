"""How concentrated a plan is: shares and HHI by vendor, provider, region and software
platform, by spend and by delivered compute, and the single points of failure.

Delivered compute of a placement is its chip-hours times the chip's dense BF16 peak
(PFLOP-hours): a common yardstick across vendors, not a throughput estimate.

A single point of failure is a vendor, provider or provider/region whose disappearance,
with the plan unable to move, leaves work undone. Its ``unserved_share`` is the share of
the plan's work lost, each workload weighted by its share of compute spend: a service
loses the share of its rate served there, a train/finetune/batch job placed there stops.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arbiter.domain.accelerator import Accelerator
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.optimize.fleet import Placed, group_of
from arbiter.optimize.plan import hhi

CONCENTRATION_GROUPS = (*GROUPS, "platform")
STOPPED = 0.999  # a workload losing at least this share of its work is stopped


def member(p: Placed, group: str) -> str:
    """The vendor, provider, provider/region or platform a placement belongs to."""
    if group == "platform":
        return p.option.estimate.platform
    return group_of(p.option, group)


def pflop_hours(p: Placed, accelerators: Mapping[str, Accelerator]) -> float:
    """Chip-hours of the placement times the chip's dense BF16 peak, in PFLOP-hours."""
    acc = accelerators[p.option.offer.accelerator]
    return p.units * p.option.chips * p.option.hours * acc.bf16_tflops / 1000.0


def work_shares(placed: Sequence[Placed]) -> list[float]:
    """Each placement's share of its workload's work: the share of a service's
    throughput it carries, or 1 for the one placement of a train/batch job."""
    tokens: dict[int, float] = defaultdict(float)
    for p in placed:
        tokens[p.option.workload] += _capacity(p)
    return [
        _capacity(p) / tokens[p.option.workload] if tokens[p.option.workload] else 1.0
        for p in placed
    ]


def _capacity(p: Placed) -> float:
    return p.units * p.option.tokens_per_s if p.option.serve else 1.0


def spend_weights(placed: Sequence[Placed]) -> dict[int, float]:
    """Each workload's share of the plan's compute spend."""
    spend: dict[int, float] = defaultdict(float)
    for p in placed:
        spend[p.option.workload] += p.usd
    total = sum(spend.values())
    return {w: (usd / total if total else 0.0) for w, usd in spend.items()}


@dataclass(frozen=True, slots=True)
class SinglePoint:
    group: str
    name: str
    unserved_share: float
    workloads_stopped: tuple[str, ...]
    workloads_hit: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Concentration:
    shares: dict[str, dict[str, dict[str, float]]]  # basis -> group -> member -> share
    hhi: dict[str, dict[str, float]]  # basis -> group -> HHI
    top: dict[str, dict[str, Any]]  # group -> {name, share} by spend
    single_points_of_failure: tuple[SinglePoint, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "shares": self.shares,
            "hhi": self.hhi,
            "top": self.top,
            "single_points_of_failure": [
                {
                    "group": s.group,
                    "name": s.name,
                    "unserved_share": s.unserved_share,
                    "workloads_stopped": list(s.workloads_stopped),
                    "workloads_hit": list(s.workloads_hit),
                }
                for s in self.single_points_of_failure
            ],
        }


def concentration(
    fleet: Fleet, placed: Sequence[Placed], accelerators: Mapping[str, Accelerator]
) -> Concentration:
    """The concentration of the plan ``placed`` (see the module docstring)."""
    basis = {
        "spend": [p.usd for p in placed],
        "compute": [pflop_hours(p, accelerators) for p in placed],
    }
    shares: dict[str, dict[str, dict[str, float]]] = {}
    for name, amounts in basis.items():
        total = sum(amounts)
        shares[name] = {}
        for group in CONCENTRATION_GROUPS:
            by: dict[str, float] = defaultdict(float)
            for p, amount in zip(placed, amounts, strict=True):
                by[member(p, group)] += amount
            shares[name][group] = {k: (v / total if total else 0.0) for k, v in sorted(by.items())}
    top = {}
    for group in CONCENTRATION_GROUPS:
        ranked = sorted(shares["spend"][group].items(), key=lambda kv: (-kv[1], kv[0]))
        top[group] = {"name": ranked[0][0], "share": ranked[0][1]} if ranked else {}
    return Concentration(
        shares=shares,
        hhi={b: {g: hhi(shares[b][g]) for g in CONCENTRATION_GROUPS} for b in basis},
        top=top,
        single_points_of_failure=_single_points(fleet, placed),
    )


def _single_points(fleet: Fleet, placed: Sequence[Placed]) -> tuple[SinglePoint, ...]:
    share = work_shares(placed)
    weight = spend_weights(placed)
    out = []
    for group in GROUPS:
        lost: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for p, s in zip(placed, share, strict=True):
            lost[member(p, group)][p.option.workload] += s
        for name, by_workload in lost.items():
            names = {w: fleet.workloads[w].name for w in by_workload}
            out.append(
                SinglePoint(
                    group=group,
                    name=name,
                    unserved_share=sum(weight.get(w, 0.0) * f for w, f in by_workload.items()),
                    workloads_stopped=tuple(
                        sorted(names[w] for w, f in by_workload.items() if f >= STOPPED)
                    ),
                    workloads_hit=tuple(sorted(names.values())),
                )
            )
    out.sort(key=lambda s: (-s.unserved_share, s.group, s.name))
    return tuple(out)
