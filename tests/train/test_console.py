"""A default run prints progress and an evaluation line, and none of Lightning's noise."""

from __future__ import annotations

import warnings

import pytest
from support import run_cli

from kinsynth.train.console import quiet_third_party

NOISE = (
    "litlogger",
    "LeafSpec",
    "`weights_only` was not set",
    "configure_optimizers` returned `None`",
)


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


# the bcvae case is a process of its own (about 10 s), hence slow
@pytest.mark.parametrize("model", [pytest.param("bcvae", marks=pytest.mark.slow(seconds=10)),
                                   "ppca"])
def test_a_default_run_is_quiet_and_shows_progress(toy_csv, tmp_path, model):
    args = ("train.py", f"model={model}", f"data.path={toy_csv}",
            f"hydra.run.dir={tmp_path / 'run'}", "trainer.max_epochs=20", "latent_dim=3",
            "callbacks.evaluation.figures=false", "callbacks.evaluation.baselines=false")
    if model == "bcvae":
        # a console of its own, as a user's first run has: warnings raised while torch and
        # Lightning import count too, and pytest does not record them
        result = run_cli(*args, subprocess_=True)
        shown = ""
    else:
        # PPCA's own noise (no optimizer for Lightning) comes during the run: this process will
        # do, with Python's default filter, under which a user would see each warning once
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            result = run_cli(*args)
        shown = "\n".join(str(w.message) for w in caught)
    console = result.stdout + result.stderr + shown
    for noise in NOISE:
        assert noise not in console, noise
    assert "evaluating on 60 test rows" in console
    assert "test split:" in console
    if model == "bcvae":  # PPCA is fitted in one step: no epochs to report
        epochs = [line for line in console.splitlines() if "kinsynth.progress" in line]
        assert len(epochs) == 10 and "epoch 20/20" in epochs[-1]
        assert "train loss" in epochs[0] and "elapsed" in epochs[0]
