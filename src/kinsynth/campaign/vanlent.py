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

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor

from kinsynth.campaign.bo import candidate_designs
from kinsynth.campaign.space import DesignSpace, drop_built
from kinsynth.core.counts import whole_number
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


class VanLentStrategy:
    """Samples each enzyme's level from the distribution the tuned regressor's predictions give."""

    def __init__(self, space: DesignSpace, target: str, seed: int = 0, search_iterations: int = 15,
                 cv_folds: int = 5, bins: int = 6, pool_size: int = 10000,
                 max_enumerate: int = 20000, n_thresholds: int = 200) -> None:
        for key, value, least in (("search_iterations", search_iterations, 0),
                                  ("cv_folds", cv_folds, 2), ("bins", bins, 2),
                                  ("pool_size", pool_size, 1), ("n_thresholds", n_thresholds, 2)):
            whole_number(f"strategy.{key}", value, minimum=least)
        self.space, self.target, self.seed = space, target, seed
        self.iterations, self.folds, self.bins = search_iterations, cv_folds, bins
        self.pool_size, self.max_enumerate = pool_size, int(max_enumerate)
        self.n_thresholds = n_thresholds
        self.varied = space.highs > space.lows
        self.log_low, self.log_high = np.log(space.lows), np.log(space.highs)

    def _level_index(self, designs: pd.DataFrame) -> tuple[np.ndarray, int]:
        """Each design's level (library) or bin (continuous) per column, and the count of either."""
        values = np.log(designs[list(self.space.columns)].to_numpy(float))
        if self.space.discrete:
            index = np.zeros(values.shape, int)
            width = 1
            for j in range(len(self.space.columns)):
                allowed = np.log(self.space.column_levels(j))
                index[:, j] = np.abs(values[:, j, None] - allowed).argmin(axis=1)
                width = max(width, len(allowed))
            return index, width
        span = np.where(self.varied, self.log_high - self.log_low, 1.0)
        unit = (values - self.log_low) / span
        return np.clip((unit * self.bins).astype(int), 0, self.bins - 1), self.bins

    def _draw(self, distributions: np.ndarray, n: int, rng: np.random.Generator) -> pd.DataFrame:
        space = self.space
        values = np.empty((n, len(space.columns)))
        for j in range(len(space.columns)):
            if space.discrete:
                allowed = space.column_levels(j)
                p = distributions[j, :len(allowed)]
                values[:, j] = allowed[rng.choice(len(allowed), size=n, p=p / p.sum())]
            else:
                bins = rng.choice(self.bins, size=n, p=distributions[j])
                unit = (bins + rng.uniform(size=n)) / self.bins
                values[:, j] = np.exp(self.log_low[j] + unit * (self.log_high[j] - self.log_low[j]))
        return pd.DataFrame(values, columns=list(space.columns))

    def distributions(self, built: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """Columns x levels: each enzyme's sampling distribution for the next library."""
        from kinsynth.campaign.strategies import _log_features, _valid

        valid = _valid(built, self.target)
        if len(valid) < 2:
            raise KinsynthError(f"strategy=vanlent needs at least 2 valid built designs with a "
                                f"measured {self.target}; got {len(valid)}")
        model = tuned_regressor(_log_features(valid, self.space),
                                valid[self.target].to_numpy(float), self.seed, self.iterations,
                                self.folds)
        candidates = candidate_designs(self.space, self.pool_size, self.max_enumerate, rng)
        predictions = model.predict(_log_features(candidates, self.space))
        index, width = self._level_index(candidates)
        return level_distributions(predictions, index, width, self.n_thresholds)

    def propose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        from kinsynth.campaign.strategies import fill_with_random

        distributions = self.distributions(built, rng)
        out = pd.DataFrame(columns=list(self.space.columns))
        for _ in range(20):  # a peaked distribution over a library repeats designs: redraw
            more = drop_built(self.space.snap(self._draw(distributions, 2 * n, rng)),
                              pd.concat([built, out]), self.space.columns)
            out = pd.concat([out, more]).iloc[:n]
            if len(out) >= n:
                break
        return fill_with_random(out.reset_index(drop=True), built, n, self.space, rng)
