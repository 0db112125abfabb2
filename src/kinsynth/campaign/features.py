"""What every strategy learns from: the measured builds, and designs as features.

Fold changes act multiplicatively, so every learner sees them in log space, where a 2x step up
and a 2x step down are equally far from the parent strain. A distance between designs divides
each log by the spread of a uniform draw over that column's log range, so a column with a wide
range does not dominate one with a narrow range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.space import DesignSpace
from kinsynth.core.errors import KinsynthError

#: the regressors a strategy may fit; both did best in van Lent et al.'s low-data regime
REGRESSORS = ("gradient_boosting", "random_forest")


def measured_designs(built: pd.DataFrame, target: str) -> pd.DataFrame:
    """The builds a response can be learnt from: ``valid`` and with a finite measured ``target``.

    A failed build (``valid`` false: the strain was made and did not produce) has no response;
    strategies that model failures read them from ``built`` itself.
    """
    return built[built["valid"].astype(bool) & np.isfinite(built[target].to_numpy(float))]


def log_features(frame: pd.DataFrame, space: DesignSpace) -> np.ndarray:
    """The space's columns of ``frame`` as log fold changes (rows x columns)."""
    return np.log(frame[list(space.columns)].to_numpy(float))


def log_spread(space: DesignSpace) -> np.ndarray:
    """Per column, the sd of a uniform draw over its log range (1 for a column held fixed)."""
    spread = np.log(space.highs) - np.log(space.lows)
    return np.where(spread > 0, spread / np.sqrt(12), 1.0)


def standardised_log(frame: pd.DataFrame, space: DesignSpace) -> np.ndarray:
    """:func:`log_features` divided by :func:`log_spread`: the space distances are measured in."""
    return log_features(frame, space) / log_spread(space)


def make_regressor(kind: str, seed: int) -> Any:
    """A seeded ``gradient_boosting`` or ``random_forest`` regressor (sklearn)."""
    # sklearn loads here, not with the module: dbtl.py checks its arguments first (1 s saved)
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

    if kind == "gradient_boosting":
        return GradientBoostingRegressor(random_state=seed)
    if kind == "random_forest":
        return RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=1)
    raise KinsynthError(f"strategy.regressor={kind!r}: expected one of {list(REGRESSORS)}")


def check_regressor(kind: str) -> None:
    """Refuse an unknown regressor name before the first cycle, without loading sklearn."""
    if kind not in REGRESSORS:
        raise KinsynthError(f"strategy.regressor={kind!r}: expected one of {list(REGRESSORS)}")
