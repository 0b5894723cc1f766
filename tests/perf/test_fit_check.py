"""The committed fit is reproducible: ``scripts/fit_perf.py --check`` refits (~40 s) and
fails if ``efficiency.json`` fits the cases worse than the refit (beyond 0.1% of the
objective: the optimum is flat to a few percent in some parameters, and a refit on
another CPU moves along those flat directions), or if
``FIT_REPORT.md`` or the accuracy section of ``docs/perf.md`` differ from what the
committed parameters give. (``scripts/convert_calibration.py --check`` is tested in
``test_convert_calibration.py``.)"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from arbiter.catalog.embedded import default_accelerators
from arbiter.perf.cases import read_cases
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.fitting import SOFT_L1_SCALE, objective, soft_l1_cost

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "fit_perf.py"


def test_the_committed_efficiency_parameters_are_what_the_fit_gives():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "are current" in result.stdout


def _script():
    spec = importlib.util.spec_from_file_location("fit_perf", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_objective_is_the_one_least_squares_minimises():
    least_squares = pytest.importorskip("scipy.optimize").least_squares
    residuals = np.array([0.01, -0.2, 0.07, 1.5])
    solution = least_squares(
        lambda x: residuals + 0.0 * x, np.zeros(1), loss="soft_l1", f_scale=SOFT_L1_SCALE
    )
    assert soft_l1_cost(residuals) == pytest.approx(solution.cost, rel=1e-12)


def _cases_and_chips():
    script = _script()
    return read_cases(script.CASES), default_accelerators()


def test_moving_a_parameter_the_cases_pin_down_fits_beyond_the_tolerance():
    script = _script()
    cases, chips = _cases_and_chips()
    committed = default_efficiency()
    at_committed = objective(cases, chips, committed)
    values = {p: dict(v) for p, v in committed.platform.items()}
    values["cuda"]["layer_overhead_us"] *= 1.10
    moved = objective(cases, chips, dataclasses.replace(committed, platform=values))
    assert moved > at_committed * (1 + script.OBJECTIVE_TOLERANCE)
    assert objective(cases[5:], chips, committed) != at_committed  # the cases count


def test_drift_names_the_largest_move_and_a_parameter_only_one_side_has():
    script = _script()
    committed = default_efficiency()
    assert script.drift(committed, committed)[0] == 0.0
    values = {p: dict(v) for p, v in committed.platform.items()}
    values["xla"]["prefill_efficiency"] *= 0.9
    values["cuda"]["layer_overhead_us"] *= 1.02
    moved, name = script.drift(committed, dataclasses.replace(committed, platform=values))
    assert (round(moved, 9), name) == (0.1, "xla.prefill_efficiency")
    globals_ = {**committed.globals_, "new_parameter": 1.0}
    extra = script.drift(committed, dataclasses.replace(committed, globals_=globals_))
    assert extra == (math.inf, "new_parameter")
