"""The Ray engine on a local Ray instance (two CPUs), shared by the whole module.

Ray is the ``ray`` extra, which ``make test`` installs: there these tests always run. Where
Ray is missing they are skipped, except under CI, where that is an error.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from parallel_helpers import chunk_plan, evaluate_chunk, make_context, unpickle_count

from arbiter.domain.errors import InfeasibleError, InputError
from arbiter.domain.executor import Executor
from arbiter.parallel import LocalExecutor, RayExecutor, executor_for

if importlib.util.find_spec("ray") is None and not os.environ.get("CI"):
    pytest.skip("Ray is not installed: pip install -e '.[ray]'", allow_module_level=True)

import ray  # after the skip: under CI a missing Ray fails here

pytestmark = pytest.mark.ray

SEED = 20261129
N = 60


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    """One local Ray instance for the module, started and stopped by a RayExecutor."""
    assert not ray.is_initialized()
    # Ray's workers import the test helpers by name, like the risk engine's chunk function.
    path = os.pathsep.join(
        p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", path)
        started = time.perf_counter()
        executor = RayExecutor(workers=2)
        print(f"local Ray instance started in {time.perf_counter() - started:.1f} s")
    try:
        yield executor
    finally:
        executor.close()
        assert not ray.is_initialized()  # it started Ray, so it stopped it


def test_a_local_instance_has_the_workers_asked_for(ray_executor):
    assert isinstance(ray_executor, Executor)
    assert (ray_executor.name, ray_executor.workers) == ("ray", 2)
    assert ray.cluster_resources()["CPU"] == 2


def test_ray_local_and_serial_give_identical_results_in_item_order(ray_executor):
    ctx, chunks = make_context(), chunk_plan(N, SEED)
    on_ray = ray_executor.map(evaluate_chunk, ctx, chunks)
    serial = LocalExecutor(1).map(evaluate_chunk, ctx, chunks)
    pooled = LocalExecutor(2).map(evaluate_chunk, ctx, chunks)
    assert [len(p) for p in on_ray] == [len(p) for p in serial]
    for r, s, p in zip(on_ray, serial, pooled, strict=True):
        assert np.array_equal(r, s)
        assert np.array_equal(p, s)


def test_progress_counts_up_to_the_total_in_the_caller(ray_executor):
    calls: list[tuple[int, int]] = []
    chunks = chunk_plan(N, SEED)
    ray_executor.map(
        evaluate_chunk, make_context(), chunks, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(i, len(chunks)) for i in range(1, len(chunks) + 1)]


def test_an_error_in_fn_comes_back_as_its_own_type(ray_executor):
    with pytest.raises(InfeasibleError, match="chunk 4 has no feasible plan") as info:
        ray_executor.map(evaluate_chunk, make_context(fail_chunk=4), chunk_plan(N, SEED))
    assert info.value.exit_code == 3
    assert isinstance(info.value.__cause__, ray.exceptions.RayTaskError)  # remote traceback
    # The executor is still usable after a failed map.
    assert ray_executor.map(evaluate_chunk, make_context(), chunk_plan(10, SEED))[1].shape == (3, 3)


def test_the_context_is_fetched_once_per_worker_not_per_item(ray_executor):
    out = ray_executor.map(unpickle_count, make_context("ray-once"), list(range(20)))
    assert {count for _, count in out} == {1}


def test_another_executor_uses_the_running_instance_and_leaves_it_running(ray_executor):
    with executor_for("ray", workers=None, address=None) as ex:
        assert isinstance(ex, RayExecutor)
        assert ex.workers == 2
        assert ex.map(evaluate_chunk, make_context(), chunk_plan(7, SEED))[0].shape == (7, 3)
    assert ray.is_initialized()
    with pytest.raises(RuntimeError, match="closed"):
        ex.map(evaluate_chunk, make_context(), chunk_plan(7, SEED))


def test_workers_cap_the_items_in_flight_on_a_running_instance(ray_executor):
    ex = RayExecutor(workers=1)
    assert ex._max_in_flight == 1
    parts = ex.map(evaluate_chunk, make_context(), chunk_plan(N, SEED))
    assert np.array_equal(
        np.concatenate(parts),
        np.concatenate(ray_executor.map(evaluate_chunk, make_context(), chunk_plan(N, SEED))),
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:1", "cannot reach a Ray cluster at '127.0.0.1:1'"),
        ("ray://127.0.0.1:1", "cannot reach a Ray cluster at 'ray://127.0.0.1:1'"),
        ("not an address", "'not an address' is not a Ray address"),
        ("ray://", "is not a Ray address"),
    ],
)
def test_a_bad_address_names_the_option_and_what_is_valid(address, message):
    # (the address is checked before Ray is asked: Ray alone would wait minutes)
    with pytest.raises(InputError, match=message) as info:
        executor_for("ray", workers=None, address=address)
    assert info.value.field == "--address"
    assert "ray://HOST:10001" in str(info.value)
    assert "auto" in str(info.value)
