"""van Lent et al.'s recommender as their DBTL code runs it: the whole library predicted, their
threshold grid and Simpson's-rule areas, per-enzyme independent draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinsynth.campaign.space import DesignSpace
from kinsynth.campaign.strategies.vanlent import (
    SEARCH_SPACES,
    VanLentOptions,
    VanLentStrategy,
    level_distributions,
    threshold_grid,
)
from kinsynth.core.errors import KinsynthError

# two enzymes at levels 1 and 2: four designs, each with a prediction chosen so that the paper's
# grid (0.0001 up to max - 1e-5, every 0.005) holds exactly three thresholds
PREDICTED = {(1.0, 1.0): 0.0, (1.0, 2.0): 0.003, (2.0, 1.0): 0.008, (2.0, 2.0): 0.0151}


class FixedModel:
    """Predicts PREDICTED from log features and records how many designs it was asked about."""

    def __init__(self) -> None:
        self.asked = 0

    def predict(self, x: np.ndarray) -> np.ndarray:
        self.asked += len(x)
        return np.array([PREDICTED.get(tuple(np.round(np.exp(row), 6)), 0.0) for row in x])


def small_strategy() -> VanLentStrategy:
    space = DesignSpace(("a", "b"), np.array([1.0, 1.0]), np.array([2.0, 2.0]), (1.0, 2.0))
    strategy = VanLentStrategy(space, "flux", seed=0)
    strategy.model = FixedModel()
    return strategy


def test_the_papers_grid_runs_from_0_0001_to_the_top_prediction_highest_first():
    np.testing.assert_allclose(threshold_grid(np.array(list(PREDICTED.values()))),
                               [0.0101, 0.0051, 0.0001])
    # nothing predicted above 0.0001: no threshold, and every level equally likely
    assert len(threshold_grid(np.array([-1.0, 0.0]))) == 0
    flat = level_distributions(np.array([-1.0, 0.0]), np.array([[0], [1]]), 2)
    np.testing.assert_allclose(flat, [[0.5, 0.5]])


def test_level_distributions_match_the_hand_computed_simpson_areas():
    # thresholds 0.0101, 0.0051, 0.0001 keep the designs {(2,2)}, {(2,2), (2,1)} and
    # {(2,2), (2,1), (1,2)}: enzyme a's level-1 frequencies 0, 0, 1/3 and level-2 1, 1, 2/3;
    # b's 0, 1/2, 1/3 and 1, 1/2, 2/3. Simpson's rule on three points weighs them 1, 4, 1:
    # a: 1/3 and 17/3 -> 1/18, 17/18; b: 7/3 and 11/3 -> 7/18, 11/18
    strategy = small_strategy()
    dist = strategy.distributions(np.random.default_rng(0))
    np.testing.assert_allclose(dist, [[1 / 18, 17 / 18], [7 / 18, 11 / 18]])
    assert strategy.model.asked == 4  # the whole library, every design once


def test_each_enzyme_is_drawn_independently_from_its_own_distribution():
    strategy = small_strategy()
    dist = np.array([[1 / 18, 17 / 18], [7 / 18, 11 / 18]])
    drawn = strategy._draw(dist, 40000, np.random.default_rng(1))
    share_a2 = (drawn["a"] == 2.0).mean()
    share_b2 = (drawn["b"] == 2.0).mean()
    both = ((drawn["a"] == 2.0) & (drawn["b"] == 2.0)).mean()
    # sd of a share over 40,000 draws is below 0.0025: 4 sd either side
    assert share_a2 == pytest.approx(17 / 18, abs=0.01)
    assert share_b2 == pytest.approx(11 / 18, abs=0.01)
    assert both == pytest.approx(17 / 18 * 11 / 18, abs=0.01)  # independent: the product


def test_a_library_beyond_20000_designs_is_predicted_whole():
    # pathway A's shape: 7 enzymes x 6 levels = 279,936 designs, all of them scored
    levels = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
    space = DesignSpace(tuple("abcdefg"), np.full(7, 0.25), np.full(7, 4.0), levels)
    strategy = VanLentStrategy(space, "flux", seed=0)
    strategy.model = FixedModel()
    dist = strategy.distributions(np.random.default_rng(0))
    assert strategy.model.asked == 6 ** 7
    np.testing.assert_allclose(dist, 1 / 6)  # every prediction 0: no threshold, uniform


def test_the_options_keep_the_one_shot_search_and_linear_thresholds_reachable():
    options = VanLentOptions()
    assert (options.search, options.search_iterations, options.thresholds) == \
        ("dbtl", 20, "paper")
    assert SEARCH_SPACES["dbtl"]["max_depth"] == (1, 2, 3, 4, 5, 7, 8)
    assert SEARCH_SPACES["oneshot"]["max_depth"] == (1, 2, 3, 4, 5)
    space = DesignSpace(("a",), np.array([1.0]), np.array([2.0]), (1.0, 2.0))
    VanLentStrategy(space, "flux", search="oneshot", thresholds="linear", search_iterations=15)
    for bad, key in (({"search": "fig5"}, "strategy.search"),
                     ({"thresholds": "log"}, "strategy.thresholds"),
                     ({"threshold_step": 0.0}, "strategy.threshold_step")):
        with pytest.raises(KinsynthError, match=key):
            VanLentStrategy(space, "flux", **bad)


def test_a_tuned_model_is_searched_once_for_the_same_builds(monkeypatch):
    from kinsynth.campaign.strategies import vanlent

    calls = []
    monkeypatch.setattr(vanlent, "_search", lambda *a: calls.append(a) or object())
    monkeypatch.setattr(vanlent, "_TUNED", type(vanlent._TUNED)())
    x, y = np.zeros((5, 2)), np.arange(5.0)
    first = vanlent.tuned_regressor(x, y, 0, 20, 5)
    assert vanlent.tuned_regressor(x.copy(), y.copy(), 0, 20, 5) is first
    vanlent.tuned_regressor(x, y, 1, 20, 5)  # another seed: another search
    vanlent.tuned_regressor(x, y + 1, 0, 20, 5)  # other measurements: another search
    assert len(calls) == 3


def test_built_designs_are_never_proposed_again():
    strategy = small_strategy()
    built = pd.DataFrame({"a": [2.0, 2.0], "b": [2.0, 1.0]})
    chosen = strategy._choose(built, 2, np.random.default_rng(0))
    assert set(map(tuple, chosen[["a", "b"]].to_numpy())) == {(1.0, 1.0), (1.0, 2.0)}
