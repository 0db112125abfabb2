"""``hydra/launcher=vectorized`` against the joblib launcher on one 6-job sweep.

The same run directories and files, the stacks it says it trained, and the same figures: each
stacked job follows its job alone to float rounding (tests/train/test_stacked_training.py), so
its figures agree far inside the spread between seeds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

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


@pytest.mark.slow(seconds=25)
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
