"""A large, reproducible fleet for the scale benchmark: ``n`` workloads over the embedded
default catalog, with vendor, provider and region caps, capacity limits and platforms to
enable.

    .venv/bin/python bench/fleet_gen.py 5000 big.yaml [--seed 29]
    .venv/bin/arbiter plan big.yaml --time-limit 60 --mip-gap 0.01

A real lab's fleet repeats itself: many teams serve, tune and batch the same few models
with the same settings. The generator draws each workload from a pool of ``SPECS``
seeded specifications (all four kinds, the registry's models, sizes, precisions, SLOs,
deadlines and placement rules) and gives it its own name; a seeded quarter of them also
get their own placement rule (a provider allow-list or a region glob). Same ``n`` and
seed, same file, byte for byte.
"""

from __future__ import annotations

import argparse
import copy
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from arbiter.domain.fleet import Fleet
from arbiter.workloads import model_names, resolve_model
from arbiter.workloads.fleet import parse_fleet

SPECS = 60
SEED = 29
CAPS = {"vendor": 0.6, "provider": 0.45, "region": 0.3}
CONTRACT_CHIPS = 4096
PLATFORMS = {
    "cuda": {"enabled": True},
    "rocm": {"enable_usd": 400_000, "lead_weeks": 6},
    "xla": {"enable_usd": 1_500_000, "lead_weeks": 12},
    "neuron": {"enable_usd": 2_000_000, "lead_weeks": 16},
}
PROVIDERS = ("aws", "gcp", "azure", "oci", "lambda")
REGIONS = ("us-*", "eu-*", "*europe*", "asia-*")


def _spec(rng: random.Random, names: Sequence[str]) -> dict[str, Any]:
    name = rng.choice(names)
    context = resolve_model(name).max_context or 131_072
    kind = rng.choice(("train", "finetune", "finetune", "serve", "serve", "batch"))
    item: dict[str, Any] = {
        "kind": kind,
        "model": name,
        "precision": rng.choice(("bf16", "bf16", "fp8", "fp8", "fp16")),
        "interruptible": rng.random() < 0.3,
    }
    if kind in ("train", "finetune"):
        item["seq_len"] = rng.choice([s for s in (2048, 4096, 8192) if s <= context])
        item["deadline_days"] = rng.choice((14, 30, 60, 90))
        if kind == "train":
            item["tokens"] = rng.choice((5e10, 1e11, 5e11))
        else:
            item["tokens"] = rng.choice((1e8, 1e9, 5e9))
            item["method"] = rng.choice(("lora", "lora", "full"))
    elif kind == "serve":
        item["input_tokens"] = rng.choice([t for t in (200, 1000, 4000) if t < context / 2])
        item["output_tokens"] = rng.choice((50, 250, 1000))
        item["requests_per_s"] = rng.choice((0.5, 2, 10, 50))
        item["hours"] = rng.choice((168, 720, 2190))
        item["slo"] = {"ttft_s": rng.choice((1, 2, 5)), "tpot_s": rng.choice((0.04, 0.08, 0.15))}
    else:
        item["input_tokens"] = rng.choice((1e8, 1e9, 1e10))
        item["output_tokens"] = rng.choice((1e7, 1e8, 1e9))
        item["request_input_tokens"] = rng.choice([t for t in (200, 1000, 3000) if t < context / 2])
        item["request_output_tokens"] = rng.choice((100, 300, 1000))
        item["deadline_hours"] = rng.choice((72, 168, 720))
    return item


# The registry's models when the benchmarks were first run, pinned so that a bigger
# registry (benchmark-only MaxText and NeMo shapes, new families) does not change the
# generated fleets and their figures stay comparable; every one of them is still known.
BENCH_MODELS = (
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b",
    "llama-3.1-405b", "llama-3.3-70b", "mixtral-8x7b", "mixtral-8x22b", "deepseek-v3",
    "deepseek-r1", "qwen2.5-72b", "gpt-3-175b", "palm-540b", "megascale-175b",
    "gpt-oss-120b", "llama-3.2-1b", "llama-3.2-3b",
)  # fmt: skip


def bench_models() -> list[str]:
    known = set(model_names())
    return [name for name in BENCH_MODELS if name in known]


def fleet_document(n: int, seed: int = SEED) -> dict[str, Any]:
    """The fleet file of ``n`` workloads as YAML-ready data."""
    rng = random.Random(seed)
    names = bench_models()
    specs = [_spec(rng, names) for _ in range(SPECS)]
    workloads = []
    for k in range(n):
        spec = copy.deepcopy(rng.choice(specs))
        spec["name"] = f"w{k:05d}-{spec['kind']}-{spec['model']}"
        roll = rng.random()
        if roll < 0.1:
            spec["providers"] = sorted(rng.sample(PROVIDERS, 3))
        elif roll < 0.2:
            spec["regions"] = [rng.choice(REGIONS)]
        workloads.append({"name": spec.pop("name"), **spec})
    scale = max(n / 1000.0, 1.0)
    capacity = [
        {"provider": "lambda", "accelerator": "B200", "max_instances": int(160 * scale)},
        {"provider": "gcp", "accelerator": "B200", "max_instances": int(36 * scale)},
        {"provider": "aws", "accelerator": "H100-SXM", "max_instances": int(64 * scale)},
        {"provider": "aws", "accelerator": "Trainium2", "max_instances": int(80 * scale)},
        {"provider": "gcp", "accelerator": "H100-SXM", "region": "us-*",
         "price_regime": "spot", "max_instances": int(16 * scale)},
    ]  # fmt: skip
    return {
        "workloads": workloads,
        "constraints": {"max_share": dict(CAPS)},
        "platforms": copy.deepcopy(PLATFORMS),
        "capacity": capacity,
        "objective": "cost",
    }


def capacity_rows(n: int) -> list[dict[str, Any]]:
    """The capacity file of a buyer with contracts everywhere: ``CONTRACT_CHIPS`` chips
    (times the fleet's size in thousands) of every accelerator at every provider, per
    region, so the sourced self-serve rules (16 GPUs, one node...) do not make a
    thousand-workload fleet infeasible; whole units and the fleet's own rows still hold."""
    from arbiter.catalog.embedded import default_catalog  # noqa: PLC0415

    scale = max(n / 1000.0, 1.0)
    pairs = sorted({(o.provider, o.accelerator) for o in default_catalog().offers})
    return [
        {"provider": p, "accelerator": a, "chips": int(CONTRACT_CHIPS * scale)} for p, a in pairs
    ]


def write_capacity(n: int, path: Path) -> None:
    path.write_text(yaml.safe_dump(capacity_rows(n), sort_keys=False), encoding="utf-8")


def generate_fleet(n: int, seed: int = SEED) -> Fleet:
    """The fleet of :func:`fleet_document`, parsed as ``arbiter plan`` would read it."""
    return parse_fleet(fleet_document(n, seed), file=f"generated-{n}.yaml")


def write_fleet(n: int, path: Path, seed: int = SEED) -> None:
    text = yaml.safe_dump(fleet_document(n, seed), sort_keys=False, width=100)
    path.write_text(f"# bench/fleet_gen.py {n} --seed {seed}\n{text}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    write_fleet(args.workloads, args.out, args.seed)


if __name__ == "__main__":
    main()
