import numpy as np
import pandas as pd

from kinsynth.evaluate import figures


def test_pca_overlay_draws_equal_numbers_of_real_and_synthetic_points(tmp_path):
    rng = np.random.default_rng(0)
    fig = figures.pca_overlay(rng.normal(size=(300, 4)), rng.normal(size=(5000, 4)))
    synthetic, real = fig.axes[0].collections
    assert len(real.get_offsets()) == len(synthetic.get_offsets()) == 300
    assert tuple(real.get_facecolor()[0][:3]) == (0.0, 0.0, 0.0)
    figures.save(fig, str(tmp_path / "pca.png"))
    assert (tmp_path / "pca.png").stat().st_size > 1000


def test_explained_variance_is_cumulative_and_ends_at_one():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5))
    fig = figures.explained_variance({"real": values, "collapsed": values * 0.01 + 1})
    for line in fig.axes[0].get_lines()[:2]:
        y = line.get_ydata()
        assert np.all(np.diff(y) >= -1e-12) and abs(y[-1] - 1.0) < 1e-9


def test_histograms_one_panel_per_column():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(100, 7)), columns=list("abcdefg"))
    fig = figures.column_histograms(frame, frame + 1, list("abcdefg"))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == list("abcdefg")


def test_metric_against_latent_one_line_per_model_and_reference():
    table = pd.DataFrame({"model": ["vae"] * 3 + ["ppca"] * 3, "latent_dim": [3, 5, 7] * 2,
                          "recon_mse": [0.5, 0.4, 0.3, 0.6, 0.5, 0.4]})
    reference = pd.DataFrame({"model": ["vae"], "latent_dim": [11], "recon_mse": [0.06]})
    fig = figures.metric_against_latent(table, "recon_mse", reference)
    assert len(fig.axes[0].get_lines()) == 3 and fig.axes[0].get_yscale() == "log"
