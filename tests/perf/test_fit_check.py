"""The committed fit is reproducible: ``scripts/fit_perf.py --check`` refits (~40 s) and
fails if a parameter of ``efficiency.json`` is more than 3% from the refit's, or if
``FIT_REPORT.md`` or the accuracy section of ``docs/perf.md`` differ from what the
committed parameters give. (``scripts/convert_calibration.py --check`` is tested in
``test_convert_calibration.py``.)"""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

from arbiter.perf.efficiency import Efficiency, default_efficiency

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


def test_the_check_names_a_parameter_a_refit_moves_beyond_the_tolerance():
    script = _script()
    committed = default_efficiency()
    tolerance = script.FIT_TOLERANCE

    def moved(platform: str, name: str, factor: float) -> Efficiency:
        values = {p: dict(v) for p, v in committed.platform.items()}
        values[platform][name] *= factor
        return dataclasses.replace(committed, platform=values)

    assert script.drift(committed, committed) == []
    assert script.drift(committed, moved("cuda", "layer_overhead_us", 1 + tolerance / 2)) == []
    far = script.drift(committed, moved("cuda", "layer_overhead_us", 1 + 2 * tolerance))
    assert len(far) == 1 and far[0].startswith("cuda.layer_overhead_us: committed")
    lower = script.drift(committed, moved("xla", "prefill_efficiency", 1 - 2 * tolerance))
    assert [m.split(":")[0] for m in lower] == ["xla.prefill_efficiency"]
    globals_ = {**committed.globals_, "new_parameter": 1.0}
    extra = script.drift(committed, dataclasses.replace(committed, globals_=globals_))
    assert extra == ["new_parameter: not committed"]
