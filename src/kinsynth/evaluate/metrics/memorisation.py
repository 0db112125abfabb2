"""Memorisation: are synthetic rows nearer the training rows than fresh real rows are?"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d


def memorisation_ratio(train: ArrayLike, holdout: ArrayLike, synth: ArrayLike) -> float:
    """Median nearest-training-row distance of synthetic rows over that of held-out real rows."""
    nn = NearestNeighbors(n_neighbors=1, algorithm="auto").fit(_as_2d(train))
    d_synth = nn.kneighbors(_as_2d(synth))[0][:, 0]
    d_holdout = nn.kneighbors(_as_2d(holdout))[0][:, 0]
    denom = float(np.median(d_holdout))
    return float(np.median(d_synth)) / denom if denom > 0 else float("nan")
