"""The default capacity rules on known offers give the sourced numbers; fleet rows beat a
capacity file, which beats the rules."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from arbiter.catalog.capacity import default_rules, obtainable, rule_for
from arbiter.catalog.embedded import default_catalog
from arbiter.domain.as_of import AsOf
from arbiter.domain.capacity import Needs, StatedCapacity
from arbiter.domain.fleet import CapacityLimit
from arbiter.domain.offer import Offer, PriceRegime


def _offer(
    provider: str,
    instance_type: str,
    accelerator: str,
    per: int,
    regime: PriceRegime,
    source_regime: str = "",
    region: str = "us-east-1",
) -> Offer:
    return Offer(
        provider=provider,
        region=region,
        instance_type=instance_type,
        accelerator=accelerator,
        accelerators_per_instance=per,
        price_regime=regime,
        usd_per_hour=10.0,
        as_of=AsOf.parse("2026-09"),
        source="test",
        source_regime=source_regime or regime.value,
    )


def _assume(offer: Offer):
    return obtainable([offer])[offer.offer_id]


def test_runpod_mi300x_on_a_committed_price_is_one_eight_gpu_pod():
    """RunPod lists MI300X as a single-pod GPU only (gpu-types.mdx, 2026-02-12)."""
    a = _assume(_offer("runpod", "8x MI300X", "MI300X", 8, PriceRegime.COMMITTED, "commit_6m"))
    assert (a.chips, a.job_chips, a.unit_chips) == (8, 8, 8)
    assert a.basis.startswith("rule R4 (https://github.com/runpod/docs/blob/main/references/gpu")
    assert "2026-02-12" in a.basis


def test_aws_capacity_blocks_64_instances_a_block_256_in_all_in_powers_of_two():
    a = _assume(_offer("aws", "p5.48xlarge", "H100-SXM", 8, PriceRegime.CAPACITY_BLOCK))
    assert (a.chips, a.job_chips) == (256 * 8, 64 * 8)
    assert a.power_of_two
    assert a.needs is Needs.NONE
    assert a.basis.startswith("rule R6")


def test_hyperscaler_on_demand_is_one_node_after_a_quota_request():
    a = _assume(_offer("aws", "p5.48xlarge", "H100-SXM", 8, PriceRegime.ON_DEMAND))
    assert (a.chips, a.job_chips, a.needs) == (8, 8, Needs.QUOTA)
    assert a.lead_days > 0
    trn = _assume(_offer("aws", "trn2.48xlarge", "Trainium2", 16, PriceRegime.ON_DEMAND))
    assert trn.chips == 16  # one node of a 16-chip instance, not 8 chips (none of it)


def test_gcp_a3_mega_is_not_sold_on_demand_and_calendar_mode_allows_80_vms():
    mega = _offer("gcp", "a3-megagpu-8g", "H100-SXM", 8, PriceRegime.ON_DEMAND)
    assert _assume(mega).chips == 0
    calendar = _offer(
        "gcp", "a3-megagpu-8g", "H100-SXM", 8, PriceRegime.CAPACITY_BLOCK, "dws_calendar"
    )
    assert _assume(calendar).job_chips == 640
    v5p = _offer(
        "gcp", "tpu-v5p per chip", "TPU-v5p", 1, PriceRegime.CAPACITY_BLOCK, "dws_calendar"
    )
    assert _assume(v5p).job_chips == 1024


def test_runpod_h100_on_demand_is_two_nodes_under_the_spend_limit():
    a = _assume(_offer("runpod", "8x H100", "H100-SXM", 8, PriceRegime.ON_DEMAND))
    assert a.chips == 16
    assert rule_for(_offer("runpod", "8x H100", "H100-SXM", 8, PriceRegime.ON_DEMAND),
                    default_rules()).confirmed_chips == 64  # fmt: skip


def test_reservations_are_contracts_with_a_13_week_lead():
    a = _assume(_offer("gcp", "a3-highgpu-8g", "H100-SXM", 8, PriceRegime.RESERVED_1Y, "cud_1y"))
    assert (a.chips, a.needs, a.lead_days) == (4096, Needs.CONTRACT, 91)


def test_nvl72_racks_are_whole_units_at_oci():
    a = _assume(_offer("oci", "BM.GPU.GB200.4", "GB200", 4, PriceRegime.ON_DEMAND))
    assert a.unit_chips == 72
    assert a.chips % 72 == 0


def test_every_embedded_offer_has_an_assumption_and_every_rule_a_sourced_fact():
    offers = default_catalog().offers
    found = obtainable(offers)
    assert len(found) == len({o.offer_id for o in offers})
    assert all(a.job_chips <= a.chips for a in found.values())
    assert all(a.chips % a.unit_chips == 0 for a in found.values())
    data = resources.files("arbiter.catalog.data")
    facts = list(csv.DictReader(io.StringIO(data.joinpath("capacity_facts.csv").read_text())))
    assert len(facts) == 71
    sources = {f["source"] for f in facts}
    for rule in default_rules():
        assert any(rule.source in s for s in sources), rule.source


@pytest.fixture
def p5() -> Offer:
    return _offer("aws", "p5.48xlarge", "H100-SXM", 8, PriceRegime.ON_DEMAND)


def test_precedence_fleet_then_file_then_rule(p5):
    stated = (StatedCapacity(provider="aws", accelerator="H100-SXM", chips=256, lead_days=2),)
    limit = CapacityLimit(provider="aws", accelerator="H100-SXM", max_instances=10)
    rule = obtainable([p5])[p5.offer_id]
    filed = obtainable([p5], stated=stated, stated_path="cap.yaml")[p5.offer_id]
    fleet = obtainable([p5], [limit], stated, "cap.yaml")[p5.offer_id]
    assert rule.basis.startswith("rule R2") and rule.chips == 8
    assert (filed.basis, filed.chips, filed.lead_days) == ("file:cap.yaml", 256, 2)
    assert (fleet.basis, fleet.chips, fleet.lead_days) == ("fleet", 80, 0)


def test_a_file_row_for_another_region_leaves_the_rule(p5):
    stated = (StatedCapacity(provider="aws", accelerator="H100-SXM", instances=4, region="eu-*"),)
    assert obtainable([p5], stated=stated, stated_path="c")[p5.offer_id].basis.startswith("rule")
