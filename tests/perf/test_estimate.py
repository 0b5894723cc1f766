"""``estimate_workload``: each workload's best configuration per accelerator, priced.

Invariants are recomputed from the estimates themselves (rates against demand and
deadlines, whole instances against the bill, offers against a plain scan of the catalog),
so no number here is copied from a run.
"""

from __future__ import annotations

import fnmatch
import itertools
import math

import numpy as np
import pytest

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.domain.offer import Offer
from arbiter.domain.workload import Placement, Precision, ServeJob, TrainJob, Workload
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import DEFAULT_TRAIN_DAYS, Estimate, estimate_workload
from arbiter.perf.hardware import chip_arrays
from arbiter.perf.pricing import PriceBook
from arbiter.perf.topology import Host, offer_host
from arbiter.perf.training import TrainResult, evaluate_training, train_grid
from arbiter.workloads import parse_workloads

ACCS = default_accelerators()
ALL = list(ACCS.values())
EFF = default_efficiency()
CATALOG = default_catalog()
PRICES = PriceBook(CATALOG)
HEADROOM = EFF["latency_headroom"]

TRAIN = {
    "kind": "train",
    "model": "llama-3.1-8b",
    "tokens": "200B",
    "seq_len": 8192,
    "global_batch_tokens": "4M",
    "deadline_days": 14,
}
SERVE = {
    "kind": "serve",
    "model": "llama-3.1-70b",
    "precision": "fp8",
    "requests_per_s": 20,
    "input_tokens": 1000,
    "output_tokens": 300,
    "slo": {"ttft_s": 2.0, "tpot_s": 0.05},
}
BATCH = {
    "kind": "batch",
    "model": "llama-3.1-70b",
    "precision": "fp8",
    "input_tokens": "10B",
    "output_tokens": "1B",
    "request_input_tokens": 3000,
    "request_output_tokens": 300,
    "deadline_hours": 72,
}
KINDS = {
    "train": TRAIN,
    "finetune-lora": {
        "kind": "finetune",
        "model": "llama-3.1-70b",
        "tokens": "2B",
        "seq_len": 4096,
        "deadline_days": 7,
    },
    "finetune-full": {
        "kind": "finetune",
        "model": "llama-3.1-8b",
        "method": "full",
        "tokens": "20B",
        "deadline_days": 10,
    },
    "serve": SERVE,
    "batch": BATCH,
}


def workload(fields: dict[str, object], **more: object) -> Workload:
    return parse_workloads({"name": "w", **fields, **more}, file="test.yaml")[0]


def estimate(w: Workload, accs=None, prices: PriceBook | None = PRICES) -> tuple[Estimate, ...]:
    return estimate_workload(w, ALL if accs is None else accs, EFF, prices)


def by_name(found: tuple[Estimate, ...]) -> dict[str, Estimate]:
    return {e.accelerator: e for e in found}


def allowed_offers(accelerator: str, rules: Placement) -> list[Offer]:
    """The offers a single job may buy, as the obvious loop over the catalog."""
    regimes = {"on_demand", "spot"} if rules.interruptible else {"on_demand"}
    out = []
    for o in CATALOG.offers:
        if o.accelerator != accelerator or o.price_regime.value not in regimes:
            continue
        if rules.providers is not None and o.provider not in rules.providers:
            continue
        if o.provider in rules.forbidden_providers:
            continue
        if rules.regions is not None and not any(
            fnmatch.fnmatchcase(o.region.lower(), g.lower()) for g in rules.regions
        ):
            continue
        out.append(o)
    return out


def check_priced(e: Estimate, w: Workload) -> None:
    """The bill is whole instances of the allowed offer that bills the estimate's chips
    cheapest (a 6,144-chip TPU slice is cheap per chip but not for a 4-chip job)."""
    assert e.offer is not None
    offers = allowed_offers(e.accelerator, w.placement)
    if e.host is not None:  # priced on the instance types of the fabric it was made for
        offers = [o for o in offers if offer_host(o, CATALOG.accelerators[o.accelerator]) == e.host]
    assert offers

    def bill(o: Offer) -> float:
        n = max(o.accelerators_per_instance, 1)
        return math.ceil(e.chips / n) * n * o.usd_per_accelerator_hour

    chosen = next(o for o in offers if o.offer_id == e.offer.offer_id)
    assert bill(chosen) == pytest.approx(min(bill(o) for o in offers), rel=1e-12)
    per = e.offer.accelerators_per_instance
    assert e.instances == math.ceil(e.chips / per)
    assert e.instances * per >= e.chips > (e.instances - 1) * per
    usd = e.instances * per * e.hours * e.offer.usd_per_accelerator_hour
    assert e.usd_per_job == pytest.approx(usd, rel=1e-12)
    assert e.usd_per_million_tokens == pytest.approx(usd / w.work_tokens * 1e6, rel=1e-12)
    billed = [n for n in e.notes if n.startswith("billed for")]
    assert bool(billed) == (e.instances * per > e.chips)


# --- every kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_one_estimate_per_accelerator_cheapest_first(kind):
    w = workload(KINDS[kind])
    found = estimate(w)
    assert sorted(e.accelerator for e in found) == sorted(ACCS)
    priced = [e for e in found if e.feasible and e.usd_per_million_tokens is not None]
    unpriced = [e for e in found if e.feasible and e.usd_per_million_tokens is None]
    infeasible = [e for e in found if not e.feasible]
    # priced options first, cheapest per million tokens first; then unpriced; then infeasible
    assert list(found) == [*priced, *unpriced, *infeasible]
    costs = [e.usd_per_million_tokens for e in priced]
    assert costs == sorted(costs)
    assert len(priced) >= 5
    for e in priced:
        check_priced(e, w)
    for e in unpriced:
        assert e.offer is None
        assert "no offer in the catalog matches the placement rules" in e.notes
        # chips no catalog offer sells, e.g. Gaudi3 and TPU7x
        assert not allowed_offers(e.accelerator, w.placement)
    for e in infeasible:
        assert e.reason
        assert e.usd_per_job is None
    for e in [*priced, *unpriced]:
        assert e.chips > 0
        assert e.tokens_per_s > 0
        assert e.source == "model"
        assert e.layout is not None
        assert e.chips == e.layout.tp * e.layout.cp * e.layout.pp * e.layout.replicas
        assert e.vendor == ACCS[e.accelerator].vendor
        assert e.platform == ACCS[e.accelerator].platform.value
        if isinstance(w.job, ServeJob):
            assert e.hours == w.job.hours
        else:  # the job's tokens at the estimate's rate
            assert e.tokens_per_s * e.hours * 3600 == pytest.approx(w.work_tokens, rel=1e-9)


def test_without_prices_feasible_options_rank_by_throughput_per_chip():
    found = estimate(workload(BATCH), prices=None)
    feasible = [e for e in found if e.feasible]
    assert feasible
    assert all(e.offer is None and e.usd_per_job is None for e in feasible)
    per_chip = [e.tokens_per_s / e.chips for e in feasible]
    assert per_chip == sorted(per_chip, reverse=True)


# --- training ------------------------------------------------------------------------------------


def _training_layouts(w: Workload, accelerator: str, host: Host | None = None) -> TrainResult:
    """Every layout of ``accelerator`` (on ``host``, by default its best cluster) for ``w``
    (which states its global batch)."""
    job = w.job
    assert isinstance(job, TrainJob)
    assert job.global_batch_tokens is not None
    chips = chip_arrays([ACCS[accelerator]], w.precision, None if host is None else [host])
    grid = train_grid(
        chips, w.model, max_dp=job.global_batch_tokens / job.seq_len, seq_len=job.seq_len
    )
    return evaluate_training(
        w.model,
        chips,
        grid,
        EFF,
        seq_len=job.seq_len,
        global_batch_tokens=job.global_batch_tokens,
        method=job.method,
        weight_bytes=np.array([p.weight_bytes for p in chips.precisions]),
    )


def test_training_takes_the_layout_with_most_tokens_per_billed_chip_that_meets_the_deadline():
    w = workload(TRAIN)
    job = w.job
    assert isinstance(job, TrainJob)
    assert job.deadline_days is not None
    needed = job.tokens / (job.deadline_days * 86400)  # 2e11 / 1,209,600 s = 165,344 tokens/s
    checked = 0
    for e in estimate(w):
        if not e.feasible:
            assert e.reason.startswith(("too slow", "needs "))
            continue
        assert e.tokens_per_s >= needed
        assert e.hours <= job.deadline_days * 24
        res = _training_layouts(w, e.accelerator, e.host)  # the fabric it was estimated on
        ok = res.feasible & (res.tokens_per_s >= needed)
        # the chosen layout is one of the accelerator's layouts ...
        same = ok & (res.grid.chips == e.chips)
        assert same.any()
        # ... and no layout that meets the deadline does more work per billed chip (whole
        # nodes), i.e. none is cheaper at the same price per chip-hour
        node = ACCS[e.accelerator].chips_per_node or 1
        billed = np.ceil(res.grid.chips / node) * node
        chosen_billed = np.ceil(e.chips / node) * node
        assert (res.tokens_per_s[ok] / billed[ok]).max() <= e.tokens_per_s / chosen_billed * (
            1 + 1e-9
        )
        checked += 1
    assert checked >= 10


def test_a_looser_deadline_never_costs_more():
    deadlines = (3, 7, 14, 30, 60, 120)
    runs = [by_name(estimate(workload(TRAIN, deadline_days=d))) for d in deadlines]
    for name in ACCS:
        costs = [run[name].usd_per_job if run[name].feasible else None for run in runs]
        feasible = [c is not None for c in costs]
        # once feasible, feasible for every looser deadline
        assert feasible == sorted(feasible)
        held = [c for c in costs if c is not None]
        assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(held)), (name, costs)
    # the tightest deadline really needs more chips than the loosest somewhere
    assert any(runs[0][n].feasible and runs[0][n].chips > runs[-1][n].chips for n in ACCS)


def test_training_too_slow_for_the_deadline_says_how_long_it_takes():
    w = workload(TRAIN, model="llama-3.1-405b", tokens="15T", deadline_days=1)
    found = estimate(w, [ACCS["L4"], ACCS["H100-SXM"]])
    for e in found:
        assert not e.feasible
        assert e.reason.startswith("too slow: the fastest layout")
        assert "deadline 1 days" in e.reason


def test_training_without_a_deadline_is_sized_for_90_days():
    fields = {k: v for k, v in TRAIN.items() if k != "deadline_days"}
    w = workload(fields)
    for e in estimate(w, [ACCS["H100-SXM"], ACCS["MI300X"], ACCS["TPU-v5p"]]):
        assert e.feasible
        assert e.hours <= DEFAULT_TRAIN_DAYS * 24
        assert "no deadline_days: sized to finish in 90 days" in e.notes


def test_training_takes_the_cheapest_layout_that_meets_the_deadline():
    # llama-3.1-70b, 8K sequences, 20B tokens in 30 days: 7,716 tokens/s needed
    w = workload(
        TRAIN,
        model="llama-3.1-70b",
        tokens="20B",
        deadline_days=30,
        global_batch_tokens="4M",
        providers=["azure"],  # InfiniBand at 400 Gb/s per GPU: the chip's best cluster
    )
    job = w.job
    assert isinstance(job, TrainJob)
    (e,) = estimate(w, [ACCS["H100-SXM"]])
    assert e.feasible
    assert e.offer is not None
    res = _training_layouts(w, "H100-SXM")
    needed = job.tokens / (30 * 86400)
    ok = res.feasible & (res.tokens_per_s >= needed)
    per = e.offer.accelerators_per_instance
    billed = np.ceil(res.grid.chips[ok] / per) * per
    usd = billed * job.tokens / res.tokens_per_s[ok] / 3600 * e.offer.usd_per_accelerator_hour
    assert e.usd_per_job <= usd.min() * (1 + 1e-9)


# --- serving and batch ---------------------------------------------------------------------------


def test_serving_replicas_cover_the_request_rate_within_the_slo():
    w = workload(SERVE)
    job = w.job
    assert isinstance(job, ServeJob)
    demand = job.requests_per_s * job.output_tokens  # 20 x 300 = 6,000 tokens/s
    feasible = [e for e in estimate(w) if e.feasible]
    assert len(feasible) >= 10
    for e in feasible:
        assert e.layout is not None
        assert e.tokens_per_s >= demand
        per_replica = e.tokens_per_s / e.layout.replicas
        assert (e.layout.replicas - 1) * per_replica < demand  # no spare replica
        assert e.chips == e.layout.replicas * e.layout.tp * e.layout.pp
        assert e.tpot_s is not None
        assert e.ttft_s is not None
        # the model keeps the mean within latency_headroom of the p99 limits
        assert e.tpot_s <= HEADROOM * job.tpot_s * (1 + 1e-12)
        assert e.ttft_s <= HEADROOM * job.ttft_s * (1 + 1e-12)
        assert e.ttft_s > e.tpot_s


def test_an_slo_no_chip_meets_reports_the_best_reachable():
    w = workload(SERVE, model="llama-3.1-405b", slo={"ttft_s": 2.0, "tpot_s": 0.0001})
    found = estimate(w)
    assert not any(e.feasible for e in found)
    slo = [e for e in found if e.best_tpot_s is not None]
    assert slo
    for e in slo:
        assert e.reason.startswith("cannot meet the SLO: best TPOT")
        assert e.best_tpot_s is not None
        assert e.best_tpot_s > HEADROOM * 0.0001
        # batch-1 decode reads W / tp per chip, tp <= 64: 405.85e9 params x 1 B at fp8
        # (2 B where the chip falls back to bf16) / 64 / HBM bandwidth
        weights = 405.85e9 * Precision(e.precision).weight_bytes
        hbm = ACCS[e.accelerator].hbm_tbps * 1e12
        assert e.best_tpot_s > weights / 64 / hbm


def test_batch_replicas_finish_by_the_deadline_and_no_sooner_than_needed():
    w = workload(BATCH)
    for e in estimate(w):
        if not e.feasible:
            continue
        assert e.layout is not None
        assert e.hours <= 72 * (1 + 1e-12)
        per_replica = e.tokens_per_s / e.layout.replicas
        if e.layout.replicas > 1:  # one replica fewer would miss the deadline
            assert 1e9 / ((e.layout.replicas - 1) * per_replica) / 3600 > 72


def test_batch_without_a_deadline_uses_one_replica():
    fields = {k: v for k, v in BATCH.items() if k != "deadline_hours"}
    feasible = [e for e in estimate(workload(fields)) if e.feasible]
    assert feasible
    assert all(e.layout is not None and e.layout.replicas == 1 for e in feasible)


# --- placement and price regimes -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["serve", "batch", "train"])
def test_spot_offers_only_for_interruptible_workloads(kind):
    fields = KINDS[kind]
    steady = by_name(estimate(workload(fields)))
    spot_ok = workload(fields, interruptible=True)
    preemptible = by_name(estimate(spot_ok))
    regimes = set()
    for name, e in steady.items():
        if e.offer is None:
            continue
        assert e.offer.price_regime == "on_demand"
        assert not any(n.startswith("spot price") for n in e.notes)
        spot = preemptible[name]
        assert spot.offer is not None
        check_priced(spot, spot_ok)
        # a wider choice of offers never raises the cost of the work (a chip-hour may cost
        # more: a 2-GPU NVLink VM on spot can beat a 1-GPU pod on demand per unit of work)
        assert spot.usd_per_job is not None and e.usd_per_job is not None
        assert spot.usd_per_job <= e.usd_per_job * (1 + 1e-9)
        regimes.add(spot.offer.price_regime)
        if spot.offer.price_regime == "spot":
            assert any(n.startswith("spot price: preemption is not priced") for n in spot.notes)
            # the note states the spot model's rate and what it rests on
            rate = spot.offer.spot_rate
            assert rate is not None
            assert any(rate.describe() in n for n in spot.notes)
    assert "spot" in regimes


def test_providers_and_regions_are_respected():
    w = workload(BATCH, providers=["aws", "gcp"], regions=["us-*"])
    priced = [e for e in estimate(w) if e.offer is not None]
    assert len(priced) >= 3
    for e in priced:
        assert e.offer is not None
        assert e.offer.provider in {"aws", "gcp"}
        assert e.offer.region.startswith("us-")
        check_priced(e, w)
    # a chip only other providers sell gets no offer
    assert by_name(estimate(w))["MI300X"].offer is None


def test_forbidden_providers_are_respected():
    open_choice = by_name(estimate(workload(BATCH)))
    forbidden = {e.offer.provider for e in open_choice.values() if e.offer is not None}
    assert len(forbidden) >= 2
    w = workload(BATCH, forbidden_providers=sorted(forbidden)[:2])
    for e in estimate(w):
        if e.offer is not None:
            assert e.offer.provider not in sorted(forbidden)[:2]
            check_priced(e, w)


def test_vendors_and_platforms_limit_the_accelerators():
    amd_google = estimate(workload(BATCH, vendors=["AMD", "Google"]))
    assert {e.vendor for e in amd_google} == {"AMD", "Google"}
    assert len(amd_google) == sum(a.vendor in {"AMD", "Google"} for a in ALL)
    neuron = estimate(workload(BATCH, platforms=["neuron"]))
    assert {e.accelerator for e in neuron} == {a.name for a in ALL if a.platform.value == "neuron"}
    # nothing allowed: no estimate at all
    assert estimate(workload(BATCH, vendors=["Intel"]), [ACCS["H100-SXM"]]) == ()


def test_instances_are_billed_whole():
    # an 8B model needs a replica of a few chips; AWS sells A100, H200 and B200 only in
    # 8-GPU instances (p4d, p5en, p6), so those replicas are billed for 8
    w = workload(
        BATCH,
        model="llama-3.1-8b",
        precision="bf16",
        deadline_hours=None,
        providers=["aws"],
    )
    rounded = []
    for e in estimate(w):
        if e.offer is None:
            continue
        check_priced(e, w)
        if e.instances * e.offer.accelerators_per_instance > e.chips:
            rounded.append(e)
    assert rounded, "no estimate was rounded up to whole instances"
    for e in rounded:
        assert e.offer is not None
        whole = e.instances * e.offer.accelerators_per_instance
        assert f"billed for {e.instances} x {e.offer.instance_type} ({whole} chips)" in e.notes
        assert e.usd_per_job > e.chips * e.hours * e.offer.usd_per_accelerator_hour


# --- measured throughputs ------------------------------------------------------------------------


def test_measured_serving_replaces_the_model_for_its_accelerator():
    measured = [{"accelerator": "H200", "chips": 8, "tokens_per_s": 3800}]
    w = workload(SERVE, measured=measured)
    found = by_name(estimate(w))
    h200 = found["H200-SXM"]
    assert h200.source == "measured"
    # 6,000 tokens/s of demand at 3,800 per 8-chip replica: 2 replicas, 16 chips
    assert h200.chips == 16
    assert h200.tokens_per_s == 7600
    assert h200.layout is not None
    assert h200.layout.replicas == 2
    assert "measured 3800 tokens/s per 8-chip replica" in h200.notes
    check_priced(h200, w)
    assert all(e.source == "model" for n, e in found.items() if n != "H200-SXM")


def test_measured_training_scales_in_whole_measured_systems():
    measured = [{"accelerator": "MI300X", "chips": 8, "tokens_per_s": 20000}]
    w = workload(TRAIN, measured=measured)
    e = by_name(estimate(w))["MI300X"]
    assert e.source == "measured"
    # 165,344 tokens/s needed at 2,500 per chip: 9 x 8 = 72 chips (8 x 8 would give 160K)
    assert e.chips == 72
    assert e.tokens_per_s == 72 * 2500
    assert e.hours == pytest.approx(2e11 / (72 * 2500) / 3600)


def test_measured_batch_throughput_is_used_as_given():
    measured = [{"accelerator": "TPU-v6e", "chips": 4, "tokens_per_s": 1000}]
    w = workload(BATCH, measured=measured)
    e = by_name(estimate(w))["TPU-v6e"]
    assert e.source == "measured"
    # 1e9 tokens in 72 h needs 3,858 tokens/s: 4 replicas of 1,000
    assert e.layout is not None
    assert e.layout.replicas == 4
    assert e.chips == 16
    assert e.tokens_per_s == 4000
