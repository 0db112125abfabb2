"""Baselines: independent columns resampled from the training rows (the floor)."""

from __future__ import annotations

import numpy as np

from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d


def naive_independent_sample(train: ArrayLike, n: int, seed: int = 0) -> np.ndarray:
    """``n`` rows, each column drawn independently with replacement from its training values."""
    arr = _as_2d(train)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n, arr.shape[1]))
    return arr[idx, np.arange(arr.shape[1])]
