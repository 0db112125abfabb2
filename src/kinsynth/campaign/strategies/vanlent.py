"""Van Lent et al.'s own recommender (ACS Synth. Biol. 2023; AbeelLab/simulated-dbtl, MIT).

Re-expressed from the paper and its code, not copied. Each cycle:

1. a gradient-boosting regressor is tuned by Bayesian hyperparameter search (scikit-optimize's
   ``BayesSearchCV``, 15 iterations of 5-fold cross-validation over the paper's space:
   min_samples_split and min_samples_leaf 2-6, max_depth 1-5, learning rate 1e-4 to 0.3) and
   fitted on the valid built designs;
2. it predicts the whole library (or, when that is too large or the space is continuous, a pool
   of random designs);
3. for every flux threshold between the lowest and the highest prediction, the frequency of each
   enzyme's levels among the designs predicted above it: the "promoter frequency against flux
   threshold" curves; the area under each curve, normalised per enzyme, is that enzyme's level
   distribution;
4. the next library is drawn from these distributions, each enzyme independently.

On a continuous space an enzyme's "levels" are ``bins`` equal bins of its log range, and a level
drawn is a uniform draw (in log space) inside its bin.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.features import log_features
from kinsynth.campaign.strategies.base import Strategy, StrategyOptions, draw_unbuilt
from kinsynth.campaign.strategies.registry import register_strategy
from kinsynth.core.errors import KinsynthError

# the paper's search space for GradientBoostingRegressor (their Bayes_comb_scenario scripts)
SEARCH_SPACE: dict[str, tuple] = {
    "min_samples_split": (2, 3, 4, 5, 6),
    "min_samples_leaf": (2, 3, 4, 5, 6),
    "max_depth": (1, 2, 3, 4, 5),
    "learning_rate": (0.0001, 0.001, 0.01, 0.1, 0.2, 0.3),
}


def tuned_regressor(x: np.ndarray, y: np.ndarray, seed: int, iterations: int, folds: int) -> Any:
    """Gradient boosting tuned by BayesSearchCV over the paper's space, refitted on all rows."""
    from sklearn.ensemble import GradientBoostingRegressor
    from skopt import BayesSearchCV
    from skopt.space import Categorical

    if iterations < 1:
        return GradientBoostingRegressor(random_state=seed).fit(x, y)
    space = {k: Categorical(list(v)) for k, v in SEARCH_SPACE.items()}
    search = BayesSearchCV(GradientBoostingRegressor(random_state=seed), space,
                           n_iter=iterations, cv=min(folds, len(y)), random_state=seed,
                           n_jobs=1, n_points=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skopt: "objective has been evaluated at this point"
        search.fit(x, y)
    return search.best_estimator_


def level_distributions(predictions: np.ndarray, levels: np.ndarray, n_levels: int,
                        n_thresholds: int = 200) -> np.ndarray:
    """Per column, the normalised area under "frequency of each level against flux threshold".

    ``levels`` holds each candidate's level index per column (candidates x columns); the answer
    is columns x ``n_levels``. A level frequent among the designs predicted above every threshold
    gets a large area, one that vanishes as the threshold rises a small one.
    """
    order = np.argsort(-predictions, kind="stable")
    ranked = predictions[order]
    thresholds = np.linspace(ranked[-1], ranked[0], n_thresholds, endpoint=False)
    # designs strictly above each threshold: the first m of the ranked list
    above = np.searchsorted(-ranked, -thresholds, side="left")
    above = np.maximum(above, 1)
    out = np.zeros((levels.shape[1], n_levels))
    for j in range(levels.shape[1]):
        onehot = np.eye(n_levels)[levels[order, j]]
        counts = np.cumsum(onehot, axis=0)[above - 1]  # thresholds x levels
        area = (counts / above[:, None]).sum(axis=0)
        out[j] = area / area.sum()
    return out


@dataclasses.dataclass
class VanLentOptions(StrategyOptions):
    #: BayesSearchCV iterations (0 = untuned gradient boosting)
    search_iterations: int = 15
    #: its cross-validation folds
    cv_folds: int = 5
    #: a continuous space: equal bins of each column's log range stand for promoter levels
    bins: int = 6
    #: predicted designs: the whole library up to max_enumerate designs, else pool_size random
    pool_size: int = 10000
    max_enumerate: int = 20000
    #: flux thresholds between the lowest and highest prediction
    n_thresholds: int = 200

    def check(self) -> None:
        for key, least in (("search_iterations", 0), ("cv_folds", 2), ("bins", 2),
                           ("pool_size", 1), ("max_enumerate", 1), ("n_thresholds", 2)):
            value = getattr(self, key)
            if value < least:
                what = "a positive integer" if least == 1 else f"an integer >= {least}"
                raise KinsynthError(f"strategy.{key}={value!r}: expected {what}")


@register_strategy("vanlent")
class VanLentStrategy(Strategy):
    """Samples each enzyme's level from the distribution the tuned regressor's predictions give."""

    Options = VanLentOptions
    options: VanLentOptions
    # BayesSearchCV's folds need rows, but with fewer it cross-validates on as many as there are
    min_measured = 2
    colour = "tab:green"

    def _level_index(self, designs: pd.DataFrame) -> tuple[np.ndarray, int]:
        """Each design's level (library) or bin (continuous) per column, and the count of either."""
        values = log_features(designs, self.space)
        if self.space.discrete:
            index = np.zeros(values.shape, int)
            width = 1
            for j in range(len(self.space.columns)):
                allowed = np.log(self.space.column_levels(j))
                index[:, j] = np.abs(values[:, j, None] - allowed).argmin(axis=1)
                width = max(width, len(allowed))
            return index, width
        log_low, log_high = np.log(self.space.lows), np.log(self.space.highs)
        span = np.where(self.space.highs > self.space.lows, log_high - log_low, 1.0)
        unit = (values - log_low) / span
        bins = self.options.bins
        return np.clip((unit * bins).astype(int), 0, bins - 1), bins

    def _draw(self, distributions: np.ndarray, n: int, rng: np.random.Generator) -> pd.DataFrame:
        space, bins = self.space, self.options.bins
        log_low, log_high = np.log(space.lows), np.log(space.highs)
        values = np.empty((n, len(space.columns)))
        for j in range(len(space.columns)):
            if space.discrete:
                allowed = space.column_levels(j)
                p = distributions[j, :len(allowed)]
                values[:, j] = allowed[rng.choice(len(allowed), size=n, p=p / p.sum())]
            else:
                drawn = rng.choice(bins, size=n, p=distributions[j])
                unit = (drawn + rng.uniform(size=n)) / bins
                values[:, j] = np.exp(log_low[j] + unit * (log_high[j] - log_low[j]))
        return pd.DataFrame(values, columns=list(space.columns))

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        o = self.options
        self.model = tuned_regressor(log_features(measured, self.space),
                                     measured[self.target].to_numpy(float), self.seed,
                                     o.search_iterations, o.cv_folds)

    def distributions(self, rng: np.random.Generator) -> np.ndarray:
        """Columns x levels: each enzyme's sampling distribution for the next library."""
        o = self.options
        candidates = self.space.candidates(o.pool_size, o.max_enumerate, rng)
        predictions = self.model.predict(log_features(candidates, self.space))
        index, width = self._level_index(candidates)
        return level_distributions(predictions, index, width, o.n_thresholds)

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        distributions = self.distributions(rng)
        return draw_unbuilt(lambda k: self._draw(distributions, k, rng), built, n, self.space)
