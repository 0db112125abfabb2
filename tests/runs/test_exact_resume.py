"""A run killed with SIGKILL and resumed gives the same numbers as one that was never stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support import CLI_ENVIRONMENT, REPO_ROOT, run_cli

# small, but with enough epochs that the kill lands between periodic checkpoints and the end
RUN = (
    "model=cvae",
    "trainer.max_epochs=150",
    "data.batch_size=16",
    "callbacks.model_checkpoint.every_n_epochs=3",
    "trainer.check_val_every_n_epoch=3",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=50",
    "logger=csv",
)


def _command(*overrides: str) -> list[str]:
    return [sys.executable, str(REPO_ROOT / "train.py"), *RUN, *overrides]


def _environment() -> dict[str, str]:
    return {**os.environ, **CLI_ENVIRONMENT}


def _outputs(run: Path) -> tuple[dict[str, float], pd.DataFrame]:
    metrics = json.loads((run / "metrics.json").read_text())
    return metrics, pd.read_csv(run / "synthetic.csv")


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_the_uninterrupted_run(toy_csv: Path, tmp_path: Path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    data = f"data.path={toy_csv}"
    # only the killed run needs a process of its own; the other two run in this one
    run_cli("train.py", *RUN, data, f"hydra.run.dir={whole}")
    process = subprocess.Popen(_command(data, f"hydra.run.dir={killed}"), env=_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = killed / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a few more epochs: the kill lands between two periodic checkpoints
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert checkpoint.is_file() and not (killed / "metrics.json").exists(), "killed too late"

    run_cli("train.py", *RUN, data, f"resume={killed}")
    (whole_metrics, whole_synth), (resumed_metrics, resumed_synth) = (
        _outputs(whole), _outputs(killed)
    )
    assert resumed_metrics["epochs"] == whole_metrics["epochs"] == 150
    for key in ("recon_mse", "kl", "c2st_auc"):
        assert resumed_metrics[key] == whole_metrics[key], key
    pd.testing.assert_frame_equal(resumed_synth, whole_synth, check_exact=True)
