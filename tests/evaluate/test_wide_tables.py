"""A 5,000-column, 20-row table evaluates within bounded memory: the k x k figures are capped.

``corr_diff`` and ``gauss_kl`` build k x k matrices: 5,000 columns are 200 MB each, 50,000
columns 20 GB (an uncapped run on 50,000 columns was killed at 24 GB). They use at most
``max_rows.matrix_columns`` columns (a seeded subset), recorded as ``n_matrix_columns``.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from kinsynth.evaluate.figures import HISTOGRAM_COLUMNS, column_histograms
from kinsynth.evaluate.metrics import evaluate_samples
from kinsynth.evaluate.metrics.caps import RowCaps, matrix_columns
from kinsynth.evaluate.metrics.fidelity import corr_diff, fidelity, gauss_kl

COLUMNS = 5000


def _wide(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(0.5, 2, size=(rows, COLUMNS)),
                        columns=[f"vmax_{j}" for j in range(COLUMNS)])


def test_a_5000_column_table_evaluates_in_bounded_memory_and_records_the_columns_used():
    real, synth = _wide(20, 1).to_numpy(), _wide(20, 2).to_numpy()
    caps = RowCaps()
    columns = matrix_columns(COLUMNS, caps.matrix_columns, seed=0)
    tracemalloc.start()
    try:
        # the k x k figures of fidelity(), in the columns evaluate_samples chooses
        figures = {"corr_diff": corr_diff(real[:, columns], synth[:, columns]),
                   "gauss_kl": gauss_kl(real[:, columns], synth[:, columns])}
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one 5,000 x 5,000 float64 matrix alone is 200 MB; the capped figures stay far below
    assert peak < 50e6, f"peak {peak / 1e6:.0f} MB"
    assert len(columns) == caps.matrix_columns == 500 and len(set(columns)) == 500
    assert np.isfinite(figures["corr_diff"]) and np.isfinite(figures["gauss_kl"])


def test_the_column_cap_is_seeded_and_lifts_to_the_full_figure():
    rng = np.random.default_rng(0)
    real, synth = rng.normal(size=(40, 30)), rng.normal(size=(40, 30))
    everything = fidelity(real, synth)
    capped = fidelity(real, synth, matrix_columns=np.arange(30))
    assert capped["corr_diff"] == everything["corr_diff"] == corr_diff(real, synth)
    assert capped["gauss_kl"] == pytest.approx(gauss_kl(real, synth))
    narrow = pd.DataFrame(real, columns=[f"c{j}" for j in range(30)])
    features = list(narrow.columns)
    runs = [evaluate_samples(narrow, narrow, narrow * 1.1, features, None, 0, RowCaps(
        matrix_columns=cap, c2st=None)) for cap in (10, 10, None)]
    assert runs[0]["corr_diff"] == runs[1]["corr_diff"] and runs[0]["n_matrix_columns"] == 10
    assert runs[2]["n_matrix_columns"] == 30


def test_the_histogram_figure_draws_at_most_its_cap_of_columns():
    frame = _wide(20, 0).iloc[:, :70]
    fig = column_histograms(frame, frame, list(frame.columns))
    assert len([ax for ax in fig.axes if ax.has_data()]) == HISTOGRAM_COLUMNS
    assert f"first {HISTOGRAM_COLUMNS} columns" in fig._suptitle.get_text()
