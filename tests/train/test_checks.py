"""skip_finished: a finished job is skipped only when it ran with the settings asked for now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from kinsynth.train.checks import finished_job_metrics


def _finished_run(tmp_path: Path, cfg) -> Path:
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (run / "metrics.json").write_text(json.dumps({"recon_mse": 0.5}))
    return run


@pytest.mark.parametrize("change", ["trainer.max_epochs=50", "optimizer.lr=0.01"])
def test_skip_finished_reruns_a_job_whose_budget_or_lr_changed(compose_train, tmp_path, change):
    run = _finished_run(tmp_path, compose_train("model=cvae", "trainer.max_epochs=3"))
    same = compose_train("model=cvae", "trainer.max_epochs=3", "skip_finished=true")
    assert finished_job_metrics(same, run) == {"recon_mse": 0.5}
    changed = compose_train("model=cvae", "trainer.max_epochs=3", change, "skip_finished=true")
    # not the earlier run's metrics as if this run had made them
    assert finished_job_metrics(changed, run) is None
