"""The end-of-sweep table lists this sweep's jobs, not an earlier sweep's in the same folder."""

from __future__ import annotations

import os
import time

from omegaconf import OmegaConf

from kinsynth.runs.contract import write_marker
from kinsynth.sweeps import summary
from kinsynth.sweeps.summary import INTERRUPTED, SweepSummary, summary_table


def _job(sweep, name: str, latent: int, age_s: float = 0.0, error: str | None = None):
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"latent_dim": latent, "seed": 0}), job / ".hydra/config.yaml")
    OmegaConf.save(OmegaConf.create([f"latent_dim={latent}"]), job / ".hydra/overrides.yaml")
    if error is None:
        write_marker(job / "metrics.json", {"c2st_auc_joint": 0.6})
    else:
        (job / "error.txt").write_text(error + "\n")
    if age_s:
        then = time.time() - age_s
        os.utime(job / ".hydra", (then, then))
    return job


def test_the_table_lists_only_the_jobs_this_sweep_ran(tmp_path, monkeypatch):
    _job(tmp_path, "0_latent_dim-9", 9, age_s=3600)  # an earlier sweep's job 0
    SweepSummary().on_multirun_start(OmegaConf.create({}))
    _job(tmp_path, "0_latent_dim-2", 2)
    _job(tmp_path, "1_latent_dim-3", 3, error="/x: stopped by SIGTERM during epoch 3, not finished")
    rows = summary_table(tmp_path, since=summary._sweep_started).splitlines()
    assert [row.split()[0] for row in rows[1:]] == ["0", "1"]
    assert "latent_dim=9" not in "\n".join(rows)
    assert rows[2].endswith(INTERRUPTED)
    # without a start time (scripts/report.py) every job folder is listed
    assert len(summary_table(tmp_path).splitlines()) == 4


def test_an_added_callback_stays_out_of_the_job_folder_name():
    from kinsynth.runs.names import job_dir_name

    # a rerun without the added callback must find the same job folder (skip_finished, resume)
    assert job_dir_name("+callbacks.extra._target_=x.Y,latent_dim=2", 0) == job_dir_name(
        "latent_dim=2", 0) == "0_latent_dim-2"
