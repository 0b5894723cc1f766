"""A validated :class:`~arbiter.workloads.spec.WorkloadSpec` as a domain ``Workload``.

This is where names are resolved (the model, providers, measured accelerators) and where
checks that span fields live: a request longer than the model's context, a provider both
allowed and forbidden, vendors and platforms that no chip satisfies together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.names import PROVIDERS, resolve_accelerator, resolve_provider
from arbiter.domain.accelerator import PLATFORM_BY_VENDOR
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.model_arch import ModelArch
from arbiter.domain.workload import (
    BatchJob,
    FinetuneMethod,
    Job,
    Measured,
    Placement,
    RequestClass,
    ServeJob,
    TrainJob,
    Workload,
)
from arbiter.workloads.problems import join_path
from arbiter.workloads.registry import model_from_mapping, resolve_model
from arbiter.workloads.spec import (
    BatchSpec,
    FinetuneSpec,
    MeasuredSpec,
    ServeSpec,
    TrainSpec,
    WorkloadSpec,
)


def _named(
    resolve: Callable[..., str], name: str, known: Sequence[str], field: str, file: str
) -> str:
    """``resolve(name, known)``, with ``file`` and ``field`` on the error if it is unknown."""
    try:
        return resolve(name, known, field=field)
    except UnknownNameError as exc:
        raise UnknownNameError(exc.kind, exc.name, known, file=file, field=field) from None


def _model(spec: WorkloadSpec, file: str, prefix: str) -> ModelArch:
    where = join_path(prefix, "model")
    if isinstance(spec.model, str):
        return resolve_model(spec.model, file=file, field=where)
    return model_from_mapping(spec.model, file, where)


def _providers(names: list[str], field: str, file: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, name in enumerate(names):
        where = join_path(field, i)
        hit = _named(resolve_provider, name, PROVIDERS, where, file)
        if hit not in out:
            out.append(hit)
    return tuple(out)


def _placement(spec: WorkloadSpec, file: str, prefix: str) -> Placement:
    providers = None
    if spec.providers is not None:
        providers = _providers(spec.providers, join_path(prefix, "providers"), file)
    forbidden = _providers(spec.forbidden_providers, join_path(prefix, "forbidden_providers"), file)
    both = [p for p in forbidden if providers is not None and p in providers]
    if both:
        raise InputError(
            f"provider {both[0]!r} is both allowed (providers) and forbidden",
            file=file,
            field=join_path(prefix, "forbidden_providers"),
        )
    vendors = tuple(dict.fromkeys(spec.vendors)) if spec.vendors is not None else None
    platforms = tuple(dict.fromkeys(spec.platforms)) if spec.platforms is not None else None
    if vendors is not None and platforms is not None:
        usable = {PLATFORM_BY_VENDOR[v] for v in vendors}
        if not usable & set(platforms):
            raise InputError(
                f"no chip is from vendors {', '.join(vendors)} and runs "
                f"platforms {', '.join(platforms)}",
                file=file,
                field=join_path(prefix, "platforms"),
                valid=", ".join(f"{v} -> {PLATFORM_BY_VENDOR[v]}" for v in vendors),
            )
    regions = tuple(r.strip() for r in spec.regions) if spec.regions is not None else None
    return Placement(
        providers=providers,
        forbidden_providers=forbidden,
        regions=regions,
        vendors=vendors,
        platforms=platforms,
        interruptible=spec.interruptible,
    )


def _measured(spec: WorkloadSpec, job: Job, file: str, prefix: str) -> tuple[Measured, ...]:
    known = sorted(known_accelerators())
    out = []
    for i, entry in enumerate(spec.measured):
        at = join_path(join_path(prefix, "measured"), i)
        name = _named(
            resolve_accelerator, entry.accelerator, known, join_path(at, "accelerator"), file
        )
        tokens, per_class = _measured_rate(entry, job, file, at)
        out.append(
            Measured(
                accelerator=name,
                chips=entry.chips,
                tokens_per_s=tokens,
                class_requests_per_s=per_class,
            )
        )
    return tuple(out)


def _measured_rate(
    entry: MeasuredSpec, job: Job, file: str, at: str
) -> tuple[float, tuple[float, ...]]:
    """Tokens/s of one measured entry, and per class requests/s for a request mix."""
    given = [k for k in ("tokens_per_s", "requests_per_s") if getattr(entry, k) is not None]
    if len(given) != 1:
        raise InputError(
            "a measured throughput needs exactly one of tokens_per_s and requests_per_s",
            file=file,
            field=join_path(at, given[1] if given else "tokens_per_s"),
            valid="tokens_per_s (any kind) or requests_per_s (serve)",
        )
    if entry.tokens_per_s is not None:
        if isinstance(job, ServeJob) and job.classes:
            raise InputError(
                "a service with a request_mix is measured per class",
                file=file,
                field=join_path(at, "tokens_per_s"),
                valid=f"requests_per_s: a list of {len(job.classes)} numbers, one per class",
            )
        return entry.tokens_per_s, ()
    where = join_path(at, "requests_per_s")
    if not isinstance(job, ServeJob):
        raise InputError(
            "requests_per_s applies to serve workloads only",
            file=file,
            field=where,
            valid="tokens_per_s",
        )
    rates = entry.requests_per_s
    assert rates is not None
    if not job.classes:
        if isinstance(rates, list):
            if len(rates) != 1 or rates[0] <= 0:
                raise InputError(
                    "a service without a request_mix has one request class",
                    file=file,
                    field=where,
                    valid="one positive number",
                )
            rates = rates[0]
        return rates * job.output_tokens, ()
    per_class = [rates] if not isinstance(rates, list) else rates
    if len(per_class) != len(job.classes) or not any(r > 0 for r in per_class):
        raise InputError(
            f"{len(per_class)} rate(s) for {len(job.classes)} request classes",
            file=file,
            field=where,
            valid=f"a list of {len(job.classes)} numbers >= 0 in the order of request_mix, "
            "not all 0",
        )
    return job.mix_tokens_per_s(per_class), tuple(float(r) for r in per_class)


def _check_context(model: ModelArch, tokens: float, what: str, field: str, file: str) -> None:
    if model.max_context and tokens > model.max_context:
        raise InputError(
            f"{what} of {tokens:,.0f} tokens exceeds the {model.max_context:,}-token context "
            f"of {model.name}",
            file=file,
            field=field,
        )


def _train_job(spec: TrainSpec, model: ModelArch, file: str, prefix: str) -> TrainJob:
    if spec.global_batch_tokens is not None and spec.global_batch_tokens < spec.seq_len:
        raise InputError(
            f"a global batch of {spec.global_batch_tokens:,.0f} tokens holds no sequence "
            f"of {spec.seq_len:,}",
            file=file,
            field=join_path(prefix, "global_batch_tokens"),
            valid=f"at least seq_len ({spec.seq_len})",
        )
    job = TrainJob(
        tokens=spec.tokens,
        seq_len=spec.seq_len,
        deadline_days=spec.deadline_days,
        global_batch_tokens=spec.global_batch_tokens,
        method=FinetuneMethod.FULL,
    )
    if not isinstance(spec, FinetuneSpec):
        return job
    _check_context(model, spec.seq_len, "seq_len", join_path(prefix, "seq_len"), file)
    if spec.method is FinetuneMethod.FULL and "lora_rank" in spec.model_fields_set:
        raise InputError(
            "lora_rank applies only to method: lora",
            file=file,
            field=join_path(prefix, "lora_rank"),
        )
    return dataclasses.replace(job, method=spec.method, lora_rank=spec.lora_rank)


def _job(spec: WorkloadSpec, model: ModelArch, file: str, prefix: str) -> Job:
    if isinstance(spec, TrainSpec):
        return _train_job(spec, model, file, prefix)
    if isinstance(spec, ServeSpec):
        return _serve_job(spec, model, file, prefix)
    if isinstance(spec, BatchSpec):
        request = spec.request_input_tokens + spec.request_output_tokens
        where = join_path(prefix, "request_input_tokens")
        _check_context(model, request, "a mean request (input + output)", where, file)
        return BatchJob(
            input_tokens=spec.input_tokens,
            output_tokens=spec.output_tokens,
            request_input_tokens=spec.request_input_tokens,
            request_output_tokens=spec.request_output_tokens,
            deadline_hours=spec.deadline_hours,
        )
    msg = f"no job for workload spec {type(spec).__name__}"
    raise TypeError(msg)


def _serve_job(spec: ServeSpec, model: ModelArch, file: str, prefix: str) -> ServeJob:
    mix = spec.request_mix
    if mix is None:
        for name in ("input_tokens", "output_tokens"):
            if getattr(spec, name) is None:
                raise InputError(
                    f"a service needs {name} (the mean per request) or a request_mix",
                    file=file,
                    field=join_path(prefix, name),
                    valid="a positive token count",
                )
        assert spec.input_tokens is not None
        assert spec.output_tokens is not None
        classes: tuple[RequestClass, ...] = ()
        mean_in, mean_out = spec.input_tokens, spec.output_tokens
        where = join_path(prefix, "input_tokens")
        _check_context(model, mean_in + mean_out, "a mean request (input + output)", where, file)
    else:
        for name in ("input_tokens", "output_tokens"):
            if getattr(spec, name) is not None:
                raise InputError(
                    f"{name} and request_mix both give request lengths",
                    file=file,
                    field=join_path(prefix, name),
                    valid="either the mean lengths or a request_mix, not both",
                )
        total = sum(c.share for c in mix)
        if abs(total - 1.0) > 1e-6:
            raise InputError(
                f"the shares of the request mix sum to {total:g}",
                file=file,
                field=join_path(prefix, "request_mix"),
                valid="shares summing to 1",
            )
        classes = tuple(
            RequestClass(share=c.share, input_tokens=c.input_tokens, output_tokens=c.output_tokens)
            for c in mix
        )
        for i, c in enumerate(classes):
            where = join_path(join_path(join_path(prefix, "request_mix"), i), "input_tokens")
            _check_context(
                model, c.input_tokens + c.output_tokens, "a request (input + output)", where, file
            )
        mean_in = sum(c.share * c.input_tokens for c in classes)
        mean_out = sum(c.share * c.output_tokens for c in classes)
    return ServeJob(
        requests_per_s=spec.requests_per_s,
        input_tokens=mean_in,
        output_tokens=mean_out,
        ttft_s=spec.slo.ttft_s,
        tpot_s=spec.slo.tpot_s,
        hours=spec.hours,
        classes=classes,
    )


def spec_to_workload(spec: WorkloadSpec, *, file: str, prefix: str) -> Workload:
    """The domain workload for ``spec``; problems name ``file`` and paths under ``prefix``."""
    model = _model(spec, file, prefix)
    job = _job(spec, model, file, prefix)
    return Workload(
        name=spec.name,
        kind=spec.kind,
        model=model,
        precision=spec.precision,
        job=job,
        placement=_placement(spec, file, prefix),
        measured=_measured(spec, job, file, prefix),
    )
