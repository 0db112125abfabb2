"""Detection: a classifier two-sample test telling real rows from synthetic ones."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

from kinsynth.evaluate.metrics.caps import _subsample
from kinsynth.evaluate.metrics.standardise import ArrayLike, _as_2d


def c2st_auc(real: ArrayLike, synth: ArrayLike, seed: int = 0, folds: int = 5) -> float:
    """Classifier two-sample test ROC AUC (0.5 = indistinguishable); see module docstring."""
    rng = np.random.default_rng(seed)
    r, s = _as_2d(real), _as_2d(synth)
    n = min(len(r), len(s))
    if n < folds:
        return float("nan")
    r, s = _subsample(r, n, rng), _subsample(s, n, rng)
    x = np.concatenate([r, s])
    y = np.concatenate([np.zeros(n, dtype=int), np.ones(n, dtype=int)])
    clf = HistGradientBoostingClassifier(random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(clf, x, y, cv=cv, scoring="roc_auc", n_jobs=1)))
