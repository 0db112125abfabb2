"""A model's training figures of one epoch, handed where ``self.log(on_epoch=True)`` puts them.

A kinsynth model reduces its training figures over the epoch itself (one Lightning step is one
epoch, ``models/latent.py``), so Lightning's result collection has nothing left to reduce; it
still moves, accumulates and copies each logged figure several times an epoch, which cost a
thesis-VAE fit about 7 % of its CPU time for four figures (docs/performance.md). These two
functions put the same values in the same places directly:

* :func:`show_epoch_figures`, called by the training step: ``trainer.callback_metrics`` (the
  progress lines, and any checkpoint or early stopping that monitors a training figure),
  ``trainer.logged_metrics`` and, for ``progress_bar`` keys, ``trainer.progress_bar_metrics``;
* :func:`log_epoch_figures`, called from the model's ``on_train_epoch_end``: each logger gets one
  row per epoch, at the step Lightning gives epoch-end figures (the epoch index: one Lightning
  step per epoch) and with its ``epoch`` key, after the epoch's validation figures.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import torch


def show_epoch_figures(
    trainer: Any, figures: Mapping[str, torch.Tensor], progress_bar: Collection[str] = ()
) -> None:
    """Make the epoch's figures (0-d tensors) visible to callbacks and the progress bar now."""
    trainer.callback_metrics.update(figures)
    trainer.logged_metrics.update(figures)
    if progress_bar:  # Lightning shows plain numbers there
        trainer.progress_bar_metrics.update({k: float(figures[k]) for k in progress_bar})


def log_epoch_figures(trainer: Any, figures: Mapping[str, float], epoch: int) -> None:
    """One logger row of the epoch's figures, as Lightning writes epoch-end figures."""
    if not figures or not trainer.loggers:
        return
    row = {**figures, "epoch": epoch}
    for logger in trainer.loggers:
        logger.log_metrics(row, step=epoch)
        logger.save()
