"""What ``arbiter catalog ... --json`` prints: accelerators, offers, versions, a summary
and the difference between two versions.

The lists (accelerators, offers, versions) are :class:`~arbiter.results.base.Rows` of the
rows here; ``to_json()`` prints them as a JSON list, ``to_frame()`` gives a DataFrame.
"""

from __future__ import annotations

from arbiter.results.base import Result, Rows


class AcceleratorSpec(Result):
    """One chip's published specs: dense peaks per chip, memory, fabric and power."""

    name: str
    vendor: str
    platform: str
    generation: str
    year: int
    bf16_tflops: float
    fp16_tflops: float | None
    fp8_tflops: float | None
    fp4_tflops: float | None
    int8_tops: float | None
    hbm_gb: float
    hbm_tbps: float
    interconnect_gbps: float | None
    tdp_w: float | None
    chips_per_node: int | None
    memory_type: str
    interconnect_type: str
    source: str
    verified: str


class CatalogOffer(Result):
    """One way to buy a chip: where, under which price regime, at what price, observed
    when and from which source. With ``--history``, a superseded price also says what
    replaced it (the ``superseded_*`` keys; absent otherwise)."""

    offer_id: str
    provider: str
    region: str
    local_zone: bool
    """True for an AWS Local Zone (another city attached to a region; a fleet's
    ``constraints.local_zones: false`` leaves these out)."""
    zone: str
    instance_type: str
    accelerator: str
    vendor: str
    platform: str
    accelerators_per_instance: int
    price_regime: str
    source_regime: str
    term_months: int | None
    usd_per_hour: float
    usd_per_accelerator_hour: float
    as_of: str
    source: str
    derived: bool
    provenance: str
    superseded_by_region: str | None = None
    superseded_by_usd_per_hour: float | None = None
    superseded_by_as_of: str | None = None
    superseded_reason: str | None = None


class CatalogVersion(Result):
    """A stored catalog version (``default``: the embedded one); ``current`` marks the
    one commands use."""

    version: str
    created_at: str | None
    label: str | None
    parent: str | None
    n_offers: int
    n_accelerators: int
    current: bool


class OfferPrice(Result):
    """Where an offer is and what a chip-hour costs there."""

    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_accelerator_hour: float
    as_of: str


class CheapestOffers(Result):
    """A chip's cheapest offer on demand (None if it has none) and under any regime."""

    accelerator: str
    vendor: str
    on_demand: OfferPrice | None
    any_regime: OfferPrice


class ProviderFreshness(Result):
    """How old one provider's prices are on ``today`` (a summary's date): its offers, how
    many are dated to the day, to the month or only by an interval (a snapshot's window),
    the age in days of its newest and oldest price (from the latest day each may have been
    observed, as a plan's audit measures it), and how many are older than ``max_age_days``."""

    provider: str
    offers: int
    dated_to_the_day: int
    dated_to_the_month: int
    dated_by_interval: int
    newest_age_days: int
    oldest_age_days: int
    stale: int
    max_age_days: int


class CatalogSummary(Result):
    """A catalog version at a glance: counts, offers by vendor, provider and regime, the
    cheapest offer per chip (by vendor, then name), and how fresh each provider's prices
    are (``freshness``, ages on ``today``)."""

    version: str
    content_hash: str
    n_accelerators: int
    n_offers: int
    n_providers: int
    n_vendors: int
    n_regimes: int
    offers_by_vendor: dict[str, int]
    offers_by_provider: dict[str, int]
    offers_by_regime: dict[str, int]
    cheapest: Rows[CheapestOffers]
    today: str
    freshness: Rows[ProviderFreshness]


class OfferBrief(Result):
    """An offer as a difference names it."""

    offer_id: str
    provider: str
    region: str
    instance_type: str
    price_regime: str
    usd_per_hour: float
    as_of: str


class PriceChange(OfferBrief):
    """An offer in both versions at another price: the new one, the old, and the change
    as a share of the old (``0.1`` is 10% dearer)."""

    usd_per_hour_before: float
    change_share: float


class CatalogDiff(Result):
    """Offers added, removed and repriced from one catalog version to another, and how
    many are the same in both."""

    added: Rows[OfferBrief]
    removed: Rows[OfferBrief]
    changed: Rows[PriceChange]
    unchanged: int


class PriceObservation(Result):
    """One dated price of one offer (``current``: the price the catalog version holds;
    otherwise an older observation). ``observed_from``..``observed_to`` bound the day it
    was seen: one day, a month, or a snapshot's interval."""

    offer_id: str
    provider: str
    region: str
    local_zone: bool
    instance_type: str
    accelerators_per_instance: int
    price_regime: str
    source_regime: str
    term_months: int | None
    usd_per_hour: float
    usd_per_accelerator_hour: float
    as_of: str
    observed_from: str
    observed_to: str
    age_days: int
    source: str
    current: bool


class PriceMove(Result):
    """One offer's price per chip-hour from its first observation to its last."""

    offer_id: str
    provider: str
    region: str
    instance_type: str
    price_regime: str
    observations: int
    first_as_of: str
    first_usd_per_accelerator_hour: float
    last_as_of: str
    last_usd_per_accelerator_hour: float
    change_share: float


class ProviderPrices(Result):
    """One provider's prices of the chip under one regime: how many offers and
    observations, the dates they span, and the lowest and median current price."""

    provider: str
    price_regime: str
    offers: int
    observations: int
    oldest_as_of: str
    newest_as_of: str
    newest_age_days: int
    lowest_usd_per_accelerator_hour: float
    median_usd_per_accelerator_hour: float


class PriceHistory(Result):
    """Every observation of one chip's prices in a catalog version and the versions it
    descends from (the embedded catalog's superseded prices included), filtered by
    provider and regime: per provider and regime, the offers whose price moved (largest
    move first), and every observation. Ages are counted on ``today``."""

    accelerator: str
    version: str
    content_hash: str
    today: str
    providers: list[str]
    regimes: list[str]
    versions_read: int
    by_provider: Rows[ProviderPrices]
    moves: Rows[PriceMove]
    observations: Rows[PriceObservation]


class CatalogImport(Result):
    """A price-feed import (``arbiter catalog import``, ``POST /api/v1/catalog/import``):
    the new catalog ``version`` (now current), made from ``parent`` plus the offers of the
    ``source`` feed ``files``: ``added`` (new keys), ``replaced`` (a newer or corrected
    price) and ``older`` (older than the price held: not taken); ``n_offers`` in all.
    ``notes``: per file, the records read, the offers kept, and what was skipped or not
    mapped, with examples."""

    version: str
    parent: str
    label: str | None
    source: str
    files: list[str]
    added: int
    replaced: int
    older: int
    n_offers: int
    notes: list[str]
