"""An Optuna search started again into a finished search's folder: one line saying what the
folder holds and how to extend a search, and the finished jobs untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf
from support import run_cli

from kinsynth.sweeps.rerun import finished_search_problem

TINY = ["trainer.max_epochs=1", "callbacks.evaluation.baselines=false",
        "callbacks.evaluation.figures=false", "callbacks.evaluation.n_conditional=20"]
OPTUNA = OmegaConf.create({"_target_": "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper."
                           "OptunaSweeper", "storage": None})


def _finished_job(sweep: Path, storage: str | None = None) -> Path:
    job = sweep / "0_latent_dim-2"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "hydra.yaml").write_text(
        yaml.safe_dump({"hydra": {"sweeper": {"storage": storage}}}))
    (job / "metrics.json").write_text('{"c2st_auc_joint": 0.7}')
    return job


def test_a_finished_in_memory_search_is_refused_with_what_to_do(tmp_path):
    _finished_job(tmp_path)
    (tmp_path / "optimization_results.yaml").write_text("best_value: 0.7\n")
    line = finished_search_problem(tmp_path, OPTUNA)
    assert line is not None and "\n" not in line
    assert "holds a finished Optuna search (1 finished trial(s)" in line
    assert "kept in memory" in line and "another hydra.sweep.dir" in line
    assert "hydra.sweeper.storage=sqlite" in line


def test_the_same_study_in_a_database_may_continue(tmp_path):
    _finished_job(tmp_path, storage="sqlite:///s.db")
    (tmp_path / "optimization_results.yaml").write_text("best_value: 0.7\n")
    same = OmegaConf.merge(OPTUNA, {"storage": "sqlite:///s.db"})
    assert finished_search_problem(tmp_path, same) is None
    line = finished_search_problem(tmp_path, OPTUNA)
    assert line is not None and "rerun with hydra.sweeper.storage=sqlite:///s.db" in line


def test_an_empty_folder_or_a_basic_sweep_is_not_refused(tmp_path):
    assert finished_search_problem(tmp_path / "new", OPTUNA) is None
    _finished_job(tmp_path)
    basic = OmegaConf.create({"_target_": "hydra._internal.core_plugins.basic_sweeper."
                              "BasicSweeper"})
    assert finished_search_problem(tmp_path, basic) is None


def _snapshot(sweep: Path) -> dict[str, bytes]:
    return {str(p.relative_to(sweep)): p.read_bytes() for p in sweep.rglob("*")
            if p.is_file() and "tensorboard" not in p.parts}


@pytest.mark.slow(seconds=12)
def test_a_rerun_into_a_finished_search_leaves_its_jobs_untouched(toy_csv: Path, tmp_path: Path):
    sweep = tmp_path / "study"
    args = ["train.py", "-m", f"data.path={toy_csv}", *TINY, "hparams_search=optuna",
            "model=vae", "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={sweep}"]
    run_cli(*args, cwd=tmp_path)
    before = _snapshot(sweep)
    hydra_dirs = sorted(str(p) for p in sweep.rglob(".hydra/*"))
    result = run_cli(*args, cwd=tmp_path, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "No trials are completed yet" not in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: hydra.sweep.dir=") and "finished Optuna search" in last
    assert _snapshot(sweep) == before  # no ERROR in train.log, no lock rewritten
    assert sorted(str(p) for p in sweep.rglob(".hydra/*")) == hydra_dirs  # no rerun-<time>
