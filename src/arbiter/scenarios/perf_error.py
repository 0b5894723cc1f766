"""Draws of the ``perf_error`` shock: one standard normal per software platform per
sample, from a stream of its own.

Each platform's row is drawn from ``SeedSequence(entropy, spawn_key + (PERF_STREAM,
key(platform)))`` of the chunk's seed, so it depends only on the seed, the chunk and the
platform's name: never on the other shocks (turning ``perf_error`` off leaves every
other draw as it was), nor on which other platforms a plan uses (two plans on the same
samples see the same error on the same platform).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from arbiter.scenarios.distributions import FloatArray

PERF_STREAM = 0x70657266  # "perf": apart from every chunk's own spawn keys


def _key(platform: str) -> int:
    return int.from_bytes(hashlib.sha256(platform.encode("utf-8")).digest()[:4], "little")


def platform_normals(platforms: Sequence[str], n: int, seed: np.random.SeedSequence) -> FloatArray:
    """``len(platforms) x n`` standard normals, row ``i`` for ``platforms[i]``."""
    out = np.empty((len(platforms), n))
    for i, platform in enumerate(platforms):
        stream = np.random.SeedSequence(
            entropy=seed.entropy, spawn_key=(*seed.spawn_key, PERF_STREAM, _key(platform))
        )
        out[i] = np.random.default_rng(stream).standard_normal(n)
    return out
