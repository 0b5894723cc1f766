"""The newest observation of an offer is its price; older ones and stale global prices are
history (arbiter.domain.current_prices)."""

from dataclasses import replace

from arbiter.catalog.embedded import default_catalog, default_price_history
from arbiter.domain.as_of import AsOf
from arbiter.domain.current_prices import current_prices, is_newer
from arbiter.domain.offer import Offer, PriceRegime


def _offer(region: str, usd: float, as_of: str, instance: str = "gpu_1x_gh200") -> Offer:
    return Offer(
        provider="lambda",
        region=region,
        instance_type=instance,
        accelerator="GH200",
        accelerators_per_instance=1,
        price_regime=PriceRegime.ON_DEMAND,
        source_regime="on_demand",
        usd_per_hour=usd,
        as_of=AsOf.parse(as_of),
        source="test",
    )


def test_newest_is_latest_end_then_latest_start():
    day = _offer("us-east-1", 1.0, "2026-09-16")
    snapshot = _offer("us-east-1", 1.0, "2025-10/2026-09")
    month = _offer("us-east-1", 1.0, "2026-09")
    assert is_newer(snapshot, day)  # ends 2026-09-30, after the 16th
    assert is_newer(month, snapshot)  # same end, later start
    assert not is_newer(day, day)


def test_same_key_keeps_the_newest_even_when_dearer():
    old = _offer("us-east-1", 1.49, "2024-10/2025-06")
    new = _offer("us-east-1", 2.29, "2025-10/2026-09")
    for order in ([old, new], [new, old]):
        result = current_prices(order)
        assert [o.usd_per_hour for o in result.offers] == [2.29]
        assert [(s.offer.usd_per_hour, s.by.usd_per_hour) for s in result.superseded] == [
            (1.49, 2.29)
        ]


def test_same_key_same_date_keeps_the_dearer():
    cheap = _offer("us-east-1", 2.0, "2026-09-16")
    dear = _offer("us-east-1", 2.5, "2026-09-16")
    for order in ([cheap, dear], [dear, cheap]):
        result = current_prices(order)
        assert [o.usd_per_hour for o in result.offers] == [2.5]
        assert result.superseded[0].reason == "same date as a dearer observation"
    same = current_prices([cheap, replace(cheap, source="copy")])
    assert [o.source for o in same.offers] == ["test"] and not same.superseded


def test_a_key_with_one_row_is_untouched():
    only = _offer("us-east-1", 3.0, "2024-01")
    assert current_prices([only]).offers == (only,)


def test_global_price_gives_way_to_newer_per_region_prices():
    stale = _offer("global", 1.49, "2024-10/2025-06")
    regional = [_offer(r, 2.29, "2025-10/2026-09") for r in ("us-east-1", "europe-central-1")]
    result = current_prices([stale, *regional])
    assert sorted(o.region for o in result.offers) == ["europe-central-1", "us-east-1"]
    assert [s.offer for s in result.superseded] == [stale]
    assert result.superseded[0].reason == "global price older than per-region prices"


def test_global_price_stays_without_a_newer_per_region_price():
    uniform = _offer("global", 1.49, "2025-10/2026-09")
    same_date = _offer("us-east-1", 1.49, "2025-10/2026-09")
    older = _offer("us-west-1", 1.29, "2024-10/2025-06")
    other_instance = _offer("us-east-2", 3.0, "2026-09-16", instance="gpu_8x_h100_sxm5")
    result = current_prices([uniform, same_date, older, other_instance])
    assert set(result.offers) == {uniform, same_date, other_instance}
    # the per-region price older than the uniform one is history (rule 3)
    assert [(s.offer, s.reason) for s in result.superseded] == [
        (older, "per-region price older than a global list price")
    ]


def _lambda_prices(instance: str) -> set[float]:
    return {
        o.usd_per_accelerator_hour
        for o in default_catalog().offers
        if o.provider == "lambda" and o.instance_type == instance
    }


def test_the_default_catalog_has_only_the_newer_lambda_prices():
    # GH200 $1.49 (2024-10/2025-06, global) against $2.29 per region (2025-10/2026-09);
    # H100 8x at $2.99 per GPU against $3.99; A100 8x at $1.29 per GPU against $1.99
    assert _lambda_prices("gpu_1x_gh200") == {2.29}
    assert _lambda_prices("gpu_8x_h100_sxm5") == {3.99}
    assert _lambda_prices("gpu_8x_a100") == {1.99}
    history = {
        (h.offer.instance_type, h.offer.usd_per_hour)
        for h in default_price_history()
        if h.offer.provider == "lambda"
    }
    assert {("gpu_1x_gh200", 1.49), ("gpu_8x_h100_sxm5", 23.92), ("gpu_8x_a100", 10.32)} <= history


def test_no_key_of_the_default_catalog_has_a_stale_global_price():
    catalog = default_catalog()
    newest: dict[tuple[str, str, str, str, int], Offer] = {}
    for o in catalog.offers:
        group = (
            o.provider,
            o.instance_type,
            o.price_regime.value,
            o.source_regime,
            o.term_months or 0,
        )
        if o.region != "global" and (group not in newest or is_newer(o, newest[group])):
            newest[group] = o
    for o in catalog.offers:
        group = (
            o.provider,
            o.instance_type,
            o.price_regime.value,
            o.source_regime,
            o.term_months or 0,
        )
        if o.region == "global" and group in newest:
            assert not is_newer(newest[group], o), o


def test_a_newer_global_list_price_retires_older_per_region_prices():
    # Nebius: a 2025 price in a snapshot of its regions, then its list price of 2026-10-01
    regional = _offer("eu-north1", 23.6, "2025-06/2026-09")
    listed = _offer("global", 36.0, "2026-10-01")
    result = current_prices([regional, listed])
    assert result.offers == (listed,)
    [gone] = result.superseded
    assert (gone.offer, gone.by) == (regional, listed)
    assert gone.reason == "per-region price older than a global list price"


def test_an_older_global_price_leaves_newer_per_region_prices_alone():
    regional = _offer("eu-north1", 23.6, "2026-10-02")
    listed = _offer("global", 36.0, "2026-10-01")
    result = current_prices([regional, listed])
    assert set(result.offers) == {regional}
    assert [s.reason for s in result.superseded] == ["global price older than per-region prices"]


def test_global_and_regional_prices_of_other_products_do_not_touch():
    regional = _offer("eu-north1", 23.6, "2025-06/2026-09", instance="gpu_8x_h100")
    listed = _offer("global", 36.0, "2026-10-01")
    assert set(current_prices([regional, listed]).offers) == {regional, listed}
