"""Services with a request mix: per-class throughputs from the performance model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from arbiter.catalog.embedded import default_accelerators
from arbiter.domain.workload import ServeJob, Workload
from arbiter.perf.efficiency import default_efficiency
from arbiter.perf.estimate import Estimate, estimate_workload
from arbiter.workloads import parse_workloads

ALL = list(default_accelerators().values())
EFF = default_efficiency()
BASE = {
    "name": "w",
    "kind": "serve",
    "model": "llama-3.1-70b",
    "precision": "fp8",
    "requests_per_s": 20,
    "slo": {"ttft_s": 3.0, "tpot_s": 0.05},
}
SHORT = {"input_tokens": 1000, "output_tokens": 300}
LONG = {"input_tokens": 16000, "output_tokens": 400}


def _estimates(**fields: object) -> dict[str, Estimate]:
    w: Workload = parse_workloads(BASE | fields, file="mix.yaml")[0]
    return {e.accelerator: e for e in estimate_workload(w, ALL, EFF)}


def _per_replica(e: Estimate) -> float:
    assert e.layout is not None
    return e.tokens_per_s / e.layout.replicas


def test_a_mix_of_one_class_estimates_as_the_plain_service() -> None:
    plain = _estimates(**SHORT)
    mix = _estimates(request_mix=[{"share": 1.0, **SHORT}])
    assert plain.keys() == mix.keys()
    for name, e in plain.items():
        m = mix[name]
        assert m.feasible == e.feasible, name
        if e.feasible:
            assert e.layout is not None
            # a mix has no one batch size: the layout is the same, the batch is not given
            assert (m.chips, m.layout) == (e.chips, replace(e.layout, batch=None)), name
            assert m.tokens_per_s == pytest.approx(e.tokens_per_s), name
            assert m.class_requests_per_s == pytest.approx((_per_replica(e) / 300,)), name


def test_a_replica_serves_the_mix_at_the_harmonic_rate_of_its_classes() -> None:
    found = _estimates(request_mix=[{"share": 0.8, **SHORT}, {"share": 0.2, **LONG}])
    w = parse_workloads(
        BASE | {"request_mix": [{"share": 0.8, **SHORT}, {"share": 0.2, **LONG}]}, file="m"
    )[0]
    job = w.job
    assert isinstance(job, ServeJob)
    assert job.output_tokens == pytest.approx(0.8 * 300 + 0.2 * 400)
    feasible = [e for e in found.values() if e.feasible]
    assert len(feasible) >= 5
    for e in feasible:
        short_rps, long_rps = e.class_requests_per_s
        assert short_rps > long_rps > 0, e.accelerator  # long prompts cost more per request
        # seconds per request of the mix = 0.8 / short + 0.2 / long
        mix_rps = 1.0 / (0.8 / short_rps + 0.2 / long_rps)
        assert _per_replica(e) == pytest.approx(mix_rps * job.output_tokens), e.accelerator
        assert e.layout is not None
        assert e.layout.replicas * mix_rps >= 20.0  # the replicas carry the whole rate
        assert (e.layout.replicas - 1) * mix_rps < 20.0


def test_a_chip_that_misses_one_class_is_kept_for_the_other() -> None:
    # a tight TTFT: 16K-token prompts miss it on small chips that still serve short chats
    found = _estimates(
        request_mix=[{"share": 0.8, **SHORT}, {"share": 0.2, **LONG}],
        slo={"ttft_s": 1.5, "tpot_s": 0.05},
    )
    partial = [e for e in found.values() if not e.feasible and any(e.class_requests_per_s)]
    assert partial, "expected a chip that serves only the short class"
    for e in partial:
        assert e.class_requests_per_s[0] > 0
        assert e.class_requests_per_s[1] == 0
        assert "serves request class 0 only, not 1" in e.reason
