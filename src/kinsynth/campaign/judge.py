"""van Lent et al.'s figure of merit: what a campaign's data teach a model about the library.

After every cycle of their DBTL runs (``scripts/DBTL_cycle_cost_experiment_1601.py`` of
AbeelLab/simulated-dbtl, commit 221fa39, MIT; re-expressed, not copied), a gradient-boosting
model tuned by ``BayesSearchCV`` (20 iterations, 5-fold, their DBTL search space) is refitted on
every strain built so far, with its noisy measurement, and predicts the whole library. They
record how many of its predicted top 100 designs are in the library's true top 100
(``top100_predicted``), and the squared correlation of prediction and true flux over the library
(``library_r2``, as their ``linregress`` r**2).

The same seeded judge scores every strategy's data, so the figure compares what each strategy
teaches, whatever model the strategy itself uses. ``top100_found`` (true top-100 designs that
were built) is the other half: a strategy can teach the landscape without building its best.
It needs the whole library's true flux: a library that ships with its model, or one of at most
``pool.max_enumerate`` designs (simulated once and cached).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.features import measured_designs
from kinsynth.campaign.landscape import Landscape, SimulatedLandscape
from kinsynth.campaign.space import Space
from kinsynth.campaign.strategies.vanlent import tuned_regressor
from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError

#: the columns every cycle row carries (NaN where the judge is off or has too few builds)
JUDGE_COLUMNS = ("top100_predicted", "library_r2", "judge_seconds")
#: measured builds the judge's cross-validation needs at least
MIN_MEASURED = 2
TOP = 100


@dataclass
class LibraryJudge:
    """The whole library (as log features) with its true flux, and the judge's settings."""

    features: np.ndarray  # every design of the library, log fold changes
    flux: np.ndarray  # its noise-free flux (NaN: a design that fails)
    true_top: np.ndarray  # indices of the true top 100 (failing designs are never top)
    seed: int
    iterations: int = 20
    folds: int = 5
    search: str = "dbtl"

    def score(self, built: pd.DataFrame, space: Space, target: str) -> dict[str, float]:
        """The judge refitted on ``built``'s measured designs: its top-100 overlap and R²."""
        started = time.perf_counter()
        measured = measured_designs(built, target)
        if len(measured) < MIN_MEASURED:
            return {key: np.nan for key in JUDGE_COLUMNS}
        model = tuned_regressor(space.features(measured),
                                measured[target].to_numpy(float), self.seed, self.iterations,
                                self.folds, self.search)
        predicted = model.predict(self.features)
        # ranked over every design: the judge cannot tell which would fail
        predicted_top = np.argsort(-predicted, kind="stable")[:TOP]
        valid = np.isfinite(self.flux)
        # a constant prediction (a model fitted on a handful of designs) has no correlation
        r = (np.corrcoef(self.flux[valid], predicted[valid])[0, 1]
             if np.ptp(predicted[valid]) > 0 else np.nan)
        return {"top100_predicted": float(len(np.intersect1d(predicted_top, self.true_top))),
                "library_r2": float(r * r) if np.isfinite(r) else np.nan,
                "judge_seconds": time.perf_counter() - started}


def judge_mode(value: object) -> str:
    """``metrics.judge``: true, false or auto (on wherever the library is enumerated)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or str(value) not in ("auto", "true", "false"):
        raise KinsynthError(f"metrics.judge={value!r}: expected true, false or auto")
    return str(value)


def library_judge(metrics: Mapping[str, Any], landscape: Landscape, max_enumerate: int,
                  seed: int) -> LibraryJudge | None:
    """The campaign's judge, or None when ``metrics.judge`` is off (or auto and no library is
    enumerated); ``metrics.judge=true`` without an enumerable library is one line."""
    mode = judge_mode(metrics.get("judge", "auto"))
    if mode == "false":
        return None
    iterations = whole_number("metrics.judge_iterations", metrics.get("judge_iterations", 20),
                              minimum=0)
    folds = whole_number("metrics.judge_folds", metrics.get("judge_folds", 5), minimum=2)
    space = landscape.space
    whole = landscape.library() if isinstance(landscape, SimulatedLandscape) else None
    if whole is None:
        if mode == "true":
            what = ("a measured table (its designs are too few for a top 100)"
                    if not isinstance(landscape, SimulatedLandscape) else
                    "a continuous space" if not space.discrete else
                    f"a library of {space.library_size:.3g} designs, more than "
                    f"pool.max_enumerate={max_enumerate}")
            raise KinsynthError(f"metrics.judge=true: the judge predicts the whole library, and "
                                f"this is {what}; set space.levels/space.vary to enumerate one, "
                                "or metrics.judge=false")
        return None
    designs, flux = whole
    valid = np.flatnonzero(np.isfinite(flux))
    true_top = valid[np.argsort(-flux[valid], kind="stable")[:TOP]]
    return LibraryJudge(space.features(designs), flux, true_top, seed, iterations, folds)
