"""Distributed data parallel training on two CPU processes, started the way a user starts it.

Lightning starts rank 1 by running the script's command line again, so only a real ``train.py``
process shows that two ranks start and the run still writes the run-directory contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import run_cli

TINY = (
    "trainer.max_epochs=2",
    "callbacks.evaluation.baselines=false",
    "callbacks.evaluation.figures=false",
    "callbacks.evaluation.n_conditional=100",
)


@pytest.mark.slow(seconds=17)
def test_ddp_with_two_cpu_processes_trains_and_writes_the_run_contract(
    toy_csv: Path, tmp_path: Path
) -> None:
    run = tmp_path / "ddp"
    result = run_cli(
        "train.py",
        f"data.path={toy_csv}",
        *TINY,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "model=cvae",
        "latent_dim=2",
        f"hydra.run.dir={run}",
        subprocess_=True,  # Lightning starts rank 1 by re-running the script's command line
    )
    assert "Starting with 2 processes" in result.stdout + result.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and "c2st_auc" in metrics
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "synthetic.csv").is_file()
