"""What a run prints: third-party noise silenced where it arises, and progress a person can follow.

Lightning prints four lines on every kinsynth run that tell a user nothing they can act on (a
cloud-logging advert, a deprecation inside Lightning's own pytree helper, a ``weights_only``
default kinsynth sets explicitly, and PPCA's deliberate lack of an optimiser). Each is filtered by
its own text at its own source, so every other warning, a user's own included, still shows.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar

log = logging.getLogger("kinsynth.progress")

#: (logger name, message start) of INFO lines Lightning emits on every fit
_NOISY_LOG_LINES = (
    ("pytorch_lightning.utilities.rank_zero", "💡 Tip: For seamless cloud logging"),
    ("lightning.pytorch.utilities.rank_zero", "💡 Tip: For seamless cloud logging"),
)
#: warning texts (regular expressions) raised inside Lightning, never by a user's code
_NOISY_WARNINGS = (
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # PPCA is fitted in closed form: no optimiser is its design, not a mistake
    r"`LightningModule.configure_optimizers` returned `None`, this fit will run with no optimizer",
)


class _DropMessages(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def quiet_third_party() -> None:
    """Install the filters once per process (idempotent: a sweep calls it once per job)."""
    for name, prefix in _NOISY_LOG_LINES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) and f.prefix == prefix for f in logger.filters):
            logger.addFilter(_DropMessages(prefix))
    for message in _NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=message)


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

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.is_disabled or self.progress is None:
            return
        if self.train_progress_bar_id is None:
            self.train_progress_bar_id = self._add_task(trainer.max_epochs, "epochs")
        self.refresh()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.is_disabled:
            return
        if self.train_progress_bar_id is None:
            self.train_progress_bar_id = self._add_task(trainer.max_epochs, "epochs")
        self._update(self.train_progress_bar_id, trainer.current_epoch + 1)
        self._update_metrics(trainer, pl_module)
        self.refresh()
