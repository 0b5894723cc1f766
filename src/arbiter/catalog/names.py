"""Canonical accelerator and provider names, and the aliases the sources use.

Every source spells chips its own way (SkyPilot ``A100-80GB``, RunPod ``NVIDIA H100 80GB
HBM3``, GCP ``Nvidia H100 80GB Mega GPU``, AWS ``Trainium``). One table maps them onto
the canonical names of the accelerator table, so each chip has exactly one name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from arbiter.domain.errors import UnknownNameError

# Providers arbiter knows by name: every one the embedded catalog prices, and those its
# capacity rules or sources name (TensorWave's prices are left out, see exclusions.csv).
PROVIDERS: tuple[str, ...] = (
    "aws",
    "azure",
    "coreweave",
    "crusoe",
    "digitalocean",
    "gcp",
    "hotaisle",
    "hyperstack",
    "lambda",
    "nebius",
    "oci",
    "runpod",
    "shadeform",
    "tensorwave",
    "together",
    "verda",
    "voltagepark",
    "vultr",
)

# alias (compared case-insensitively, spaces/underscores as dashes) -> canonical name
ACCELERATOR_ALIASES: dict[str, str] = {
    # NVIDIA
    "a10": "A10",
    "a10g": "A10G",
    "l4": "L4",
    "l40s": "L40S",
    "a100": "A100-SXM-40GB",
    "a100-40gb": "A100-SXM-40GB",
    "a100-sxm4-40gb": "A100-SXM-40GB",
    "a100-80gb": "A100-SXM-80GB",
    "a100-80gb-sxm": "A100-SXM-80GB",
    "a100-sxm4-80gb": "A100-SXM-80GB",
    "a100-80gb-pcie": "A100-PCIe-80GB",
    "a100-pcie-80gb": "A100-PCIe-80GB",
    "h100": "H100-SXM",
    "h100-80gb": "H100-SXM",
    "h100-sxm5": "H100-SXM",
    "h100-80gb-hbm3": "H100-SXM",
    "h100-mega": "H100-SXM",
    "h100-(a3-mega)": "H100-SXM",
    "h100-pcie": "H100-PCIe",
    "h100-nvl": "H100-NVL",
    "h200": "H200-SXM",
    "h200-141gb": "H200-SXM",
    "h200-nvl": "H200-NVL",
    "b200": "B200",
    "b300": "B300",
    "gb200": "GB200",
    "gb300": "GB300",
    "gh200": "GH200",
    "rtx-pro-6000": "RTX-PRO-6000",
    "rtxpro6000": "RTX-PRO-6000",
    # AMD
    "mi250x": "MI250X",
    "mi300x": "MI300X",
    "mi325x": "MI325X",
    "mi350x": "MI350X",
    "mi355x": "MI355X",
    # Google
    "tpu-v4": "TPU-v4",
    "tpu-v5e": "TPU-v5e",
    "tpu-v5litepod": "TPU-v5e",
    "tpu-v5-lite": "TPU-v5e",
    "tpu-v5p": "TPU-v5p",
    "tpu-v6e": "TPU-v6e",
    "tpu-v7": "TPU7x",
    "tpu7x-(ironwood)": "TPU7x",
    "ironwood": "TPU7x",
    # AWS
    "trainium": "Trainium1",
    "trainium1": "Trainium1",
    "trainium2": "Trainium2",
    "trainium3": "Trainium3",
    "inferentia2": "Inferentia2",
    # Intel
    "gaudi2": "Gaudi2",
    "gaudi-2": "Gaudi2",
    "hl-225": "Gaudi2",
    "gaudi3": "Gaudi3",
    "gaudi-3": "Gaudi3",
}

_TPU_SLICE = re.compile(r"^tpu-(v\d+[a-z]*|7x)(?:-\d+)?$")


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def canonical_accelerator(name: str, known: Iterable[str]) -> str | None:
    """The canonical name for ``name`` (any alias or spelling), or ``None`` if unknown.

    ``known`` is the set of canonical names in the accelerator table; a canonical name
    always maps to itself. TPU slice names (``tpu-v6e-8``) map to their chip.
    """
    known_set = set(known)
    if name in known_set:
        return name
    key = _norm(name)
    by_lower = {k.lower(): k for k in known_set}
    if key in by_lower:
        return by_lower[key]
    hit = ACCELERATOR_ALIASES.get(key)
    if hit is None:
        match = _TPU_SLICE.match(key)
        if match:
            hit = ACCELERATOR_ALIASES.get(f"tpu-{match.group(1)}")
    return hit if hit in known_set else None


def resolve_accelerator(name: str, known: Iterable[str], *, field: str = "accelerator") -> str:
    """Like :func:`canonical_accelerator`, but an unknown name raises with suggestions."""
    known_list = list(known)
    hit = canonical_accelerator(name, known_list)
    if hit is None:
        raise UnknownNameError("accelerator", name, known_list, field=field)
    return hit


def resolve_provider(
    name: str, known: Iterable[str] = PROVIDERS, *, field: str = "provider"
) -> str:
    known_list = list(known)
    key = name.strip().lower()
    if key in known_list:
        return key
    raise UnknownNameError("provider", name, known_list, field=field)
