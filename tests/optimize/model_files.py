"""A model file read back into HiGHS on its own, outside arbiter: its optimum."""

from __future__ import annotations

from pathlib import Path

import highspy


def optimum_of(path: Path, mip_gap: float = 0.0) -> float:
    """The optimum of the model written at ``path`` (``.mps`` or ``.lp``), solved by
    HiGHS to ``mip_gap``; the test fails unless it is proven optimal."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", mip_gap)
    assert h.readModel(str(path)) != highspy.HighsStatus.kError
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)
