"""Executors: run ``fn(context, item)`` over many items on local processes or on Ray.

Both satisfy :class:`arbiter.domain.executor.Executor` (the risk engine sees only that
protocol). Results come back in item order; the context is shipped to each worker once;
progress is reported in the caller's process; an exception raised by ``fn`` is re-raised
in the caller as the same type, the worker's traceback as its ``__cause__``.

- :class:`LocalExecutor` (``--engine local``, the default): with one worker, a plain loop
  in this process; otherwise a :class:`~concurrent.futures.ProcessPoolExecutor` whose
  initializer stores ``(fn, context)`` in each worker. Workers are started with the
  ``forkserver`` method (``spawn`` where that is missing), never ``fork``: the caller may
  have threads (HiGHS's pool after a solve, Ray's driver, a progress display), and a forked
  child inherits their locks held but not the threads that would release them.
- :class:`RayExecutor` (``--engine ray``, the ``ray`` extra): connects to a cluster, or
  starts a local instance, puts ``(fn, context)`` in the object store once, and runs one
  Ray task per item; each worker process fetches the context on its first item and keeps
  it for the rest.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import socket
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from arbiter.domain.errors import ArbiterError, InputError
from arbiter.domain.executor import C, ProgressFn, R, T

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

ENGINES = ("local", "ray")
MAX_DEFAULT_WORKERS = 32
"""The default worker count is the usable CPUs, at most this many."""

ADDRESS_PROBE_SECONDS = 5.0
"""How long to try a TCP connection to a Ray address before calling it unreachable."""

VALID_ADDRESSES = (
    '"auto" (the cluster this machine belongs to, started with `ray start`), '
    '"ray://HOST:10001" (Ray Client), "HOST:6379" (the head node\'s GCS address), '
    "or omit --address to start a local Ray instance"
)

RAY_MISSING = (
    "--engine ray needs Ray, which is not installed. Ray is an optional extra: install it "
    "with `pip install 'arbiter[ray]'` (or `pip install -e '.[ray]'` in a checkout), then "
    "run the command again; or drop --engine ray to use the local process pool."
)

# Per worker process: what the current map applies. Set once per worker (by the pool's
# initializer, or by a Ray worker's first item of a map), read for every item.
_WORKER_STATE: dict[str, Any] = {}


def default_workers() -> int:
    """The CPUs this process may use, at least 1 and at most ``MAX_DEFAULT_WORKERS``."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_DEFAULT_WORKERS))


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(
            f"the number of workers must be a whole number of at least 1, not {workers!r}",
            field="--workers",
            valid="1, 2, ... (omit it to use every CPU)",
        )
    return workers


class BaseExecutor(ABC):
    """An :class:`~arbiter.domain.executor.Executor` that is also a context manager."""

    name: str
    workers: int

    @abstractmethod
    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        """``[fn(context, item) for item in items]``, computed by the workers."""

    @abstractmethod
    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- local


def _main_imports() -> set[str]:
    """The modules of the functions, classes and modules in the main script's namespace."""
    main = sys.modules.get("__main__")
    if main is None:
        return set()
    names: set[str] = set()
    for value in vars(main).values():
        if isinstance(value, ModuleType):
            names.add(value.__name__)
        elif callable(value):
            module = getattr(value, "__module__", None)
            if isinstance(module, str):
                names.add(module)
    names.discard("builtins")
    return names


def _local_init(fn: Callable[[Any, Any], Any], context: Any) -> None:
    _WORKER_STATE["task"] = (fn, context)


def _local_run(item: Any) -> Any:
    fn, context = _WORKER_STATE["task"]
    return fn(context, item)


def _mp_context(fn: Callable[..., Any]) -> BaseContext:
    """``forkserver`` where there is one, else ``spawn``.

    The fork server preloads NumPy, this module, ``fn``'s module and the modules the main
    script took names from, so the workers forked from it need not import them again.
    (Python 3.11's fork server cannot preload the main module itself, so each worker still
    runs the main script; its imports are then already done.) As with any start method
    but ``fork``, a script that maps must guard its top level with
    ``if __name__ == "__main__":`` (console scripts such as ``arbiter`` do).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    modules = {"numpy", __name__, getattr(fn, "__module__", None), *_main_imports()}
    preload = sorted(m for m in modules if m and m != "__main__" and m in sys.modules)
    ctx.set_forkserver_preload(["__main__", *preload])  # takes effect once: at start
    return ctx


class LocalExecutor(BaseExecutor):
    """Runs items on this machine: in this process (one worker) or in a process pool."""

    def __init__(self, workers: int | None = None) -> None:
        self.name = "local"
        self.workers = _check_workers(workers)

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        total = len(items)
        if total == 0:
            return []
        if self.workers == 1:
            out: list[R] = []
            for item in items:
                out.append(fn(context, item))
                if progress is not None:
                    progress(len(out), total)
            return out
        results: dict[int, R] = {}
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, total),
            mp_context=_mp_context(fn),
            initializer=_local_init,
            initargs=(fn, context),
        )
        try:
            index: dict[Future[Any], int] = {
                pool.submit(_local_run, item): i for i, item in enumerate(items)
            }
            pending: set[Future[Any]] = set(index)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=index.__getitem__):
                    results[index[future]] = cast("R", future.result())
                    if progress is not None:
                        progress(len(results), total)
        finally:
            # On an error, drop the queued items; the running ones finish first.
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[i] for i in range(total)]

    def close(self) -> None:
        """Nothing to release: each map starts and stops its own pool."""


# --------------------------------------------------------------------------- ray


def _import_ray() -> ModuleType:
    """Ray, imported on first use (it is an optional extra and takes a second to import).

    Through importlib, so that type checking neither needs Ray nor reads all of it.
    """
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise InputError(RAY_MISSING, field="--engine", valid="local, ray") from err


def _ray_run(boxed: list[Any], item: Any) -> Any:
    """A Ray task: ``fn(context, item)``, fetching ``(fn, context)`` once per worker."""
    ref = boxed[0]  # boxed so that Ray passes the reference itself, not its value
    key = ref.hex()
    state = _WORKER_STATE.get("ray")
    if state is None or state[0] != key:
        state = (key, *_import_ray().get(ref))
        _WORKER_STATE["ray"] = state  # one map's context at a time
    _, fn, context = state
    return fn(context, item)


def _probe_address(address: str) -> None:
    """Fail fast on an unreachable address (Ray itself waits minutes for a GCS address)."""
    if address in {"auto", "local"}:
        return  # Ray resolves these itself, at once
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(
            f"{address!r} is not a Ray address", field="--address", valid=VALID_ADDRESSES
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), ADDRESS_PROBE_SECONDS).close()
    except OSError as err:
        raise InputError(
            f"cannot reach a Ray cluster at {address!r} ({err.strerror or err})",
            field="--address",
            valid=VALID_ADDRESSES,
        ) from err


class RayExecutor(BaseExecutor):
    """Runs items as Ray tasks on a cluster (``address``) or on a local Ray instance.

    With no ``address`` (or ``"local"``) and no Ray running in this process, a local
    instance is started with ``workers`` CPUs (default: all of them) and shut down by
    :meth:`close`. With an ``address``, ``workers`` (if given) caps how many items run at
    once on the cluster. If this process is already connected to Ray, that connection is
    used and left open. Each Ray worker keeps the context of the last map it ran until it
    runs another map's item or exits.
    """

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.name = "ray"
        if workers is not None:
            workers = _check_workers(workers)
        self._ray = _import_ray()
        ray = self._ray
        self._owns_ray = False
        self._closed = False
        local = address in {None, "local"}  # "local": a new instance even if RAY_ADDRESS is set
        if address is not None:
            _probe_address(address)
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    num_cpus=workers if local else None,
                    include_dashboard=False,
                    log_to_driver=False,
                    ignore_reinit_error=True,
                    configure_logging=False,
                )
            except (ConnectionError, ValueError, TimeoutError, RuntimeError) as err:
                if local:
                    raise ArbiterError(f"could not start a local Ray instance: {err}") from err
                raise InputError(
                    f"cannot connect to Ray at {address!r}: {err}",
                    field="--address",
                    valid=VALID_ADDRESSES,
                ) from err
            self._owns_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self.workers = workers if workers is not None else max(1, cpus)
        # A local instance we started has exactly `workers` CPUs; elsewhere an explicit
        # `workers` caps the items in flight.
        capped = workers is not None and not (self._owns_ray and local)
        self._max_in_flight = self.workers if capped else None
        self._remote: Any = None

    def map(
        self,
        fn: Callable[[C, T], R],
        context: C,
        items: Sequence[T],
        *,
        progress: ProgressFn | None = None,
    ) -> list[R]:
        if self._closed:
            raise RuntimeError("this RayExecutor is closed")
        total = len(items)
        if total == 0:
            return []
        ray = self._ray
        if self._remote is None:
            self._remote = ray.remote(num_cpus=1)(_ray_run)
        boxed = [ray.put((fn, context))]
        limit = total if self._max_in_flight is None else self._max_in_flight
        index: dict[Any, int] = {}
        pending: list[Any] = []
        submitted = 0

        def top_up() -> None:
            nonlocal submitted
            while submitted < total and len(pending) < limit:
                ref = self._remote.remote(boxed, items[submitted])
                index[ref] = submitted
                pending.append(ref)
                submitted += 1

        results: dict[int, R] = {}
        top_up()
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                if pending:  # everything else already finished, in one batch
                    more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                    ready += more
                for ref in sorted(ready, key=index.__getitem__):
                    results[index.pop(ref)] = cast("R", self._get(ref))
                    if progress is not None:
                        progress(len(results), total)
                top_up()
        finally:
            for ref in pending:  # after an error: stop what has not run
                with contextlib.suppress(Exception):
                    ray.cancel(ref)
        return [results[i] for i in range(total)]

    def _get(self, ref: Any) -> Any:
        """The value of a task, or the exception ``fn`` raised in the worker, as its type."""
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = err.cause
            if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
                raise cause from err
            raise

    def close(self) -> None:
        """Shut Ray down if this executor started it; otherwise leave it running."""
        if self._closed:
            return
        self._closed = True
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()


def executor_for(engine: str, *, workers: int | None, address: str | None) -> BaseExecutor:
    """The executor the CLI's ``--engine``, ``--workers`` and ``--address`` ask for."""
    name = engine.strip().lower()
    if name == "local":
        if address is not None:
            raise InputError(
                "--address names a Ray cluster, so it needs --engine ray",
                field="--address",
                valid="omit --address, or add --engine ray",
            )
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address=address, workers=workers)
    raise InputError(f"unknown engine {engine!r}", field="--engine", valid=", ".join(ENGINES))
