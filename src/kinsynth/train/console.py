"""What a run prints: progress a person can follow (third-party noise is silenced by
:func:`kinsynth.models.quiet.quiet_third_party`, which a run calls first)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar

from kinsynth.models.quiet import quiet_third_party

if TYPE_CHECKING:
    from rich.progress import TaskID

log = logging.getLogger("kinsynth.progress")

__all__ = ["EpochProgressBar", "ProgressLog", "quiet_third_party"]

def _figure(metrics: dict[str, Any], key: str) -> str:
    value = metrics.get(key)
    return "-" if value is None else f"{float(value):.4g}"


class ProgressLog(pl.Callback):
    """One log line every ``every_n_epochs`` (default: about ``lines`` lines a run).

    A run under CI, nohup or a sweep has no progress bar; without these lines it prints nothing
    between its start and its summary, which can be minutes on a large table.
    """

    def __init__(self, lines: int = 10, every_n_epochs: int | None = None) -> None:
        self.lines = max(int(lines), 1)
        self.every_n_epochs = every_n_epochs
        self._started = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.perf_counter()

    def _interval(self, trainer: pl.Trainer) -> int:
        if self.every_n_epochs:
            return max(int(self.every_n_epochs), 1)
        return max(int(trainer.max_epochs or 1) // self.lines, 1)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        last = epoch == trainer.max_epochs
        if not trainer.is_global_zero or (epoch % self._interval(trainer) and not last):
            return
        shown = trainer.callback_metrics
        log.info(
            "epoch %d/%s  train loss %s  recon %s  kl %s  val loss %s  elapsed %.1f s",
            epoch, trainer.max_epochs, _figure(shown, "train/loss"), _figure(shown, "train/recon"),
            _figure(shown, "train/kl"), _figure(shown, "val/loss"),
            time.perf_counter() - self._started,
        )


class EpochProgressBar(RichProgressBar):
    """One bar over the run's epochs, not a bar of one step per epoch.

    A kinsynth Lightning step is a whole epoch (models/latent.py), so Lightning's default bar shows
    "1/1" restarting every epoch; this one counts epochs and shows the train loss beside them.
    """

    def _epochs_task(self, trainer: pl.Trainer) -> TaskID:
        # the ignore: Lightning annotates _add_task's total as a number but passes it to rich's
        # add_task, where total=None (no max_epochs) is an open-ended bar
        return self._add_task(trainer.max_epochs, "epochs")  # type: ignore[arg-type]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.is_disabled or self.progress is None:
            return
        if self.train_progress_bar_id is None:
            self.train_progress_bar_id = self._epochs_task(trainer)
        self.refresh()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.is_disabled:
            return
        if self.train_progress_bar_id is None:
            self.train_progress_bar_id = self._epochs_task(trainer)
        self._update(self.train_progress_bar_id, trainer.current_epoch + 1)
        self._update_metrics(trainer, pl_module)
        self.refresh()
