"""Spot availability traces: one boolean per reading, ``True`` when spot can be had.

Three file formats are read, chosen by the file's suffix and keys:

* **The public format** of the Can't Be Late traces (``skypilot-org/spot-traces``), JSON:
  ``{"metadata": {"gap_seconds": g}, "data": [v0, v1, ...]}``, one integer per reading,
  ``g`` seconds apart. The meaning of ``v`` depends on the folder:

  - in a ``1-node`` folder (and in any file whose values are all 0 or 1 outside an
    ``N-node`` folder), by default **1 means spot available**: the traces' README calls
    every value "the number of available instances", and the ``N-node`` files of the same
    repository are such counts. ``ones="unavailable"`` reads 1 as spot unavailable, as an
    early Can't Be Late simulator did (``TraceEnv.spot_available()`` returning
    ``not trace[tick]``, January 2023, before the 2023 traces were taken). Read the README
    way, Uniform Progress saves 31% to 50% against on-demand on the V100 traces (the paper
    reports 27% to 84% on its workloads); read the other way, 8% to 19%, and it costs more
    than on-demand in three us-west-2 zones whose spot would then be there 10% of the time;
  - in an ``N-node`` folder with N > 1 (and in any file with a value above 1), ``v`` is the
    count of instances available, and spot is available to a job of ``nodes`` instances
    when ``v >= nodes``.

* **A JSON trace of your own**: ``{"gap_seconds": g, "available": [1, 1, 0, ...]}``, where
  **1 means spot available** and 0 unavailable (``true``/``false`` are accepted too).

* **A CSV trace of your own**, with the header ``minutes,available``: one row per reading,
  ``minutes`` since the start of the trace (regularly spaced, increasing) and
  ``available`` 1 (spot available) or 0. The gap is the spacing of ``minutes``.

A trace's ``name`` is ``<folder>/<stem>`` (``aws-02-15-2023/us-east-2a_v100_1``); its
``region`` is the part of the stem before the first ``_`` and its ``chip`` the second part
in upper case (``V100``), or ``""`` when the stem has no ``_``. Any problem is an
:class:`~arbiter.domain.errors.InputError` naming the file, the field and what is valid.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from arbiter.domain.errors import InputError

TRACE_SUFFIXES = (".json", ".csv")
"""The suffixes :func:`read_traces` reads under a folder."""

_NODE_FOLDER = re.compile(r"^(\d+)-node$")


@dataclass(frozen=True, slots=True)
class Trace:
    """One availability trace: ``available[i]`` for the reading at ``i * gap_s`` seconds."""

    name: str
    region: str
    chip: str
    gap_s: float
    available: npt.NDArray[np.bool_]

    @property
    def gap_h(self) -> float:
        """Hours between two readings."""
        return self.gap_s / 3600.0

    @property
    def folder(self) -> str:
        """The collection the trace belongs to (the part of ``name`` before ``/``)."""
        return self.name.rpartition("/")[0]


ONES = ("available", "unavailable")
"""What a 1 may mean in a public 0/1 availability file (the module docstring)."""


def read_trace(path: Path, *, nodes: int = 1, ones: str = "available") -> Trace:
    """The trace in the file at ``path``; spot counts as available with ``nodes`` instances;
    ``ones`` says what a 1 means in a public 0/1 file (:data:`ONES`)."""
    file = str(path)
    if nodes < 1:
        raise InputError(f"nodes must be at least 1, got {nodes}", field="nodes", valid="1, 2, ...")
    if ones not in ONES:
        raise InputError(f"unknown reading of a 1: {ones!r}", field="ones", valid=", ".join(ONES))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=file, valid="a JSON or CSV trace") from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", file=file) from None
    if path.suffix.lower() == ".csv":
        gap_s, available = _parse_csv(text, file)
    else:
        gap_s, available = _parse_json(
            text, file, nodes=nodes, counts=_counts_folder(path), ones=ones
        )
    stem = path.stem
    region, _, rest = stem.partition("_")
    chip = rest.partition("_")[0].upper()
    name = f"{path.parent.name}/{stem}" if path.parent.name else stem
    return Trace(name=name, region=region, chip=chip, gap_s=gap_s, available=available)


def read_traces(folder: Path, *, nodes: int = 1, ones: str = "available") -> list[Trace]:
    """Every trace file (``.json``, ``.csv``) under ``folder``, at any depth, sorted by name."""
    if not folder.exists():
        raise InputError("folder not found", file=str(folder), valid="a folder of trace files")
    paths = (
        [folder]
        if folder.is_file()
        else sorted(
            p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in TRACE_SUFFIXES
        )
    )
    if not paths:
        raise InputError(
            "holds no trace files", file=str(folder), valid="JSON or CSV trace files in the folder"
        )
    traces = [read_trace(p, nodes=nodes, ones=ones) for p in paths]
    names = [t.name for t in traces]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(
            f"two trace files share the name {dup[0]!r}",
            file=str(folder),
            valid="distinct <folder>/<stem> names",
        )
    return sorted(traces, key=lambda t: t.name)


def _counts_folder(path: Path) -> bool | None:
    """True in an ``N-node`` folder with N > 1, False in ``1-node``, None elsewhere."""
    for part in reversed(path.parent.parts):
        match = _NODE_FOLDER.match(part)
        if match:
            return int(match.group(1)) > 1
    return None


def _gap(value: object, file: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InputError(
            f"gap must be a positive number of seconds, got {value!r}",
            file=file,
            field=field,
            valid="a number of seconds above 0",
        )
    if not np.isfinite(value):
        raise InputError("gap must be finite", file=file, field=field, valid="a finite number")
    return float(value)


def _integers(values: object, file: str, field: str) -> npt.NDArray[np.int64]:
    if not isinstance(values, list) or not values:
        raise InputError(
            "must be a non-empty list of readings", file=file, field=field, valid="[0, 1, ...]"
        )
    out = np.empty(len(values), dtype=np.int64)
    for i, raw in enumerate(values):
        v = int(raw) if isinstance(raw, bool) else raw
        if not isinstance(v, int) or v < 0:
            raise InputError(
                f"reading {v!r} is not a whole number of 0 or more",
                file=file,
                field=f"{field}[{i}]",
                valid="0, 1, 2, ...",
            )
        out[i] = v
    return out


def _parse_json(
    text: str, file: str, *, nodes: int, counts: bool | None, ones: str = "available"
) -> tuple[float, npt.NDArray[np.bool_]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"is not valid JSON (line {exc.lineno}: {exc.msg})", file=file, valid="a JSON trace"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "must be a JSON object",
            file=file,
            valid='{"metadata": {"gap_seconds": g}, "data": [...]} or '
            '{"gap_seconds": g, "available": [...]}',
        )
    if "available" in data:
        gap_s = _gap(data.get("gap_seconds"), file, "gap_seconds")
        values = _integers(data["available"], file, "available")
        if values.max() > 1:
            raise InputError(
                "readings must be 0 (unavailable) or 1 (available)",
                file=file,
                field="available",
                valid="0 or 1",
            )
        return gap_s, values == 1
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        raise InputError(
            "missing the metadata mapping",
            file=file,
            field="metadata",
            valid='{"gap_seconds": g}',
        )
    gap_s = _gap(meta.get("gap_seconds"), file, "metadata.gap_seconds")
    values = _integers(data.get("data"), file, "data")
    is_counts = counts if counts is not None else bool(values.max() > 1)
    if is_counts:
        return gap_s, values >= nodes
    if values.max() > 1:
        raise InputError(
            "a 1-node availability trace holds 0 or 1 only",
            file=file,
            field="data",
            valid="0 or 1",
        )
    return gap_s, values == (1 if ones == "available" else 0)


def _parse_csv(text: str, file: str) -> tuple[float, npt.NDArray[np.bool_]]:
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows or [c.strip().lower() for c in rows[0]] != ["minutes", "available"]:
        raise InputError(
            "the first row must be the header minutes,available",
            file=file,
            field="header",
            valid="minutes,available",
        )
    body = rows[1:]
    if len(body) < 2:
        raise InputError(
            "needs at least two readings", file=file, field="rows", valid="two rows or more"
        )
    minutes = np.empty(len(body))
    available = np.empty(len(body), dtype=np.bool_)
    for i, row in enumerate(body, start=2):
        if len(row) != 2:
            raise InputError(
                f"row has {len(row)} values", file=file, field=f"row {i}", valid="minutes,available"
            )
        try:
            minutes[i - 2] = float(row[0])
        except ValueError:
            raise InputError(
                f"minutes {row[0]!r} is not a number", file=file, field=f"row {i}.minutes"
            ) from None
        flag = row[1].strip()
        if flag not in ("0", "1"):
            raise InputError(
                f"available {flag!r} is not 0 or 1",
                file=file,
                field=f"row {i}.available",
                valid="1 (spot available) or 0 (unavailable)",
            )
        available[i - 2] = flag == "1"
    steps = np.diff(minutes)
    gap_min = float(steps[0])
    if not (gap_min > 0 and np.allclose(steps, gap_min, rtol=1e-6, atol=1e-9)):
        raise InputError(
            "minutes must increase by the same step on every row",
            file=file,
            field="minutes",
            valid="regularly spaced readings",
        )
    return gap_min * 60.0, available
