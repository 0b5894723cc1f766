"""Check ``src/arbiter/catalog/data/instance_types.csv``, the chips and fabric of every
instance type the catalog sells: every instance type ``offers.csv`` names has a row, each
row parses (``catalog.instance_types.parse_shape``: scale-up domain >= 1 chip, a known
scale-out fabric, a bandwidth only with a fabric), names a provider's page as its
``fabric_source`` and agrees with the offers on the chip and the chips per instance.

    PYTHONPATH=src .venv/bin/python scripts/check_instance_types.py          # check
    PYTHONPATH=src .venv/bin/python scripts/check_instance_types.py --add    # + stub rows

``--add`` appends a conservative row (no scale-out fabric, scale-up = the instance,
source "none stated") for each missing instance type, to be filled from the provider's
documentation. Facts and sources: ``docs/fabric.md``. Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from arbiter.catalog.instance_types import parse_shape
from arbiter.domain.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "src" / "arbiter" / "catalog" / "data"
TABLE = DATA / "instance_types.csv"
OFFERS = DATA / "offers.csv"


def problems(add: bool = False) -> list[str]:
    with TABLE.open() as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or ())
        rows = list(reader)
    out = []
    known: dict[tuple[str, str], dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            parse_shape(row, line)
        except InputError as exc:
            out.append(str(exc))
        if not row["fabric_source"].startswith("https://"):
            out.append(f"row {line}: fabric_source names no provider page")
        known[(row["provider"], row["instance_type"])] = row
    with OFFERS.open() as fh:
        offers = list(csv.DictReader(fh))
    missing: dict[tuple[str, str], dict[str, str]] = {}
    for o in offers:
        key = (o["provider"], o["instance_type"])
        row = known.get(key)
        if row is None:
            missing.setdefault(key, o)
        elif (row["accelerator"], row["accelerators_per_instance"]) != (
            o["accelerator"],
            o["accelerators_per_instance"],
        ):
            out.append(
                f"{key}: offers.csv sells {o['accelerator']} x {o['accelerators_per_instance']}"
            )
    for (provider, name), o in sorted(missing.items()):
        out.append(f"{provider} {name}: named by offers.csv, no row")
        if add:
            rows.append(
                {
                    "provider": provider,
                    "instance_type": name,
                    "accelerator": o["accelerator"],
                    "accelerators_per_instance": o["accelerators_per_instance"],
                    "scale_up_chips": o["accelerators_per_instance"],
                    "scale_out_fabric": "none",
                    "scale_out_gbps_per_chip": "",
                    "fabric_source": "https://",
                    "notes": "none stated: to fill from the provider's documentation",
                }
            )
    if add and missing:
        rows.sort(key=lambda r: (r["provider"], r["instance_type"]))
        with TABLE.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", action="store_true", help="append stub rows for missing types")
    found = problems(parser.parse_args().add)
    for p in found:
        print(p)
    print(f"{len(found)} problems in {TABLE.name}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
