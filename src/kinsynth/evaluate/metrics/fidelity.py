"""Fidelity: marginals, correlations, MMD, Gaussian KL, range and spread.

The definitions are in the docstring of :mod:`kinsynth.evaluate.metrics`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial.distance import cdist

from kinsynth.evaluate.metrics.caps import MMD_MAX_ROWS, _subsample
from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d

KL_RIDGE = 1e-6
"""Added to the covariance diagonals in :func:`gauss_kl` (standardised units)."""

FIDELITY_KEYS = (
    "wasserstein",
    "ks",
    "corr_diff",
    "mmd",
    "gauss_kl",
    "out_of_range",
    "std_ratio_min",
    "std_ratio_max",
)


def _corr(x: np.ndarray) -> np.ndarray:
    """Pearson correlation matrix; constant columns correlate 0 with everything (not NaN)."""
    centred = x - x.mean(axis=0)
    norm = np.sqrt((centred**2).sum(axis=0))
    unit = np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 0)
    return unit.T @ unit


def wasserstein(real: np.ndarray, synth: np.ndarray) -> float:
    """Mean over columns of the 1-D Wasserstein-1 distance."""
    return float(
        np.mean([stats.wasserstein_distance(real[:, j], synth[:, j]) for j in range(real.shape[1])])
    )


def ks(real: np.ndarray, synth: np.ndarray) -> float:
    """Mean over columns of the two-sample KS statistic."""
    return float(
        np.mean([stats.ks_2samp(real[:, j], synth[:, j]).statistic for j in range(real.shape[1])])
    )


def corr_diff(real: np.ndarray, synth: np.ndarray) -> float:
    """Mean absolute difference of the off-diagonal Pearson correlations (0 for one column)."""
    k = real.shape[1]
    if k < 2:
        return 0.0
    upper = np.triu_indices(k, 1)
    return float(np.mean(np.abs(_corr(real)[upper] - _corr(synth)[upper])))


def mmd(real: np.ndarray, synth: np.ndarray, seed: int = 0, max_rows: int = MMD_MAX_ROWS) -> float:
    """Biased RBF-kernel MMD² with median-heuristic bandwidth (see module docstring)."""
    rng = np.random.default_rng(seed)
    x = _subsample(real, max_rows, rng)
    y = _subsample(synth, max_rows, rng)
    dxx = cdist(x, x, "sqeuclidean")
    dyy = cdist(y, y, "sqeuclidean")
    dxy = cdist(x, y, "sqeuclidean")
    pooled = np.concatenate([dxx[np.triu_indices(len(x), 1)], dyy[np.triu_indices(len(y), 1)]])
    pooled = np.concatenate([pooled, dxy.ravel()])
    h = float(np.median(pooled)) if pooled.size else 1.0
    h = h if h > 0 else 1.0
    value = np.exp(-dxx / h).mean() + np.exp(-dyy / h).mean() - 2 * np.exp(-dxy / h).mean()
    return float(max(value, 0.0))


def gauss_kl(real: np.ndarray, synth: np.ndarray, ridge: float = KL_RIDGE) -> float:
    """KL(N_real || N_synth) between moment-matched Gaussians, in nats (closed form)."""
    k = real.shape[1]
    if len(real) < 2 or len(synth) < 2:
        return float("nan")  # no covariance from one row
    m_r, m_s = real.mean(axis=0), synth.mean(axis=0)
    eye = ridge * np.eye(k)
    s_r = np.atleast_2d(np.cov(real, rowvar=False)) + eye
    s_s = np.atleast_2d(np.cov(synth, rowvar=False)) + eye
    chol_s = np.linalg.cholesky(s_s)
    solve = lambda b: np.linalg.solve(chol_s.T, np.linalg.solve(chol_s, b))  # noqa: E731
    diff = m_s - m_r
    trace = float(np.trace(solve(s_r)))
    maha = float(diff @ solve(diff))
    logdet_s = 2.0 * float(np.log(np.diag(chol_s)).sum())
    logdet_r = float(np.linalg.slogdet(s_r)[1])
    return 0.5 * (trace + maha - k + logdet_s - logdet_r)


def out_of_range(synth: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of rows with any column outside ``[lower, upper]``."""
    if len(synth) == 0:
        return float("nan")
    outside = (synth < lower) | (synth > upper)
    return float(outside.any(axis=1).mean())


def std_ratios(real: np.ndarray, synth: np.ndarray) -> np.ndarray:
    """Per-column ``std(synth) / std(real)`` (NaN where the real column is constant)."""
    real_std = real.std(axis=0)
    return np.divide(
        synth.std(axis=0), real_std, out=np.full(real.shape[1], np.nan), where=real_std > 0
    )


def fidelity(
    real: ArrayLike,
    synth: ArrayLike,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    mmd_rows: int | None = MMD_MAX_ROWS,
    matrix_columns: np.ndarray | None = None,
) -> dict[str, float]:
    """All fidelity figures of the module docstring, keyed as in :data:`FIDELITY_KEYS`.

    ``real`` and ``synth`` must be standardised already, with the same columns in the same order.
    ``bounds = (lower, upper)`` is the per-column range for ``out_of_range`` (in the same
    standardised space); ``None`` uses the range of ``real`` itself. ``matrix_columns`` are the
    column indices ``corr_diff`` and ``gauss_kl`` use (their k x k matrices; None: all).
    """
    r, s = _as_2d(real), _as_2d(synth)
    if r.shape[1] != s.shape[1]:
        raise ValueError(f"column mismatch: real has {r.shape[1]}, synthetic {s.shape[1]}")
    lower, upper = bounds if bounds is not None else (r.min(axis=0), r.max(axis=0))
    ratios = std_ratios(r, s)
    columns = slice(None) if matrix_columns is None else matrix_columns
    return {
        "wasserstein": wasserstein(r, s),
        "ks": ks(r, s),
        "corr_diff": corr_diff(r[:, columns], s[:, columns]),
        "mmd": mmd(r, s, seed=seed, max_rows=mmd_rows or max(len(r), len(s))),
        "gauss_kl": gauss_kl(r[:, columns], s[:, columns]),
        "out_of_range": out_of_range(s, np.asarray(lower), np.asarray(upper)),
        "std_ratio_min": float(np.nanmin(ratios)),
        "std_ratio_max": float(np.nanmax(ratios)),
    }
