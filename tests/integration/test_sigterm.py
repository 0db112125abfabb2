"""SIGTERM (a scheduler's time limit) stops a run with a non-zero exit, and a rerun resumes it.

Lightning turns SIGTERM into ``SIGTERMException``, a ``SystemExit`` whose code is None: without
kinsynth's handling the run "succeeds" with exit 0 and no metrics.json, and a sweep silently
skips its remaining jobs.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import pytorch_lightning as pl
from omegaconf import OmegaConf
from support import REPO_ROOT, run_cli

from kinsynth.core.errors import RunInterrupted
from kinsynth.train.run import run_training

HERE = Path(__file__).resolve().parent
#: 5 epochs with periodic checkpoints every 2, stopped at the end of epoch 3
RUN = ("model=cvae", "latent_dim=3", "trainer.max_epochs=5", "trainer.check_val_every_n_epoch=2",
       "callbacks.model_checkpoint.every_n_epochs=2", "callbacks.evaluation.figures=false",
       "callbacks.evaluation.n_conditional=50", "logger=csv")
STOP = ("+callbacks.sigterm._target_=test_sigterm.SigtermAt", "+callbacks.sigterm.epoch=3")


class SigtermAt(pl.Callback):
    """Sends this process SIGTERM at the end of epoch ``epoch``, as a scheduler would."""

    def __init__(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGTERM)


def _as_hydra_would(cfg, run: Path):
    """Record the run's config in ``.hydra/`` as ``train.py`` does: what a rerun is matched with."""
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    return cfg


def test_sigterm_stops_the_run_and_a_skip_finished_rerun_resumes_it_exactly(
    compose_train, tmp_path
):
    whole = run_training(compose_train(*RUN, output_dir=tmp_path / "whole"), tmp_path / "whole")

    run = tmp_path / "stopped"
    with pytest.raises(RunInterrupted, match="stopped by SIGTERM") as stopped:
        run_training(_as_hydra_would(compose_train(*RUN, *STOP, output_dir=run), run), run)
    assert f"resume={run}" in str(stopped.value) and "\n" not in str(stopped.value)
    assert not (run / "metrics.json").exists() and (run / "checkpoints" / "last.ckpt").is_file()

    # the README's way to finish an interrupted sweep: the same job with skip_finished=true
    resumed = run_training(compose_train(*RUN, "skip_finished=true", output_dir=run), run)
    for key in ("recon_mse", "kl", "c2st_auc"):
        assert resumed[key] == whole[key], key
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk["recon_mse"] == whole["recon_mse"]
    # the fit's time in total and the resumed part alone (epochs 3 to 5 of 5)
    assert 0 < on_disk["fit_seconds_resumed"] < on_disk["fit_seconds"]


def test_skip_finished_does_not_resume_another_jobs_checkpoints(compose_train, tmp_path):
    with pytest.raises(RunInterrupted):
        run_training(_as_hydra_would(compose_train(*RUN, *STOP), tmp_path), tmp_path)
    with pytest.raises(Exception, match="interrupted run's checkpoints"):
        run_training(compose_train(*RUN, "latent_dim=4", "skip_finished=true"), tmp_path)


def _env_with_this_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [str(HERE), str(HERE.parent), str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def test_sigterm_exits_143_with_one_line(tmp_path, toy_csv):
    # in this process (Lightning's handler catches the signal here too); the stopped sweep below
    # checks the same status and line from a process of its own
    result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={tmp_path}", *RUN, *STOP,
                     check=False)
    assert result.returncode == 143, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "stopped by SIGTERM" in errors[0]
    assert f"resume={tmp_path}" in errors[0] and "Traceback" not in result.stderr


@pytest.mark.slow(seconds=14)
def test_a_stopped_sweep_exits_143_names_the_job_and_a_rerun_finishes_it(
    monkeypatch, tmp_path, toy_csv
):
    _env_with_this_folder(monkeypatch)
    settings = [s for s in RUN if not s.startswith("latent_dim=")]
    sweep = ("-m", "latent_dim=2,3", f"data.path={toy_csv}", f"hydra.sweep.dir={tmp_path}",
             *settings)
    stopped = run_cli("train.py", *sweep, *STOP, check=False, subprocess_=True)
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    log = stopped.stdout + stopped.stderr
    assert "INTERRUPTED" in log and "job 1 (latent_dim=3): never started" in log
    (job,) = [p for p in tmp_path.iterdir() if p.name.startswith("0_")]
    assert "stopped by SIGTERM" in (job / "error.txt").read_text()

    rerun = run_cli("train.py", *sweep, "skip_finished=true")
    assert not (job / "error.txt").exists()
    assert all((p / "metrics.json").is_file() for p in tmp_path.iterdir() if p.is_dir())
    assert "INTERRUPTED" not in rerun.stdout + rerun.stderr
