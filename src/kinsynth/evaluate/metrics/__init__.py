"""Evaluation figures: the project's single reference for what every metric means.

Every model (gradient-trained or not) is judged by the same figures, computed here from plain
numpy arrays / pandas frames; nothing in this module knows about torch, Lightning or Hydra.

Conventions
-----------
*Rows* are configurations, *columns* are the feature columns (fold changes) and, optionally, the
target column (the flux, ``Product_I``).

*Standardised space.* All distribution figures are computed after per-column standardisation
``z = (x - mean_train) / std_train`` with mean and std of the **training** rows
(:class:`Standardiser`). One fixed, data-independent-of-the-model space makes figures comparable
across models and across columns of very different ranges (a fold change in [0.8, 1.2] weighs as
much as one in [0.33, 3.0]).

*Real reference.* Fidelity, detection and memorisation compare synthetic rows with **held-out**
real rows (the test split), never with the rows a model was trained on: a generator that copies
its training set must not look perfect.

Fidelity (:func:`fidelity`, real vs synthetic, both standardised, same columns)
------------------------------------------------------------------------------
``wasserstein``
    Mean over columns of the 1-D Wasserstein-1 distance between the real and synthetic marginals
    (``scipy.stats.wasserstein_distance``), in training-standard-deviation units. 0 = identical
    marginals; a pure shift by ``d`` stds gives ``d``.
``ks``
    Mean over columns of the two-sample Kolmogorov-Smirnov statistic (``scipy.stats.ks_2samp``),
    in [0, 1]; insensitive to scale, sensitive to marginal shape.
``corr_diff``
    Mean absolute difference between the real and synthetic Pearson correlation matrices, over the
    off-diagonal entries (each pair counted once). A constant column has correlation 0 with every
    other column (instead of NaN). In [0, 2].
``mmd``
    Squared maximum mean discrepancy, **biased (V-statistic)** estimate, RBF kernel
    ``k(a, b) = exp(-||a - b||^2 / h)`` with bandwidth ``h`` = median of the squared pairwise
    distances between the pooled (real + synthetic) rows (median heuristic). Each set is first
    subsampled, without replacement and with a seeded rng, to at most ``max_rows`` (2000) rows.
    The biased estimate is never negative and is exactly 0 for identical sets; its O(1/n)
    positive bias is what the real-vs-real baseline (:func:`reference_baselines`) shows.
``gauss_kl``
    ``KL(N_real || N_synth)`` in nats between the Gaussians moment-matched to each set (mean vector
    and covariance), closed form::

        0.5 * [tr(S_s^-1 S_r) + (m_s - m_r)^T S_s^-1 (m_s - m_r) - k + ln det S_s - ln det S_r]

    summed over the ``k`` dimensions (not averaged). A ridge of ``1e-6`` (standardised units) is
    added to both covariances so a collapsed or singular synthetic set gives a large but finite
    figure. Two unit Gaussians shifted by ``d`` in one column give ``d^2 / 2``.
``out_of_range``
    Fraction of synthetic rows with at least one column outside the real per-column
    ``[min, max]``. The range is passed explicitly (``bounds``); :func:`evaluate_samples` passes
    the **training** rows' range, i.e. the design space the model was shown.
``std_ratio_min``, ``std_ratio_max``
    Minimum and maximum over columns of ``std(synthetic) / std(real)``. Both 1 for a faithful
    generator; ``std_ratio_max`` near 0 is posterior/mode collapse (every row near the mean),
    ``std_ratio_min`` far below 1 is a column the model ignores.

Detection (:func:`c2st_auc`)
----------------------------
``c2st_auc``
    Classifier two-sample test: ROC AUC of a ``HistGradientBoostingClassifier`` telling real rows
    (label 0) from synthetic rows (label 1), the larger set first subsampled (seeded) to the
    smaller one's size so the task is balanced, AUC from stratified ``folds``-fold (5)
    cross-validation (mean of the per-fold out-of-fold AUCs, ``cross_val_score``). 0.5 =
    indistinguishable, 1.0 = trivially separable.

Utility (:func:`utility_r2`)
----------------------------
``tstr_r2``
    Train-on-synthetic, test-on-real: R² on the real test rows of a
    ``HistGradientBoostingRegressor`` (features -> target) fitted on the synthetic rows.
``trtr_r2``
    Train-on-real, test-on-real: the same regressor fitted on the real training rows; the ceiling
    against which ``tstr_r2`` is read.

Memorisation (:func:`memorisation_ratio`)
-----------------------------------------
``memorisation_ratio``
    ``median_s d(s, train) / median_h d(h, train)``: the median Euclidean distance (standardised
    space) of synthetic rows to their nearest training row, divided by the same median for the
    held-out real rows. About 1 for a generator that draws fresh rows from the data distribution,
    near 0 for one that copies training rows, above 1 for one that strays from the data.

Conditional fidelity (:func:`conditional_fidelity`, :func:`top_design_hit_rate`,
:func:`conditional_metrics`)
-------------------------------------------------------------------------------
For conditional generators, judged by an oracle (the simulator, or a :class:`SurrogateOracle`
fitted on the training split when the simulator is not the data source) that maps designs to flux
and returns NaN for an invalid design (simulation failed, non-physical parameters).

``cond_spearman``, ``cond_mae``
    Spearman rank correlation and mean absolute error between the requested target fluxes and the
    oracle's flux of the designs generated for them, over valid designs only. The requests are
    ``n`` targets drawn (with replacement, seeded) from the real test targets.
``cond_valid``
    Fraction of those designs that are valid (finite oracle flux).
``hit_rate``
    ``n`` designs all requested at the 95th percentile of the training targets; the fraction whose
    oracle flux exceeds the 90th percentile of the training targets. Invalid designs count as
    misses.
``hit_rate_floor``
    The fraction of the real test rows whose (true) flux exceeds that same 90th percentile: what
    random sampling of the design space achieves (about 0.10).

Baselines (:func:`naive_independent_sample`, :func:`reference_baselines`)
-------------------------------------------------------------------------
The same figures for a ceiling and a floor, prefixed ``realreal_`` and ``naive_``:

* ``realreal_``: the training rows split into two disjoint random halves; the first half plays
  the training split, the second the synthetic rows, compared with the test rows. This is what a
  perfect generator (fresh draws from the data distribution) scores; train-vs-test itself would be
  wrong because the "synthetic" rows would then be the training rows (memorisation ratio 0).
* ``naive_``: each column drawn independently, with replacement, from its training values: right
  marginals, no dependence. A model that does not beat it on ``corr_diff``, ``c2st_auc`` or
  ``tstr_r2`` has learnt nothing about the joint structure.

Key convention (:func:`evaluate_samples`)
-----------------------------------------
Unsuffixed keys are computed on the **feature columns** only (the design, the space every model
generates in): ``wasserstein``, ``ks``, ``corr_diff``, ``mmd``, ``gauss_kl``, ``out_of_range``,
``std_ratio_min``, ``std_ratio_max``, ``c2st_auc``, ``memorisation_ratio``. The suffix ``_joint``
marks the same figure on features + target (``wasserstein_joint``, ..., ``c2st_auc_joint``),
present only when the synthetic rows carry the target column, as are ``tstr_r2`` and ``trtr_r2``.
``synth_finite`` is the fraction of synthetic rows with every value finite; all other figures are
computed on those rows only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kinsynth.evaluate.metrics.baselines import naive_independent_sample
from kinsynth.evaluate.metrics.caps import RowCaps, _cap, matrix_columns, timed
from kinsynth.evaluate.metrics.detection import c2st_auc
from kinsynth.evaluate.metrics.fidelity import fidelity
from kinsynth.evaluate.metrics.memorisation import memorisation_ratio
from kinsynth.evaluate.metrics.standardise import Standardiser
from kinsynth.evaluate.metrics.utility import utility_r2


def _space_figures(
    train: np.ndarray,
    test: np.ndarray,
    synth: np.ndarray,
    seed: int,
    suffix: str,
    caps: RowCaps,
) -> dict[str, float]:
    """Fidelity + C2ST in one (already standardised) column space, keys suffixed."""
    columns = matrix_columns(test.shape[1], caps.matrix_columns, seed, keep_last=bool(suffix))
    with timed(f"fidelity{suffix}", len(synth)):
        figures = fidelity(
            test, synth, bounds=(train.min(axis=0), train.max(axis=0)), seed=seed,
            mmd_rows=caps.mmd, matrix_columns=columns,
        )
    figures["n_matrix_columns"] = len(columns)
    rng = np.random.default_rng(seed)
    real_c2st, synth_c2st = _cap(test, caps.c2st, rng), _cap(synth, caps.c2st, rng)
    with timed(f"c2st_auc{suffix}", len(real_c2st) + len(synth_c2st)):
        figures["c2st_auc"] = c2st_auc(real_c2st, synth_c2st, seed=seed)
    return {f"{key}{suffix}": value for key, value in figures.items()}


def evaluate_samples(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synth: pd.DataFrame,
    features: list[str],
    target: str | None,
    seed: int = 0,
    caps: RowCaps | None = None,
) -> dict[str, float]:
    """Every figure for one synthetic set, keyed as in the module docstring's key convention.

    Standardised with the training rows' mean/std; real reference = ``test``; out-of-range bounds
    = the training rows' range. Joint figures and utility need ``target`` in ``synth``. The costly
    figures use at most ``caps`` rows per set (seeded subsamples); ``n_<figure>`` keys record the
    rows each one used.
    """
    caps = caps or RowCaps()
    joint = target is not None and target in synth.columns
    cols = [*features, target] if joint else list(features)
    scaler = Standardiser().fit(train[cols])
    tr, te = scaler.transform(train[cols]), scaler.transform(test[cols])
    sy = scaler.transform(synth[cols])
    finite = np.isfinite(sy).all(axis=1)
    sy = sy[finite]
    out: dict[str, float] = {"synth_finite": float(finite.mean()) if finite.size else float("nan")}
    if len(sy) < 2:
        return out

    k = len(features)
    out.update(_space_figures(tr[:, :k], te[:, :k], sy[:, :k], seed, "", caps))
    rng = np.random.default_rng(seed)
    reference = _cap(tr[:, :k], caps.memorisation_reference, rng)
    holdout = _cap(te[:, :k], caps.memorisation, rng)
    queries = _cap(sy[:, :k], caps.memorisation, rng)
    with timed("memorisation_ratio", len(reference)):
        out["memorisation_ratio"] = memorisation_ratio(reference, holdout, queries)
    out.update(
        n_fidelity=len(sy),
        n_c2st=2 * min(len(te), len(sy), caps.c2st or len(sy)),
        n_mmd=min(len(te), caps.mmd or len(te)) + min(len(sy), caps.mmd or len(sy)),
        n_memorisation=len(holdout) + len(queries),
        n_memorisation_reference=len(reference),
    )
    if joint:
        out.update(_space_figures(tr, te, sy, seed, "_joint", caps))
        fit_train, fit_synth = _cap(tr, caps.utility, rng), _cap(sy, caps.utility, rng)
        with timed("utility_r2", len(fit_train) + len(fit_synth)):
            out.update(utility_r2(
                fit_train[:, :k], fit_train[:, k], te[:, :k], te[:, k],
                fit_synth[:, :k], fit_synth[:, k], seed,
            ))
        out["n_utility"] = len(fit_train) + len(fit_synth)
    return out


def reference_baselines(
    train: pd.DataFrame,
    test: pd.DataFrame,
    features: list[str],
    target: str | None,
    seed: int = 0,
    caps: RowCaps | None = None,
) -> dict[str, float]:
    """The :func:`evaluate_samples` figures for the ceiling (``realreal_``) and floor (``naive_``).

    ``realreal_``: two disjoint random halves of ``train``, the first as training split, the
    second as synthetic rows. ``naive_``: :func:`naive_independent_sample` of all of ``train``
    (``len(train)`` rows), evaluated against the full training split.
    """
    cols = [*features, target] if target is not None else list(features)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    half = len(train) // 2
    first, second = train.iloc[order[:half]], train.iloc[order[half:]]
    realreal = evaluate_samples(first, test, second, features, target, seed, caps)

    naive_rows = naive_independent_sample(train[cols], len(train), seed)
    naive = evaluate_samples(
        train, test, pd.DataFrame(naive_rows, columns=cols), features, target, seed, caps
    )
    return {
        **{f"realreal_{key}": value for key, value in realreal.items()},
        **{f"naive_{key}": value for key, value in naive.items()},
    }
