"""The solver boundary: a model reaches HiGHS only through the ``Solver`` protocol, with
time, gap and deterministic work limits, its status mapped from HiGHS's enums; the
elastic relaxation is a new model; a model is written as MPS or LP and reads back into
HiGHS with the same optimum, found here by enumeration."""

from __future__ import annotations

import itertools
from pathlib import Path

import highspy
import numpy as np
import pytest
from model_files import optimum_of

from arbiter.domain.errors import InputError
from arbiter.optimize.highs import STATUS_OF, STOP_OF, HighsSolver
from arbiter.optimize.linear import LinearModel, Status, Stop
from arbiter.optimize.solver import Limits, Problem, Run, Warm

VALUE = np.array([6.0, 5.0, 4.0, 3.0, 7.0])
WEIGHT = np.array([[3.0, 2.0, 2.0, 1.0, 4.0], [1.0, 3.0, 1.0, 2.0, 2.0]])
LIMIT = np.array([6.0, 5.0])


def knapsack() -> LinearModel:
    """Take items (whole) within two weight limits, most value first, and a fractional
    filler ``slack`` that is worth a little per unit and bounded by one."""
    model = LinearModel()
    take = model.add_variables(
        "take", [f"item {i}" for i in range(5)], cost=-VALUE, upper=1.0, integer=True
    )
    rows, cols = np.nonzero(WEIGHT)
    model.add_constraints(
        "weight",
        ["kg", "litres"],
        rows,
        take.columns[cols],
        WEIGHT[rows, cols],
        upper=LIMIT,
    )
    return model


def best_by_enumeration() -> float:
    best = 0.0
    for pick in itertools.product((0.0, 1.0), repeat=5):
        x = np.array(pick)
        if np.all(WEIGHT @ x <= LIMIT + 1e-9):
            best = max(best, float(VALUE @ x))
    return -best


def test_the_model_solves_to_the_enumerated_optimum():
    found = knapsack().solve(mip_gap=0.0)
    assert found.status is Status.OPTIMAL
    assert found.objective == pytest.approx(best_by_enumeration())


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_an_exported_model_reads_back_with_the_same_optimum(tmp_path, suffix):
    path = knapsack().export(tmp_path / f"knapsack{suffix}")
    text = path.read_text(encoding="utf-8")
    # the rows keep their names, in the characters the formats allow
    assert "weight(kg)" in text
    assert optimum_of(path) == pytest.approx(best_by_enumeration())


@pytest.mark.parametrize("name", ["model.txt", "model", "model.mps.gz"])
def test_another_suffix_is_an_input_error_naming_the_valid_ones(tmp_path, name):
    with pytest.raises(InputError, match=r"Valid: \.mps or \.lp"):
        knapsack().export(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_a_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        knapsack().export(tmp_path / "nowhere" / "m.lp")


def test_relax_returns_a_new_model_and_leaves_the_original_as_it_was():
    model = knapsack()
    cost, lower, upper, *_ = model.arrays()
    cost, lower, upper = cost.copy(), lower.copy(), upper.copy()
    integer = model.integer_columns().copy()
    before = model.solve(mip_gap=0.0).objective
    elastic = model.relax(["weight"])
    assert elastic.model is not model
    # the original: the same columns, rows, objective, bounds and integrality
    after_cost, after_lower, after_upper, *_ = model.arrays()
    assert (model.n_cols, model.n_rows) == (5, 2)
    np.testing.assert_array_equal(after_cost, cost)
    np.testing.assert_array_equal(after_lower, lower)
    np.testing.assert_array_equal(after_upper, upper)
    np.testing.assert_array_equal(model.integer_columns(), integer)
    assert model.solve(mip_gap=0.0).objective == before
    # the elastic one: no cost but violation, a slack under and over each relaxed row
    under, over = elastic.slack["weight"]
    assert under.size == over.size == 2
    assert elastic.model.n_cols == 5 + 2 * 2
    assert elastic.model.solve().objective == pytest.approx(0.0)  # nothing need give


def test_the_elastic_model_prices_what_must_give():
    model = knapsack()
    take = model.blocks[0]
    model.add_constraints(
        "must_take_all", ["all"], np.zeros(5, dtype=np.int64), take.columns, np.ones(5),
        lower=5.0,
    )  # fmt: skip
    assert model.solve().status is Status.INFEASIBLE
    elastic = model.relax(["weight"])
    found = elastic.model.solve(mip_gap=0.0)
    _, over = elastic.slack["weight"]
    # all five taken: each limit is exceeded by its row's weight less the limit
    np.testing.assert_allclose(found.values(over), WEIGHT.sum(axis=1) - LIMIT)


def test_an_iteration_limit_stops_an_lp_deterministically():
    model = knapsack()
    stopped = [model.solve(relax=True, iteration_limit=0) for _ in range(2)]
    for found in stopped:
        assert found.stop is Stop.ITERATIONS
        assert found.status in (Status.FEASIBLE, Status.TIME_LIMIT)
    assert stopped[0].status is stopped[1].status
    # with room, the same LP is solved: its optimum is the best fractional knapsack
    assert model.solve(relax=True, iteration_limit=1000).status is Status.OPTIMAL


def test_a_node_limit_of_zero_stops_at_the_root_or_proves_it():
    found = knapsack().solve(node_limit=0, mip_gap=0.0)
    assert found.status is Status.OPTIMAL or found.stop is Stop.NODES


def test_every_model_status_highs_has_is_mapped_or_an_error():
    # statuses are read from HiGHS's enum: each is arbiter's own status or stop, and the
    # rest (loading, unset, errors) are not results to read
    unread = {
        highspy.HighsModelStatus.kNotset,
        highspy.HighsModelStatus.kLoadError,
        highspy.HighsModelStatus.kModelError,
        highspy.HighsModelStatus.kPresolveError,
        highspy.HighsModelStatus.kSolveError,
        highspy.HighsModelStatus.kPostsolveError,
        highspy.HighsModelStatus.kModelEmpty,
        highspy.HighsModelStatus.kUnknown,
    }
    members = set(highspy.HighsModelStatus.__members__.values())
    assert members == set(STATUS_OF) | set(STOP_OF) | unread
    assert not set(STATUS_OF) & set(STOP_OF)


class Counting:
    """A solver that counts the runs it is handed and passes them to HiGHS."""

    def __init__(self) -> None:
        self.runs: list[Limits] = []
        self.written: list[Path] = []

    def run(self, problem: Problem, limits: Limits, warm: Warm | None = None) -> Run:
        self.runs.append(limits)
        return HighsSolver().run(problem, limits, warm)

    def write(self, problem: Problem, path: Path) -> None:
        self.written.append(path)
        HighsSolver().write(problem, path)


def test_a_model_goes_through_the_solver_it_is_given(tmp_path):
    solver = Counting()
    model = knapsack()
    found = model.solve(mip_gap=0.0, time_limit_s=5.0, node_limit=100, solver=solver)
    assert found.objective == pytest.approx(best_by_enumeration())
    assert solver.runs == [Limits(time_limit_s=5.0, mip_gap=0.0, node_limit=100)]
    model.export(tmp_path / "k.mps", solver=solver)
    assert solver.written == [tmp_path / "k.mps"]
