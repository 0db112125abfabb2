"""Utility: train on synthetic, test on real (TSTR) beside train on real (TRTR)."""

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import r2_score

from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d

#: trtr_r2 by the hash of its inputs: it depends only on the data split, and every evaluation on
#: the split (each job of a sweep in one worker, the naive baseline beside the model) refits it
_TRTR: dict[str, float] = {}


def _digest(seed: int, *arrays: np.ndarray) -> str:
    digest = hashlib.sha256(str(seed).encode())
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


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

    def r2_after_fit(x: np.ndarray, y: np.ndarray) -> float:
        reg = HistGradientBoostingRegressor(random_state=seed)
        reg.fit(x, y)
        return float(r2_score(ty, reg.predict(tx)))

    rx, ry = _as_2d(train_x), np.asarray(train_y, dtype=float).ravel()
    key = _digest(seed, rx, ry, tx, ty)
    if key not in _TRTR:
        if len(_TRTR) > 64:
            _TRTR.clear()
        _TRTR[key] = r2_after_fit(rx, ry)
    tstr = r2_after_fit(_as_2d(synth_x), np.asarray(synth_y, dtype=float).ravel())
    return {"tstr_r2": tstr, "trtr_r2": _TRTR[key]}
