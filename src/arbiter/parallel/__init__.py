"""Parallel execution of the risk engine's chunks: a local process pool or Ray.

The risk engine depends only on :class:`arbiter.domain.executor.Executor`; the CLI builds
one with :func:`executor_for` from ``--engine``, ``--workers`` and ``--address``.
"""

from arbiter.parallel.executors import (
    ENGINES,
    BaseExecutor,
    LocalExecutor,
    RayExecutor,
    default_workers,
    executor_for,
)

__all__ = [
    "ENGINES",
    "BaseExecutor",
    "LocalExecutor",
    "RayExecutor",
    "default_workers",
    "executor_for",
]
