"""RunPod GraphQL ``gpuTypes`` response (``api.runpod.io/graphql``) → offers.

``{"data": {"gpuTypes": [...]}}``: one record per GPU type, with prices per GPU-hour, so
every offer is for one GPU (``accelerators_per_instance`` 1, ``instance_type`` the RunPod
GPU id). Price fields and what they become:

- ``securePrice`` / ``communityPrice`` → on_demand in region "secure-cloud" / "community-cloud";
- ``secureSpotPrice`` / ``communitySpotPrice`` → spot in the same two regions;
- ``oneWeekPrice``, ``oneMonthPrice``, ``threeMonthPrice``, ``sixMonthPrice`` → committed
  (``commit_1w`` ... ``commit_6m``), secure cloud, with the term in months (a week counts as 1).

Null prices mean "not offered" and are left out; zero prices are skipped and counted. The
API also returns placeholder community prices for GPUs not offered there (0.5 for B200 and
MI300X in 2025): a community price below 30% of the secure price of the same GPU is not
credible and is skipped. ``clusterPrice`` (Instant Clusters) is counted, not imported.
The response carries no date: ``as_of`` is ``ctx.observed_on``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from arbiter.catalog.feeds.context import FeedContext
from arbiter.catalog.feeds.json_feed import load_json
from arbiter.catalog.feeds.tally import FeedResult, Tally
from arbiter.catalog.names import canonical_accelerator
from arbiter.domain.as_of import AsOf
from arbiter.domain.errors import FeedError
from arbiter.domain.limits import MAX_USD_PER_GPU_HOUR, shown
from arbiter.domain.offer import Offer, PriceRegime

PROVIDER = "runpod"
SOURCE = "RunPod GraphQL API gpuTypes (api.runpod.io/graphql)"
_ENVELOPE = 'a RunPod GraphQL response: {"data": {"gpuTypes": [...]}}'
_PRICE_VALID = f"null, or a number from 0 to {MAX_USD_PER_GPU_HOUR:,} (USD per GPU-hour)"
SECURE = "secure-cloud"
COMMUNITY = "community-cloud"

# A community price under this share of the secure price is a placeholder, not an offer.
MIN_CREDIBLE_COMMUNITY_SHARE = 0.3

# Skip and unmap reasons: fixed strings, so counts add up across files.
UNKNOWN_ACCELERATOR = "unknown accelerator"
ZERO_PRICE = "zero price"
PLACEHOLDER = "community price below 30% of the secure price (placeholder)"
CLUSTER_PRICE = "clusterPrice (Instant Clusters) not imported"
NO_PRICES = "no prices"
NOT_OFFERED = "cloud not offered for this GPU (secureCloud/communityCloud false)"

# RunPod GPU ids whose spelling the alias table cannot resolve on its own.
RUNPOD_GPU_IDS: dict[str, str] = {
    "AMD Instinct MI300X OAM": "MI300X",
    "NVIDIA A100 80GB PCIe": "A100-PCIe-80GB",
    "NVIDIA A100-SXM4-80GB": "A100-SXM-80GB",
    "NVIDIA B200": "B200",
    "NVIDIA H100 80GB HBM3": "H100-SXM",
    "NVIDIA H100 NVL": "H100-NVL",
    "NVIDIA H100 PCIe": "H100-PCIe",
    "NVIDIA H200": "H200-SXM",
    "NVIDIA H200 NVL": "H200-NVL",
    "NVIDIA L4": "L4",
    "NVIDIA L40S": "L40S",
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": "RTX-PRO-6000",
}


@dataclass(frozen=True, slots=True)
class PriceField:
    """One price field of a GPU type and the offer it becomes."""

    name: str
    regime: PriceRegime
    source_regime: str
    region: str
    term_months: int | None = None


PRICE_FIELDS: tuple[PriceField, ...] = (
    PriceField("securePrice", PriceRegime.ON_DEMAND, "on_demand", SECURE),
    PriceField("communityPrice", PriceRegime.ON_DEMAND, "on_demand", COMMUNITY),
    PriceField("secureSpotPrice", PriceRegime.SPOT, "spot", SECURE),
    PriceField("communitySpotPrice", PriceRegime.SPOT, "spot", COMMUNITY),
    # Offer terms are whole months; a one-week term is rounded up to one.
    PriceField("oneWeekPrice", PriceRegime.COMMITTED, "commit_1w", SECURE, 1),
    PriceField("oneMonthPrice", PriceRegime.COMMITTED, "commit_1m", SECURE, 1),
    PriceField("threeMonthPrice", PriceRegime.COMMITTED, "commit_3m", SECURE, 3),
    PriceField("sixMonthPrice", PriceRegime.COMMITTED, "commit_6m", SECURE, 6),
)


def parse(data: bytes, ctx: FeedContext) -> FeedResult:
    """Parse one ``gpuTypes`` response; every GPU type becomes offers, a skip or an unmap."""
    gpu_types = _gpu_types(load_json(data, ctx, _ENVELOPE), ctx)
    reader = _Reader(ctx)
    for index, gpu_type in enumerate(gpu_types):
        reader.read(gpu_type, f"data.gpuTypes[{index}]")
    return FeedResult(
        source=reader.source, file=ctx.file, offers=tuple(reader.offers), tally=reader.tally
    )


def _gpu_types(doc: Any, ctx: FeedContext) -> list[Any]:
    data = doc.get("data") if isinstance(doc, dict) else None
    gpu_types = data.get("gpuTypes") if isinstance(data, dict) else None
    if isinstance(gpu_types, list):
        return gpu_types
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors:
        messages = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
        raise FeedError(f"the API returned errors: {messages}", file=ctx.file, valid=_ENVELOPE)
    raise FeedError(
        "data.gpuTypes is missing or not a list",
        file=ctx.file,
        field="data.gpuTypes",
        valid=_ENVELOPE,
    )


def accelerator_of(gpu_type: dict[str, Any], known: frozenset[str]) -> str | None:
    """The canonical chip of a GPU type: by RunPod id, else the id or display name as aliases."""
    gpu_id = gpu_type.get("id")
    if isinstance(gpu_id, str) and gpu_id in RUNPOD_GPU_IDS:
        by_id = RUNPOD_GPU_IDS[gpu_id]
        return by_id if by_id in known else None
    for name in (gpu_id, gpu_type.get("displayName")):
        hit = canonical_accelerator(name, known) if isinstance(name, str) and name else None
        if hit:
            return hit
    return None


class _Reader:
    """Turns GPU types into offers; holds the per-file state."""

    def __init__(self, ctx: FeedContext) -> None:
        self.ctx = ctx
        self.tally = Tally()
        self.offers: list[Offer] = []
        self.source = f"{SOURCE} {ctx.file}"
        self.as_of = AsOf.of_day(ctx.observed_on)

    def read(self, gpu_type: Any, record: str) -> None:
        self.tally.records += 1
        if not isinstance(gpu_type, dict):
            raise self._error(
                f"the GPU type is a JSON {type(gpu_type).__name__}, not an object", record, None
            )
        gpu_id = gpu_type.get("id")
        if not isinstance(gpu_id, str) or not gpu_id.strip():
            raise self._error(
                f"id is {gpu_id!r}, not a non-empty string", record, "id", "a RunPod GPU id"
            )
        prices = {f.name: self._price(gpu_type, f.name, record) for f in PRICE_FIELDS}
        cluster_usd = self._price(gpu_type, "clusterPrice", record)
        accelerator = accelerator_of(gpu_type, self.ctx.known_accelerators)
        if accelerator is None:
            self.tally.unmap(UNKNOWN_ACCELERATOR, gpu_id)
            return
        offered = _offered_clouds(gpu_type)
        accounted = [self._offer(gpu_id, accelerator, f, prices, offered) for f in PRICE_FIELDS]
        if cluster_usd:
            self.tally.skip(CLUSTER_PRICE, gpu_id)
        elif not any(accounted):
            self.tally.skip(NO_PRICES, gpu_id)

    def _offer(
        self,
        gpu_id: str,
        accelerator: str,
        price_field: PriceField,
        prices: dict[str, float | None],
        offered: set[str],
    ) -> bool:
        """Add the offer of one price field; False if the field is null (nothing to count)."""
        usd = prices[price_field.name]
        if usd is None:
            return False
        if usd == 0:
            self.tally.skip(ZERO_PRICE, f"{gpu_id} {price_field.name}")
            return True
        if _placeholder(price_field, usd, prices):
            self.tally.skip(PLACEHOLDER, f"{gpu_id} {price_field.name} {usd}")
            return True
        if price_field.region not in offered:
            self.tally.skip(NOT_OFFERED, f"{gpu_id} {price_field.name}")
            return True
        self.offers.append(
            Offer(
                provider=PROVIDER,
                region=price_field.region,
                instance_type=gpu_id,
                accelerator=accelerator,
                accelerators_per_instance=1,
                price_regime=price_field.regime,
                source_regime=price_field.source_regime,
                term_months=price_field.term_months,
                usd_per_hour=usd,
                as_of=self.as_of,
                source=self.source,
                provenance=f"{price_field.name}, per GPU-hour",
            )
        )
        return True

    def _price(self, gpu_type: dict[str, Any], name: str, record: str) -> float | None:
        value = gpu_type.get(name)
        if value is None:
            return None
        # bool is an int in Python; a JSON true is not a price.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(f"the price {value!r} is not a number", record, name, _PRICE_VALID)
        if not 0 <= value <= MAX_USD_PER_GPU_HOUR or not math.isfinite(value):
            what = "negative" if value < 0 else "out of range"
            raise self._error(f"the price {shown(value)} is {what}", record, name, _PRICE_VALID)
        return float(value)

    def _error(
        self, message: str, record: str, field: str | None, valid: str | None = None
    ) -> FeedError:
        return FeedError(message, file=self.ctx.file, record=record, field=field, valid=valid)


def _placeholder(price_field: PriceField, usd: float, prices: dict[str, float | None]) -> bool:
    """True for a community on-demand price too far below the secure one to be real."""
    if price_field.name != "communityPrice":
        return False
    secure_usd = prices.get("securePrice")
    return secure_usd is not None and usd < MIN_CREDIBLE_COMMUNITY_SHARE * secure_usd


def _offered_clouds(gpu_type: dict[str, Any]) -> set[str]:
    """The clouds the GPU type says it is offered in; a missing flag counts as offered."""
    flags = ((SECURE, "secureCloud"), (COMMUNITY, "communityCloud"))
    return {region for region, flag in flags if gpu_type.get(flag) is not False}
