"""A finished ``python train.py`` ends without the interpreter's teardown, and loses nothing by it.

The teardown frees torch's, Lightning's, sklearn's and matplotlib's objects one by one (about
1.4 CPU-seconds, docs/performance.md); everything the run writes is closed before it.
"""

from __future__ import annotations

import json

import pytest
from support import run_cli

from kinsynth.cli import train


def test_main_called_by_another_program_returns_to_it():
    # this test process called main() through run_cli in other tests: it must go on afterwards
    assert train._is_entry_point() is False


@pytest.mark.slow
def test_a_finished_run_ends_at_once_with_every_file_complete(tmp_path):
    run = tmp_path / "run"
    done = run_cli(
        "train.py", "experiment=thesis", "model=ppca", f"hydra.run.dir={run}",
        "callbacks.evaluation.level=fast", "callbacks.evaluation.baselines=false",
        subprocess_=True,
    )
    assert done.returncode == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 1
    log = (run / "train.log").read_text().splitlines()
    assert any("test split:" in line for line in log[-4:])  # logging's last lines are flushed
    assert "test split:" in done.stdout + done.stderr  # and so is the console's
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = (run / "tensorboard").rglob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    assert any(tag.startswith("final/") for tag in accumulator.Tags()["scalars"])
