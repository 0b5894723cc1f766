"""Obtainable capacity per offer: the fleet's rows, then the user's capacity file, then the
sourced default rules (``data/capacity_rules.csv``, drawn from ``data/capacity_facts.csv``;
``docs/capacity.md`` explains each rule).

A rule row matches an offer by provider, accelerator, instance type, price regime and
source regime (globs; the first matching row wins, so specific rows come first). Its
quantities: obtainable chips ``max(chips, instances x accelerators_per_instance)`` for all
workloads together, and the same for one job (``job_chips``, ``job_instances``; empty:
as many as obtainable), both rounded down to whole units of ``unit_chips`` (empty: one
instance). An offer a fleet row covers has basis ``"fleet"`` and the fleet row's instances;
one a capacity-file row covers (the last matching row wins) has basis ``"file:<path>"``.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from arbiter.domain.capacity import CapacityAssumption, Needs, StatedCapacity
from arbiter.domain.fleet import CapacityLimit
from arbiter.domain.offer import Offer

RULES_FILE = "capacity_rules.csv"


@dataclass(frozen=True, slots=True)
class CapacityRule:
    """One row of ``capacity_rules.csv`` (see the module docstring)."""

    rule: str
    provider: str
    accelerator: str
    instance_type: str
    price_regime: str
    source_regime: str
    chips: int
    instances: int
    job_chips: int | None
    job_instances: int | None
    unit_chips: int | None
    power_of_two: bool
    needs: Needs
    lead_days: float
    confirmed_chips: int | None
    confidence: str
    source: str
    as_of: str
    note: str

    def matches(self, offer: Offer) -> bool:
        pairs = (
            (self.provider, offer.provider),
            (self.accelerator, offer.accelerator),
            (self.instance_type, offer.instance_type),
            (self.price_regime, offer.price_regime.value),
            (self.source_regime, offer.source_regime or offer.price_regime.value),
        )
        return all(fnmatch.fnmatchcase(value.lower(), glob.lower()) for glob, value in pairs)

    def assume(self, offer: Offer) -> CapacityAssumption:
        per = offer.accelerators_per_instance
        unit = max(self.unit_chips or per, per)
        chips = max(self.chips, self.instances * per)
        job = chips
        if self.job_chips is not None or self.job_instances is not None:
            job = max(self.job_chips or 0, (self.job_instances or 0) * per)
        return CapacityAssumption(
            chips=chips // unit * unit,
            job_chips=min(job, chips) // unit * unit,
            unit_chips=unit,
            needs=self.needs,
            lead_days=self.lead_days,
            basis=f"rule {self.rule} ({self.source}, {self.as_of})",
            source=self.source,
            as_of=self.as_of,
            power_of_two=self.power_of_two,
        )


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


def parse_rules(text: str) -> tuple[CapacityRule, ...]:
    """The rules of a ``capacity_rules.csv`` text."""
    return tuple(
        CapacityRule(
            rule=row["rule"],
            provider=row["provider"],
            accelerator=row["accelerator"],
            instance_type=row["instance_type"],
            price_regime=row["price_regime"],
            source_regime=row["source_regime"],
            chips=_int(row["chips"]) or 0,
            instances=_int(row["instances"]) or 0,
            job_chips=_int(row["job_chips"]),
            job_instances=_int(row["job_instances"]),
            unit_chips=_int(row["unit_chips"]),
            power_of_two=row["power_of_two"].strip().lower() == "true",
            needs=Needs(row["needs"]),
            lead_days=float(row["lead_days"]),
            confirmed_chips=_int(row["confirmed_chips"]),
            confidence=row["confidence"],
            source=row["source"],
            as_of=row["as_of"],
            note=row["note"],
        )
        for row in csv.DictReader(io.StringIO(text))
    )


@functools.cache
def default_rules() -> tuple[CapacityRule, ...]:
    """The sourced default rules shipped with the package."""
    text = resources.files("arbiter.catalog.data").joinpath(RULES_FILE).read_text("utf-8")
    return parse_rules(text)


def rule_for(offer: Offer, rules: Sequence[CapacityRule]) -> CapacityRule:
    """The first rule that matches ``offer`` (the last rule matches everything)."""
    for rule in rules:
        if rule.matches(offer):
            return rule
    raise LookupError(f"no capacity rule matches {offer.provider}/{offer.instance_type}")


def _from_fleet(offer: Offer, limits: Iterable[CapacityLimit]) -> CapacityAssumption | None:
    covering = [c for c in limits if c.covers(offer)]
    if not covering:
        return None
    per = offer.accelerators_per_instance
    chips = min(c.max_instances for c in covering) * per
    return CapacityAssumption(
        chips=chips,
        job_chips=chips,
        unit_chips=per,
        needs=Needs.NONE,
        lead_days=0.0,
        basis="fleet",
        source="capacity: " + ", ".join(c.label for c in covering),
    )


def _from_file(
    offer: Offer, stated: Sequence[StatedCapacity], path: str
) -> CapacityAssumption | None:
    row = next((s for s in reversed(stated) if s.covers(offer)), None)
    if row is None:
        return None
    per = offer.accelerators_per_instance
    chips = row.chips_of(offer) // per * per
    return CapacityAssumption(
        chips=chips,
        job_chips=chips,
        unit_chips=per,
        needs=row.needs,
        lead_days=row.lead_days,
        basis=f"file:{path}",
        source=path,
    )


def obtainable(
    offers: Iterable[Offer],
    fleet_limits: Sequence[CapacityLimit] = (),
    stated: Sequence[StatedCapacity] = (),
    stated_path: str = "",
    rules: Sequence[CapacityRule] | None = None,
) -> dict[str, CapacityAssumption]:
    """The capacity assumption of every offer, by offer id: the fleet's rows first, then
    the capacity file's (``stated``, read from ``stated_path``), then the default rules."""
    table = default_rules() if rules is None else rules
    out: dict[str, CapacityAssumption] = {}
    for offer in offers:
        found = _from_fleet(offer, fleet_limits) or _from_file(offer, stated, stated_path)
        if found is None:
            found = rule_for(offer, table).assume(offer)
        out[offer.offer_id] = found
    return out


def confirmed_chips(offer: Offer, rules: Sequence[CapacityRule] | None = None) -> int | None:
    """The chips the rule matching ``offer`` allows once the user confirms more (its hard
    cap), if it states one."""
    return rule_for(offer, default_rules() if rules is None else rules).confirmed_chips
