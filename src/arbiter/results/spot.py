"""A deadline job replayed on spot availability traces (``arbiter spot simulate``;
:func:`arbiter.simulate_spot`): per execution policy, the cost over every trace window
(mean, P10, P90), the deadlines missed, the time to finish, the share of work on spot and
the switches, against all on-demand and against the hindsight optimum."""

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

FloatArray = npt.NDArray[np.float64]


class SpotOption(Result):
    """Another place the ``arbiter`` policy may move the job to: the traces its glob names
    (``"*_v100_1"``), their prices per chip-hour, the work per hour there relative to the
    reference chip and the hours a move costs on top of the restart."""

    traces: str
    spot_usd_per_hour: float
    on_demand_usd_per_hour: float
    speed: float
    move_h: float


class SpotJobSettings(Result):
    """The job as simulated: compute hours C, deadline D and the slack D - C, restart
    overhead d, checkpoint interval (``None``: progress kept), chips and the prices per
    chip-hour (the job pays ``chips`` times them)."""

    name: str
    compute_h: float
    deadline_h: float
    slack_h: float
    restart_h: float
    checkpoint_h: float | None
    chips: int
    on_demand_usd_per_hour: float
    spot_usd_per_hour: float
    options: Rows[SpotOption] = Field(default_factory=lambda: Rows(()))


class PolicyStats(Result):
    """One policy over every window: cost statistics, misses (windows that finished
    after the deadline), mean finish time, the share of compute done on spot, the mean
    number of switches (spot to on-demand, and moves; both ``None`` for the hindsight
    optimum, whose schedule is not kept), the saving of the mean cost
    against running on-demand throughout, and the mean of each window's cost divided by
    the hindsight optimum's on the same window."""

    windows: int
    mean_cost_usd: float
    p10_cost_usd: float
    p50_cost_usd: float
    p90_cost_usd: float
    misses: int
    miss_share: float
    mean_finish_h: float
    p90_finish_h: float
    spot_share: float | None
    mean_switches: float | None
    saving_vs_on_demand_share: float
    cost_vs_optimal: float


class TraceStats(Result):
    """One policy on the windows of one trace."""

    trace: str
    policy: str
    windows: int
    mean_cost_usd: float
    p10_cost_usd: float
    p90_cost_usd: float
    misses: int


class TraceInfo(Result):
    """A replayed trace: its name, region, chip, seconds between readings, length and
    the share of its readings with spot available."""

    name: str
    region: str
    chip: str
    gap_s: float
    hours: float
    availability_share: float


class SlackPoint(Result):
    """One policy's mean cost with the deadline set to ``deadline_over_compute`` x C."""

    deadline_over_compute: float
    deadline_h: float
    policy: str
    mean_cost_usd: float
    p10_cost_usd: float
    p90_cost_usd: float
    misses: int


@dataclass(frozen=True, slots=True)
class PolicyWindows:
    """One policy's outcome per window (the engine's arrays)."""

    trace: npt.NDArray[np.int64]
    start_h: FloatArray
    cost_usd: FloatArray
    finish_h: FloatArray
    missed: npt.NDArray[np.bool_]
    spot_share: FloatArray
    switches: npt.NDArray[np.int64]


class SpotWindows:
    """Every window of every policy, for analysts (``to_frame``: one row per window and
    policy, with the trace's name). Not part of the JSON document."""

    __slots__ = ("_names", "_policies")

    def __init__(self, policies: dict[str, PolicyWindows], trace_names: tuple[str, ...]) -> None:
        self._policies = policies
        self._names = trace_names

    def __getitem__(self, policy: str) -> PolicyWindows:
        return self._policies[policy]

    def __len__(self) -> int:
        return len(next(iter(self._policies.values())).cost_usd) if self._policies else 0

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(self._policies)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # noqa: PLC0415 - pandas is loaded when a frame is asked for

        columns = ("window", "policy", "trace", "start_h", "cost_usd", "finish_h", "missed",
                   "spot_share", "switches")  # fmt: skip
        if not self._policies:
            return pd.DataFrame(columns=list(columns))
        names = np.asarray(self._names, dtype=object)
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "window": np.arange(len(w.cost_usd)),
                        "policy": policy,
                        "trace": names[w.trace] if len(names) else w.trace,
                        "start_h": w.start_h,
                        "cost_usd": w.cost_usd,
                        "finish_h": w.finish_h,
                        "missed": w.missed,
                        "spot_share": w.spot_share,
                        "switches": w.switches,
                    }
                )
                for policy, w in self._policies.items()
            ],
            ignore_index=True,
        )


class SpotSimulation(Result):
    """A deadline job replayed on spot availability traces under each policy, over the
    same windows (trace and start time). ``windows`` holds every window's outcome (not
    serialised; the document's ``windows`` key is their number, ``window_count``)."""

    job: SpotJobSettings
    window_count: int = Field(alias="windows")
    seed: int
    nodes: int
    ones: str = "available"
    """What a 1 meant in the public 0/1 trace files read: ``available`` or ``unavailable``."""
    policies: dict[str, PolicyStats]
    per_trace: Rows[TraceStats]
    traces: Rows[TraceInfo]
    slack: Rows[SlackPoint] | None = None
    provenance: Provenance
    _windows: SpotWindows | None = PrivateAttr(default=None)

    def with_windows(self, windows: SpotWindows) -> SpotSimulation:
        self._windows = windows
        return self

    @property
    def windows(self) -> SpotWindows:
        """Every window of every policy (empty when the result was read from JSON)."""
        return self._windows if self._windows is not None else SpotWindows({}, ())
