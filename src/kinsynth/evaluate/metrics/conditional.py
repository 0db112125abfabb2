"""Conditional figures: designs for requested fluxes checked by an oracle; the surrogate oracle."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d


def conditional_fidelity(requested: ArrayLike, oracle_flux: ArrayLike) -> dict[str, float]:
    """Spearman and MAE between requested targets and oracle flux; NaN flux = invalid design."""
    req = np.asarray(requested, dtype=float).ravel()
    flux = np.asarray(oracle_flux, dtype=float).ravel()
    if req.shape != flux.shape:
        raise ValueError(f"{req.size} requests but {flux.size} oracle fluxes")
    valid = np.isfinite(flux)
    out = {"cond_spearman": float("nan"), "cond_mae": float("nan")}
    out["cond_valid"] = float(valid.mean()) if valid.size else float("nan")
    if valid.sum() >= 1:
        out["cond_mae"] = float(np.mean(np.abs(req[valid] - flux[valid])))
    if valid.sum() >= 2 and np.ptp(req[valid]) > 0 and np.ptp(flux[valid]) > 0:
        out["cond_spearman"] = float(stats.spearmanr(req[valid], flux[valid]).statistic)
    return out


def top_design_hit_rate(oracle_flux: ArrayLike, threshold: float) -> float:
    """Fraction of designs with oracle flux above ``threshold``; invalid (NaN) designs miss."""
    flux = np.asarray(oracle_flux, dtype=float).ravel()
    if flux.size == 0:
        return float("nan")
    return float(np.mean(np.nan_to_num(flux, nan=-np.inf) > threshold))


def conditional_metrics(
    generate: Callable[[np.ndarray], ArrayLike],
    oracle: Callable[[ArrayLike], np.ndarray],
    train_targets: ArrayLike,
    test_targets: ArrayLike,
    n: int,
    seed: int = 0,
) -> dict[str, float]:
    """``cond_*``, ``hit_rate`` and ``hit_rate_floor`` (module docstring) for one generator.

    ``generate(targets)`` returns one design (features, original units) per requested target;
    ``oracle(designs)`` returns their flux, NaN for an invalid design.
    """
    rng = np.random.default_rng(seed)
    train_t = np.asarray(train_targets, dtype=float).ravel()
    test_t = np.asarray(test_targets, dtype=float).ravel()
    requested = rng.choice(test_t, size=n, replace=True)
    top_request = float(np.quantile(train_t, 0.95))
    threshold = float(np.quantile(train_t, 0.90))
    designs = [generate(requested), generate(np.full(n, top_request))]
    # one oracle call for both sets: an oracle's fixed cost (the simulator's start) is paid once,
    # and each design's flux does not depend on the others judged with it
    both = (pd.concat([pd.DataFrame(d) for d in designs], ignore_index=True)
            if isinstance(designs[0], pd.DataFrame)
            else np.concatenate([np.asarray(d) for d in designs]))
    flux = np.asarray(oracle(both), dtype=float).ravel()
    out = conditional_fidelity(requested, flux[:n])
    out["hit_rate"] = top_design_hit_rate(flux[n:], threshold)
    out["hit_rate_floor"] = top_design_hit_rate(test_t, threshold)
    return out


class SurrogateOracle(RegressorMixin, BaseEstimator):
    """Flux predictor used as the oracle when the embedded simulator is not the data source.

    Model: an MLP (two hidden layers of 32) on standardised **log** fold changes, predicting
    **log** flux. The flux is a non-linear, largely multiplicative function of the fold changes;
    in log-log space it becomes close to additive with mild interactions, which a small MLP fits
    well. On the reference data (4000 train / 1000 held-out rows of pathway I) this reaches
    held-out R² ~0.985 in about 1 s of fit time, against ~0.93 for HistGradientBoosting on raw or
    log features and ~0.93 for a quadratic ridge in log space. Predicting log flux also keeps
    every prediction positive.

    Falls back to raw features / raw target when the training data have non-positive values.
    At prediction time, designs with a non-finite or (in log mode) non-positive value are
    invalid (NaN); with ``clip=True`` the other designs are clipped to the training range first,
    so the oracle is never asked to extrapolate (and a generator cannot earn hits by pushing
    parameters outside the design space the oracle was fitted on).
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (32, 32),
        alpha: float = 1e-4,
        max_iter: int = 500,
        clip: bool = True,
        random_state: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter
        self.clip = clip
        self.random_state = random_state

    def _features(self, x: ArrayLike) -> np.ndarray:
        if isinstance(x, pd.DataFrame) and self.feature_names_ is not None:
            x = x[self.feature_names_]
        return _as_2d(x)

    def fit(self, x: ArrayLike, y: ArrayLike) -> SurrogateOracle:
        self.feature_names_ = list(x.columns) if isinstance(x, pd.DataFrame) else None
        arr = self._features(x)
        target = np.asarray(y, dtype=float).ravel()
        self.log_x_ = bool((arr > 0).all())
        self.log_y_ = bool((target > 0).all())
        self.lower_, self.upper_ = arr.min(axis=0), arr.max(axis=0)
        mlp = MLPRegressor(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            max_iter=self.max_iter,
            early_stopping=True,
            random_state=self.random_state,
        )
        self.model_: Pipeline = make_pipeline(StandardScaler(), mlp)
        inputs = np.log(arr) if self.log_x_ else arr
        self.model_.fit(inputs, np.log(target) if self.log_y_ else target)
        return self

    def predict(self, x: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "model_")
        arr = self._features(x)
        valid = np.isfinite(arr).all(axis=1)
        if self.log_x_:
            valid &= (arr > 0).all(axis=1)
        out = np.full(len(arr), np.nan)
        if not valid.any():
            return out
        rows = arr[valid]
        if self.clip:
            rows = np.clip(rows, self.lower_, self.upper_)
        pred = self.model_.predict(np.log(rows) if self.log_x_ else rows)
        out[valid] = np.exp(pred) if self.log_y_ else pred
        return out

    def score(self, x: ArrayLike, y: ArrayLike, sample_weight: np.ndarray | None = None) -> float:
        """R² on a held-out set; also stored as ``holdout_r2_`` (invalid designs excluded)."""
        pred = self.predict(x)
        target = np.asarray(y, dtype=float).ravel()
        ok = np.isfinite(pred)
        weight = None if sample_weight is None else np.asarray(sample_weight)[ok]
        self.holdout_r2_ = float(r2_score(target[ok], pred[ok], sample_weight=weight))
        return self.holdout_r2_
