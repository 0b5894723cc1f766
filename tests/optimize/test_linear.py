"""The array-built model against optima checked by hand."""

import numpy as np
import pytest

from arbiter.optimize.linear import LinearModel, Status


def test_two_offers_one_job_takes_the_cheaper_per_unit_of_work():
    # cover 100 tokens/s with offer a (10 tok/s per instance, $3/h) or b (25 tok/s, $6/h):
    # per token a costs 0.30, b 0.24, so 4 x b = $24 (100 tok/s) beats 10 x a = $30
    m = LinearModel()
    x = m.add_variables("instances", ["a", "b"], cost=np.array([3.0, 6.0]), integer=True)
    m.add_constraints(
        "demand",
        ["job"],
        rows=np.array([0, 0]),
        cols=x.columns,
        vals=np.array([10.0, 25.0]),
        lower=100.0,
    )
    s = m.solve()
    assert s.status is Status.OPTIMAL
    assert s.objective == pytest.approx(24.0)
    assert s.values(x).tolist() == pytest.approx([0.0, 4.0])


def test_a_share_cap_forces_a_second_option_and_its_shadow_price_is_the_saving():
    # LP: spend on a (cost 1/unit) and b (cost 2/unit), need 10 units; a's spend <= 0.5 of
    # total: x_a <= 0.5 (x_a + 2 x_b). With the cap: x_a = 2 x_b... total work x_a + x_b = 10
    # -> x_b = 10/3, x_a = 20/3, cost 40/3 = 13.33 (without the cap: 10)
    m = LinearModel()
    x = m.add_variables("work", ["a", "b"], cost=np.array([1.0, 2.0]))
    m.add_constraints("demand", ["job"], np.array([0, 0]), x.columns, np.ones(2), lower=10.0)
    cap = m.add_constraints(
        "vendor_share",
        ["A"],
        np.array([0, 0]),
        x.columns,
        np.array([1.0 - 0.5, -0.5 * 2.0]),
        upper=0.0,
    )
    s = m.solve(duals=True)
    assert s.objective == pytest.approx(40.0 / 3.0)
    assert s.values(x).tolist() == pytest.approx([20.0 / 3.0, 10.0 / 3.0])
    # relaxing the cap row by one unit of right-hand side lowers the cost: dual < 0
    assert s.duals(cap)[0] < 0
    assert s.activity(cap)[0] == pytest.approx(0.0, abs=1e-9)


def test_infeasible_is_reported():
    m = LinearModel()
    x = m.add_variables("x", ["x"], upper=1.0)
    m.add_constraints("need", ["two"], np.array([0]), x.columns, np.array([1.0]), lower=2.0)
    assert m.solve().status is Status.INFEASIBLE


def test_duplicate_entries_add_up_and_rows_are_checked():
    m = LinearModel()
    x = m.add_variables("x", ["x"], cost=1.0)
    m.add_constraints(
        "need", ["n"], np.array([0, 0]), np.array([0, 0]), np.array([1.0, 1.0]), lower=4.0
    )
    assert m.solve().objective == pytest.approx(2.0)  # 2 x >= 4
    with pytest.raises(ValueError, match="row index out of range"):
        m.add_constraints("bad", ["r"], np.array([1]), x.columns, np.array([1.0]))


@pytest.mark.parametrize("seed", range(6))
def test_highs_and_scipy_milp_agree_on_random_covering_problems(seed):
    """Property: the array-built model and SciPy's ``milp`` (an independent path to HiGHS)
    give the same optimum on random covering problems with integer instances."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    rng = np.random.default_rng(seed)
    n_offers, n_jobs = 6, 3
    cost = rng.uniform(1.0, 10.0, n_offers)
    rate = rng.uniform(0.0, 20.0, (n_jobs, n_offers))
    demand = rng.uniform(10.0, 60.0, n_jobs)
    cap = rng.integers(3, 12, n_offers).astype(float)

    m = LinearModel()
    x = m.add_variables(
        "instances", [f"o{i}" for i in range(n_offers)], cost=cost, upper=cap, integer=True
    )
    rows, cols = np.nonzero(rate)
    m.add_constraints(
        "demand",
        [f"j{j}" for j in range(n_jobs)],
        rows,
        x.columns[cols],
        rate[rows, cols],
        lower=demand,
    )
    ours = m.solve(mip_gap=0.0)

    theirs = milp(
        cost,
        constraints=LinearConstraint(rate, lb=demand, ub=np.inf),
        integrality=np.ones(n_offers),
        bounds=Bounds(0, cap),
    )
    if theirs.status == 2:
        assert ours.status is Status.INFEASIBLE
        return
    assert ours.status is Status.OPTIMAL
    assert ours.objective == pytest.approx(theirs.fun, rel=1e-9)
    assert (rate @ ours.values(x) >= demand - 1e-6).all()
