"""Read and write the catalog's two tables (accelerators, offers) as CSV.

The column set, dtypes and units are declared once in :mod:`arbiter.catalog.schema`; this
module reads and writes exactly those columns, in that order, so the embedded catalog and
any export are byte-stable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from arbiter.catalog.schema import ACCELERATOR_COLUMNS, OFFER_COLUMNS, Column
from arbiter.domain.accelerator import Accelerator, Platform
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import InputError
from arbiter.domain.offer import Offer, PriceRegime


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, AsOf):
        return value.text
    if isinstance(value, (Platform, PriceRegime)):
        return value.value
    return str(value)


def _write(columns: tuple[Column, ...], rows: Iterable[object]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow([_cell(getattr(row, c.attr)) for c in columns])
    return buf.getvalue()


def accelerators_to_csv(accelerators: Iterable[Accelerator]) -> str:
    return _write(ACCELERATOR_COLUMNS, accelerators)


def offers_to_csv(offers: Iterable[Offer]) -> str:
    return _write(OFFER_COLUMNS, offers)


def _read(text: str, columns: tuple[Column, ...], file: str) -> list[dict[str, object]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c.name for c in columns if c.required and c.name not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"missing columns {', '.join(missing)}",
            file=file,
            valid=", ".join(c.name for c in columns),
        )
    out = []
    for line, raw in enumerate(reader, start=2):
        row: dict[str, object] = {}
        for col in columns:
            try:
                row[col.attr] = col.parse(raw.get(col.name) or "")
            except ValueError as exc:
                raise InputError(str(exc), file=f"{file}:{line}", field=col.name) from None
        out.append(row)
    return out


def accelerators_from_csv(text: str, file: str = "accelerators.csv") -> list[Accelerator]:
    return [Accelerator(**row) for row in _read(text, ACCELERATOR_COLUMNS, file)]  # type: ignore[arg-type]


def offers_from_csv(text: str, file: str = "offers.csv") -> list[Offer]:
    return [Offer(**row) for row in _read(text, OFFER_COLUMNS, file)]  # type: ignore[arg-type]
