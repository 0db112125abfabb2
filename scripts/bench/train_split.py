"""Where the fit of a ``train.py`` run of the thesis VAE spends its time (``--split``).

One ``run_training`` (the function ``train.py`` calls) on the thesis VAE with every part timed
where it runs, wall and CPU seconds (``time.process_time``: with one torch thread it is the work
done, and moves far less than wall-clock when other jobs share the cores). Timing each part inside
one run, rather than taking parts away run by run, keeps the shares steady on a loaded machine:
every part sees the same load.

* the optimiser steps: the model's ``training_step`` less the hand-over of its figures;
* the training figures handed to callbacks and loggers (``kinsynth.models.epoch_figures``, less
  the logger's own time);
* validation, and the checkpoints ``ModelCheckpoint`` writes (every 10 epochs);
* the TensorBoard logger (``log_metrics``, ``save``, ``log_hyperparams``);
* the progress lines;
* Lightning's loop and hooks: the rest of the fit (train start to train end).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.configs import compose
from bench.options import Options
from bench.report import Report
from bench.training import THESIS_VAE

STEPS = "the optimiser steps (training_step less its figures' hand-over)"
LOGS = "the training figures to callbacks and loggers"
VALIDATION = "validation (every 10 epochs)"
CHECKPOINTS = "checkpoints (best + last every 10 epochs)"
LOGGER = "TensorBoard logger"
PROGRESS = "progress lines"
LOOP = "Lightning's loop and hooks (the rest)"


class _Clocks:
    """Wall and CPU seconds per part; a part timed inside another is taken out of the outer one."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._stack: list[str] = []

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        if not self._stack and name != LOOP:  # outside the fit (the final checkpoint, the
            yield                             # evaluation's TensorBoard figures): not counted
            return
        wall, cpu = time.perf_counter(), time.process_time()
        self._stack.append(name)
        try:
            yield
        finally:
            self._stack.pop()
            spent_wall, spent_cpu = time.perf_counter() - wall, time.process_time() - cpu
            self.wall[name] += spent_wall
            self.cpu[name] += spent_cpu
            if self._stack:  # the outer part did not spend this itself
                self.wall[self._stack[-1]] -= spent_wall
                self.cpu[self._stack[-1]] -= spent_cpu


def _timed(clocks: _Clocks, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        with clocks.part(name):
            return method(*args, **kwargs)

    return timed


@contextlib.contextmanager
def _instrumented(clocks: _Clocks) -> Iterator[None]:
    """Every part's method wrapped with its clock for the block (classes restored after)."""
    import pytorch_lightning as pl
    from pytorch_lightning.loops.evaluation_loop import _EvaluationLoop

    from kinsynth.models import latent
    from kinsynth.models.latent import LatentVariableModel
    from kinsynth.train.console import ProgressLog
    from kinsynth.train.tensorboard import EpochStepTensorBoardLogger

    patches = [
        (LatentVariableModel, "training_step", STEPS),
        (latent, "show_epoch_figures", LOGS),
        (latent, "log_epoch_figures", LOGS),
        (_EvaluationLoop, "run", VALIDATION),
        (pl.Trainer, "save_checkpoint", CHECKPOINTS),
        (EpochStepTensorBoardLogger, "log_metrics", LOGGER),
        (EpochStepTensorBoardLogger, "save", LOGGER),
        (EpochStepTensorBoardLogger, "log_hyperparams", LOGGER),
        (ProgressLog, "on_train_epoch_end", PROGRESS),
    ]
    originals = [(cls, attr, cls.__dict__[attr]) for cls, attr, _ in patches
                 if attr in cls.__dict__]
    for cls, attr, name in patches:
        setattr(cls, attr, _timed(clocks, name, getattr(cls, attr)))
    try:
        yield
    finally:
        for cls, attr, _ in patches:
            delattr(cls, attr)
        for cls, attr, original in originals:
            setattr(cls, attr, original)


class FitWindow:
    """A callback (added by the run's config) timing the whole fit: LOOP, the outer part."""

    clocks: _Clocks | None = None
    _part: Any = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if FitWindow.clocks is not None:
            FitWindow._part = FitWindow.clocks.part(LOOP)
            FitWindow._part.__enter__()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if FitWindow._part is not None:
            FitWindow._part.__exit__(None, None, None)
            FitWindow._part = None


def _fit_window() -> Any:
    """The callback object: a Lightning Callback with FitWindow's hooks."""
    import pytorch_lightning as pl

    return type("FitWindowCallback", (FitWindow, pl.Callback), {})()


def measure_fit_parts(
    options: Options, epochs: int, work: Path, say: Callable[[str], None]
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """(wall, CPU) seconds per part of ``repeats`` runs of ``run_training`` (thesis VAE)."""
    from kinsynth.train.run import run_training

    rounds = []
    for round_ in range(options.repeats):
        out = Path(tempfile.mkdtemp(prefix="split-", dir=work))
        cfg = compose(
            [*THESIS_VAE, *options.data_overrides(), f"trainer.max_epochs={epochs}",
             "+callbacks.fit_window._target_=bench.train_split._fit_window",
             # the evaluation comes after the fit: its cheapest level keeps the rounds short
             "callbacks.evaluation.level=fast", "callbacks.evaluation.figures=false",
             "callbacks.evaluation.baselines=false"],
            out,
        )
        clocks = _Clocks()
        FitWindow.clocks = clocks
        try:
            with _instrumented(clocks):
                run_training(cfg, out)
        finally:
            FitWindow.clocks = None
        say(f"  round {round_ + 1}/{options.repeats}: fit {sum(clocks.cpu.values()):.2f} CPU-s")
        rounds.append((dict(clocks.wall), dict(clocks.cpu)))
    return rounds


def add_rows(report: Report, rounds: list[tuple[dict[str, float], dict[str, float]]],
             epochs: int, steps: int) -> None:
    """One row per part of the fit (the round with the least CPU in all): seconds and share."""
    wall, cpu = min(rounds, key=lambda r: sum(r[1].values()))
    total = sum(cpu.values())
    for name in (STEPS, LOGS, VALIDATION, CHECKPOINTS, LOGGER, PROGRESS, LOOP):
        seconds = cpu.get(name, 0.0)
        report.add(
            f"thesis VAE fit, {epochs} epochs: {name}", seconds, "CPU-s",
            f"{seconds / total:.1%} of the fit's {total:.2f} CPU-s; "
            f"{1e3 * seconds / epochs:.2f} ms per epoch; wall {wall.get(name, 0.0):.2f} s",
        )
    report.add(
        f"thesis VAE fit, {epochs} epochs: steps per CPU-s, the steps alone / the whole fit",
        steps / cpu[STEPS], "steps/CPU-s", f"whole fit {steps / total:,.0f} steps per CPU-s: "
        f"Lightning and its parts cost {total / cpu[STEPS] - 1:.1%} on top of the steps",
    )
