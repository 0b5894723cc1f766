"""The few fitted parameters of the performance model, stored as data.

Per software platform (``cuda``, ``rocm``, ``xla``, ``neuron``, ``gaudi``):

- ``train_matmul_efficiency``: share of the chip's peak that training matmuls reach
  before communication, pipeline bubbles and scale losses (the model adds those);
- ``prefill_efficiency``: share of peak reached by prefill matmuls (thousands of rows);
- ``decode_compute_efficiency``: share of peak reached by decode matmuls once the batch
  makes them compute-bound (a few hundred rows: lower than prefill);
- ``decode_bandwidth_utilisation``: share of HBM bandwidth a decode step reaches (MBU);
- ``layer_overhead_us``: fixed time per decoder layer and forward pass of an inference
  step, whatever its size (kernel launches, synchronisation, small collectives' latency),
  in microseconds: what makes a batch-1 token of a small model slower than its weight
  read.

Global:

- ``train_bf16_share``, ``inference_bf16_share``: the share of the work that still runs
  at BF16 speed when the matmuls use FP8/FP4 (attention, norms, optimizer, casts), by
  Amdahl's law: effective peak = F_bf16 / ((1 - share) / r + share), r = F_p / F_bf16.
  Fitted: FP8 training runs about 1.3x as fast as BF16 where the FP8 peak is twice it;
- ``train_activation_bytes``: bytes per token, layer and hidden unit that the
  memory-bound operations of a training step (norms, activation functions, residual
  adds, casts) move through HBM, at the chip's bandwidth: the roofline's other side, which
  makes chips with many FLOPs per byte of bandwidth reach a lower share of their peak;
- ``server_utilisation``: the load at which an online server still meets its p99 latency
  limits under random arrivals, as a share of its saturated throughput;
- ``scale_loss_per_doubling``: per doubling of data-parallel replicas, the extra step
  time from stragglers, collective latency and smaller per-replica work at a fixed batch;
- ``latency_headroom``: share of a p99 latency limit the mean may use (a prior: no
  calibration case has its throughput bound by a latency limit, so none can fit it).

``scripts/fit_perf.py`` fits them on the calibration cases and writes
``data/efficiency.json`` with the fit report; platforms with few published results are
shrunk toward the all-platform value rather than fitted to a handful of rows.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources

PLATFORM_PARAMETERS = (
    "train_matmul_efficiency",
    "prefill_efficiency",
    "decode_compute_efficiency",
    "decode_bandwidth_utilisation",
    "layer_overhead_us",
)
GLOBAL_PARAMETERS = (
    "train_bf16_share",
    "inference_bf16_share",
    "server_utilisation",
    "scale_loss_per_doubling",
    "latency_headroom",
    "train_activation_bytes",
)
PLATFORMS = ("cuda", "rocm", "xla", "neuron", "gaudi")

# Fixed physical constants (not fitted): documented in docs/perf.md.
HBM_USABLE_SHARE = 0.90  # the rest: runtime, allocator fragmentation, workspaces
ALLREDUCE_LATENCY_S = 10e-6  # per collective on the scale-up link
MAX_BATCH_SEQUENCES = 1024  # serving engines' scheduler limit (vLLM/TRT-LLM scale)
# Platforms whose inference libraries allocate each sequence's KV cache for its whole
# length and attend over all of it every step (Transformers NeuronX: a batch-8 TPOT
# depends on input + output, 10.5 ms at 128+3968 and 2048+2048, 15.3 ms at 128+8064 and
# 4096+4096 for Llama-3-8B on inf2.48xlarge), not over the tokens so far (paged).
STATIC_KV_PLATFORMS = frozenset({"neuron"})


@dataclass(frozen=True, slots=True)
class Efficiency:
    """Fitted parameters: ``platform[name][parameter]`` and ``globals_[parameter]``."""

    platform: dict[str, dict[str, float]]
    globals_: dict[str, float]
    fitted_on: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    def of(self, platform: str, parameter: str) -> float:
        return self.platform[platform][parameter]

    def __getitem__(self, parameter: str) -> float:
        return self.globals_[parameter]

    def to_json(self) -> str:
        doc = {
            "fitted_on": self.fitted_on,
            "platform": {p: dict(sorted(v.items())) for p, v in sorted(self.platform.items())},
            "globals": dict(sorted(self.globals_.items())),
            "notes": dict(sorted(self.notes.items())),
        }
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Efficiency:
        doc = json.loads(text)
        return cls(
            platform={p: {k: float(x) for k, x in v.items()} for p, v in doc["platform"].items()},
            globals_={k: float(x) for k, x in doc["globals"].items()},
            fitted_on=str(doc.get("fitted_on", "")),
            notes={k: str(v) for k, v in doc.get("notes", {}).items()},
        )


# Starting values of the fit, and the values used where nothing was fitted yet:
# survey anchors (docs/perf.md): training matmuls ~0.5 of peak, prefill 0.5-0.7, MBU 0.5-0.8.
PRIOR = Efficiency(
    platform={
        p: {
            "train_matmul_efficiency": 0.5,
            "prefill_efficiency": 0.6,
            "decode_compute_efficiency": 0.4,
            "decode_bandwidth_utilisation": 0.7,
            "layer_overhead_us": 10.0,
        }
        for p in PLATFORMS
    },
    globals_={
        "train_bf16_share": 0.3,
        "inference_bf16_share": 0.2,
        "server_utilisation": 0.85,
        "scale_loss_per_doubling": 0.05,
        "latency_headroom": 0.7,
        "train_activation_bytes": 100.0,
    },
    fitted_on="prior",
)


@functools.cache
def default_efficiency() -> Efficiency:
    path = resources.files("arbiter.perf.data").joinpath("efficiency.json")
    if not path.is_file():
        return PRIOR
    return Efficiency.from_json(path.read_text("utf-8"))
