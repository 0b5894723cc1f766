"""Solver limits: a plan stopped at a limit comes back ``feasible`` with its proven gap;
nothing found is a solver error; amounts HiGHS cannot represent are input errors; an
infeasible fleet's diagnosis keeps to its time. Every limit here is a node limit or a
zero time limit, so the outcomes are deterministic (no test depends on speed)."""

from __future__ import annotations

import numpy as np
import pytest
from fleet_helpers import offer, serve, serve_option, train, train_option

from arbiter.domain.errors import InfeasibleError, InputError, SolverError
from arbiter.domain.fleet import Fleet, ShareCaps
from arbiter.optimize.fleet import (
    build_fleet_model,
    greedy_start,
    group_identical,
    limit_sentence,
    solve_fleet,
)
from arbiter.optimize.fleet_diagnosis import explain_infeasible
from arbiter.optimize.linear import LinearModel, Status, Stop


def knapsack(n: int = 60, m: int = 5, seed: int = 1) -> LinearModel:
    """A multi-dimensional knapsack HiGHS cannot prove optimal at the root."""
    rng = np.random.default_rng(seed)
    model = LinearModel()
    value = rng.integers(10, 100, n).astype(float)
    x = model.add_variables(
        "take", [f"i{i}" for i in range(n)], cost=-value, upper=1.0, integer=True
    )
    weight = rng.integers(5, 60, (m, n)).astype(float)
    rows, cols = np.nonzero(weight)
    model.add_constraints(
        "cap",
        [f"c{k}" for k in range(m)],
        rows,
        x.columns[cols],
        weight[rows, cols],
        upper=weight.sum(axis=1) / 3,
    )
    return model


def capped_services(seed: int = 1) -> tuple[Fleet, list]:
    """Twelve services over three providers' one- and two-chip offers under a 38%
    provider cap: a knapsack of whole replicas that needs branching to prove."""
    rng = np.random.default_rng(seed)
    workloads, options = [], []
    for k in range(12):
        workloads.append(serve(f"s{k}", float(rng.integers(50, 400))))
        for provider in ("a", "b", "c"):
            for chips in (1, 2):
                o = offer(
                    provider, float(rng.uniform(1, 4)) * chips, chips=chips, accelerator=f"X{chips}"
                )
                tokens = float(rng.integers(30, 120))
                options.append(serve_option(k, o, tokens_per_s=tokens, hours=10.0))
    return Fleet(workloads=tuple(workloads), caps=ShareCaps(provider=0.38)), options


# --- the model -------------------------------------------------------------------------


def test_a_node_limit_returns_the_best_point_found_with_its_proven_gap():
    full = knapsack().solve(mip_gap=0.0)
    assert full.status is Status.OPTIMAL
    stopped = knapsack().solve(mip_gap=0.0, node_limit=1)
    assert stopped.status is Status.FEASIBLE
    assert stopped.stop is Stop.NODES
    assert stopped.found
    assert stopped.mip_gap > 0
    # the gap is honest: the bound is below the true optimum, the point above it
    assert stopped.bound <= full.objective + 1e-9 <= stopped.objective + 1e-9
    assert stopped.mip_gap == pytest.approx(
        (stopped.objective - stopped.bound) / abs(stopped.objective), rel=1e-6
    )


def test_a_limit_with_nothing_found_is_time_limit_not_feasible():
    for stopped in (knapsack().solve(node_limit=0), knapsack().solve(time_limit_s=0.0)):
        assert stopped.status is Status.TIME_LIMIT
        assert not stopped.found
        assert stopped.stop in (Stop.NODES, Stop.TIME)


def test_a_start_point_is_kept_when_the_search_is_cut_short():
    # take nothing: feasible, objective 0; at a node limit of 0 HiGHS has only the start
    model = knapsack()
    stopped = model.solve(node_limit=0, start=np.zeros(model.n_cols))
    assert stopped.status is Status.FEASIBLE
    assert stopped.objective == pytest.approx(0.0)


def test_an_lp_stopped_early_bounds_nothing():
    stopped = knapsack().solve(relax=True, time_limit_s=0.0)
    assert stopped.status is not Status.OPTIMAL
    assert stopped.bound == -np.inf


def test_an_empty_model_is_optimal_and_rows_without_columns_are_checked():
    assert LinearModel().solve().status is Status.OPTIMAL
    m = LinearModel()
    x = m.add_variables("x", [])
    m.add_constraints(
        "need", ["one"], np.zeros(0, dtype=np.int64), x.columns, np.zeros(0), lower=1.0
    )
    assert m.solve().status is Status.INFEASIBLE


@pytest.mark.parametrize(
    ("where", "build"),
    [
        ("need[r]", lambda m, x: m.add_constraints("need", ["r"], [0], x.columns, [1.0], lower=1e308)),
        ("need[r], x[a]", lambda m, x: m.add_constraints("need", ["r"], [0], x.columns, [1e16], lower=1)),
        ("need[r]", lambda m, x: m.add_constraints("need", ["r"], [0], x.columns, [1.0], lower=np.inf)),
    ],
)  # fmt: skip
def test_amounts_beyond_the_solver_are_input_errors_naming_the_row(where, build):
    m = LinearModel()
    x = m.add_variables("x", ["a"], cost=1.0, integer=True)
    build(m, x)
    with pytest.raises(InputError, match=r"beyond what the solver can represent") as err:
        m.solve()
    assert where in str(err.value)


def test_a_cost_beyond_the_solver_is_an_input_error_naming_the_variable():
    m = LinearModel()
    x = m.add_variables("instances", ["big"], cost=1e308, integer=True)
    m.add_constraints("need", ["r"], np.array([0]), x.columns, np.array([1.0]), lower=1.0)
    with pytest.raises(InputError, match=r"instances\[big\]"):
        m.solve()


# --- the fleet ---------------------------------------------------------------------------


def test_a_fleet_stopped_at_a_limit_is_feasible_with_an_honest_gap_and_a_sentence():
    fleet, options = capped_services()
    best = solve_fleet(fleet, options, mip_gap=0.0)
    assert best.status is Status.OPTIMAL
    stopped = solve_fleet(fleet, options, mip_gap=0.0, node_limit=1)
    assert stopped.status is Status.FEASIBLE
    assert stopped.stop is Stop.NODES
    assert stopped.placed
    assert 0 < stopped.mip_gap < 1
    assert stopped.total_usd >= best.total_usd - 1e-6
    assert best.total_usd >= stopped.total_usd * (1 - stopped.mip_gap) - 1e-6
    sentence = limit_sentence(stopped, None)
    assert sentence is not None
    assert sentence.startswith("Stopped at the node limit with the best plan found, within ")
    assert f"{stopped.mip_gap:.1%}" in sentence
    assert limit_sentence(best, 30.0) is None


def test_the_time_limit_sentence_names_the_limit():
    fleet, options = capped_services()
    stopped = solve_fleet(fleet, options, mip_gap=0.0, node_limit=1)
    timed = type(stopped)(**{**_fields(stopped), "stop": Stop.TIME})
    assert limit_sentence(timed, 30.0) == (
        f"Stopped at the 30 s time limit with the best plan found, within "
        f"{stopped.mip_gap:.1%} of the best possible."
    )


def _fields(solution):
    return {name: getattr(solution, name) for name in solution.__dataclass_fields__}


def test_nothing_found_within_the_limit_is_a_solver_error():
    fleet, options = capped_services()
    with pytest.raises(SolverError, match="found no plan"):
        solve_fleet(fleet, options, time_limit_s=0.0, decompose=False)


@pytest.mark.parametrize("seed", range(4))
def test_relax_and_fix_keeps_its_gap_and_the_greedy_seed_meets_the_rows(seed):
    """The large-model path (LP bound, whole-unit floors, relax-and-fix, seeded MILP)
    on small fleets: its plan is within its stated gap of the true optimum."""
    fleet, options = capped_services(seed)
    exact = solve_fleet(fleet, options, mip_gap=0.0)
    stepped = solve_fleet(fleet, options, mip_gap=0.01, decompose=True)
    assert stepped.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert stepped.total_usd >= exact.total_usd - 1e-6
    assert stepped.total_usd * (1 - stepped.mip_gap) <= exact.total_usd + 1e-6
    if stepped.status is Status.OPTIMAL:
        assert stepped.mip_gap <= 0.01


def test_without_caps_the_greedy_seed_meets_every_row_and_costs_no_less_than_the_optimum():
    fleet, options = capped_services()
    free = Fleet(workloads=fleet.workloads)
    built = build_fleet_model(free, options)
    x = greedy_start(built, options)
    assert x is not None
    # every column fixed at the seed: a feasible model exactly when the seed is feasible
    at_seed = built.model.solve(bounds=(x, x))
    assert at_seed.status is Status.OPTIMAL
    assert at_seed.objective >= solve_fleet(free, options, mip_gap=0.0).total_usd - 1e-6
    # with the 34% provider cap, the seed is refused by the rows (and the solve still works)
    capped = build_fleet_model(fleet, options)
    seed = greedy_start(capped, options)
    assert seed is not None
    assert capped.model.solve(bounds=(seed, seed)).status is Status.INFEASIBLE


def test_an_infeasible_fleet_is_explained_within_the_limit():
    # one job, one offer at provider a; a 50% provider cap cannot hold
    o = offer("a", 2.0)
    fleet = Fleet(workloads=(train("t"),), caps=ShareCaps(provider=0.5))
    options = [train_option(0, o, hours=10.0)]
    with pytest.raises(InfeasibleError, match=r"provider_share\[a\]"):
        solve_fleet(fleet, options, time_limit_s=30.0)


def test_a_diagnosis_out_of_time_says_so_plainly():
    o = offer("a", 2.0)
    fleet = Fleet(workloads=(train("t"),), caps=ShareCaps(provider=0.5))
    built = build_fleet_model(fleet, [train_option(0, o, hours=10.0)])
    text = explain_infeasible(built.model, seed=0, time_limit_s=0.0)
    assert text.startswith("no placement meets every constraint of the fleet")
    # out of time for the integer model: the relaxed one still names what must give
    assert "ran out of its 0 s time" in text or (
        "from the relaxed model" in text and "provider_share[a]" in text
    )


def test_identical_workloads_fold_into_counts_and_come_back_one_by_one():
    """Six identical jobs (and two that differ) over three offers under a 50% provider
    cap: folded into counts, the plan costs what the unfolded exact plan costs, and every
    workload comes back on its own option."""
    offers = [offer("a", 2.0), offer("b", 2.5), offer("c", 3.5)]
    workloads, options = [], []
    for k in range(8):
        workloads.append(train(f"t{k}"))
        hours = 10.0 if k < 6 else 12.0 + k  # the last two differ (their options do)
        options += [train_option(k, o, hours=hours) for o in offers]
    fleet = Fleet(workloads=tuple(workloads), caps=ShareCaps(provider=0.5))
    grouped = group_identical(fleet, options)
    assert grouped is not None
    assert sorted(grouped.copies) == [1, 1, 6]
    exact = solve_fleet(fleet, options, mip_gap=0.0, decompose=False)
    folded = solve_fleet(fleet, options, mip_gap=0.0, decompose=True)
    assert folded.total_usd == pytest.approx(exact.total_usd)
    assert sorted(p.option.workload for p in folded.placed) == list(range(8))
    for p in folded.placed:
        assert p.option in options
    # the same spec with different options does not fold
    pair = Fleet(workloads=(train("x"), train("y")))
    apart = [train_option(0, offers[0], hours=10.0), train_option(1, offers[0], hours=11.0)]
    assert group_identical(pair, apart) is None


def test_a_start_reported_optimal_without_proof_is_solved_again():
    """HiGHS 1.16 handed a seeded start back as "optimal" with a bound of 0 on this
    one-service model (three options; objective 96 at the start, optimum 24): the seeded
    answer must be the optimum."""
    model = LinearModel()
    units = model.add_variables("replicas", ["a", "b", "c"], integer=True)
    inst = model.add_variables("instances", ["a", "b", "c"], cost=[24.0, 24.0, 48.0], integer=True)
    u, n = units.columns, inst.columns
    model.add_constraints("demand", ["w"], [0, 0, 0], u, [17991.83, 3997.96, 3997.96], lower=100.0)
    model.add_constraints("min_replicas", ["w"], [0, 0, 0], u, [1.0, 1.0, 1.0], lower=1.0)
    model.add_constraints("min_instances", ["w"], [0, 0, 0], n, [1.0, 1.0, 1.0], lower=1.0)
    # pack: chips of the replicas fit the instances; no_idle: no instance without work
    model.add_constraints(
        "pack",
        ["a", "b", "c"],
        [0, 0, 1, 1, 2, 2],
        [u[0], n[0], u[1], n[1], u[2], n[2]],
        [4.0, -1.0, 1.0, -1.0, 1.0, -2.0],
        upper=0.0,
    )
    model.add_constraints(
        "no_idle",
        ["a", "b", "c"],
        [0, 0, 1, 1, 2, 2],
        [u[0], n[0], u[1], n[1], u[2], n[2]],
        [-4.0, 1.0, -1.0, 1.0, -1.0, 2.0],
        upper=[0.0, 0.0, 1.0],
    )
    start = np.array([1.0, 0.0, 0.0, 4.0, 0.0, 0.0])
    plain = model.solve(mip_gap=1e-9)
    seeded = model.solve(mip_gap=1e-9, start=start)
    assert plain.status is Status.OPTIMAL
    assert plain.objective == pytest.approx(24.0)
    assert seeded.status is Status.OPTIMAL
    assert seeded.objective == pytest.approx(24.0)
