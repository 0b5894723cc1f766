"""Deadline-aware spot execution: replay availability traces under a policy.

:mod:`~arbiter.spotsim.traces` reads traces, :mod:`~arbiter.spotsim.job` the job,
:mod:`~arbiter.spotsim.simulate` replays windows under the policies of
:mod:`~arbiter.spotsim.policies` and the hindsight optimum of
:mod:`~arbiter.spotsim.optimal`.
"""

from arbiter.spotsim.job import SpotJob, SpotOption, load_spot_job, parse_spot_job
from arbiter.spotsim.simulate import POLICIES, Outcomes, simulate, windows
from arbiter.spotsim.traces import Trace, read_trace, read_traces

__all__ = [
    "POLICIES",
    "Outcomes",
    "SpotJob",
    "SpotOption",
    "Trace",
    "load_spot_job",
    "parse_spot_job",
    "read_trace",
    "read_traces",
    "simulate",
    "windows",
]
