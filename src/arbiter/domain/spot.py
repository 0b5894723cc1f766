"""How spot comes and goes at a place, and where a fleet says to measure it.

:class:`Availability` is what the planner prices a deadline job on spot from
(:mod:`arbiter.spotsim.outlook`); :class:`SpotSettings` is a fleet file's ``spot:`` key: the
outage to assume where nothing is measured, the traces to measure from, and, once the API
has read them, the availability they give each spot offer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Availability:
    """Spot at one place: ``interruptions_per_hour`` while spot can be had, and the mean
    hours of an outage, with what they rest on (``basis``: ``trace``, or the spot rate's
    basis) and its source and date."""

    interruptions_per_hour: float
    mean_outage_h: float
    basis: str
    source: str
    as_of: str

    @property
    def available_share(self) -> float:
        """Long-run share of the time spot can be had: ``1 / (1 + lambda W)``."""
        return 1.0 / (1.0 + self.interruptions_per_hour * self.mean_outage_h)


@dataclass(frozen=True, slots=True)
class SpotTraceSource:
    """One entry of ``spot.traces``: trace files (``path``, a file or folder, with an
    optional glob ``select`` over file stems) that measure spot for the spot offers of
    ``provider`` in ``region`` of an ``accelerator`` or an ``instance_type``."""

    path: str
    provider: str
    region: str
    accelerator: str | None = None
    instance_type: str | None = None
    select: str | None = None
    nodes: int = 1


@dataclass(frozen=True, slots=True)
class SpotSettings:
    """A fleet's ``spot:`` key. ``outage_hours`` (None: the default of
    :mod:`arbiter.spotsim.outlook`) is assumed where no trace measures spot; ``measured``
    holds, by offer id, the availability read from ``traces`` (set by the API)."""

    outage_hours: float | None = None
    traces: tuple[SpotTraceSource, ...] = ()
    measured: tuple[tuple[str, Availability], ...] = ()
