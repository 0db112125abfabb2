"""``strategy=random``: uniform draws from the space, the screening every method must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinsynth.campaign.strategies.base import Strategy
from kinsynth.campaign.strategies.registry import register_strategy


@register_strategy("random")
class RandomStrategy(Strategy):
    """Each allowed level (or each point of a range) equally likely, never a design built before.

    It learns nothing and chooses nothing of its own: :meth:`Strategy.propose`'s top-up, which
    fills every strategy's batch with uniform unbuilt designs, is the whole batch.
    """

    min_measured = 0
    colour = "black"

    def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
             rng: np.random.Generator) -> None:
        return None

    def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return pd.DataFrame(columns=list(self.space.columns), dtype=float)
