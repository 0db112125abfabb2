"""Fidelity: marginals, correlations, MMD, Gaussian KL, range and spread.

The definitions are in the docstring of :mod:`kinsynth.evaluate.metrics`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.spatial.distance import cdist, pdist, squareform

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


#: largest sample for which ``scipy.stats.ks_2samp`` computes its exact p-value, and with it
#: rounds the statistic to a multiple of 1 / lcm(n1, n2) (its ``MAX_AUTO_N``)
KS_EXACT_MAX_N = 10000


def ks_statistic(real: np.ndarray, synth: np.ndarray) -> float:
    """``scipy.stats.ks_2samp(real, synth).statistic``, bit for bit, without its p-value.

    The p-value is unused here and was most of the cost (its exact method: about 30 ms a
    column at 500 against 5,000 rows). The statistic is scipy's arithmetic step by step: the
    two empirical CDFs on the pooled values, the larger of the one-sided maxima and, where
    scipy takes its exact path, the same rounding to a multiple of 1 / lcm(n1, n2).
    """
    a, b = np.sort(real), np.sort(synth)
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError("Data passed to ks_2samp must not be empty")
    if np.isnan(a[-1]) or np.isnan(b[-1]):  # np.sort puts NaN last; scipy propagates it
        return float("nan")
    pooled = np.concatenate([a, b])
    diffs = np.searchsorted(a, pooled, side="right") / n1 - np.searchsorted(
        b, pooled, side="right") / n2
    d = max(float(np.clip(-diffs.min(), 0, 1)), float(diffs.max()))
    g = math.gcd(n1, n2)
    exact = max(n1, n2) <= KS_EXACT_MAX_N and n1 // g < np.iinfo(np.int32).max / (n2 // g)
    if exact:
        lcm = (n1 // g) * n2
        d = int(np.round(d * lcm)) * 1.0 / lcm
    return d


def ks(real: np.ndarray, synth: np.ndarray) -> float:
    """Mean over columns of the two-sample KS statistic."""
    return float(np.mean([ks_statistic(real[:, j], synth[:, j]) for j in range(real.shape[1])]))


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
    # each set's distinct pairs once (pdist: the upper triangle, row by row) for the bandwidth,
    # then the full square matrices for the means: the same numbers as cdist's, without
    # indexing millions of upper-triangle entries out of a square
    within_x, within_y = pdist(x, "sqeuclidean"), pdist(y, "sqeuclidean")
    dxy = cdist(x, y, "sqeuclidean")
    pooled = np.concatenate([within_x, within_y, dxy.ravel()])
    h = float(np.median(pooled)) if pooled.size else 1.0
    h = h if h > 0 else 1.0

    def mean_kernel(distances: np.ndarray) -> float:
        return np.exp(np.divide(distances, -h)).mean()  # exp(-d / h): the sign is exact

    dxx, dyy = squareform(within_x), squareform(within_y)
    value = mean_kernel(dxx) + mean_kernel(dyy) - 2 * mean_kernel(dxy)
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
