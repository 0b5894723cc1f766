"""Shared reading of the AWS Price List files (offer files and Savings Plans rate files):
prices as decimal strings, publication dates, the JSON envelope, the CSV layout with
metadata lines, and the region of a location name.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence

from arbiter.catalog.feeds.context import FeedContext
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError

MAX_METADATA_LINES = 20


# The Price List names regions by display name; regionCode is newer and not in every file.
LOCATION_REGIONS: dict[str, str] = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "AWS GovCloud (US-East)": "us-gov-east-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "Mexico (Central)": "mx-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Zurich)": "eu-central-2",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Paris)": "eu-west-3",
    "EU (Milan)": "eu-south-1",
    "EU (Spain)": "eu-south-2",
    "EU (Stockholm)": "eu-north-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Taipei)": "ap-east-2",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Middle East (Bahrain)": "me-south-1",
    "Middle East (UAE)": "me-central-1",
    "Israel (Tel Aviv)": "il-central-1",
    "Africa (Cape Town)": "af-south-1",
}


PRICE_VALID = "a decimal number >= 0 (USD), as a string"


# GPU, Trainium and Inferentia families; used only for types missing from the table, to
# tell a gap in the table (unmapped) from a CPU instance (skipped). Run once per SKU.
_ACCELERATED_FAMILY = re.compile(r"^(p\d|g\d|gr\d|trn\d|inf\d|dl\d)")


def looks_accelerated(instance_type: str, gpu_count: str = "") -> bool:
    """True if ``instance_type`` is an accelerator family or the feed gives it GPUs."""
    if gpu_count.isdigit() and int(gpu_count) > 0:
        return True
    return bool(_ACCELERATED_FAMILY.match(instance_type))


def region_of_location(location: str) -> str | None:
    return LOCATION_REGIONS.get(location)


def parse_usd(text: str, ctx: FeedContext, record: str, field: str) -> float:
    """A price the Price List writes as a decimal string; malformed or negative raises."""
    try:
        usd = float(text)
    except ValueError:
        raise FeedError(
            f"the price {text!r} is not a number",
            file=ctx.file,
            record=record,
            field=field,
            valid=PRICE_VALID,
        ) from None
    if not math.isfinite(usd) or usd < 0:
        raise FeedError(
            f"the price {text!r} is negative or not finite",
            file=ctx.file,
            record=record,
            field=field,
            valid=PRICE_VALID,
        )
    return usd


def publication_day(value: object, ctx: FeedContext, field: str) -> AsOf:
    """The day of a ``2025-09-12T22:53:08Z`` timestamp."""
    if not isinstance(value, str) or not value:
        raise FeedError(
            "the publication date is missing",
            file=ctx.file,
            field=field,
            valid="an ISO-8601 timestamp such as 2025-09-12T22:53:08Z",
        )
    try:
        return AsOf.parse(value[:10])
    except ValueError:
        raise FeedError(
            f"{value!r} is not a date",
            file=ctx.file,
            field=field,
            valid="an ISO-8601 timestamp such as 2025-09-12T22:53:08Z",
        ) from None


class PriceListCsv:
    """A Price List CSV: ``key,value`` metadata lines (optional), a header line with an
    ``SKU`` column, then rows. Columns are read by name: AWS adds columns over time."""

    def __init__(self, data: bytes, ctx: FeedContext, required: Sequence[str], valid: str) -> None:
        self.ctx = ctx
        self.valid = valid
        if not data.strip():
            raise FeedError("the file is empty", file=ctx.file, valid=valid)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedError(f"not UTF-8 text ({exc})", file=ctx.file, valid=valid) from None
        # strict: an unterminated quote (a truncated file) raises instead of eating the rest.
        self._reader = csv.reader(io.StringIO(text), strict=True)
        self.metadata: dict[str, str] = {}
        header = self._header()
        self.columns = {name: index for index, name in enumerate(header)}
        self._width = len(header)
        missing = [name for name in required if name not in self.columns]
        if missing:
            raise FeedError(
                f"the header lacks the columns {', '.join(missing)}",
                file=ctx.file,
                record=f"line {self._reader.line_num}",
                valid=f"a header with {', '.join(required)}",
            )

    def _header(self) -> list[str]:
        # Metadata lines are key,value pairs; the header is the first wider line naming SKU
        # (first, in every file AWS publishes, but the columns are read by name regardless).
        for row in self._rows_raw():
            if len(row) > 2 and "SKU" in row:
                return row
            if len(row) == 2:
                self.metadata[row[0]] = row[1]
            if self._reader.line_num > MAX_METADATA_LINES:
                break
        raise FeedError(
            f"no header line (with an SKU column) in the first {MAX_METADATA_LINES} lines",
            file=self.ctx.file,
            valid=self.valid,
        )

    def rows(self) -> Iterator[tuple[str, list[str]]]:
        """``(record, row)`` for each data row; blank lines are not records."""
        for row in self._rows_raw():
            if not row:
                continue
            record = f"line {self._reader.line_num}"
            if len(row) != self._width:
                raise FeedError(
                    f"the row has {len(row)} columns, the header {self._width};"
                    " the file may be truncated",
                    file=self.ctx.file,
                    record=record,
                    valid=f"{self._width} comma-separated columns, as in the header",
                )
            yield record, row

    def _rows_raw(self) -> Iterator[list[str]]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FeedError(
                    f"malformed CSV ({exc}); the file may be truncated",
                    file=self.ctx.file,
                    record=f"line {self._reader.line_num}",
                    valid=self.valid,
                ) from None
            yield row
