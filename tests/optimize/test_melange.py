"""The public Mélange example (Griggs et al., 2024) end to end: a request mix read from
YAML with measured per-class throughputs, priced on a two-offer catalog, planned by the
fleet MILP."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InputError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import build_options
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads.fleet import parse_fleet

# A10G at $1.01/h, A100 at $3.67/h; per-GPU requests/s for four classes (short/long input
# x short/long output, the paper's 2 x 2 grid read row by row): A10G [[5, 1], [10, 5]],
# A100 [[20, 2], [50, 20]]; the mix [[0.25, 0.125], [0.375, 0.25]] at 16 req/s.
SERVICE = {
    "name": "melange",
    "kind": "serve",
    "model": "llama-3.1-8b",
    "requests_per_s": 16,
    "request_mix": [
        {"share": 0.25, "input_tokens": 200, "output_tokens": 100},
        {"share": 0.125, "input_tokens": 200, "output_tokens": 1000},
        {"share": 0.375, "input_tokens": 2000, "output_tokens": 100},
        {"share": 0.25, "input_tokens": 2000, "output_tokens": 1000},
    ],
    "slo": {"ttft_s": 2.0, "tpot_s": 0.12},
    "hours": 1,
    "measured": [
        {"accelerator": "A10G", "chips": 1, "requests_per_s": [5, 1, 10, 5]},
        {"accelerator": "A100-SXM-80GB", "chips": 1, "requests_per_s": [20, 2, 50, 20]},
    ],
}


def _catalog() -> Catalog:
    accs = default_catalog().accelerators

    def offer(acc: str, usd: float) -> Offer:
        return Offer(
            provider="aws",
            region="us-east-1",
            instance_type=f"one-{acc}",
            accelerator=acc,
            accelerators_per_instance=1,
            price_regime=PriceRegime.ON_DEMAND,
            usd_per_hour=usd,
            as_of=AsOf.parse("2024-04-01"),
            source="Mélange (Griggs et al., 2024), AWS on-demand",
        )

    return Catalog.of(
        [accs["A10G"], accs["A100-SXM-80GB"]],
        [offer("A10G", 1.01), offer("A100-SXM-80GB", 3.67)],
    )


def _plan(service: dict[str, object]) -> dict[str, int]:
    fleet = parse_fleet({"workloads": [service]}, file="melange.yaml")
    options, _ = build_options(fleet, _catalog(), default_efficiency())
    sol = solve_fleet(fleet, options, mip_gap=1e-9)
    used: dict[str, int] = {}
    for p in sol.placed:
        used[p.option.offer.accelerator] = used.get(p.option.offer.accelerator, 0) + p.units
    assert sum(p.usd for p in sol.placed) == pytest.approx(sol.total_usd)
    return used | {"usd_x100": round(sol.total_usd * 100)}


def test_the_public_melange_example_gives_five_a10gs_at_5_05_an_hour() -> None:
    # Load in A10G-GPUs: 4/5 + 2/1 + 6/10 + 4/5 = 4.2 -> 5 A10Gs = $5.05. All-A100:
    # 4/20 + 2/2 + 6/50 + 4/20 = 1.52 -> 2 A100s = $7.34. One A100 takes at most one unit of
    # load; given to the classes where it is relatively strongest (x5, x4, x4, then x2) it
    # frees 0.6 + 0.8 + 0.8 + 0.48 x 2 = 3.16 A10G-loads, leaving 1.04 > 1: so 1 A100 needs
    # 2 A10Gs ($5.69). The mix of chips loses here; 5 A10Gs is the optimum.
    assert _plan(SERVICE) == {"A10G": 5, "usd_x100": 505}


def test_a_cheaper_a100_makes_the_mix_win() -> None:
    # With the A100 at $2.60/h: 5 A10Gs $5.05, 2 A100s $5.20, 1 A100 + 2 A10Gs $4.62 (the
    # loads above): the mix of chips is the optimum.
    catalog = _catalog()
    cheaper = Catalog.of(
        catalog.accelerators.values(),
        [
            o if o.accelerator == "A10G" else dataclasses.replace(o, usd_per_hour=2.60)
            for o in catalog.offers
        ],
    )
    fleet = parse_fleet({"workloads": [SERVICE]}, file="melange.yaml")
    options, _ = build_options(fleet, cheaper, default_efficiency())
    sol = solve_fleet(fleet, options, mip_gap=1e-9)
    used = {p.option.offer.accelerator: p.units for p in sol.placed}
    assert used == {"A10G": 2, "A100-SXM-80GB": 1}
    assert sol.total_usd == pytest.approx(4.62)
    # the split read back: every class's 16 x share req/s served, within each GPU's time
    served = [sum(p.class_requests_per_s[c] for p in sol.placed) for c in range(4)]
    assert served == pytest.approx([4.0, 2.0, 6.0, 4.0], abs=1e-6)
    for p in sol.placed:
        rates = p.option.class_requests_per_s
        busy = sum(x / r for x, r in zip(p.class_requests_per_s, rates, strict=True))
        assert busy <= p.units + 1e-6


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"request_mix": [{"share": 0.5, "input_tokens": 1, "output_tokens": 1}]}, "request_mix"),
        ({"input_tokens": 100}, "workloads[0].input_tokens"),
        (
            {"measured": [{"accelerator": "A10G", "chips": 1, "requests_per_s": [5, 1]}]},
            "workloads[0].measured[0].requests_per_s",
        ),
        (
            {"measured": [{"accelerator": "A10G", "chips": 1, "tokens_per_s": 500}]},
            "workloads[0].measured[0].tokens_per_s",
        ),
    ],
)
def test_a_bad_request_mix_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_fleet({"workloads": [SERVICE | change]}, file="melange.yaml")
    assert exc.value.file == "melange.yaml"
    assert exc.value.field is not None
    assert exc.value.field.endswith(field)


def test_the_mix_in_yaml_reads_back_as_classes() -> None:
    fleet = parse_fleet(yaml.safe_load(yaml.safe_dump({"workloads": [SERVICE]})), file="m.yaml")
    job = fleet.workloads[0].job
    assert [c.share for c in job.classes] == [0.25, 0.125, 0.375, 0.25]  # type: ignore[union-attr]
    assert job.output_tokens == pytest.approx(0.625 * 100 + 0.375 * 1000)  # type: ignore[union-attr]


def test_a_chip_that_cannot_serve_one_class_takes_the_others() -> None:
    # 10 req/s, half short, half long; the A10G serves 5 short req/s and no long ones
    # (measured 0), the A100 20 short or 5 long. A100s alone: 5/20 + 5/5 = 1.25 -> 2 =
    # $7.34; one A100 on the long class and one A10G on the short: $3.67 + $1.01 = $4.68.
    service = SERVICE | {
        "requests_per_s": 10,
        "request_mix": [
            {"share": 0.5, "input_tokens": 200, "output_tokens": 100},
            {"share": 0.5, "input_tokens": 2000, "output_tokens": 1000},
        ],
        "measured": [
            {"accelerator": "A10G", "chips": 1, "requests_per_s": [5, 0]},
            {"accelerator": "A100-SXM-80GB", "chips": 1, "requests_per_s": [20, 5]},
        ],
    }
    fleet = parse_fleet({"workloads": [service]}, file="melange.yaml")
    options, estimates = build_options(fleet, _catalog(), default_efficiency())
    a10g = next(e for e in estimates[0] if e.accelerator == "A10G")
    assert not a10g.feasible
    assert "serves request class 0 only, not 1" in a10g.reason
    sol = solve_fleet(fleet, options, mip_gap=1e-9)
    assert sol.total_usd == pytest.approx(4.68)
    served = {p.option.offer.accelerator: p.class_requests_per_s for p in sol.placed}
    assert served == {
        "A10G": pytest.approx((5.0, 0.0)),
        "A100-SXM-80GB": pytest.approx((0.0, 5.0), abs=1e-9),
    }
