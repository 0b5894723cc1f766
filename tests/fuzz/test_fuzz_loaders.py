"""Every loader against mutated example files and feed samples, with a small fixed budget.

Two kinds of input per loader (``fuzzing.targets()``): a Hypothesis-chosen hostile value
(huge, tiny, NaN, a wrong type, a long or odd string, deep nesting) put at a
Hypothesis-chosen place of the parsed seed file, and byte-level mutations of the seed
driven by a Hypothesis random. Reading must succeed or raise an ``ArbiterError``; anything
else, or an input slower than the per-input limit, fails. ``make fuzz`` runs the same
targets with at least 10,000 inputs each (``scripts/fuzz.py``).
"""

from __future__ import annotations

import math
import random

import fuzzing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TARGETS = {t.name: t for t in fuzzing.targets()}
EXAMPLES_PER_TARGET = 50
TIMEOUT_S = 10.0

hostile_scalars = st.one_of(
    st.sampled_from(fuzzing.HOSTILE_NUMBERS),
    st.sampled_from(fuzzing.HOSTILE_TEXT),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**300, max_value=10**320),
    st.text(max_size=30),
    st.none(),
    st.booleans(),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

SETTINGS = settings(
    max_examples=EXAMPLES_PER_TARGET,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _check(target: fuzzing.Target, data: bytes, name: str, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp(target.name)
    result = fuzzing.run_one(target, data, folder, timeout=TIMEOUT_S, name=name)
    assert result in (None, ""), f"{target.name}: {result}\ninput: {data[:500]!r}"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seed_files_are_accepted(name, tmp_path_factory):
    target = TARGETS[name]
    for seed in target.seeds:
        folder = tmp_path_factory.mktemp(name)
        assert fuzzing.run_one(target, seed.data, folder, timeout=60, name=seed.name) == ""


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_hostile_values_in_the_schema_are_input_errors(name, tmp_path_factory):
    target = TARGETS[name]

    @SETTINGS
    @given(
        seed_index=st.integers(min_value=0, max_value=len(target.seeds) - 1),
        where=st.integers(min_value=0, max_value=10**6),
        value=hostile_values,
    )
    def check(seed_index: int, where: int, value: object) -> None:
        seed = target.seeds[seed_index]
        paths = list(fuzzing._paths(seed.doc))[1:]
        if not paths:
            return
        doc = fuzzing._replace(seed.doc, paths[where % len(paths)], value)
        try:
            data = fuzzing.dump_doc(seed.kind, doc)
        except (ValueError, TypeError, RecursionError):
            return
        if isinstance(value, float) and math.isnan(value) and seed.kind == "csv":
            data = data.replace(b"nan", b"NaN")
        _check(target, data, seed.name, tmp_path_factory)

    check()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_bytes_are_input_errors(name, tmp_path_factory):
    target = TARGETS[name]

    @SETTINGS
    @given(rnd=st.randoms(use_true_random=False))
    def check(rnd: random.Random) -> None:
        seed = rnd.choice(target.seeds)
        data = fuzzing.mutate(seed, rnd)
        _check(target, data, seed.name, tmp_path_factory)

    check()
