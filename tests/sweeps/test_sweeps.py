"""Sweeps through train.py, the way a user starts them, and the cluster launcher's config.

Each test runs ``train.py``'s ``main`` in this process on the toy table with tiny settings (the
joblib and submitit launchers start their job processes themselves); they check that a launcher or
sweeper runs every job, that a failed job is recorded without stopping the others, and that every
run still writes the run-directory contract. DDP and a killed sweep need a ``train.py`` process of
their own: ``tests/integration/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support import REPO_ROOT, run_cli

from kinsynth.sweeps.plan import job_folder

TINY = (
    "trainer.max_epochs=2",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=100",
)


def _train(*overrides: str, data: Path, multirun: bool = False):
    flags = ["-m"] if multirun else []
    return run_cli("train.py", *flags, f"data.path={data}", *TINY, *overrides)


def _job_dirs(sweep: Path) -> list[Path]:
    """Job folders, ``<num>_<overrides>``, in job order."""
    jobs = (d for d in sweep.iterdir() if d.is_dir() and d.name.split("_")[0].isdigit())
    return sorted(jobs, key=lambda d: int(d.name.split("_")[0]))


def _overrides(job: Path) -> list[str]:
    return yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())


@pytest.mark.slow(seconds=12)
def test_joblib_multirun_runs_jobs_in_parallel_and_a_failed_job_does_not_stop_the_sweep(
    toy_csv: Path, tmp_path: Path
) -> None:
    sweep = tmp_path / "sweep"
    # PPCA with latent_dim=9 on the toy table's 6 columns is invalid: that job must fail alone
    _train(
        "hydra/launcher=local_parallel",
        "model=ppca",
        "latent_dim=2,9",
        f"hydra.sweep.dir={sweep}",
        data=toy_csv,
        multirun=True,
    )
    jobs = _job_dirs(sweep)
    assert len(jobs) == 2
    failed = [job for job in jobs if (job / "error.txt").is_file()]
    assert [_overrides(job)[-1] for job in failed] == ["latent_dim=9"]
    assert "PPCA needs fewer latent dimensions" in (failed[0] / "error.txt").read_text()
    for job in set(jobs) - set(failed):
        metrics = json.loads((job / "metrics.json").read_text())
        assert metrics["epochs"] >= 1 and "c2st_auc" in metrics
        assert (job / "synthetic.csv").is_file() and (job / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow(seconds=5)
def test_optuna_study_survives_a_failed_trial_and_writes_its_results(
    toy_csv: Path, tmp_path: Path
) -> None:
    sweep = tmp_path / "study"
    # latent_dim=0 fails at model construction; with seed 0 the sampler proposes it once in 3
    _train(
        "hparams_search=optuna",
        "model=cvae",
        "hydra.sweeper.n_trials=3",
        "latent_dim=choice(0,2)",
        f"hydra.sweep.dir={sweep}",
        data=toy_csv,
        multirun=True,
    )
    jobs = _job_dirs(sweep)
    assert len(jobs) == 3
    failed = [job for job in jobs if (job / "error.txt").is_file()]
    assert failed, "the seeded sampler no longer proposes latent_dim=0: pick another choice/seed"
    assert all("latent_dim=0" in _overrides(job) for job in failed)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results["best_params"]["latent_dim"] == 2
    # the whole search space of conf/hparams_search/optuna.yaml was applied, lists included
    assert set(results["best_params"]) == {
        "latent_dim",
        "model.beta",
        "model.network.hidden",
        "optimizer.lr",
        "data.transform",
        "model.free_bits",
        "model.warmup_epochs",
    }
    trained = [job for job in jobs if job not in failed]
    config = yaml.safe_load((trained[0] / ".hydra" / "config.yaml").read_text())
    assert isinstance(config["model"]["network"]["hidden"], list)  # the string choice: a list


@pytest.mark.slow(seconds=16)
def test_submitit_local_launcher_runs_two_jobs(toy_csv: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "submitit"
    _train(
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
        "model=vae,ppca",
        "latent_dim=2",
        f"hydra.sweep.dir={sweep}",
        data=toy_csv,
        multirun=True,
    )
    jobs = _job_dirs(sweep)
    assert len(jobs) == 2
    for job in jobs:
        assert (job / "metrics.json").is_file() and (job / "synthetic.csv").is_file()
    assert (sweep / ".submitit").is_dir()


def test_slurm_launcher_config_composes_with_its_placeholders() -> None:
    """The SLURM config must compose (no cluster here): the submitit plugin and our defaults."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO_ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=["hydra/launcher=slurm", "hydra.launcher.partition=cpu"],
            return_hydra_config=True,
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.partition == "cpu" and launcher.timeout_min > 0
    assert launcher.tasks_per_node == 1 and launcher.setup == ["export OMP_NUM_THREADS=1"]


def test_search_configs_compose() -> None:
    """Both search variants compose; the random one only swaps the sampler."""
    from hydra import compose, initialize_config_dir

    samplers = {}
    with initialize_config_dir(config_dir=str(REPO_ROOT / "conf"), version_base="1.3"):
        for name in ("optuna", "optuna_random"):
            cfg = compose("train", overrides=[f"hparams_search={name}"], return_hydra_config=True)
            samplers[name] = cfg.hydra.sweeper.sampler._target_
            assert cfg.hydra.sweeper.direction == "minimize"
            assert "model.network.hidden" in cfg.hydra.sweeper.params
    assert samplers == {
        "optuna": "optuna.samplers.TPESampler",
        "optuna_random": "optuna.samplers.RandomSampler",
    }


@pytest.mark.slow
@pytest.mark.skipif(
    not (REPO_ROOT / "scripts" / "simulate.py").is_file(), reason="scripts/simulate.py not present"
)
def test_simulator_shards_run_as_a_multirun(tmp_path: Path) -> None:
    out = tmp_path / "sim.csv"
    run_cli(
        "scripts/simulate.py",
        "-m",
        "shard=0,1",
        "n_shards=2",
        "n=8",
        "workers=1",
        f"out={out}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert sorted(p.name for p in tmp_path.glob("sim.shard*of2.csv")) == [
        "sim.shard0of2.csv",
        "sim.shard1of2.csv",
    ]


@pytest.mark.slow(seconds=6)
def test_rerun_of_an_interrupted_sweep_skips_finished_jobs_and_report_names_missing_ones(
    toy_csv: Path, tmp_path: Path
) -> None:
    import shutil

    sweep = tmp_path / "sweep"
    args = ("model=ppca", "latent_dim=2,3", f"hydra.sweep.dir={sweep}")
    _train(*args, data=toy_csv, multirun=True)
    shutil.rmtree(job_folder(sweep, 1))  # as if the sweep was killed before job 1 started
    report = run_cli("scripts/report.py", str(sweep), "--out", str(tmp_path / "report"),
                     "--no-figures")
    assert "job 1 (latent_dim=3): never started" in report.stdout
    assert "job 0" not in report.stdout.split("1 jobs")[0]
    finished = (job_folder(sweep, 0) / "checkpoints" / "last.ckpt").stat().st_mtime_ns

    rerun = _train(*args, "skip_finished=true", data=toy_csv, multirun=True)
    assert "already holds this finished job; skipped" in rerun.stdout + rerun.stderr
    assert (job_folder(sweep, 0) / "checkpoints" / "last.ckpt").stat().st_mtime_ns == finished
    assert json.loads((job_folder(sweep, 1) / "metrics.json").read_text())["recon_mse"] > 0
    report = run_cli("scripts/report.py", str(sweep), "--out", str(tmp_path / "report"),
                     "--no-figures")
    assert "missing" not in report.stdout and "2 jobs, 0 failed" in report.stdout
