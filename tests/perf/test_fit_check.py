"""The committed fit is reproducible: ``scripts/fit_perf.py --check`` refits (~40 s) and
fails if ``efficiency.json``, ``FIT_REPORT.md`` or the accuracy section of ``docs/perf.md``
differ from what the fit gives. (``scripts/convert_calibration.py --check`` is tested in
``test_convert_calibration.py``.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
