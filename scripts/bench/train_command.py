"""``train.py experiment=thesis model=vae`` as a user runs it, beside a bare loop.

Both are processes started the same way, one after the other, ``repeats`` times each (interleaved;
the fastest of each kept):

* ``python train.py experiment=thesis model=vae trainer.max_epochs=N`` with the user's defaults
  (full evaluation, TensorBoard, validation and checkpoints every 10 epochs). Steps/s come from
  the run's own ``fit_seconds`` (metrics.json); the whole command's wall-clock is beside it.
* ``python scripts/bench/bare_vae.py --epochs N`` (:mod:`bench.bare_vae`): the same model, loss,
  data rows, batch size and epochs in plain PyTorch, fused Adam, index batches, one thread. Steps/s
  from its loop's seconds; the whole command's wall-clock beside it.

The run's own log (train.log, timestamped by Hydra) splits the command's wall-clock into what came
before training (interpreter, imports, Hydra's composition, data and Trainer set-up), the fit, the
evaluation, and what came after (metrics.json, the process's exit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.configs import default_data_path

REPO = Path(__file__).resolve().parents[2]
BARE = Path(__file__).resolve().parent / "bare_vae.py"
#: the target of the ratio (docs/performance.md, issue of the benchmark's table)
TARGET_RATIO = 1.2
#: the least speed-up over the thesis notebook's own loop, measured in the same run
TARGET_OVER_NOTEBOOK = 1.5
THESIS_VAE = ["experiment=thesis", "model=vae"]


@dataclass(frozen=True)
class CommandRun:
    """One process: its wall-clock, and the steps and seconds of its training loop."""

    wall: float
    steps: int
    loop_seconds: float
    parts: dict[str, float]

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.loop_seconds


def _data_path(data: str | None) -> str:
    if data is not None:
        return data
    found = default_data_path()
    if found is not None:
        return found
    from kinsynth.data.default import DEFAULT_DATA_PATH

    return str(DEFAULT_DATA_PATH)


def _environment() -> dict[str, str]:
    # the user's environment: the benchmark's own OMP_NUM_THREADS=1 is not theirs
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    return {**env, "CI": "true"}


def _log_times(log: Path) -> dict[str, float]:
    """Epoch seconds of the lines of train.log that mark the run's phases."""
    marks = {"fit start": "evaluation (level=", "evaluation start": "evaluating on ",
             "run end": "run directory "}
    found: dict[str, float] = {}
    for line in log.read_text().splitlines():
        for name, text in marks.items():
            if text in line and name not in found:
                stamp = line[1:line.index("]")]
                found[name] = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return found


def run_train_command(epochs: int, data: str | None, run_dir: Path, extra: list[str]) -> CommandRun:
    """``python train.py experiment=thesis model=vae trainer.max_epochs=<epochs>`` into run_dir."""
    command = [sys.executable, str(REPO / "train.py"), *THESIS_VAE,
               f"trainer.max_epochs={epochs}", f"data.path={_data_path(data)}",
               f"hydra.run.dir={run_dir}", *extra]
    started_at = time.time()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=run_dir.parent, env=_environment(), capture_output=True,
                          text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    ended_at = started_at + wall
    metrics = json.loads((run_dir / "metrics.json").read_text())
    fit, evaluation = float(metrics["fit_seconds"]), float(metrics["evaluation_seconds"])
    stamps = _log_times(run_dir / "train.log")
    parts: dict[str, float] = {"fit": fit, "evaluation": evaluation}
    if {"fit start", "run end"} <= stamps.keys():
        parts["before training (interpreter, imports, Hydra, set-up)"] = (
            stamps["fit start"] - started_at
        )
        parts["final checkpoint, files, exit"] = ended_at - stamps["fit start"] - (
            fit + evaluation
        )
    steps_per_epoch = int(metrics["n_train"] + 63) // 64  # batch 64, the last batch kept
    return CommandRun(wall, steps_per_epoch * int(metrics["epochs"]), fit, parts)


def run_bare(epochs: int, data: str | None, notebook: bool = False) -> CommandRun:
    """``python scripts/bench/bare_vae.py --epochs <epochs> [--notebook]``: a reference process."""
    command = [sys.executable, str(BARE), "--data", _data_path(data), "--epochs", str(epochs),
               *(["--notebook"] if notebook else [])]
    started = time.perf_counter()
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return CommandRun(wall, int(result["steps"]), float(result["loop_seconds"]),
                      {"before training": float(result["setup_seconds"])})


def run(
    report: Any, say: Any, work: Path, epochs: tuple[int, ...] = (200, 400), repeats: int = 2,
    data: str | None = None, extra: list[str] | None = None, notebook: bool = True,
) -> None:
    """Rows: train.py's steps/s and the bare loop's, their ratio, and the command's parts.

    ``notebook``: also the thesis notebook's loop as a process, at the first epoch count, and
    train.py's speed-up over it (target >= 1.5).
    """
    for n_epochs in epochs:
        ours: list[CommandRun] = []
        bare: list[CommandRun] = []
        notebooks: list[CommandRun] = []
        for round_ in range(repeats):
            say(f"  train.py ... trainer.max_epochs={n_epochs}, round {round_ + 1}/{repeats} ...")
            run_dir = work / f"thesis_vae_{n_epochs}_{round_}"
            ours.append(run_train_command(n_epochs, data, run_dir, extra or []))
            say(f"  bare loop, {n_epochs} epochs, round {round_ + 1}/{repeats} ...")
            bare.append(run_bare(n_epochs, data))
            if notebook and n_epochs == epochs[0]:
                say(f"  the thesis notebook's loop, {n_epochs} epochs, round {round_ + 1} ...")
                notebooks.append(run_bare(n_epochs, data, notebook=True))
        best = max(ours, key=lambda r: r.steps_per_second)
        reference = max(bare, key=lambda r: r.steps_per_second)
        fastest_whole = min(r.wall for r in ours)
        ratio = reference.steps_per_second / best.steps_per_second
        command = f"train.py experiment=thesis model=vae trainer.max_epochs={n_epochs}"
        report.add(
            f"{command} (a process): steps/s from fit_seconds", best.steps_per_second, "steps/s",
            f"reference, same run: bare PyTorch loop (a process; fused Adam, index batches, "
            f"1 thread) {reference.steps_per_second:,.0f} steps/s; whole command "
            f"{fastest_whole:.1f} s against the bare process's {min(r.wall for r in bare):.1f} s; "
            f"best of {repeats}",
        )
        report.add(
            f"ratio bare loop / {command}, steps/s", ratio, "x",
            f"{best.steps:,} steps each; whole commands {fastest_whole / reference.wall:.2f}x",
            target=f"<= {TARGET_RATIO}", passed=ratio <= TARGET_RATIO,
        )
        if notebooks:
            slow = max(notebooks, key=lambda r: r.steps_per_second)
            speedup = best.steps_per_second / slow.steps_per_second
            report.add(
                f"ratio {command} / the thesis notebook's loop, steps/s", speedup, "x",
                f"reference, same run: the notebook's loop (a process; DataLoader over all "
                f"rows, default Adam) {slow.steps_per_second:,.0f} steps/s; best of {repeats}",
                target=f">= {TARGET_OVER_NOTEBOOK}", passed=speedup >= TARGET_OVER_NOTEBOOK,
            )
        whole = best.wall
        for part, seconds in best.parts.items():
            report.add(f"{command}: {part}", seconds, "s",
                       f"{seconds / whole:.0%} of the whole command's {whole:.1f} s")
