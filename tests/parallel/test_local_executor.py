from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from parallel_helpers import (
    LOCK,
    chunk_plan,
    evaluate_chunk,
    make_context,
    under_lock,
    unpickle_count,
)

from arbiter.domain.errors import InfeasibleError, InputError
from arbiter.domain.executor import Executor
from arbiter.parallel import LocalExecutor, RayExecutor, default_workers, executor_for

SEED = 20261129
N = 60  # 9 chunks of 7 samples, the last of 4


def reference(n: int = N, seed: int = SEED) -> np.ndarray:
    ctx = make_context()
    return np.concatenate([evaluate_chunk(ctx, c) for c in chunk_plan(n, seed)])


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_item_order_and_match_a_plain_loop(workers):
    chunks = chunk_plan(N, SEED)
    with LocalExecutor(workers) as ex:
        parts = ex.map(evaluate_chunk, make_context(), chunks)
    assert [len(p) for p in parts] == [7] * 8 + [4]
    assert np.array_equal(np.concatenate(parts), reference())


def test_a_sample_depends_on_the_seed_and_its_index_only():
    shorter, longer = reference(20), reference(30)
    assert np.array_equal(longer[:20], shorter)
    assert not np.array_equal(reference(20, SEED + 1), shorter)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_counts_up_to_the_total_in_the_caller(workers):
    calls: list[tuple[int, int]] = []
    chunks = chunk_plan(N, SEED)
    LocalExecutor(workers).map(
        evaluate_chunk, make_context(), chunks, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(i, len(chunks)) for i in range(1, len(chunks) + 1)]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_fn_comes_back_as_its_own_type(workers):
    ex = LocalExecutor(workers)
    with pytest.raises(InfeasibleError, match="chunk 4 has no feasible plan") as info:
        ex.map(evaluate_chunk, make_context(fail_chunk=4), chunk_plan(N, SEED))
    assert info.value.exit_code == 3
    if workers > 1:
        assert "Traceback" in str(info.value.__cause__)  # the worker's traceback


def test_the_context_is_unpickled_once_per_worker_not_per_item():
    out = LocalExecutor(2).map(unpickle_count, make_context("local-once"), list(range(20)))
    assert {count for _, count in out} == {1}
    assert len({pid for pid, _ in out}) <= 2


def test_workers_do_not_inherit_the_callers_locks():
    with LOCK:  # as a thread of the caller might hold one (HiGHS, Ray, a progress bar)
        assert LocalExecutor(2).map(under_lock, make_context(), [1, 2, 3]) == [1, 2, 3]


def test_workers_can_solve_mips_after_the_caller_has_solved_one():
    # HiGHS keeps native worker threads after a MIP solve; a worker forked from such a
    # process deadlocks in its first solve. Run in a fresh interpreter, with a timeout.
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from parallel_helpers import solve_mip
        from arbiter.parallel import LocalExecutor

        if __name__ == "__main__":
            first = solve_mip(None, 0)
            again = LocalExecutor(2).map(solve_mip, None, [0, 1, 2, 3])
            assert again[0] == first, (again, first)
            print("ok", len(again))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a hang is ended with its workers
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the pool's workers hung in HiGHS")
    assert proc.returncode == 0, err
    assert out.splitlines()[-1] == "ok 4"  # after HiGHS banners


def test_no_items_no_work_no_progress():
    calls: list[tuple[int, int]] = []
    progress = lambda d, t: calls.append((d, t))  # noqa: E731
    assert LocalExecutor(2).map(evaluate_chunk, make_context(), [], progress=progress) == []
    assert calls == []


def test_the_executors_satisfy_the_domain_protocol():
    ex = LocalExecutor()
    assert isinstance(ex, Executor)
    assert ex.name == "local"
    assert 1 <= ex.workers == default_workers() <= 32


def test_executor_for_builds_the_local_engine():
    ex = executor_for("local", workers=3, address=None)
    assert isinstance(ex, LocalExecutor)
    assert (ex.name, ex.workers) == ("local", 3)


def test_an_unknown_engine_names_the_option_and_the_valid_engines():
    with pytest.raises(InputError, match="unknown engine 'dask'") as info:
        executor_for("dask", workers=None, address=None)
    assert info.value.field == "--engine"
    assert info.value.valid == "local, ray"


def test_an_address_needs_the_ray_engine():
    with pytest.raises(InputError, match="--engine ray") as info:
        executor_for("local", workers=None, address="auto")
    assert info.value.field == "--address"


@pytest.mark.parametrize("workers", [0, -2])
def test_workers_must_be_positive(workers):
    with pytest.raises(InputError) as info:
        LocalExecutor(workers)
    assert info.value.field == "--workers"


def test_without_ray_the_ray_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(InputError, match=r"pip install 'arbiter\[ray\]'") as info:
        executor_for("ray", workers=None, address=None)
    assert info.value.field == "--engine"
    with pytest.raises(InputError):
        RayExecutor()
