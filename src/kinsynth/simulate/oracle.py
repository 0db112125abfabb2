"""The simulator as an oracle: score arbitrary (e.g. generated) configurations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kinsynth.simulate.model import ModelSpec, check_columns, load_model
from kinsynth.simulate.runner import Outcome, evaluate


def oracle(
    configurations: pd.DataFrame,
    model: str | Path | ModelSpec | None = None,
    workers: int | None = None,
    ranges: str | Path | None = None,
) -> pd.DataFrame:
    """Simulate each row of ``configurations``; returns ``flux`` and ``valid`` on the same index.

    ``flux`` is the steady-state flux relative to the reference configuration (the scale of
    Product_I), NaN where the row has no stable, non-negative steady state (``valid`` False).
    Only the model's feature columns are read; extra columns (e.g. a generated target) are
    ignored, and a missing one raises a :class:`~kinsynth.simulate.errors.SimulationError`.
    Fold changes outside the sampling ranges are simulated as given.
    """
    spec = load_model(model, ranges)
    check_columns(configurations, spec.columns)
    folds = configurations[spec.columns].to_numpy(dtype=float)
    values, outcome = evaluate(spec, folds, workers=workers)
    return pd.DataFrame(
        {"flux": values, "valid": outcome == Outcome.ok}, index=configurations.index
    ).astype({"flux": np.float64, "valid": bool})
