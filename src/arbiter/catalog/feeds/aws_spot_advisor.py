"""AWS Spot Instance Advisor feed (``spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json``)
→ interruption bands per (region, OS, instance type).

The feed is one JSON object:

- ``ranges``: the interruption bands, ``{"index", "label", "dots", "max"}`` each; labels
  ``<5%``, ``5-10%``, ``10-15%``, ``15-20%``, ``>20%``. ``max`` (5, 11, 16, 22, 100) does
  not always match the label; arbiter takes the bounds from the label, and ``max`` only
  to close the open ``>20%`` band (see :func:`arbiter.catalog.spot.parse_band`).
- ``spot_advisor``: ``{region: {os: {instance_type: {"s": savings %, "r": band index}}}}``.
- ``instance_types`` (cores, RAM) and ``global_rate`` (AWS's average band over every type
  and region, ``<10%``) are read but not needed for rates.

The feed carries no date; the caller dates it (``as_of``). It holds interruption bands, not
prices, so it is not one of the offer importers of :mod:`~arbiter.catalog.feeds.registry`;
``scripts/build_spot_table.py`` turns it into ``data/spot_interruptions.csv``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import load_json_object
from arbiter.catalog.spot import BAND_LABELS, SpotBand, parse_band
from arbiter.domain.errors import FeedError

PROVIDER = "aws"
SOURCE = "AWS Spot Instance Advisor"
URL = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
_ENVELOPE = (
    'the Spot Advisor JSON: {"ranges": [{"index", "label", "max"}, ...], '
    '"spot_advisor": {region: {os: {instance_type: {"s", "r"}}}}}'
)


@dataclass(frozen=True, slots=True)
class SpotAdvisorRow:
    """The interruption band of one instance type in one region for one OS."""

    region: str
    os: str
    instance_type: str
    band: SpotBand
    savings_share: float | None  # the feed's "s": saving against on-demand, 0-1


@dataclass(frozen=True, slots=True)
class SpotAdvisorFeed:
    bands: tuple[SpotBand, ...]  # by the feed's index
    rows: tuple[SpotAdvisorRow, ...]
    global_rate: str


def parse(data: bytes, ctx: FeedContext) -> SpotAdvisorFeed:
    """Parse one Spot Advisor file; malformed parts raise :class:`FeedError` naming the
    file and the field path."""
    doc = load_json_object(data, ctx, _ENVELOPE)
    bands = _bands(doc.get("ranges"), ctx)
    advisor = _object(doc.get("spot_advisor"), ctx, "spot_advisor", "an object by region")
    rows: list[SpotAdvisorRow] = []
    for region, raw_os in sorted(advisor.items()):
        by_os = _object(raw_os, ctx, f"spot_advisor.{region}", "an object by OS")
        for os_name, raw_types in sorted(by_os.items()):
            path = f"spot_advisor.{region}.{os_name}"
            by_type = _object(raw_types, ctx, path, "an object by instance type")
            for instance_type, entry in sorted(by_type.items()):
                rows.append(_row(region, os_name, instance_type, entry, bands, ctx))
    global_rate = doc.get("global_rate", "")
    return SpotAdvisorFeed(bands=tuple(bands), rows=tuple(rows), global_rate=str(global_rate or ""))


def _object(value: Any, ctx: FeedContext, field: str, valid: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a JSON {type(value).__name__}"
        raise FeedError(
            f"{field} is {found}, not an object", file=ctx.file, field=field, valid=valid
        )
    return value


def _bands(value: Any, ctx: FeedContext) -> list[SpotBand]:
    if not isinstance(value, list) or not value:
        found = "missing" if value is None else "empty" if value == [] else "not a list"
        raise FeedError(
            f"ranges is {found}", file=ctx.file, field="ranges", valid="a list of bands"
        )
    by_index: dict[int, SpotBand] = {}
    for i, raw in enumerate(value):
        record = f"ranges[{i}]"
        entry = _object(raw, ctx, record, '{"index", "label", "max"}')
        index = entry.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise FeedError(
                f"index is {index!r}",
                file=ctx.file,
                record=record,
                field="index",
                valid="an integer >= 0",
            )
        label = entry.get("label")
        if not isinstance(label, str):
            raise FeedError(
                f"label is {label!r}",
                file=ctx.file,
                record=record,
                field="label",
                valid=BAND_LABELS,
            )
        top = entry.get("max", 100)
        if not isinstance(top, (int, float)) or isinstance(top, bool) or not 0 < top <= 100:
            raise FeedError(
                f"max is {top!r}",
                file=ctx.file,
                record=record,
                field="max",
                valid="a percentage in (0, 100]",
            )
        try:
            by_index[index] = parse_band(label, float(top))
        except ValueError as exc:
            raise FeedError(str(exc), file=ctx.file, record=record, field="label") from None
    ordered = [by_index[k] for k in sorted(by_index)]
    if sorted(by_index) != list(range(len(by_index))):
        raise FeedError(
            f"band indexes are {sorted(by_index)}",
            file=ctx.file,
            field="ranges",
            valid="indexes 0, 1, 2 ... without gaps",
        )
    for lower, upper in itertools.pairwise(ordered):
        if not upper.probability > lower.probability:
            raise FeedError(
                f"band {upper.label!r} is not above band {lower.label!r}",
                file=ctx.file,
                field="ranges",
                valid="bands in rising order of interruption",
            )
    return ordered


def _row(
    region: str,
    os_name: str,
    instance_type: str,
    entry: Any,
    bands: list[SpotBand],
    ctx: FeedContext,
) -> SpotAdvisorRow:
    record = f"spot_advisor.{region}.{os_name}.{instance_type}"
    fields = _object(entry, ctx, record, '{"s": savings %, "r": band index}')
    index = fields.get("r")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(bands):
        raise FeedError(
            f"r is {index!r}, not a band index",
            file=ctx.file,
            record=record,
            field="r",
            valid=f"an integer from 0 to {len(bands) - 1} (an index of ranges)",
        )
    savings = fields.get("s")
    share = (
        float(savings) / 100.0
        if isinstance(savings, (int, float)) and not isinstance(savings, bool)
        else None
    )
    return SpotAdvisorRow(region, os_name, instance_type, bands[index], share)
