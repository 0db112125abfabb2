"""The cheaper fidelity figures are the slow path's numbers, bit for bit.

``ks`` is pinned against ``scipy.stats.ks_2samp(...).statistic`` (whose exact p-value it skips)
and ``mmd`` against its square-matrix computation (upper triangles indexed out of three
``cdist`` matrices), on the shapes an evaluation sees and on the awkward ones: ties, constant
columns, equal and unequal sizes, samples beyond scipy's exact-method limit, NaN.
The histogram figure keeps its size and panels with a fixed layout, drawn once.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from kinsynth.evaluate import figures
from kinsynth.evaluate.metrics.caps import _subsample

fidelity = importlib.import_module("kinsynth.evaluate.metrics.fidelity")


def _scipy_ks(real: np.ndarray, synth: np.ndarray) -> float:
    return float(np.mean([stats.ks_2samp(real[:, j], synth[:, j]).statistic
                          for j in range(real.shape[1])]))


def _square_matrix_mmd(real: np.ndarray, synth: np.ndarray, seed: int, max_rows: int) -> float:
    """The MMD as first written: three cdist squares, upper triangles indexed for the median."""
    rng = np.random.default_rng(seed)
    x, y = _subsample(real, max_rows, rng), _subsample(synth, max_rows, rng)
    dxx, dyy, dxy = (cdist(a, b, "sqeuclidean") for a, b in ((x, x), (y, y), (x, y)))
    pooled = np.concatenate([dxx[np.triu_indices(len(x), 1)], dyy[np.triu_indices(len(y), 1)],
                             dxy.ravel()])
    h = float(np.median(pooled)) if pooled.size else 1.0
    h = h if h > 0 else 1.0
    value = np.exp(-dxx / h).mean() + np.exp(-dyy / h).mean() - 2 * np.exp(-dxy / h).mean()
    return float(max(value, 0.0))


def _samples(rng: np.random.Generator, n1: int, n2: int, kind: str) -> tuple[np.ndarray, ...]:
    if kind == "shifted":
        return rng.normal(size=n1), rng.normal(1.0, 0.3, size=n2)
    if kind == "ties":
        return rng.integers(0, 5, n1).astype(float), rng.integers(0, 7, n2).astype(float)
    if kind == "constant":
        return rng.normal(size=n1), np.full(n2, 0.25)
    return rng.uniform(size=n1), rng.uniform(size=n2) ** 2


@pytest.mark.parametrize("kind", ["shifted", "ties", "constant", "skewed"])
@pytest.mark.parametrize("n1,n2", [(1, 3), (7, 7), (500, 5000), (500, 500), (4000, 10001),
                                   (3, 20000), (500, 10000)])
def test_ks_statistic_is_scipy_s_statistic_bit_for_bit(kind, n1, n2):
    rng = np.random.default_rng(n1 * 7 + n2)
    a, b = _samples(rng, n1, n2, kind)
    expected = stats.ks_2samp(a, b).statistic
    assert fidelity.ks_statistic(a, b) == expected
    assert fidelity.ks_statistic(b, a) == stats.ks_2samp(b, a).statistic


def test_ks_over_columns_is_scipy_s_mean_and_nan_propagates():
    rng = np.random.default_rng(0)
    real, synth = rng.normal(size=(500, 19)), rng.normal(0.4, 0.2, size=(5000, 19))
    assert fidelity.ks(real, synth) == _scipy_ks(real, synth)
    real[3, 2] = np.nan
    assert np.isnan(fidelity.ks_statistic(real[:, 2], synth[:, 2]))
    assert np.isnan(stats.ks_2samp(real[:, 2], synth[:, 2]).statistic)


@pytest.mark.parametrize("n_real,n_synth,max_rows", [(500, 5000, 2000), (300, 300, 2000),
                                                     (2, 40, 2000), (4000, 5000, 600)])
def test_mmd_is_the_square_matrix_computation_bit_for_bit(n_real, n_synth, max_rows):
    rng = np.random.default_rng(n_real + n_synth)
    real = rng.normal(size=(n_real, 19))
    for synth in (rng.normal(0.2, 1.1, size=(n_synth, 19)),
                  rng.normal(0.0, 0.01, size=(n_synth, 19)),  # collapsed: a tiny bandwidth
                  np.repeat(real[:1], n_synth, axis=0)):  # one copied row: distances 0
        expected = _square_matrix_mmd(real, synth, seed=3, max_rows=max_rows)
        assert fidelity.mmd(real, synth, seed=3, max_rows=max_rows) == expected


def test_the_histogram_figure_keeps_its_size_and_one_panel_per_column(tmp_path):
    import pandas as pd
    from PIL import Image

    rng = np.random.default_rng(0)
    columns = [f"vmax_forward_Enz_{i}" for i in range(19)]
    real = pd.DataFrame(rng.lognormal(size=(400, 19)), columns=columns)
    synth = pd.DataFrame(rng.lognormal(size=(500, 19)) * 0.5, columns=columns)
    fig = figures.column_histograms(real, synth, columns, real_name="training split")
    shown = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in shown] == columns
    for ax, column in zip(shown, columns, strict=True):
        real_steps, synth_steps = ax.patches  # the drawn densities are numpy's histograms
        values, edges = real_steps.get_data().values, real_steps.get_data().edges
        pooled = np.concatenate([real[column], synth[column]])
        assert np.array_equal(edges, np.linspace(pooled.min(), pooled.max(), 31))
        assert np.array_equal(values, np.histogram(real[column], bins=edges, density=True)[0])
        assert np.array_equal(synth_steps.get_data().values,
                              np.histogram(synth[column], bins=edges, density=True)[0])
    # panels inside the figure, none overlapping its neighbour
    boxes = [ax.get_position() for ax in shown]
    assert all(0 < b.x0 < b.x1 < 1 and 0 < b.y0 < b.y1 < 1 for b in boxes)
    assert boxes[0].x1 < boxes[1].x0 and boxes[5].y1 < boxes[0].y0
    path = tmp_path / "histograms.png"
    figures.save(fig, str(path))
    with Image.open(path) as image:  # the figure's size at 120 dpi: 5 x 3 by 4 x 2.2 inches
        assert image.size == (5 * 3 * figures.DPI, round(4 * 2.2 * figures.DPI))
