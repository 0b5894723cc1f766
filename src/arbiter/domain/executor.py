"""The executor interface: apply one function to many items, on one machine or a cluster.

The risk engine evaluates thousands of Monte Carlo samples in fixed-size chunks, each chunk
with its own spawned seed, so its results do not depend on which executor runs the chunks
or on how many workers it has. It receives an :class:`Executor` and never imports the
implementations (``arbiter.parallel``: a local process pool and Ray), which sit above it.

The contract of :meth:`Executor.map`:

- ``fn(context, item)`` is applied to every item; the results come back in item order,
  whatever order the items finished in;
- ``context`` (which may be large: a fleet and thousands of options) is shipped to each
  worker once, not once per item; ``fn`` and ``context`` must be picklable, and ``fn`` is
  a module-level function so that workers can import it;
- ``progress(done, total)``, if given, is called in the caller's process (and thread) as
  items complete, with ``done`` increasing and ending at ``total``;
- an exception raised by ``fn`` stops the map and is re-raised in the caller as the same
  exception type, with the worker's traceback attached as its ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: called in the caller's process as items complete."""


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn(context, item)`` over items; see the module docstring for the contract."""

    name: str
    """``"local"`` or ``"ray"``."""
    workers: int
    """How many items can run at once."""

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """``[fn(context, item) for item in items]``, computed by the workers."""
        ...

    def close(self) -> None:
        """Release the workers; the executor may not be used afterwards."""
        ...


def map_items(
    executor: Executor | None,
    fn: Callable[[C, T], R],
    context: C,
    items: Sequence[T],
    *,
    progress: ProgressFn | None = None,
) -> list[R]:
    """``executor.map`` under the same contract, or in this process when ``executor`` is
    ``None``."""
    if executor is not None:
        return executor.map(fn, context, items, progress=progress)
    out: list[R] = []
    for item in items:
        out.append(fn(context, item))
        if progress is not None:
            progress(len(out), len(items))
    return out
