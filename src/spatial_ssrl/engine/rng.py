"""Per-sample random streams: a pure function of (seed, source id, task, index).

Deriving every stream from these four values, never from a shared generator, is what makes the
output byte-identical whatever the number of workers or the order in which work is done.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed_words(seed: int, *keys: object) -> list[int]:
    """Hash the seed and keys into 32-bit words for a SeedSequence (stable across Python runs)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(int(seed)).encode())
    for key in keys:
        h.update(b"\x00")
        h.update(str(key).encode("utf-8", "surrogatepass"))
    digest = h.digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def derive_rng(seed: int, source_id: str, task: str, index: int = 0, attempt: int | None = None) -> np.random.Generator:
    """The random stream for sample `index` of `task` on source `source_id`; with `attempt`, the stream of
    that geometry attempt (the engine retries the geometry of a sample without redrawing its question)."""
    keys: tuple = (source_id, task, index) if attempt is None else (source_id, task, index, "attempt", attempt)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(derive_seed_words(seed, *keys))))
