"""Work for the executor tests, at module level so that worker processes can import it.

It mirrors the risk engine: ``n`` samples cut into fixed-size chunks, chunk ``i`` drawing
from its own child of ``SeedSequence(seed)``, so a sample's value depends only on the seed
and its index, never on the engine or the worker count.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import highspy
import numpy as np

from arbiter.domain.errors import InfeasibleError

CHUNK = 7

Chunk = tuple[int, np.random.SeedSequence]


@dataclass(frozen=True)
class Context:
    """Stands in for the fleet and its options: what every chunk needs."""

    weights: np.ndarray
    offset: float
    token: str = "ctx"
    fail_chunk: int = -1
    extra: dict[str, int] = field(default_factory=dict)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (_revive, (self.weights, self.offset, self.token, self.fail_chunk, self.extra))


UNPICKLED: Counter[str] = Counter()
"""How often each context (by token) was unpickled in this process."""

LOCK = threading.Lock()
"""Held by the test process during a map: a forked worker would inherit it held."""


def _revive(*args: object) -> Context:
    ctx = Context(*args)  # type: ignore[arg-type]
    UNPICKLED[ctx.token] += 1
    return ctx


def make_context(token: str = "ctx", *, fail_chunk: int = -1) -> Context:
    weights = np.random.default_rng(12345).normal(size=(16, 3))
    return Context(weights=weights, offset=0.5, token=token, fail_chunk=fail_chunk)


def chunk_plan(n: int, seed: int, size: int = CHUNK) -> list[Chunk]:
    """``ceil(n / size)`` chunks of ``size`` samples (the last one shorter), one seed each."""
    k = math.ceil(n / size)
    children = np.random.SeedSequence(seed).spawn(k)
    return [(min(size, n - i * size), children[i]) for i in range(k)]


def evaluate_chunk(ctx: Context, chunk: Chunk) -> np.ndarray:
    """One value per sample of the chunk, from the chunk's own generator."""
    size, seed = chunk
    index = seed.spawn_key[-1]
    if index == ctx.fail_chunk:
        raise InfeasibleError(f"chunk {index} has no feasible plan")
    # Early chunks finish last, so completion order differs from item order.
    time.sleep(0.03 if index % 3 == 0 else 0.0)
    rng = np.random.default_rng(seed)
    draws = rng.normal(size=(size, ctx.weights.shape[0]))
    return draws @ ctx.weights + ctx.offset  # type: ignore[no-any-return]


def unpickle_count(ctx: Context, item: int) -> tuple[int, int]:
    """This worker's pid and how often it has unpickled this context."""
    time.sleep(0.01)
    return os.getpid(), UNPICKLED[ctx.token]


def under_lock(ctx: Context, item: int) -> int:
    """Takes the module's lock, which a worker forked from the test process would find held."""
    if not LOCK.acquire(timeout=5):
        raise RuntimeError("the worker inherited a held lock: it was forked from the caller")
    LOCK.release()
    return item


def solve_mip(ctx: object, seed: int) -> float:
    """A small knapsack-like MIP in HiGHS, whose solves start native threads."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = 30
    rng = np.random.default_rng(seed)
    cols = np.arange(n, dtype=np.int32)
    for _ in range(n):
        h.addVar(0.0, 10.0)
    h.changeColsIntegrality(n, cols, np.ones(n, dtype=np.uint8))
    h.changeColsCost(n, cols, -rng.random(n))
    for _ in range(15):
        h.addRow(-highspy.kHighsInf, 25.0, n, cols, rng.random(n))
    h.run()
    return float(h.getInfo().objective_function_value)
