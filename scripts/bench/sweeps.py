"""The thesis sweep end to end (``--sweep``): 21 jobs through ``train.py -m``, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.configs import CONF_DIR, default_data_path
from kinsynth.sweeps.jobs import find_job_dirs

THESIS_SWEEP = [
    "-m",
    "experiment=thesis",
    "model=ppca,vae,cvae",
    "latent_dim=3,5,7,9,11,13,15",
    # the thesis models are not joint: the default c2st_auc_joint objective does not exist for them
    "optimized_metric=null",
]


#: the launchers the sweep is timed with, each with its target (the quiet 2-core machine)
LAUNCHERS = {"local_parallel": 120.0, "vectorized": 90.0}


def time_thesis_sweep(
    extra: list[str], data: str | None, sweep_dir: Path, root: Path = CONF_DIR.parent,
    launcher: str = "local_parallel",
) -> tuple[float, int, int]:
    """Wall seconds of the whole thesis sweep through train.py; (seconds, jobs, failed jobs)."""
    path = data if data is not None else default_data_path()
    command = [
        sys.executable,
        "train.py",
        *THESIS_SWEEP,
        f"hydra/launcher={launcher}",
        *([] if path is None else [f"data.path={path}"]),
        f"hydra.sweep.dir={sweep_dir}",
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CI": "true"}
    start = time.perf_counter()
    subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    # job folders are named ``<num>_<overrides>``: find them by the .hydra/ each job writes
    jobs = [d for d in find_job_dirs(sweep_dir) if d != sweep_dir]
    failed = sum(1 for d in jobs if (d / "error.txt").is_file())
    return seconds, len(jobs), failed


def largest_differences(first: Path, second: Path) -> dict[str, float]:
    """Per figure of metrics.json, the largest |difference| between two sweeps' same jobs.

    Wall-clock figures (``*_seconds``) are left out; a job missing from either sweep raises.
    """
    import json
    import math

    largest: dict[str, float] = {}
    jobs = sorted(d.name for d in find_job_dirs(first) if d != first)
    for name in jobs:
        a = json.loads((first / name / "metrics.json").read_text())
        b = json.loads((second / name / "metrics.json").read_text())
        for key, value in a.items():
            if key.endswith("_seconds") or not isinstance(value, float) or math.isnan(value):
                continue
            largest[key] = max(largest.get(key, 0.0), abs(float(b[key]) - value))
    return largest
