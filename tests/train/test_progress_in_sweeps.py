"""``progress_bar=auto``: a bar in a terminal of one's own, none in a sweep's job.

Whether the run is a sweep's job is the entry point's to say (``run_training(sweeping=...)``):
the training module reads no Hydra state.
"""

from __future__ import annotations

import sys

import pytest

from kinsynth.train import run as train_run


class _CountedBar(train_run.EpochProgressBar):
    made = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).made += 1


@pytest.mark.parametrize(("sweeping", "bars"), [(False, 1), (True, 0)])
def test_a_sweeps_job_shows_no_progress_bar_in_a_terminal(
    compose_train, tmp_path, monkeypatch, sweeping, bars
):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(_CountedBar, "made", 0)
    monkeypatch.setattr(train_run, "EpochProgressBar", _CountedBar)
    cfg = compose_train("model=ppca", "latent_dim=2", "trainer.max_epochs=1",
                        "callbacks.evaluation.figures=false", "progress_bar=auto")
    metrics = train_run.run_training(cfg, tmp_path, sweeping=sweeping)
    assert _CountedBar.made == bars
    assert (tmp_path / "metrics.json").is_file() and metrics["recon_mse"] > 0
