"""Where a result came from: one record for every engine's result."""

from __future__ import annotations

from typing import Any

from arbiter.results.base import Result


class Provenance(Result):
    """The catalog version (its content hash), the input (its file name and the hash of
    its text), arbiter's version, and what the engine adds where it applies: the seed,
    the solver and its version, the execution engine and its workers, the procurement
    file a deal read, the calibration profile applied. A key that does not apply is
    absent from the document."""

    catalog_hash: str
    arbiter_version: str
    input_hash: str | None = None
    file: str | None = None
    seed: int | None = None
    solver: str | None = None
    solver_version: str | None = None
    engine: str | None = None
    workers: int | None = None
    procurement_file: str | None = None
    calibration: dict[str, Any] | None = None
