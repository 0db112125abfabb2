"""Figures that characterise a data set, computable for the reference CSV and for ours alike.

The reference file holds only valid rows, so failures are seen through their footprint: the
failure rate from the draw numbers (ids run up to the number of draws), and where failures
concentrate from the density of valid rows in the lowest/highest fifth of a range (1 = uniform,
below 1 = failures concentrate there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinsynth.simulate.model import ModelSpec

FAILURE_DRIVERS = ("vmax_forward_RPI", "vmax_forward_TKT2", "km_substrate2_TKT2")


def valid_density(frame: pd.DataFrame, column: str, low: float, high: float, top: bool) -> float:
    """Share of valid rows in the lowest (or highest) fifth of [low, high], divided by 1/5."""
    cut = low + 0.2 * (high - low) if not top else high - 0.2 * (high - low)
    inside = frame[column] >= cut if top else frame[column] < cut
    return float(inside.mean() / 0.2)


def profile(frame: pd.DataFrame, n_draws: int, spec: ModelSpec) -> pd.Series:
    """Failure rate, target quantiles, valid-row densities and Pearson r of every feature."""
    target = frame[spec.target]
    rows: dict[str, float] = {
        "draws": n_draws,
        "valid rows": len(frame),
        "failure rate": 1 - len(frame) / n_draws,
    }
    for q, label in [(0, "min"), (0.05, "5%"), (0.5, "median"), (0.95, "95%"), (1, "max")]:
        rows[f"{spec.target} {label}"] = float(np.quantile(target, q))
    by_name = {r.name: r for r in spec.ranges}
    for name in FAILURE_DRIVERS:
        if name in by_name:
            r = by_name[name]
            rows[f"valid density, low {name}"] = valid_density(frame, name, r.low, r.high, False)
            rows[f"valid density, high {name}"] = valid_density(frame, name, r.low, r.high, True)
    for name in spec.columns:
        rows[f"r({name})"] = float(np.corrcoef(frame[name], target)[0, 1])
    return pd.Series(rows)


def reference_draws(frame: pd.DataFrame) -> int:
    """Number of draws behind a published file whose first column numbers the draws."""
    return int(frame.index.max() - frame.index.min() + 1)
