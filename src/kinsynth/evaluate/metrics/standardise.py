"""The standardised space every distribution figure is computed in (fitted on the training rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: what the figures take: np.asarray turns each into the numbers
ArrayLike = np.ndarray | pd.DataFrame | pd.Series


def _as_2d(x: ArrayLike) -> np.ndarray:
    """Float 2-D array view of a frame or array (a 1-D array is one column)."""
    arr = np.asarray(x, dtype=float)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


@dataclass
class Standardiser:
    """Per-column ``(x - mean) / std`` fitted on the training rows.

    A column with zero spread keeps scale 1, so it maps to a constant instead of to NaN.
    """

    mean_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale_: np.ndarray = field(default_factory=lambda: np.ones(0))

    def fit(self, x: ArrayLike) -> Standardiser:
        arr = _as_2d(x)
        self.mean_ = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, x: ArrayLike) -> np.ndarray:
        return (_as_2d(x) - self.mean_) / self.scale_

    def inverse_transform(self, z: ArrayLike) -> np.ndarray:
        return _as_2d(z) * self.scale_ + self.mean_
