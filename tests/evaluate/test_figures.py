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


def test_histograms_one_panel_per_column_as_outlines_with_counts():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(100, 7)), columns=list("abcdefg"))
    fig = figures.column_histograms(frame, frame.iloc[:40] + 1, list("abcdefg"),
                                    real_name="training split")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == list("abcdefg")
    assert fig._suptitle.get_text() == (
        "training split (black, n=100) vs synthetic (cyan, n=40)"
    )
    patches = fig.axes[0].patches
    assert patches and not any(p.get_fill() for p in patches)  # outlines: overlap stays legible
    assert fig.axes[0].get_ylabel() == "density"


def test_explained_variance_integer_ticks_black_and_cyan():
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 5))
    fig = figures.explained_variance({"real": real, "model": real * 0.5})
    ax = fig.axes[0]
    colours = [to_rgba(line.get_color()) for line in ax.get_lines()[:2]]
    assert colours == [to_rgba("black"), to_rgba("cyan")]
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 5]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_metric_against_latent_one_line_per_model_and_reference():
    table = pd.DataFrame({"model": ["vae"] * 3 + ["ppca"] * 3, "latent_dim": [3, 5, 7] * 2,
                          "recon_mse": [0.5, 0.4, 0.3, 0.6, 0.5, 0.4]})
    reference = pd.DataFrame({"model": ["vae"], "latent_dim": [11], "recon_mse": [0.06]})
    fig = figures.metric_against_latent(table, "recon_mse", reference)
    assert len(fig.axes[0].get_lines()) == 3 and fig.axes[0].get_yscale() == "linear"
    fig = figures.metric_against_latent(table, "recon_mse", reference, log_scale=True)
    assert fig.axes[0].get_yscale() == "log"


def test_a_zero_one_figure_has_its_reference_lines():
    table = pd.DataFrame({"model": ["vae"] * 2, "latent_dim": [3, 5], "c2st_auc": [0.7, 0.6]})
    fig = figures.metric_against_latent(
        table, "c2st_auc", lines={"0.5: indistinguishable": 0.5, "real vs real": 0.52}
    )
    ax = fig.axes[0]
    levels = {line.get_label(): line.get_ydata()[0] for line in ax.get_lines()[1:]}
    assert levels == {"0.5: indistinguishable": 0.5, "real vs real": 0.52}
    assert ax.get_yscale() == "linear"
