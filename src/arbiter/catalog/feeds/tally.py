"""What an importer did with each record: kept, skipped on purpose, or could not map."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from arbiter.domain.offer import Offer

EXAMPLES_PER_REASON = 3


@dataclass(slots=True)
class Tally:
    """Counts of records by outcome. Nothing an importer reads disappears unaccounted.

    ``skipped``: records outside what the catalog holds, by reason (Windows images,
    CPU-only instances, zero or placeholder prices). ``unmapped``: records that look like
    accelerator offers but name an instance type or chip arbiter does not know.
    """

    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, example: str = "") -> None:
        self.skipped[reason] += 1
        self._example(f"skipped: {reason}", example)

    def unmap(self, reason: str, example: str) -> None:
        self.unmapped[reason] += 1
        self._example(f"unmapped: {reason}", example)

    def _example(self, key: str, example: str) -> None:
        seen = self.examples.setdefault(key, [])
        if example and len(seen) < EXAMPLES_PER_REASON and example not in seen:
            seen.append(example)


@dataclass(frozen=True, slots=True)
class FeedResult:
    """The offers parsed from one feed file, and the tally of every record read."""

    source: str
    file: str
    offers: tuple[Offer, ...]
    tally: Tally

    def summary_lines(self) -> list[str]:
        t = self.tally
        lines = [f"{self.file}: {t.records} records read, {len(self.offers)} offers"]
        for reason, n in sorted(t.unmapped.items()):
            ex = ", ".join(t.examples.get(f"unmapped: {reason}", []))
            lines.append(f"  unmapped ({reason}): {n}" + (f", e.g. {ex}" if ex else ""))
        for reason, n in sorted(t.skipped.items()):
            ex = ", ".join(t.examples.get(f"skipped: {reason}", []))
            lines.append(f"  skipped ({reason}): {n}" + (f", e.g. {ex}" if ex else ""))
        return lines
