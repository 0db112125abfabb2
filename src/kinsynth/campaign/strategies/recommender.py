"""``strategy=recommender``: van Lent et al.'s recommender, a regressor scoring a random pool."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.features import check_regressor, make_regressor, predict_with_sd
from kinsynth.campaign.space import drop_built
from kinsynth.campaign.strategies.base import Strategy, StrategyOptions
from kinsynth.campaign.strategies.registry import register_strategy
from kinsynth.core.errors import KinsynthError


@dataclasses.dataclass
class RecommenderOptions(StrategyOptions):
    #: gradient_boosting | random_forest
    regressor: str = "gradient_boosting"
    #: random designs scored each cycle
    pool_size: int = 10000
    #: share of each batch drawn at random from the pool instead of by score
    exploration: float = 0.0

    def check(self) -> None:
        check_regressor(self.regressor)
        if self.pool_size < 1:
            raise KinsynthError(f"strategy.pool_size={self.pool_size}: expected a count >= 1")
        if not 0 <= self.exploration <= 1:
            raise KinsynthError(f"strategy.exploration={self.exploration}: expected a share in "
                                "[0, 1]")


@register_strategy("recommender")
class RecommenderStrategy(Strategy):
    """A regressor fitted on the measured designs (log fold changes) scores ``pool_size`` random
    unbuilt designs; the best-scored are built (``exploration`` of them drawn from the pool)."""

    Options = RecommenderOptions
    options: RecommenderOptions
    colour = "tab:orange"

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        self.model: Any = make_regressor(self.options.regressor, self.seed)
        self.model.fit(self.space.features(measured),
                       measured[self.target].to_numpy(float))

    def score(self, candidates: pd.DataFrame) -> np.ndarray:
        """The fitted regressor's predicted response of each candidate."""
        return self.model.predict(self.space.features(candidates))

    def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The regressor's prediction; its sd across the trees of a random forest, NaN for
        gradient boosting (a point model)."""
        return predict_with_sd(self.fitted("model"), self.space.features(designs))

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        pool = drop_built(self.space.snap(self.space.sample(self.options.pool_size, rng)), built,
                          self.space.columns).reset_index(drop=True)
        if not len(pool):
            return pool
        n_explore = int(round(self.options.exploration * n))
        order = np.argsort(-self.score(pool))
        chosen = list(order[: n - n_explore])
        rest = np.setdiff1d(np.arange(len(pool)), chosen)
        chosen += list(rng.choice(rest, size=min(n_explore, len(rest)), replace=False))
        return pool.iloc[chosen]
