"""The spot model: how often a spot offer is interrupted, and what that costs a job.

Every part of arbiter that prices spot capacity (the fleet planner's options, the risk
engine's spot surge, procurement, the single-job estimate) asks this module; nothing else
holds a spot rate. See ``docs/spot.md``.

**Interruptions per hour** of an offer (``interruptions_per_hour``), first match wins:

1. the offer's own ``interruption_rate`` (a catalog row or an imported feed that carries
   one), basis ``offer``;
2. the AWS Spot Instance Advisor band of its (region, instance type), Linux, from
   ``data/spot_interruptions.csv`` (built by ``scripts/build_spot_table.py`` from the
   feed), basis ``feed``;
3. the provider's published figure, from ``data/spot_defaults.csv`` (one row per provider,
   each with its source and date), basis ``provider_default``;
4. no published figure (a provider whose row says so, or one without a row): the highest
   published rate arbiter holds, basis ``unpublished_default``. A provider that publishes
   nothing is never assumed better than the worst figure one does publish.

**From a probability to a rate.** A published figure is a probability ``p`` that an
instance running for ``T`` hours is interrupted at least once. With interruptions as a
Poisson process, ``P(none in T) = exp(-rate T)``, so ``rate = -ln(1 - p) / T``.

**AWS bands.** The Spot Advisor gives, per instance type, region and OS, the "frequency
of interruption": the rate at which Spot reclaimed capacity over the trailing month, as a
band (``<5%``, ``5-10%``, ``10-15%``, ``15-20%``, ``>20%``). arbiter reads it as the share
of instances interrupted in a month: ``p`` is the band's midpoint and ``T`` is 730 hours
(a mean month). The bounds come from the band's label; ``<X%`` starts at 0 and ``>X%``
ends at the feed's own ``max`` for that band (100 in the feed), so ``>20%`` is read as
60%. Rates per hour: 3.47e-5, 1.07e-4, 1.83e-4, 2.64e-4 and 1.26e-3.

**Restart hours.** Each interruption costs the job ``RESTART_HOURS`` of progress: the work
since its last checkpoint (half the checkpoint interval, on average) plus the time to get an
instance back, start it and load the checkpoint. No provider publishes this; it depends on
the job. arbiter assumes 0.25 h: a checkpoint every 15 minutes (7.5 minutes of work lost on
average) and 7.5 minutes to relaunch and restore. The interruption notice (2 minutes on
AWS, 30 seconds on GCP and Azure) is too short to write a large model's checkpoint, so it
is not counted as saving work. Callers may pass their own ``restart_hours``.

**Who may use spot.** Spot capacity may be taken away at any time, so a spot offer serves
only work marked ``interruptible``; every other offer serves any work (``serves``). The
fleet planner's options, the single-job price and procurement's resources all ask it.

**Throughput.** A job on spot runs ``1 + rate x restart_hours`` hours per hour of
progress: ``throughput_factor = 1 / (1 + rate x restart_hours)``. ``restart_load`` is the
``rate x restart_hours`` itself (0 off spot), which the risk engine's spot surge scales.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from arbiter.domain.errors import InputError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.units import HOURS_PER_MONTH  # the month the AWS bands are over

RESTART_HOURS = 0.25  # progress lost per interruption (see the module docstring)
FEED_FILE = "spot_interruptions.csv"
DEFAULTS_FILE = "spot_defaults.csv"


class SpotBasis(enum.StrEnum):
    """What a spot rate rests on, most specific first."""

    OFFER = "offer"
    FEED = "feed"
    PROVIDER_DEFAULT = "provider_default"
    UNPUBLISHED_DEFAULT = "unpublished_default"


@dataclass(frozen=True, slots=True)
class SpotRate:
    """Expected interruptions per hour of one offer, with what the figure rests on.

    ``source`` says it in words (the feed and band, or the provider's page); ``as_of`` is
    the date of that source in :class:`~arbiter.domain.as_of.AsOf` form."""

    interruptions_per_hour: float
    basis: SpotBasis
    source: str
    as_of: str

    def describe(self) -> str:
        """One line: the rate and its basis, for estimates and plans."""
        return (
            f"{self.interruptions_per_hour:.3g} interruptions/h "
            f"({self.basis.value}: {self.source}, as of {self.as_of})"
        )


@dataclass(frozen=True, slots=True)
class SpotBand:
    """An interruption band: the share of instances interrupted in ``period_hours``,
    between ``low_share`` and ``high_share``."""

    label: str
    low_share: float
    high_share: float
    period_hours: float = HOURS_PER_MONTH

    @property
    def probability(self) -> float:
        """The band's midpoint: the probability arbiter reads the band as."""
        return (self.low_share + self.high_share) / 2.0

    @property
    def interruptions_per_hour(self) -> float:
        return rate_from_probability(self.probability, self.period_hours)


_BELOW = re.compile(r"^<\s*(\d+(?:\.\d+)?)\s*%$")
_BETWEEN = re.compile(r"^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*%$")
_ABOVE = re.compile(r"^>\s*(\d+(?:\.\d+)?)\s*%$")
BAND_LABELS = "<X%, X-Y% or >X% with 0 <= X < Y <= 100"


def parse_band(label: str, max_percent: float = 100.0) -> SpotBand:
    """The band a label such as ``<5%``, ``5-10%`` or ``>20%`` names; ``max_percent`` ends
    an open ``>X%`` band. Raises ``ValueError`` naming the accepted forms."""
    text = label.strip()
    if m := _BELOW.match(text):
        low, high = 0.0, float(m.group(1))
    elif m := _BETWEEN.match(text):
        low, high = float(m.group(1)), float(m.group(2))
    elif m := _ABOVE.match(text):
        low, high = float(m.group(1)), max_percent
    else:
        raise ValueError(f"{label!r} is not an interruption band; valid: {BAND_LABELS}")
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"band {label!r} runs from {low}% to {high}%; valid: {BAND_LABELS}")
    return SpotBand(text, low / 100.0, high / 100.0)


def rate_from_probability(probability: float, period_hours: float) -> float:
    """Interruptions per hour of a Poisson process with ``probability`` of at least one
    interruption in ``period_hours``: ``-ln(1 - p) / T``."""
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"probability {probability} is not in [0, 1)")
    if not period_hours > 0.0:
        raise ValueError(f"period_hours {period_hours} is not > 0")
    return -math.log1p(-probability) / period_hours


# --- the tables ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpotTable:
    """The rates arbiter knows: ``feed`` by (provider, region, instance type), ``defaults``
    by provider, and ``unpublished`` for providers that publish nothing."""

    feed: Mapping[tuple[str, str, str], SpotRate]
    defaults: Mapping[str, SpotRate]
    unpublished: SpotRate

    def rate(self, offer: Offer) -> SpotRate:
        """The rate of ``offer`` (precedence in the module docstring)."""
        own = offer.interruption_rate
        if own is not None:
            if not (math.isfinite(own) and own >= 0.0):
                raise InputError(
                    f"offer {offer.provider} {offer.region} {offer.instance_type} has "
                    f"interruption_rate {own}",
                    field="interruption_rate",
                    valid="empty, or a number of interruptions per hour >= 0",
                )
            return SpotRate(own, SpotBasis.OFFER, offer.source, offer.as_of.text)
        found = self.feed.get((offer.provider.lower(), offer.region, offer.instance_type))
        if found is not None:
            return found
        return self.defaults.get(offer.provider.lower(), self.unpublished)


def _rows(text: str, file: str, columns: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"missing columns {', '.join(missing)}", file=file, valid=", ".join(columns)
        )
    return [(f"{file}:{line}", row) for line, row in enumerate(reader, start=2)]


def _number(row: dict[str, str], name: str, where: str, valid: str) -> float:
    raw = (row.get(name) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{raw!r} is not a number", file=where, field=name, valid=valid) from None
    if not (math.isfinite(value) and value >= 0.0):
        raise InputError(f"{raw!r} is out of range", file=where, field=name, valid=valid)
    return value


FEED_COLUMNS = (
    "provider",
    "region",
    "instance_type",
    "os",
    "band",
    "probability",
    "interruptions_per_hour",
    "source",
    "as_of",
)
DEFAULT_COLUMNS = ("provider", "probability", "period_hours", "source", "as_of")


def feed_rates_from_csv(text: str, file: str = FEED_FILE) -> dict[tuple[str, str, str], SpotRate]:
    """The feed table (``data/spot_interruptions.csv``) by (provider, region, type)."""
    out: dict[tuple[str, str, str], SpotRate] = {}
    for where, row in _rows(text, file, FEED_COLUMNS):
        rate = _number(row, "interruptions_per_hour", where, "a number of interruptions/h >= 0")
        key = (row["provider"].strip().lower(), row["region"].strip(), row["instance_type"].strip())
        source = f"{row['source'].strip()}, band {row['band'].strip()} ({row['os'].strip()})"
        out[key] = SpotRate(rate, SpotBasis.FEED, source, row["as_of"].strip())
    return out


def default_rates_from_csv(
    text: str, file: str = DEFAULTS_FILE
) -> tuple[dict[str, SpotRate], SpotRate]:
    """The provider defaults (``data/spot_defaults.csv``) and the unpublished default.

    A row with an empty ``probability`` says the provider publishes no figure; it, and any
    provider without a row, gets the highest published rate (of this table)."""
    published: dict[str, SpotRate] = {}
    silent: dict[str, tuple[str, str]] = {}
    for where, row in _rows(text, file, DEFAULT_COLUMNS):
        provider = row["provider"].strip().lower()
        source, as_of = row["source"].strip(), row["as_of"].strip()
        if not (row.get("probability") or "").strip():
            silent[provider] = (source, as_of)
            continue
        p = _number(row, "probability", where, "a probability in [0, 1), or empty: none published")
        hours = _number(row, "period_hours", where, "the hours the probability is over, > 0")
        try:
            rate = rate_from_probability(p, hours)
        except ValueError as exc:
            raise InputError(str(exc), file=where, field="probability") from None
        published[provider] = SpotRate(rate, SpotBasis.PROVIDER_DEFAULT, source, as_of)
    if not published:
        raise InputError("no provider has a published rate", file=file, field="probability")
    worst_provider, worst = max(published.items(), key=lambda kv: kv[1].interruptions_per_hour)
    unpublished = SpotRate(
        worst.interruptions_per_hour,
        SpotBasis.UNPUBLISHED_DEFAULT,
        f"no published rate; taken as the highest published one ({worst_provider}'s)",
        worst.as_of,
    )
    defaults = dict(published)
    for provider, (source, _) in silent.items():
        defaults[provider] = SpotRate(
            unpublished.interruptions_per_hour,
            SpotBasis.UNPUBLISHED_DEFAULT,
            f"{source}; taken as the highest published rate ({worst_provider}'s)",
            worst.as_of,
        )
    return defaults, unpublished


def _data(name: str) -> str:
    return resources.files("arbiter.catalog.data").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def default_spot_table() -> SpotTable:
    """The tables shipped in the package."""
    feed = feed_rates_from_csv(_data(FEED_FILE), f"arbiter/catalog/data/{FEED_FILE}")
    defaults, unpublished = default_rates_from_csv(
        _data(DEFAULTS_FILE), f"arbiter/catalog/data/{DEFAULTS_FILE}"
    )
    return SpotTable(feed, defaults, unpublished)


# --- the model -------------------------------------------------------------------------------


def interruptions_per_hour(offer: Offer, table: SpotTable | None = None) -> SpotRate:
    """Expected interruptions per hour of ``offer`` were it bought as spot, with its basis."""
    return (table or default_spot_table()).rate(offer)


def serves(offer: Offer, interruptible: bool) -> bool:
    """Whether ``offer`` may run work that is (or is not) ``interruptible``: a spot offer
    only interruptible work, any other offer any work."""
    return interruptible or offer.price_regime is not PriceRegime.SPOT


def restart_load(
    offer: Offer, restart_hours: float = RESTART_HOURS, table: SpotTable | None = None
) -> float:
    """Hours of progress lost to interruptions per hour run: ``rate x restart_hours`` on a
    spot offer, 0 on any other."""
    if offer.price_regime is not PriceRegime.SPOT:
        return 0.0
    return interruptions_per_hour(offer, table).interruptions_per_hour * restart_hours


def throughput_factor(
    offer: Offer, restart_hours: float = RESTART_HOURS, table: SpotTable | None = None
) -> float:
    """Share of its nominal speed a job keeps on ``offer``:
    ``1 / (1 + rate x restart_hours)`` on spot, 1 elsewhere."""
    return 1.0 / (1.0 + restart_load(offer, restart_hours, table))


def throughput_factor_at(
    interruptions_per_hour: float, restart_hours: float = RESTART_HOURS
) -> float:
    """:func:`throughput_factor` at a rate already known (one measured on traces, say)."""
    return 1.0 / (1.0 + interruptions_per_hour * restart_hours)
