"""A plan's exposure to shocks (``arbiter risk``; :func:`arbiter.risk`): concentration,
single points of failure, the cost of each plan under sampled scenarios, and the
optionality value of the diversified plan over the locked-in one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import Field, PrivateAttr

from arbiter.results.base import Result, Rows
from arbiter.results.provenance import Provenance

if TYPE_CHECKING:
    import pandas as pd


class Top(Result):
    """The largest name in a group and its share (empty when nothing is placed)."""

    name: str | None = None
    share: float | None = None


class SinglePoint(Result):
    """Work lost if one vendor, provider, region or platform disappeared, plan fixed."""

    group: str
    name: str
    unserved_share: float
    workloads_stopped: tuple[str, ...]
    workloads_hit: tuple[str, ...]


class Concentration(Result):
    """Shares and HHI by spend and by compute, per group."""

    shares: dict[str, dict[str, dict[str, float]]]
    hhi: dict[str, dict[str, float]]
    top: dict[str, Top]
    single_points_of_failure: Rows[SinglePoint]


class CostStats(Result):
    """Statistics of a plan's cost over the samples, and of unmet work."""

    mean_usd: float
    p50_usd: float
    p95_usd: float
    cvar95_usd: float
    unmet_demand_probability: float
    expected_unmet_share: float
    missed_deadline_probability: float | None = None


class PlanRisk(CostStats):
    """One plan under the scenarios: its own cost, the statistics (with re-planning when
    asked, and ``without_recourse``), its concentration."""

    plan_usd: float
    without_recourse: CostStats | None = None
    hhi: dict[str, float] | None = None
    top: dict[str, Top] | None = None


class Histogram(Result):
    edges_usd: tuple[float, ...]
    counts: dict[str, tuple[int, ...]]


class Optionality(Result):
    """What the diversified plan saves against the locked-in one on the same samples."""

    value_usd: float
    plan_difference_usd: float
    from_shocks_usd: float
    p5_usd: float
    p50_usd: float
    p95_usd: float
    cvar95_reduction_usd: float
    probability_it_pays: float


class ShockShown(Result):
    name: str
    kind: str
    probability: float


class ScenariosShown(Result):
    file: str
    penalty: float
    perf_error: bool
    shocks: Rows[ShockShown]


FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PlanSamplesView:
    """One plan's per-sample outcome (the headline: with re-planning when asked)."""

    cost_usd: FloatArray
    unmet_share: FloatArray
    missed_deadlines: npt.NDArray[np.int64]


class RiskSamples:
    """Every sample of every plan, for analysts (``to_frame``: one row per sample and
    plan). Not part of the JSON document."""

    __slots__ = ("_plans",)

    def __init__(self, plans: dict[str, PlanSamplesView]) -> None:
        self._plans = plans

    def __getitem__(self, plan: str) -> PlanSamplesView:
        return self._plans[plan]

    def __len__(self) -> int:
        return len(next(iter(self._plans.values())).cost_usd) if self._plans else 0

    @property
    def plans(self) -> tuple[str, ...]:
        return tuple(self._plans)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # noqa: PLC0415 - pandas is loaded when a frame is asked for

        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "sample": np.arange(len(s.cost_usd)),
                        "plan": name,
                        "cost_usd": s.cost_usd,
                        "unmet_share": s.unmet_share,
                        "missed_deadlines": s.missed_deadlines,
                    }
                )
                for name, s in self._plans.items()
            ],
            ignore_index=True,
        )


class RiskReport(Result):
    """How exposed a plan is, beside the locked-in status quo (and any saved plans) on
    the same samples. ``samples`` holds every sample (not serialised; the document's
    ``samples`` key is their number, ``sample_count``)."""

    sample_count: int = Field(alias="samples")
    seed: int
    engine: str
    workers: int
    recourse: bool
    scenarios: ScenariosShown
    concentration: Concentration
    plans: dict[str, PlanRisk]
    histogram: Histogram
    optionality_value_usd: float | None
    optionality: Optionality | None
    provenance: Provenance
    _samples: RiskSamples | None = PrivateAttr(default=None)

    def with_samples(self, samples: RiskSamples) -> RiskReport:
        self._samples = samples
        return self

    @property
    def samples(self) -> RiskSamples:
        """Every sample of every plan (empty when the report was read from JSON)."""
        return self._samples if self._samples is not None else RiskSamples({})
