"""Utility: train on synthetic, test on real (TSTR) beside train on real (TRTR)."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import r2_score

from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d


def utility_r2(
    train_x: ArrayLike,
    train_y: ArrayLike,
    test_x: ArrayLike,
    test_y: ArrayLike,
    synth_x: ArrayLike,
    synth_y: ArrayLike,
    seed: int = 0,
) -> dict[str, float]:
    """``tstr_r2`` (fit on synthetic) and ``trtr_r2`` (fit on real train), both R² on real test."""
    tx, ty = _as_2d(test_x), np.asarray(test_y, dtype=float).ravel()

    def r2_after_fit(x: ArrayLike, y: ArrayLike) -> float:
        reg = HistGradientBoostingRegressor(random_state=seed)
        reg.fit(_as_2d(x), np.asarray(y, dtype=float).ravel())
        return float(r2_score(ty, reg.predict(tx)))

    return {"tstr_r2": r2_after_fit(synth_x, synth_y), "trtr_r2": r2_after_fit(train_x, train_y)}
