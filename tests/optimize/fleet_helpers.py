"""Small synthetic fleets and options for the fleet MILP tests: workloads, offers and
``Option``s built by hand, without the performance model."""

from __future__ import annotations

import dataclasses
import math

from arbiter.domain.as_of import AsOf
from arbiter.domain.model_arch import ModelArch
from arbiter.domain.offer import Offer, PriceRegime
from arbiter.domain.workload import (
    Precision,
    RequestClass,
    ServeJob,
    TrainJob,
    Workload,
    WorkloadKind,
)
from arbiter.optimize.options import Option, billed_hours
from arbiter.perf.estimate import Estimate, Layout

MODEL = ModelArch(
    "tiny",
    n_layers=2,
    d_model=64,
    n_heads=4,
    n_kv_heads=4,
    head_dim=16,
    ffn_dim=128,
    vocab_size=100,
)
VENDOR = {"cuda": "NVIDIA", "xla": "Google", "rocm": "AMD"}


def train(name: str) -> Workload:
    return Workload(
        name, WorkloadKind.TRAIN, MODEL, Precision.BF16, TrainJob(tokens=1e9, seq_len=128)
    )


def serve(name: str, tokens_per_s: float, hours: float = 100.0) -> Workload:
    # requests_per_s x output_tokens = the demand in tokens/s
    job = ServeJob(
        requests_per_s=tokens_per_s,
        input_tokens=1,
        output_tokens=1,
        ttft_s=1,
        tpot_s=1,
        hours=hours,
    )
    return Workload(name, WorkloadKind.SERVE, MODEL, Precision.BF16, job)


def serve_mix(name: str, requests_per_s: float, shares: list[float], hours: float) -> Workload:
    """A service with a request mix; every class is one token out, so a token is a request."""
    plain = serve(name, requests_per_s, hours)
    classes = tuple(RequestClass(share=s, input_tokens=1, output_tokens=1) for s in shares)
    assert isinstance(plain.job, ServeJob)
    return dataclasses.replace(plain, job=dataclasses.replace(plain.job, classes=classes))


def offer(
    provider: str,
    usd_per_hour: float,
    *,
    regime: PriceRegime = PriceRegime.ON_DEMAND,
    chips: int = 1,
    accelerator: str = "X",
    region: str = "r1",
    term_months: int | None = None,
) -> Offer:
    return Offer(
        provider=provider,
        region=region,
        instance_type=f"{provider}-{accelerator}-{chips}",
        accelerator=accelerator,
        accelerators_per_instance=chips,
        price_regime=regime,
        usd_per_hour=usd_per_hour,
        as_of=AsOf.parse("2026-11-01"),
        source="test",
        term_months=term_months,
    )


def train_option(
    w: int, o: Offer, *, hours: float, chips: int = 1, platform: str = "cuda"
) -> Option:
    e = Estimate(
        workload="w",
        accelerator=o.accelerator,
        vendor=VENDOR[platform],
        platform=platform,
        feasible=True,
        chips=chips,
        hours=hours,
        tokens_per_s=1.0,
    )
    instances = math.ceil(chips / o.accelerators_per_instance)
    paid = billed_hours(o, hours)
    return Option(
        workload=w,
        estimate=e,
        offer=o,
        chips=chips,
        instances=instances,
        hours=hours,
        billed_hours=paid,
        tokens_per_s=1.0,
        usd=instances * o.usd_per_hour * paid,
        serve=False,
    )


def serve_option(
    w: int,
    o: Offer,
    *,
    tokens_per_s: float,
    hours: float,
    platform: str = "cuda",
    chips: int = 1,
) -> Option:
    """One replica of ``chips`` chips (an instance holds several when they fit)."""
    e = Estimate(
        workload="w",
        accelerator=o.accelerator,
        vendor=VENDOR[platform],
        platform=platform,
        feasible=True,
        chips=chips,
        hours=hours,
        tokens_per_s=tokens_per_s,
        layout=Layout(tp=1, pp=1, replicas=1),
        tpot_s=0.1,
    )
    paid = billed_hours(o, hours)
    return Option(
        workload=w,
        estimate=e,
        offer=o,
        chips=chips,
        instances=math.ceil(chips / o.accelerators_per_instance),
        hours=hours,
        billed_hours=paid,
        tokens_per_s=tokens_per_s,
        usd=o.usd_per_hour * paid,
        serve=True,
    )


def mix_option(w: int, o: Offer, job: ServeJob, class_rps: list[float], *, hours: float) -> Option:
    """One one-chip replica that serves ``class_rps[c]`` requests/s of class c alone."""
    base = serve_option(w, o, tokens_per_s=job.mix_tokens_per_s(class_rps), hours=hours)
    return dataclasses.replace(base, class_requests_per_s=tuple(class_rps))
