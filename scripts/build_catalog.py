"""Build the embedded default catalog from the raw sources in data/sources/.

    python scripts/build_catalog.py           # write src/arbiter/catalog/data/
    python scripts/build_catalog.py --check   # fail if the committed files differ

Deterministic: the same sources give the same bytes and the same content hash. The
rules applied to each source are in docs/catalog-sources.md and in each offer's
``provenance`` column.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arbiter.catalog.build import build_default_catalog
from arbiter.catalog.history import history_to_csv
from arbiter.catalog.tables import accelerators_to_csv, offers_to_csv

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "data" / "sources"
OUT = ROOT / "src" / "arbiter" / "catalog" / "data"
DOCS = ROOT / "docs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    built = build_default_catalog(SOURCES)
    files = {
        "accelerators.csv": accelerators_to_csv(built.catalog.accelerators.values()),
        "offers.csv": offers_to_csv(built.catalog.offers),
        "price_history.csv": history_to_csv(built.history),
        "BUILD_REPORT.md": built.report_markdown(),
    }
    stale = [
        n for n, text in files.items() if not (OUT / n).exists() or (OUT / n).read_text() != text
    ]
    if args.check:
        for name in stale:
            print(f"stale: {OUT / name} (run: python scripts/build_catalog.py)")
        return 1 if stale else 0
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
    print(
        f"catalog {built.catalog.content_hash[:16]}: "
        f"{len(built.catalog.accelerators)} accelerators, {len(built.catalog.offers)} offers"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
