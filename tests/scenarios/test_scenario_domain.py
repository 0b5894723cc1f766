"""Domain scenario types: selectors, distributions, shocks and scenario sets."""

import math

import pytest

from arbiter.domain.scenario import (
    FOREVER,
    ZERO,
    Distribution,
    ScenarioSet,
    Selector,
    Shock,
    ShockKind,
    days_problem,
    magnitude_problem,
)
from arbiter.domain.workload import WorkloadKind

# --- selectors ------------------------------------------------------------------------------


def test_empty_selector_matches_everything():
    s = Selector()
    assert s.matches_offer("AMD", "azure", "eastus", "MI300X")
    assert s.matches_workload("anything", WorkloadKind.BATCH)
    assert not s.selects_offers and not s.selects_workloads


def test_offer_fields_combine_with_and_and_values_with_or():
    s = Selector(vendors=("NVIDIA",), providers=("aws", "gcp"), accelerators=("H100-SXM", "B200"))
    assert s.matches_offer("NVIDIA", "aws", "us-east-1", "H100-SXM")
    assert s.matches_offer("NVIDIA", "gcp", "us-central1", "B200")
    assert not s.matches_offer("NVIDIA", "azure", "eastus", "H100-SXM")
    assert not s.matches_offer("NVIDIA", "aws", "us-east-1", "A100-SXM-80GB")
    assert not s.matches_offer("AMD", "aws", "us-east-1", "H100-SXM")


def test_names_compare_case_insensitively():
    s = Selector(vendors=("nvidia",), providers=("AWS",), accelerators=("h100-sxm",))
    assert s.matches_offer("NVIDIA", "aws", "us-east-1", "H100-SXM")


def test_regions_are_case_insensitive_globs():
    s = Selector(regions=("us-*", "EUROPE-WEST4"))
    assert s.matches_offer("NVIDIA", "aws", "us-east-1", "H100-SXM")
    assert s.matches_offer("NVIDIA", "gcp", "US-CENTRAL1", "H100-SXM")
    assert s.matches_offer("NVIDIA", "gcp", "europe-west4", "H100-SXM")
    assert not s.matches_offer("NVIDIA", "gcp", "europe-west1", "H100-SXM")
    assert not s.matches_offer("NVIDIA", "aws", "eu-us-1", "H100-SXM")
    exact = Selector(regions=("us-east-1",))
    assert not exact.matches_offer("NVIDIA", "aws", "us-east-1a", "H100-SXM")


def test_offer_and_workload_fields_ignore_each_other():
    s = Selector(providers=("aws",), kinds=(WorkloadKind.SERVE,))
    assert s.matches_offer("NVIDIA", "aws", "us-east-1", "H100-SXM")
    assert s.matches_workload("train-run", WorkloadKind.SERVE)
    assert not s.matches_workload("chat", WorkloadKind.TRAIN)
    names = Selector(workloads=("chat",), vendors=("AMD",))
    assert names.matches_workload("chat", WorkloadKind.TRAIN)
    assert not names.matches_workload("Chat", WorkloadKind.TRAIN)  # workload names are exact
    assert names.matches_offer("AMD", "x", "y", "z")


def test_selector_fields_must_not_be_empty_tuples():
    with pytest.raises(ValueError, match="non-empty"):
        Selector(vendors=())


# --- distributions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "fragment"),
    [
        ("uniform", (2.0, 1.0), "lo 2 is above hi 1"),
        ("uniform", (1.0,), "takes (lo, hi)"),
        ("triangular", (0.0, 2.0, 1.0), "mode 2 is outside"),
        ("triangular", (3.0, 2.0, 1.0), "lo 3 is above hi 1"),
        ("lognormal", (0.0, 0.5), "median > 0"),
        ("lognormal", (1.0, 0.0), "sigma > 0"),
        ("beta", (0.0, 1.0, 0.0, 1.0), "a > 0"),
        ("beta", (1.0, 1.0, 1.0, 0.0), "lo 1 is above hi 0"),
        ("uniform", (0.0, math.inf), "finite"),
        ("fixed", (math.nan,), "must be numbers"),
        ("fixed", (-math.inf,), "-inf"),
        ("normal", (0.0, 1.0), "unknown distribution"),
    ],
)
def test_bad_distributions(kind, params, fragment):
    with pytest.raises(ValueError) as info:
        Distribution(kind, params)
    assert fragment in str(info.value)


def test_support_and_positivity():
    assert Distribution("triangular", (0.3, 0.6, 0.9)).support == (0.3, 0.9)
    assert Distribution("beta", (2.0, 2.0, 0.1, 0.5)).support == (0.1, 0.5)
    assert Distribution("lognormal", (1.0, 1.0)).support == (0.0, math.inf)
    assert Distribution("lognormal", (1.0, 1.0)).is_positive
    assert not Distribution("uniform", (0.0, 1.0)).is_positive
    assert Distribution.fixed(2).params == (2.0,)
    assert FOREVER.mean == math.inf and ZERO.mean == 0.0


# --- magnitudes per kind ------------------------------------------------------------------------

U01 = Distribution("uniform", (0.0, 1.0))
LOGN = Distribution("lognormal", (1.5, 0.3))


@pytest.mark.parametrize(
    ("kind", "dist", "ok"),
    [
        (ShockKind.SUPPLY_CUT, U01, True),
        (ShockKind.SUPPLY_CUT, Distribution("uniform", (0.5, 1.1)), False),
        (ShockKind.SUPPLY_CUT, Distribution("uniform", (-0.1, 0.5)), False),
        (ShockKind.SUPPLY_CUT, LOGN, False),
        (ShockKind.PRICE_SHIFT, LOGN, True),
        (ShockKind.PRICE_SHIFT, Distribution.fixed(0.5), True),
        (ShockKind.PRICE_SHIFT, U01, False),
        (ShockKind.DEMAND_SHIFT, Distribution.fixed(0.0), False),
        (ShockKind.SPOT_SURGE, Distribution("triangular", (1.0, 2.0, 3.0)), True),
        (ShockKind.SPOT_SURGE, Distribution("triangular", (0.9, 2.0, 3.0)), False),
        (ShockKind.SPOT_SURGE, LOGN, False),
        (ShockKind.OUTAGE, ZERO, True),
        (ShockKind.OUTAGE, Distribution.fixed(0.5), False),
        (ShockKind.ROADMAP_SLIP, Distribution("lognormal", (60.0, 0.4)), True),
        (ShockKind.ROADMAP_SLIP, Distribution("uniform", (-1.0, 30.0)), False),
        (ShockKind.PRICE_SHIFT, Distribution.fixed(math.inf), False),
    ],
)
def test_magnitude_ranges_per_kind(kind, dist, ok):
    assert (magnitude_problem(kind, dist) is None) is ok


def test_days_must_be_non_negative_and_only_durations_infinite():
    assert days_problem(Distribution("uniform", (0.0, 5.0)), duration=False) is None
    assert days_problem(Distribution("uniform", (-1.0, 5.0)), duration=True) is not None
    assert days_problem(FOREVER, duration=True) is None
    assert days_problem(FOREVER, duration=False) is not None


# --- shocks and sets --------------------------------------------------------------------------


def cut(**kw):
    base = {
        "name": "cut",
        "kind": ShockKind.SUPPLY_CUT,
        "selector": Selector(vendors=("NVIDIA",)),
        "probability": 0.1,
        "magnitude": U01,
        "duration_days": Distribution.fixed(30.0),
    }
    return Shock(**(base | kw))


def test_shock_defaults():
    s = cut()
    assert s.start_days == ZERO and s.factor is None and s.loading == 0.0


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"probability": 0.0}, "probability"),
        ({"probability": 1.01}, "probability"),
        ({"loading": 0.5}, "needs a factor"),
        ({"factor": "f", "loading": 1.5}, "loading"),
        ({"selector": Selector(kinds=(WorkloadKind.SERVE,))}, "selects offers"),
        ({"magnitude": LOGN}, "outside [0, 1]"),
        ({"start_days": Distribution("uniform", (-2.0, 1.0))}, ">= 0"),
        ({"kind": ShockKind.DEMAND_SHIFT, "magnitude": LOGN}, "not offers"),
        (
            {"kind": ShockKind.ROADMAP_SLIP, "magnitude": Distribution.fixed(45.0)},
            "lasts its delay",
        ),
    ],
)
def test_bad_shocks(changes, fragment):
    with pytest.raises(ValueError, match="shock 'cut'") as info:
        cut(**changes)
    assert fragment in str(info.value)


def test_roadmap_slip_lasts_its_delay():
    delay = Distribution("uniform", (30.0, 90.0))
    s = cut(kind=ShockKind.ROADMAP_SLIP, magnitude=delay, duration_days=delay)
    assert s.start_days == ZERO


@pytest.mark.parametrize(
    ("kw", "fragment"),
    [
        ({"shocks": ()}, "at least one shock"),
        ({"shocks": (cut(), cut())}, "duplicate shock name 'cut'"),
        ({"shocks": (cut(factor="f", loading=0.5),)}, "factor 'f' is not one of"),
        ({"factors": ("f", "f")}, "duplicate factor"),
        ({"horizon_days": 0.0}, "horizon_days"),
        ({"penalty": 0.0}, "penalty"),
        ({"samples": 0}, "samples"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_scenario_sets(kw, fragment):
    with pytest.raises(ValueError) as info:
        ScenarioSet(**({"shocks": (cut(),)} | kw))
    assert fragment in str(info.value)


def test_scenario_set_defaults_and_factor_index():
    with_factor = cut(name="b", factor="g", loading=0.5)
    s = ScenarioSet(shocks=(cut(), with_factor), factors=("f", "g"))
    assert (s.horizon_days, s.penalty, s.samples, s.seed) == (None, 3.0, 1000, 0)
    assert s.factor_index(s.shocks[0]) is None
    assert s.factor_index(with_factor) == 1
    assert ShockKind.DEMAND_SHIFT.acts_on_workloads and not ShockKind.OUTAGE.acts_on_workloads
