"""What every strategy learns from: the measured builds, and designs as features.

How a design becomes numbers is the space's to say (:meth:`kinsynth.campaign.space.Space.
features`): log fold changes, one-hot part names, 0/1 genes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError

#: the regressors a strategy may fit; both did best in van Lent et al.'s low-data regime
REGRESSORS = ("gradient_boosting", "random_forest")


def measured_designs(built: pd.DataFrame, target: str) -> pd.DataFrame:
    """The builds a response can be learnt from: ``valid`` and with a finite measured ``target``.

    A failed build (``valid`` false: the strain was made and did not produce) has no response;
    strategies that model failures read them from ``built`` itself.
    """
    return built[built["valid"].astype(bool) & np.isfinite(built[target].to_numpy(float))]


def make_regressor(kind: str, seed: int) -> Any:
    """A seeded ``gradient_boosting`` or ``random_forest`` regressor (sklearn)."""
    # sklearn loads here, not with the module: dbtl.py checks its arguments first (1 s saved)
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if kind == "gradient_boosting":
        return GradientBoostingRegressor(random_state=seed)
    if kind == "random_forest":
        return RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1)
    raise KinsynthError(f"strategy.regressor={kind!r}: expected one of {list(REGRESSORS)}")


def predict_with_sd(model: Any, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fitted regressor's prediction and its sd: across the trees of a random forest (their
    spread, the forest's own uncertainty), NaN for a point model such as gradient boosting."""
    from sklearn.ensemble import RandomForestRegressor

    mean = np.asarray(model.predict(features), float)
    if not isinstance(model, RandomForestRegressor):
        return mean, np.full(len(mean), np.nan)
    trees = np.stack([tree.predict(np.asarray(features, np.float32))
                      for tree in model.estimators_])
    return mean, trees.std(axis=0)


def check_regressor(kind: str) -> None:
    """Refuse an unknown regressor name before the first cycle, without loading sklearn."""
    if kind not in REGRESSORS:
        raise KinsynthError(f"strategy.regressor={kind!r}: expected one of {list(REGRESSORS)}")
