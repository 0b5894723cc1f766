"""Layouts that exist: tensor parallelism within one scale-up domain, chips that talk
across instances only over the instance type's scale-out fabric, and the fabric's
bandwidth (not the chip's) in the cluster's communication."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from arbiter.catalog.embedded import default_accelerators, default_catalog
from arbiter.catalog.instance_types import instance_shapes, shape_of
from arbiter.domain.catalog import Catalog
from arbiter.domain.fleet import Fleet
from arbiter.domain.workload import FinetuneMethod, TrainJob, Workload
from arbiter.optimize.options import Option, build_options
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import estimate_workload
from arbiter.perf.hardware import chip_arrays, precision_bytes
from arbiter.perf.pricing import PriceBook
from arbiter.perf.topology import Host, fits, host, offer_host
from arbiter.perf.training import evaluate_training, train_grid
from arbiter.workloads import parse_workloads, resolve_model
from arbiter.workloads.fleet import load_fleet

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fleet.yaml"
OFFERS = ROOT / "src" / "arbiter" / "catalog" / "data" / "offers.csv"
ACCS = default_accelerators()
EFF = default_efficiency()


def _workload(**spec: object) -> Workload:
    (w,) = parse_workloads({"workloads": [{"name": "w", **spec}]}, file="test")
    return w


SERVE_8B = _workload(
    kind="serve",
    model="llama-3.1-8b",
    requests_per_s=20,
    input_tokens=2000,
    output_tokens=400,
    slo={"ttft_s": 2.0, "tpot_s": 0.05},
    hours=730,
)
PRETRAIN_70B = _workload(
    kind="train",
    model="llama-3.1-70b",
    tokens="2T",
    seq_len=8192,
    global_batch_tokens="16M",
    deadline_days=60,
)


def _only(instance_types: set[str]) -> Catalog:
    catalog = default_catalog()
    offers = [o for o in catalog.offers if o.instance_type in instance_types]
    assert offers, instance_types
    return Catalog.of(catalog.accelerators.values(), offers)


def _fleet(*workloads: Workload) -> Fleet:
    return dataclasses.replace(load_fleet(EXAMPLE), workloads=workloads, capacity=())


def _violations(options: list[Option], fleet: Fleet, catalog: Catalog) -> list[str]:
    out = []
    for o in options:
        layout = o.estimate.layout
        if layout is None:  # measured throughput: the user's own layout
            continue
        replica = layout.tp * layout.pp * layout.cp
        train = isinstance(fleet.workloads[o.workload].job, TrainJob)
        talking = replica * layout.replicas if train else replica
        h = offer_host(o.offer, catalog.accelerators.get(o.offer.accelerator))
        if not fits(h, layout.tp, talking):
            out.append(f"{o.offer.instance_type}: {layout.text} on {h}")
    return out


# --- the table --------------------------------------------------------------------------


def test_every_instance_type_the_offers_name_has_a_fabric_row() -> None:
    with OFFERS.open() as fh:
        named = {(r["provider"], r["instance_type"]) for r in csv.DictReader(fh)}
    missing = sorted(k for k in named if shape_of(*k) is None)
    assert missing == []
    for shape in instance_shapes().values():
        assert shape.fabric_source.startswith("https://"), shape
        assert shape.scale_up_chips >= 1
        # a scale-up domain larger than the instance is an UltraServer, a rack or a pod
        if shape.scale_up_chips > shape.accelerators_per_instance:
            assert shape.scale_out_fabric in ("ici", "efa", "neuronlink/efa"), shape


def test_one_gpu_vms_have_no_scale_out_fabric() -> None:
    for provider, name in [
        ("lambda", "gpu_1x_gh200"),
        ("gcp", "a2-highgpu-1g"),
        ("gcp", "a3-highgpu-1g"),
        ("gcp", "g2-standard-8"),
        ("aws", "g6.xlarge"),
    ]:
        shape = shape_of(provider, name)
        assert shape is not None and not shape.has_scale_out, (provider, name)
    p5 = shape_of("aws", "p5.48xlarge")
    assert p5 is not None and p5.has_scale_out and p5.scale_out_gbps_per_chip == 400


# --- the rule -----------------------------------------------------------------------------


def test_the_rule_on_hosts() -> None:
    one_gpu = host(1, 0.0, 1)
    eight_ib = host(8, 400.0, 8)
    eight_alone = host(8, 0.0, 8)
    assert fits(one_gpu, 1, 1) and not fits(one_gpu, 1, 4)  # PP4 across 1-GPU VMs
    assert fits(eight_ib, 8, 4096) and not fits(eight_ib, 16, 16)
    assert fits(eight_alone, 4, 8) and not fits(eight_alone, 8, 16)
    assert eight_ib.instance_chips == 0  # a fabric makes the instance size moot
    # an unknown instance type: conservative, no fabric
    unknown = dataclasses.replace(
        default_catalog().offers[0], instance_type="no-such-type", accelerators_per_instance=2
    )
    h = offer_host(unknown, ACCS.get(unknown.accelerator))
    assert not h.has_scale_out and h.span_chips == 2


def test_an_8b_service_on_one_gpu_gh200_instances_runs_one_chip_replicas() -> None:
    catalog = _only({"gpu_1x_gh200"})
    fleet = _fleet(SERVE_8B)
    options, estimates = build_options(fleet, catalog, EFF)
    assert options, estimates[0]
    for o in options:
        layout = o.estimate.layout
        assert layout is not None and (layout.tp, layout.pp) == (1, 1), layout
        assert o.chips == 1 and o.instances == 1
    # the estimate (arbiter estimate) with prices is made on the offers' fabric too
    (e,) = estimate_workload(SERVE_8B, [ACCS["GH200"]], EFF, PriceBook(catalog))
    assert e.layout is not None and e.layout.tp * e.layout.pp == 1


def test_a_70b_pretraining_is_not_offered_on_one_gpu_vms_without_fabric() -> None:
    one_gpu = _only({"gpu_1x_h100_sxm5", "a3-highgpu-1g", "gpu_1x_gh200", "gpu_1x_a100"})
    options, estimates = build_options(_fleet(PRETRAIN_70B), one_gpu, EFF)
    assert options == []
    assert all(not e.feasible for e in estimates[0] if e.host is not None)
    assert any("without a scale-out fabric" in e.reason for e in estimates[0])
    eight_ib = _only({"Standard_ND96isr_H100_v5", "p5.48xlarge"})
    options, _ = build_options(_fleet(PRETRAIN_70B), eight_ib, EFF)
    assert options
    assert all(o.chips > 8 for o in options)  # spans instances over InfiniBand / EFA


def test_every_option_layout_fits_its_offers_instance_type() -> None:
    """Property: the option builder only makes layouts the rule admits on the offer's
    instance type (every workload kind of the example fleet, every offer)."""
    fleet = load_fleet(EXAMPLE)
    catalog = default_catalog()
    options, _ = build_options(fleet, catalog, EFF, thin=False)
    assert len(options) > 1000
    assert _violations(options, fleet, catalog) == []


# --- bandwidth ------------------------------------------------------------------------------


def _train_rates(w: Workload, acc: str, hosts: list[Host | None]) -> np.ndarray:
    """Per host, every layout's tokens/s (0 where the host does not admit it), on a
    common grid: the roomiest host's."""
    job = w.job
    assert isinstance(job, TrainJob)
    accs = [ACCS[acc]] * len(hosts)
    arrays = chip_arrays(accs, w.precision, hosts)
    batch = float(job.global_batch_tokens or 4e6)
    grid = train_grid(arrays, w.model, max_dp=batch / job.seq_len, seq_len=job.seq_len)
    res = evaluate_training(
        w.model,
        arrays,
        grid,
        EFF,
        seq_len=job.seq_len,
        global_batch_tokens=batch,
        method=FinetuneMethod.FULL,
        weight_bytes=precision_bytes(arrays)[0],
    )
    out: dict[tuple[int, ...], list[float]] = {}
    for k in range(len(grid.chip)):
        key = (
            int(grid.tp[k]),
            int(grid.cp[k]),
            int(grid.pp[k]),
            int(grid.dp[k]),
            int(grid.recompute[k]),
            int(grid.sharded[k]),
        )
        rates = out.setdefault(key, [0.0] * len(hosts))
        rates[int(grid.chip[k])] = float(res.tokens_per_s[k]) if res.feasible[k] else 0.0
    return np.array(list(out.values()))


@pytest.mark.parametrize(
    ("acc", "model"),
    [("H100-SXM", "llama-3.1-70b"), ("A100-SXM-80GB", "llama-3.1-8b"), ("B200", "qwen2.5-72b")],
)
def test_a_slower_fabric_never_trains_faster(acc: str, model: str) -> None:
    """Property: on hosts that differ only in scale-out bandwidth (none, 50, 100, 200,
    400, 800 Gb/s per chip), every layout's tokens/s rises with the bandwidth, and the
    slowest fabric is strictly slower on some layout that spans instances."""
    w = dataclasses.replace(PRETRAIN_70B, model=resolve_model(model))
    hosts: list[Host | None] = [host(8, 0.0, 8)] + [host(8, g, 8) for g in (50, 100, 200, 400, 800)]
    rates = _train_rates(w, acc, hosts)
    assert (np.diff(rates, axis=1) >= -1e-9 * rates[:, 1:]).all()
    assert (rates[:, 1] < rates[:, -1]).any()
    # no fabric: only the layouts of one instance
    assert (rates[:, 0] == 0).sum() > (rates[:, 1] == 0).sum()


def test_the_estimate_uses_the_instance_types_bandwidth_not_the_chips() -> None:
    """The same chip estimated on a 100 Gb/s fabric is slower than on the chip's best
    cluster (400 Gb/s per H100 in ``perf/data/fabric.csv``), at the same layout."""
    slow, fast = host(8, 100.0, 8), host(8, 400.0, 8)
    rates = _train_rates(PRETRAIN_70B, "H100-SXM", [slow, fast, None])
    spans = rates[:, 2] > 0
    assert (rates[spans, 0] <= rates[spans, 1]).all()
    np.testing.assert_allclose(rates[:, 1], rates[:, 2])  # 400 Gb/s is the chip's default
    assert (rates[spans, 0] < rates[spans, 1]).any()


def test_a_measured_replica_larger_than_a_fabricless_instance_is_not_offered_there() -> None:
    measured = _workload(
        kind="serve",
        model="llama-3.1-8b",
        requests_per_s=20,
        input_tokens=2000,
        output_tokens=400,
        slo={"ttft_s": 2.0, "tpot_s": 0.05},
        hours=730,
        measured=[{"accelerator": "GH200", "chips": 4, "tokens_per_s": 5000}],
    )
    options, estimates = build_options(_fleet(measured), _only({"gpu_1x_gh200"}), EFF)
    assert options == []
    (gh200,) = [e for e in estimates[0] if e.accelerator == "GH200"]
    assert not gh200.feasible and "do not fit one instance" in gh200.reason
    one_chip = _workload(
        kind="serve",
        model="llama-3.1-8b",
        requests_per_s=20,
        input_tokens=2000,
        output_tokens=400,
        slo={"ttft_s": 2.0, "tpot_s": 0.05},
        hours=730,
        measured=[{"accelerator": "GH200", "chips": 1, "tokens_per_s": 5000}],
    )
    options, _ = build_options(_fleet(one_chip), _only({"gpu_1x_gh200"}), EFF)
    assert options and all(o.chips == 1 for o in options)
