"""Seeded uniform fold changes, addressable by draw number.

Draws are generated in fixed blocks of :data:`BLOCK` rows, block ``b`` from the seed sequence
``SeedSequence(seed, spawn_key=(b,))``. Any range of draw numbers can therefore be produced on its
own (a shard) and equals the same rows of the full run, whatever the number of workers or shards.
"""

from __future__ import annotations

import numpy as np

from kinsynth.simulate.model import ModelSpec

BLOCK = 1024


def _block(spec: ModelSpec, seed: int, block: int) -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    return rng.uniform(spec.lows, spec.highs, size=(BLOCK, len(spec.ranges)))


def draw_fold_changes(spec: ModelSpec, seed: int, start: int, stop: int) -> np.ndarray:
    """Fold changes of draws ``start`` .. ``stop - 1``, one row per draw."""
    if stop <= start:
        return np.empty((0, len(spec.ranges)))
    first, last = start // BLOCK, (stop - 1) // BLOCK
    rows = np.concatenate([_block(spec, seed, b) for b in range(first, last + 1)])
    offset = first * BLOCK
    return rows[start - offset : stop - offset]


def shard_bounds(n: int, shard: int, n_shards: int) -> tuple[int, int]:
    """Draw numbers [start, stop) of shard ``shard`` of ``n_shards`` contiguous shards of ``n``."""
    from kinsynth.simulate.errors import SimulationError

    if n < 0 or n_shards < 1 or not 0 <= shard < n_shards:
        raise SimulationError(
            f"need n >= 0 and 0 <= shard < n_shards, got {n=}, {shard=}, {n_shards=}"
        )
    return n * shard // n_shards, n * (shard + 1) // n_shards
