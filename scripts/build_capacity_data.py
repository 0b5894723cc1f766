"""Copy the sourced capacity facts into the package and check the default rules against them.

    .venv/bin/python scripts/build_capacity_data.py [--facts PATH]

Copies ``capacity-facts.csv`` (71 facts with source URL and date; default
/work/shared/reference/capacity-facts.csv) to ``src/arbiter/catalog/data/capacity_facts.csv``
and writes ``CAPACITY_PROVENANCE.md`` beside it (source path, SHA-256, date copied). The
rules (``capacity_rules.csv``) are curated by hand from ``capacity-rules.md`` (see
docs/capacity.md); this script checks that every rule's source URL is one of the facts'
sources, so each default traces to a fact.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "arbiter" / "catalog" / "data"
DEFAULT_FACTS = Path("/work/shared/reference/capacity-facts.csv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=Path, default=DEFAULT_FACTS)
    args = parser.parse_args()
    text = args.facts.read_text(encoding="utf-8")
    facts = list(csv.DictReader(io.StringIO(text)))
    (DATA / "capacity_facts.csv").write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    (DATA / "CAPACITY_PROVENANCE.md").write_text(
        "# Capacity data provenance\n\n"
        f"- `capacity_facts.csv`: copied from `{args.facts}` ({len(facts)} facts), "
        f"SHA-256 `{digest}`, on {dt.date.today().isoformat()} by "
        "`scripts/build_capacity_data.py`. Each row carries its own source URL and date.\n"
        "- `capacity_rules.csv`: the default rules R1-R8 curated by hand from "
        "`capacity-rules.md` (same directory as the facts); each row names its source "
        "and date, and the script checks each source is among the facts' sources. "
        "docs/capacity.md explains each rule and where arbiter departs from the proposal.\n",
        encoding="utf-8",
    )
    sources = " ".join(f["source"] for f in facts)
    rules = list(csv.DictReader(io.StringIO((DATA / "capacity_rules.csv").read_text("utf-8"))))
    missing = sorted({r["source"] for r in rules if r["source"] not in sources})
    for source in missing:
        print(f"rule source not among the facts: {source}", file=sys.stderr)
    print(f"{len(facts)} facts copied; {len(rules)} rules, {len(missing)} unmatched sources")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
