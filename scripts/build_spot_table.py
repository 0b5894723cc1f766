"""Build the spot interruption table from the AWS Spot Instance Advisor feed.

    python scripts/build_spot_table.py           # write the table into src/arbiter/catalog/data/
    python scripts/build_spot_table.py --check   # fail if the committed table differs
    python scripts/build_spot_table.py --feed FILE --as-of 2026-12-01   # a fresh feed

Reads ``data/sources/aws-spot-advisor/spot-advisor-data.json`` (its provenance is in
``data/sources/PROVENANCE.md``), keeps the Linux rows, and writes one row per (region,
instance type) with the band, the probability it is read as (the band's midpoint, per
month) and the interruptions per hour (``-ln(1 - p) / 730``); ``docs/spot.md`` states the
rule. Deterministic: the same feed gives the same bytes. A malformed feed exits 2 with a
message naming the file and the field.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from pathlib import Path

from arbiter.catalog.feeds import aws_spot_advisor
from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.spot import FEED_COLUMNS, FEED_FILE
from arbiter.domain.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
FEED = ROOT / "data" / "sources" / "aws-spot-advisor" / "spot-advisor-data.json"
FEED_DATE = "2025-06-28"  # the snapshot's date (data/sources/PROVENANCE.md)
OUT = ROOT / "src" / "arbiter" / "catalog" / "data" / FEED_FILE
OS = "Linux"  # arbiter plans Linux GPU instances


def table_csv(feed_bytes: bytes, file: str, as_of: str) -> str:
    """The CSV text of the table, from the bytes of one Spot Advisor file."""
    ctx = FeedContext(
        file=file, known_accelerators=frozenset(), observed_on=dt.date.fromisoformat(as_of)
    )
    feed = aws_spot_advisor.parse(feed_bytes, ctx)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FEED_COLUMNS)
    for row in feed.rows:
        if row.os != OS:
            continue
        writer.writerow(
            [
                aws_spot_advisor.PROVIDER,
                row.region,
                row.instance_type,
                row.os,
                row.band.label,
                f"{row.band.probability:.4f}",
                f"{row.band.interruptions_per_hour:.6g}",
                aws_spot_advisor.SOURCE,
                as_of,
            ]
        )
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--feed", type=Path, default=FEED, help="a Spot Advisor JSON file")
    parser.add_argument("--as-of", default=FEED_DATE, help="the feed's date, YYYY-MM-DD")
    args = parser.parse_args()
    try:
        text = table_csv(args.feed.read_bytes(), str(args.feed), args.as_of)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"{args.feed}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        if stale:
            print(f"stale: {OUT} (run: python scripts/build_spot_table.py)")
        return 1 if stale else 0
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT.name}: {text.count(chr(10)) - 1} rows from {args.feed.name} as of {args.as_of}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
