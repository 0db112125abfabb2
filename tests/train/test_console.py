"""A default run prints progress and an evaluation line, and none of Lightning's noise."""

from __future__ import annotations

import warnings

import pytest
from support import CONSOLE_NOISE, run_cli

from kinsynth.train.console import quiet_third_party


def test_the_filters_spare_a_users_own_warnings():
    quiet_third_party()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_third_party()  # as a run installs them, after any simplefilter of the user's
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", FutureWarning,
                      stacklevel=1)
        warnings.warn("my own warning about my data", UserWarning, stacklevel=1)
    texts = [str(w.message) for w in caught]
    assert texts == ["my own warning about my data"]


@pytest.mark.parametrize("model", ["bcvae", "ppca"])
def test_a_default_run_is_quiet_and_shows_progress(toy_csv, tmp_path, model):
    """In this process, under Python's default warning filter, as a user would see each warning
    once. Warnings raised while torch and Lightning import are checked where a process is fresh:
    the installed wheel's first run (``tests/integration/test_install.py``)."""
    args = ("train.py", f"model={model}", f"data.path={toy_csv}",
            f"hydra.run.dir={tmp_path / 'run'}", "trainer.max_epochs=20", "latent_dim=3",
            "callbacks.evaluation.figures=false", "callbacks.evaluation.baselines=false")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        result = run_cli(*args)
    shown = "\n".join(str(w.message) for w in caught)
    console = result.stdout + result.stderr + shown
    for noise in CONSOLE_NOISE:
        assert noise not in console, noise
    assert "evaluating on 60 test rows" in console
    assert "test split:" in console
    if model == "bcvae":  # PPCA is fitted in one step: no epochs to report
        epochs = [line for line in console.splitlines() if "kinsynth.progress" in line]
        assert len(epochs) == 10 and "epoch 20/20" in epochs[-1]
        assert "train loss" in epochs[0] and "elapsed" in epochs[0]
