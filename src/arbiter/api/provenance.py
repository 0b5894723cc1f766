"""The provenance every result carries, assembled in one place."""

from __future__ import annotations

from pathlib import Path

from arbiter._version import __version__
from arbiter.domain.catalog import Catalog
from arbiter.perf.calibration import CalibrationProfile


def provenance(
    catalog: Catalog,
    *,
    name: str | None,
    input_hash: str | None,
    profile: CalibrationProfile | dict[str, object] | None = None,
    **extra: object,
) -> dict[str, object]:
    """The provenance document of a result computed on ``catalog`` from the input named
    ``name`` (a path, shown by its file name, or ``<string>``, ``<mapping>``...) whose
    text hashes to ``input_hash``, with the calibration ``profile`` (or its summary)
    applied and the engine's ``extra`` keys (seed, engine, workers...; ``None`` values
    left out)."""
    doc: dict[str, object] = {
        "catalog_hash": catalog.content_hash,
        "arbiter_version": __version__,
    }
    if input_hash is not None:
        doc["input_hash"] = input_hash
    if name is not None:
        doc["file"] = name if name.startswith("<") else Path(name).name
    doc.update({k: v for k, v in extra.items() if v is not None})
    if profile is not None:
        doc["calibration"] = (
            profile.summary() if isinstance(profile, CalibrationProfile) else dict(profile)
        )
    return doc
