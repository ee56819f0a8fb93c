"""Deterministic randomness: one explicit stream per (seed, tenant, purpose, chunk).

Streams are keyed by value, never by call order, so adding a new consumer does not shift the
numbers any other consumer sees. `hashed_unit` is a counter-based alternative for values that
must be recomputed anywhere (a product's price at sample k) without carrying state around.
"""

from __future__ import annotations

import zlib

import numpy as np

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _key(part: int | str) -> int:
    if isinstance(part, str):
        return zlib.crc32(part.encode())
    return int(part)


def rng(seed: int, *keys: int | str) -> np.random.Generator:
    """Return a PCG64 generator seeded from ``seed`` and the given keys."""
    entropy = [int(seed) & 0xFFFFFFFF, *(_key(k) for k in keys)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def _splitmix(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: a well-mixed 64-bit hash of a 64-bit counter.
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    return x ^ (x >> np.uint64(31))


def hashed_unit(seed: int, stream: str, *counters: np.ndarray) -> np.ndarray:
    """Return uniforms in [0, 1) that depend only on the seed, stream name and counters."""
    with np.errstate(over="ignore"):
        acc = np.full(np.broadcast(*counters).shape, _key(stream), dtype=np.uint64)
        acc = _splitmix(acc ^ np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF))
        for counter in counters:
            acc = _splitmix(acc ^ np.asarray(counter).astype(np.uint64))
    return (acc >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
