"""Run directories: one writer at a time, no new run over an old one, resume checks its settings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from support import FAST_CVAE, run_cli

from kinsynth.core.errors import KinsynthError
from kinsynth.evaluate.callback import EvaluationCallback
from kinsynth.runs.lock import RunDirectoryLock
from kinsynth.train.run import run_training

FAST = FAST_CVAE


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, toy_csv: Path) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST)
    return run


@pytest.fixture
def copy(finished: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    return run


def _error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_second_run_into_a_locked_directory_is_refused(toy_csv: Path, tmp_path: Path):
    run = tmp_path / "run"
    with RunDirectoryLock(run):
        result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST,
                         check=False)
    assert "another kinsynth process is writing to this run directory" in _error_line(result)
    assert not (run / "metrics.json").exists() and not (run / "error.txt").exists()


@pytest.mark.slow  # several CLI runs end to end: CI runs it, -m 'not slow' skips it
def test_new_run_over_a_finished_run_is_refused_unless_overwrite(toy_csv: Path, copy: Path):
    config = (copy / ".hydra" / "config.yaml").read_text()
    metrics = (copy / "metrics.json").read_text()
    result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={copy}", *FAST,
                     "latent_dim=3", check=False)
    assert "already holds a finished run" in _error_line(result)
    assert (copy / ".hydra" / "config.yaml").read_text() == config
    assert (copy / "metrics.json").read_text() == metrics
    assert not (copy / "error.txt").exists()

    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={copy}", *FAST,
            "latent_dim=3", "overwrite=true")
    assert "latent_dim: 3" in (copy / ".hydra" / "config.yaml").read_text()
    checkpoint = torch.load(copy / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["hyper_parameters"]["latent_dim"] == 3


@pytest.mark.parametrize("change,expected", [
    ("latent_dim=3", "latent_dim was 11 in the original run, now 3"),
    ("data.path=null", "data.path was"),
    ("data.transform=standard",
     "data.transform was 'quantile' in the original run, now 'standard'"),
    # the restored optimiser state would keep the saved value without a word
    ("optimizer.weight_decay=0.01", "optimizer.weight_decay was 0.0 in the original run, now 0.01"),
])
def test_resume_refuses_a_changed_identity_naming_key_old_and_new(
    toy_csv: Path, copy: Path, change: str, expected: str
):
    metrics = (copy / "metrics.json").read_text()
    result = run_cli("train.py", f"data.path={toy_csv}", f"resume={copy}", *FAST,
                     "trainer.max_epochs=4", change, check=False)
    last = _error_line(result)
    assert expected in last, last
    assert (copy / "metrics.json").read_text() == metrics


def test_resume_applies_and_logs_a_new_lr_and_max_epochs(toy_csv: Path, copy: Path):
    result = run_cli("train.py", f"data.path={toy_csv}", f"resume={copy}", *FAST,
                     "trainer.max_epochs=3", "optimizer.lr=0.0001")
    log = result.stdout + result.stderr
    assert "optimizer.lr changed from 0.001 to 0.0001 (applied)" in log
    assert "trainer.max_epochs changed from 2 to 3 (applied)" in log
    checkpoint = torch.load(copy / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(1e-4)
    assert json.loads((copy / "metrics.json").read_text())["epochs"] == 3


def test_resume_of_a_run_without_hydra_checks_the_checkpoints_settings(compose_train, tmp_path):
    run_training(compose_train("model=cvae", "trainer.max_epochs=2"), tmp_path)
    with pytest.raises(KinsynthError, match="latent_dim was 11 in the original run, now 4"):
        run_training(compose_train("model=cvae", "latent_dim=4", f"resume={tmp_path}"), tmp_path)


def test_metrics_come_from_this_run_not_from_the_file(compose_train, tmp_path, monkeypatch):
    original = EvaluationCallback.on_fit_end

    def another_writer(self, trainer, pl_module):
        original(self, trainer, pl_module)
        (tmp_path / "metrics.json").write_text(json.dumps({"recon_mse": 99.0}))

    monkeypatch.setattr(EvaluationCallback, "on_fit_end", another_writer)
    metrics = run_training(compose_train("model=vae", "trainer.max_epochs=2"), tmp_path)
    assert metrics["recon_mse"] != 99.0 and metrics["epochs"] == 2


def test_skip_finished_returns_the_finished_jobs_metrics_without_training(
    toy_csv: Path, copy: Path
):
    stamp = (copy / "checkpoints" / "last.ckpt").stat().st_mtime_ns
    result = run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={copy}", *FAST,
                     "skip_finished=true")
    assert "already holds this finished job; skipped" in result.stdout + result.stderr
    assert (copy / "checkpoints" / "last.ckpt").stat().st_mtime_ns == stamp


@pytest.mark.slow  # several CLI runs end to end: CI runs it, -m 'not slow' skips it
def test_a_failed_attempt_leaves_the_directory_to_the_next_run(toy_csv: Path, tmp_path: Path):
    run = tmp_path / "run"
    failed = run_cli("train.py", f"data.path={tmp_path / 'missing.csv'}", f"hydra.run.dir={run}",
                     *FAST, check=False)
    assert failed.returncode == 1
    run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}", *FAST)
    assert str(toy_csv) in (run / ".hydra" / "config.yaml").read_text()
    assert not list((run / ".hydra").glob("rerun-*"))
