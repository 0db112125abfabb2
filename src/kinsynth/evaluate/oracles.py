"""Choosing the oracle that judges conditional designs.

The embedded simulator is the truth for data it generated; for any other table a surrogate
regressor fitted on the training split stands in, and its held-out R² is reported so a reader can
tell how far to trust the conditional figures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.evaluate.metrics.categorical import one_hot
from kinsynth.evaluate.metrics.conditional import SurrogateOracle

if TYPE_CHECKING:
    from kinsynth.data import KineticDataModule

ORACLES = ("auto", "simulator", "surrogate", "none")
Oracle = Callable[[pd.DataFrame], np.ndarray]


#: Designs below which the simulator runs in this process: starting its worker processes costs
#: about as much as 1,500 simulations (an evaluation's 1,000 designs: 0.7 s here, 1.8 s in a pool)
IN_PROCESS_DESIGNS = 2000


def simulator_oracle(features: list[str]) -> Oracle:
    """Flux of designs from the embedded kinetic model; NaN where the simulation fails."""
    from kinsynth.simulate import oracle as simulate_oracle

    def predict(designs: pd.DataFrame) -> np.ndarray:
        frame = pd.DataFrame(np.asarray(designs, dtype=float), columns=features)
        # the same fluxes for any number of workers (kinsynth.simulate.runner.evaluate)
        result = simulate_oracle(frame, workers=1 if len(frame) < IN_PROCESS_DESIGNS else None)
        return np.where(result["valid"].to_numpy(), result["flux"].to_numpy(), np.nan)

    return predict


def make_oracle(
    kind: str, dm: KineticDataModule, max_rows: int | None = None, seed: int = 0
) -> tuple[Oracle | None, dict[str, float]]:
    """The oracle for ``kind`` (see ORACLES) and figures describing it.

    A surrogate is fitted on at most ``max_rows`` training rows (a seeded subsample): its fit
    grows with the rows while its R² stops improving after a few thousand.
    """
    if kind not in ORACLES:
        raise KinsynthError(f"evaluation oracle={kind!r}: expected one of {ORACLES}")
    if kind == "none":
        return None, {}
    if kind == "simulator" or (kind == "auto" and dm.is_embedded):
        return simulator_oracle(dm.features), {"oracle_is_simulator": 1.0}
    train = dm.train_frame
    if max_rows is not None and len(train) > max_rows:
        train = train.sample(n=max_rows, random_state=seed)
    levels = getattr(dm, "levels", None) or {}

    def numbers(designs: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """Part names as one-hot columns: the surrogate regresses on numbers."""
        if levels:
            return one_hot(pd.DataFrame(designs, columns=dm.features), levels).to_numpy()
        return designs

    surrogate = SurrogateOracle().fit(numbers(train[dm.features]), train[dm.target])
    r2 = surrogate.score(numbers(dm.test_frame[dm.features]), dm.test_frame[dm.target])

    def predict(designs: pd.DataFrame) -> np.ndarray:
        return surrogate.predict(np.asarray(numbers(designs), dtype=float))

    return predict, {"oracle_is_simulator": 0.0, "oracle_r2": r2, "n_oracle_fit": len(train)}
