"""Known-bad source rows, each with the reason it is left out (data/sources/exclusions.csv).

A rule matches an offer when every non-empty field equals the offer's (``instance_type``
and ``region`` may end in ``*`` to match a prefix). A rule with a ``file`` applies to the
offers of that source file only (``prices.csv``, ``skypilot-v8/gcp/vms.csv``); without one,
to every source.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from arbiter.domain.offer import Offer

_FIELDS = ("provider", "region", "instance_type", "accelerator", "price_regime")


@dataclass(frozen=True, slots=True)
class Exclusions:
    rules: tuple[dict[str, str], ...]

    def reason(self, offer: Offer, file: str) -> str | None:
        """Why ``offer``, read from source ``file``, is left out, or None if it is not."""
        for rule in self.rules:
            if rule.get("file") and rule["file"] != file:
                continue
            if all(_matches(rule[f], _value(offer, f)) for f in _FIELDS if rule.get(f)):
                return rule["reason"]
        return None


def _value(offer: Offer, name: str) -> str:
    value = getattr(offer, name)
    return str(getattr(value, "value", value))


def _matches(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return pattern == value


def load_exclusions(path: Path) -> Exclusions:
    if not path.exists():
        return Exclusions(())
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return Exclusions(tuple(dict(r) for r in rows))
