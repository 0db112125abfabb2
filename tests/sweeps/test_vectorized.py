"""``hydra/launcher=vectorized`` against the joblib launcher on one 6-job sweep.

The same run directories and files, the stacks it says it trained, and the same figures: each
stacked job follows its job alone to float rounding (tests/train/test_stacked_training.py), so
its figures agree far inside the spread between seeds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import run_cli

SWEEP = ("-m", "model=ppca,vae,cvae", "latent_dim=2,3", "trainer.max_epochs=6",
         "callbacks.evaluation.level=fast", "callbacks.evaluation.n_conditional=50",
         "generate.n=200", "optimized_metric=null",
         # one worker each: a worker's start (torch, Lightning) is most of this sweep's CPU time
         "hydra.launcher.n_jobs=1")


def _files(job: Path) -> list[str]:
    """A job's files, without the config record's time-stamped names."""
    return sorted(p.relative_to(job).as_posix() for p in job.rglob("*")
                  if p.is_file() and "events.out" not in p.name)


@pytest.mark.slow(seconds=14)
def test_the_vectorized_launcher_writes_the_joblib_launchers_runs(toy_csv: Path,
                                                                   tmp_path: Path) -> None:
    sweeps = {}
    for launcher in ("local_parallel", "vectorized"):
        sweeps[launcher] = tmp_path / launcher
        result = run_cli("train.py", *SWEEP, f"data.path={toy_csv}",
                         f"hydra/launcher={launcher}", f"hydra.sweep.dir={sweeps[launcher]}")
    assert "6 jobs, 4 trained in 2 stack(s) (2 + 2), 2 alone" in result.stdout + result.stderr
    jobs = {name: sorted(p.name for p in sweep.iterdir() if p.is_dir())
            for name, sweep in sweeps.items()}
    assert jobs["vectorized"] == jobs["local_parallel"] and len(jobs["vectorized"]) == 6
    for job in jobs["vectorized"]:
        alone, stacked = sweeps["local_parallel"] / job, sweeps["vectorized"] / job
        assert _files(stacked) == _files(alone), job
        assert "events.out" in " ".join(p.name for p in (stacked / "tensorboard").rglob("*"))
        figures = [json.loads((d / "metrics.json").read_text()) for d in (alone, stacked)]
        assert figures[0].keys() == figures[1].keys()
        for key, value in figures[0].items():
            if key.endswith("_seconds") or not isinstance(value, float) or math.isnan(value):
                continue
            assert figures[1][key] == pytest.approx(value, rel=0.02, abs=0.02), (job, key)
        replayed = "replays its 6 epochs" in (stacked / "train.log").read_text()
        assert replayed == ("ppca" not in job), job


def test_the_jobs_of_a_refused_stack_run_alone_and_every_job_returns_in_order() -> None:
    """A stack that could not train hands its jobs no record: they train themselves."""
    from kinsynth.cli.vectorized import Plan, _second_phase

    layout = Plan(stacks=[[0, 2], [1, 3]], alone=[4])
    first = ["its record would take 300 MiB", ["/r/job-1.pt", "/r/job-3.pt"], "job 4's return"]
    jobs = [SimpleNamespace(num=10 + i) for i in range(5)]
    asked = []

    def run(job: SimpleNamespace, record: str | None = None) -> tuple[int, str | None]:
        asked.append(record)
        return (len(asked), record)

    returns = _second_phase(list, run, jobs, layout, first)
    assert asked == [None, None, "/r/job-1.pt", "/r/job-3.pt"]
    assert returns[4] == "job 4's return" and returns[1] == (3, "/r/job-1.pt")
    assert sorted(returns) == [0, 1, 2, 3, 4]


def test_sigterm_in_the_launching_process_is_an_exception_for_as_long_as_the_sweep_runs() -> None:
    import os
    import signal
    import time

    from kinsynth.cli.vectorized import sigterm_stops_the_sweep
    from kinsynth.core.errors import RunInterrupted

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RunInterrupted), sigterm_stops_the_sweep():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at the next bytecode, in the sleep at the latest
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_plan_stacks_jobs_of_one_key_per_worker_and_leaves_the_others_alone(
        tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict
    from support import CONF_DIR

    from kinsynth.cli.vectorized import SweepJob, plan

    def job(num: int, *overrides: str) -> SweepJob:
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.sweep.dir = str(tmp_path)
            cfg.hydra.sweep.subdir = str(num)
        return SweepJob(num, tuple(overrides), cfg)

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        jobs = [job(i, "model=vae", f"latent_dim={k}") for i, k in enumerate((2, 3, 4, 5))]
        jobs += [job(4, "model=ppca", "latent_dim=2"), job(5, "model=vae", "latent_dim=6")]
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "metrics.json").write_text("{}")  # a rerun: its own rules decide
    layout = plan(jobs, workers=2)
    assert layout.stacks == [[0, 2], [1, 3]] and layout.alone == [4, 5]
    assert plan(jobs, workers=1).stacks == [[0, 1, 2, 3]]
