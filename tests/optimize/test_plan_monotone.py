"""Monotonicity of the whole planning step (performance model, options, pruning, MILP) on
small random fleets over a small catalog of real chips: a looser deadline, a higher share
cap, more capacity or one more offer never raises the optimum (an infeasible fleet counts
as an infinite optimum, so nothing is skipped), and the plan on thinned and pruned
options equals the brute-force optimum of the raw options."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from plan_bruteforce import brute_force, close, evaluate, picks_of, within

from arbiter.catalog.embedded import default_catalog
from arbiter.domain.as_of import AsOf
from arbiter.domain.catalog import Catalog
from arbiter.domain.errors import InfeasibleError
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.optimize.fleet import solve_fleet
from arbiter.optimize.options import build_options
from arbiter.optimize.pruning import prune
from arbiter.perf.efficiency import default_efficiency
from arbiter.workloads.fleet import parse_fleet

GAP = 1e-9
EXAMPLES = settings(max_examples=25, deadline=None)
CHIPS = ("H100-SXM", "H200-SXM", "A100-SXM-80GB")
REGIMES = (PriceRegime.ON_DEMAND, PriceRegime.SPOT, PriceRegime.CAPACITY_BLOCK)
CATALOG = default_catalog()
EFF = default_efficiency()


@st.composite
def offers(draw: st.DrawFn, k: int) -> Offer:
    per = draw(st.sampled_from([1, 2, 4, 8]))
    return Offer(
        provider=draw(st.sampled_from(["aws", "gcp"])),
        region=draw(st.sampled_from(["us-1", "us-2"])),
        instance_type=f"it-{k}-{per}",
        accelerator=draw(st.sampled_from(CHIPS)),
        accelerators_per_instance=per,
        price_regime=draw(st.sampled_from(REGIMES)),
        usd_per_hour=per * draw(st.integers(10, 60)) / 10,
        as_of=AsOf.parse("2026-11-01"),
        source="test",
    )


@st.composite
def workload(draw: st.DrawFn, i: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["batch", "finetune", "serve"]))
    base = {"name": f"w{i}", "kind": kind, "model": "llama-3.1-8b", "interruptible": True}
    if kind == "batch":
        return {
            **base,
            "input_tokens": draw(st.sampled_from([1e9, 1e10])),
            "output_tokens": draw(st.sampled_from([1e8, 1e9])),
            "request_input_tokens": 1000,
            "request_output_tokens": 300,
            "deadline_hours": draw(st.sampled_from([24, 100, 400])),
        }
    if kind == "finetune":
        return {
            **base,
            "tokens": draw(st.sampled_from([1e8, 1e9])),
            "seq_len": 4096,
            "deadline_days": draw(st.sampled_from([1, 3, 10])),
        }
    return {
        **base,
        "interruptible": False,
        "requests_per_s": draw(st.sampled_from([0.5, 2, 10])),
        "input_tokens": 1000,
        "output_tokens": 200,
        "slo": {"ttft_s": 2, "tpot_s": 0.08},
        "hours": draw(st.sampled_from([24, 168])),
    }


@st.composite
def fleets(draw: st.DrawFn) -> tuple[dict[str, Any], list[Offer]]:
    n = draw(st.integers(2, 4))
    sold = [draw(offers(k)) for k in range(n)]
    doc: dict[str, Any] = {"workloads": [draw(workload(i)) for i in range(draw(st.integers(1, 2)))]}
    if draw(st.booleans()):
        doc["constraints"] = {"max_share": {"provider": draw(st.sampled_from([0.6, 0.8]))}}
    if draw(st.booleans()):
        o = draw(st.sampled_from(sold))
        doc["capacity"] = [
            {
                "provider": o.provider,
                "accelerator": o.accelerator,
                "max_instances": draw(st.integers(0, 4)),
            }
        ]
    return doc, sold


def optimum(doc: dict[str, Any], sold: list[Offer]) -> float:
    fleet = parse_fleet(doc, file="test.yaml")
    catalog = Catalog.of(CATALOG.accelerators.values(), sold)
    options, _ = build_options(fleet, catalog, EFF)
    try:
        return solve_fleet(fleet, prune(options, fleet), mip_gap=GAP, explain=False).total_usd
    except InfeasibleError:
        return float("inf")


def at_most(a: float, b: float) -> bool:
    return a <= b * (1 + 1e-6) + 1e-6


@EXAMPLES
@given(case=fleets(), data=st.data())
def test_relaxing_the_fleet_never_raises_the_optimum(
    case: tuple[dict[str, Any], list[Offer]], data: st.DataObject
) -> None:
    doc, sold = case
    base = optimum(doc, sold)
    # a looser deadline on every job (without caps: under caps a new, cheaper option
    # lowers what the work outside a group needs, which can tighten a cap on purpose)
    factor = data.draw(st.sampled_from([1.5, 2.0, 5.0]))
    looser = {**doc, "workloads": [_looser(w, factor) for w in doc["workloads"]]}
    if "constraints" not in doc:
        assert at_most(optimum(looser, sold), base)
    # a higher share cap
    if "constraints" in doc:
        higher = {"constraints": {"max_share": {"provider": 0.9}}}
        assert at_most(optimum({**doc, **higher}, sold), base)
    # more capacity
    if "capacity" in doc:
        more = [{**c, "max_instances": c["max_instances"] + 2} for c in doc["capacity"]]
        assert at_most(optimum({**doc, "capacity": more}, sold), base)
    # one more offer (without caps, as above)
    extra = data.draw(offers(len(sold)))
    if "constraints" not in doc:
        assert at_most(optimum(doc, [*sold, extra]), base)


def _looser(w: dict[str, Any], factor: float) -> dict[str, Any]:
    if "deadline_hours" in w:
        return {**w, "deadline_hours": w["deadline_hours"] * factor}
    if "deadline_days" in w:
        return {**w, "deadline_days": w["deadline_days"] * factor}
    return w


@EXAMPLES
@given(case=fleets())
def test_the_plan_equals_brute_force_on_the_raw_options(
    case: tuple[dict[str, Any], list[Offer]],
) -> None:
    """Thinning and pruning against every placement of the options before either."""
    doc, sold = case
    fleet = parse_fleet(doc, file="test.yaml")
    catalog = Catalog.of(CATALOG.accelerators.values(), sold)
    raw, _ = build_options(fleet, catalog, EFF, thin=False)
    thinned, _ = build_options(fleet, catalog, EFF)
    best = brute_force(fleet, raw)
    try:
        sol = solve_fleet(fleet, prune(thinned, fleet), mip_gap=GAP, explain=False)
    except InfeasibleError:
        assert best is None
        return
    cost = evaluate(fleet, picks_of(sol), raw)
    assert cost is not None  # meets every row, and pads nothing
    assert close(cost, sol.total_usd)
    # no padding: no service has a replica more than its options' rounding, so every
    # placement worth having is among those enumerated
    assert within(fleet, sol, 0)
    assert best is not None
    assert close(sol.total_usd, best)
