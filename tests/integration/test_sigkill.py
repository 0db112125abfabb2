"""What SIGKILL leaves behind: a run that resumes to the same numbers, no orphaned sweep workers,
and no held lock. Only a real process can be killed without running any of its cleanup.
"""

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

from kinsynth.runs.contract import LOCK
from kinsynth.runs.lock import RunDirectoryLock, RunDirectoryRefused
from kinsynth.sweeps.plan import job_folder

# small: the kill lands after the second periodic checkpoint (epoch 4), long before the end
RUN = (
    "model=cvae",
    "trainer.max_epochs=40",
    "data.batch_size=16",
    "callbacks.model_checkpoint.every_n_epochs=2",
    "trainer.check_val_every_n_epoch=2",
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


def _wait_for_new_file(path: Path, process: subprocess.Popen, replacing: int | None) -> int:
    """Poll until ``path`` exists with another inode than ``replacing``; return its inode."""
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        try:
            inode = path.stat().st_ino
        except FileNotFoundError:
            inode = None
        if inode is not None and inode != replacing:
            return inode
        time.sleep(0.02)
    raise AssertionError(f"{path}: no new checkpoint; the run exited with {process.returncode}")


@pytest.mark.slow(seconds=15)
def test_sigkill_mid_run_then_resume_equals_the_uninterrupted_run(toy_csv: Path, tmp_path: Path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    data = f"data.path={toy_csv}"
    # only the killed run needs a process of its own; the other two run in this one
    run_cli("train.py", *RUN, data, f"hydra.run.dir={whole}")
    process = subprocess.Popen(_command(data, f"hydra.run.dir={killed}"), env=_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = killed / "checkpoints" / "last.ckpt"
    first = _wait_for_new_file(checkpoint, process, replacing=None)
    # the second periodic checkpoint replaces the first (a rename: a new inode), so the run has
    # left epoch 2 behind; the kill lands at once, in the epochs after it, not at a boundary
    _wait_for_new_file(checkpoint, process, replacing=first)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert checkpoint.is_file() and not (killed / "metrics.json").exists(), "killed too late"

    run_cli("train.py", *RUN, data, f"resume={killed}")
    (whole_metrics, whole_synth), (resumed_metrics, resumed_synth) = (
        _outputs(whole), _outputs(killed)
    )
    assert resumed_metrics["epochs"] == whole_metrics["epochs"] == 40
    for key in ("recon_mse", "kl", "c2st_auc"):
        assert resumed_metrics[key] == whole_metrics[key], key
    pd.testing.assert_frame_equal(resumed_synth, whole_synth, check_exact=True)


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow(seconds=9)
def test_killing_a_parallel_sweep_ends_its_workers(toy_csv: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    command = [
        sys.executable, str(REPO_ROOT / "train.py"), "-m", "hydra/launcher=local_parallel",
        f"data.path={toy_csv}", "model=cvae", "latent_dim=2,3", "trainer.max_epochs=100000",
        "callbacks.evaluation.baselines=false", "callbacks.evaluation.figures=false",
        f"hydra.sweep.dir={sweep}", "logger=csv",
    ]
    parent = subprocess.Popen(command, env=_environment(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)

    def locks() -> list[Path]:
        return [job_folder(sweep, job) / ".kinsynth.lock" for job in (0, 1)]

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not all(
        lock.is_file() and lock.read_text().strip() for lock in locks()
    ):
        time.sleep(0.2)
    workers = [int(lock.read_text()) for lock in locks()]  # each job's lock records its pid
    assert parent.pid not in workers and all(_alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30  # the kernel's SIGKILL is at once; the slack is for a busy CI
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    survivors = {pid: _state(pid) for pid in workers if _alive(pid)}
    for pid in survivors:  # do not leave them behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"sweep workers outlived their parent (pid: state): {survivors}"


def _state(pid: int) -> str:
    """What a process is doing, from /proc, for a failure message."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        wchan = Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return "gone"
    fields = [line for line in status if line.startswith(("State:", "PPid:", "Threads:"))]
    return "; ".join([*fields, f"wchan: {wchan}"])


_ORPHAN = """
import multiprocessing, sys, time
from kinsynth.sweeps.workers import _kill_with_parent

def child():
    assert _kill_with_parent()
    # only the kernel can end this process: no watch thread runs, and the main thread sleeps
    time.sleep(600)

if __name__ == "__main__":
    process = multiprocessing.get_context("spawn").Process(target=child)
    process.start()
    print(process.pid, flush=True)
    time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_kernel_ends_a_worker_whose_parent_was_killed(tmp_path: Path) -> None:
    script = tmp_path / "orphan.py"
    script.write_text(_ORPHAN)
    parent = subprocess.Popen([sys.executable, str(script)], env=_environment(),
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child has asked the kernel by now (it imports one small module)
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the child outlived its killed parent"


def test_the_lock_dies_with_a_killed_process(tmp_path: Path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from kinsynth.runs.lock import RunDirectoryLock; "
        f"lock = RunDirectoryLock(__import__('pathlib').Path({str(tmp_path)!r})); "
        "print('locked', flush=True); time.sleep(600)"
    )], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(RunDirectoryRefused, match="another kinsynth process"):
        RunDirectoryLock(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK).exists()  # the file stays, the lock does not
    RunDirectoryLock(tmp_path).release()
