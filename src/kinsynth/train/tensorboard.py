"""The TensorBoard logger kinsynth runs use: Lightning's, with what a person sees in a browser in
mind.

- One Lightning step trains one whole epoch here (``models/latent.py``), so the step axis of every
  chart already counts epochs. Lightning adds an ``epoch`` scalar to each logged row anyway, and
  TensorBoard then opens its Scalars tab with that chart: a straight line that says nothing.
- Each run's HParams session is written without an experiment summary. With one, TensorBoard
  takes the first run's summary for every run and lists its settings by name, so
  ``trainer.max_epochs`` sorts last and starts unticked; without one, it builds the table from
  all the sessions and puts the settings that differ between the runs first.
- Only the headline figures (``HEADLINE_METRICS``) become HParams columns. Each is a one-point
  chart in Scalars as well (HParams reads its metric columns from scalar events only), and all
  fifty-odd figures made Scalars open on a wall of single dots; metrics.json holds every figure.
- A logged row is one event holding all its scalars, and the event file is flushed at most every
  ``FLUSH_SECONDS`` while the run goes on (and always when it ends). Lightning's logger writes one
  event per scalar and flushes after every row, and each flush makes training wait for
  TensorBoard's writer thread: on a busy 2-core machine a 200-epoch thesis-VAE fit took about 4 %
  more wall-clock that way, for the same CPU time. The charts are the same points (tag, step,
  value).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from lightning_fabric.utilities.logger import _add_prefix, _convert_params, _flatten_dict
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_only

from kinsynth.runs.contract import HEADLINE_METRICS

#: the tag group of the end-of-run figures (``final/recon_mse``)
FINAL_GROUP = "final/"


class EpochStepTensorBoardLogger(TensorBoardLogger):
    """``TensorBoardLogger`` whose step is the epoch (Lightning's ``epoch`` scalar is dropped),
    and whose HParams sessions let TensorBoard order the settings by what differs."""

    #: seconds between two flushes of the event file while the run logs (TensorBoard in a browser
    #: shows a point at most this late); the logger's end flushes whatever is left
    FLUSH_SECONDS = 10.0
    _flush_due = 0.0

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        row = {k: v for k, v in metrics.items() if k != "epoch"}
        if any(isinstance(v, Mapping) for v in row.values()):
            super().log_metrics(row, step)  # a group of curves (add_scalars): Lightning's way
            return
        from torch.utils.tensorboard.summary import scalar

        summary = None  # one Summary protocol buffer holding every value of the row
        for tag, value in _add_prefix(row, self._prefix, self.LOGGER_JOIN_CHAR).items():
            try:  # the conversion add_scalar makes, one value each
                one = scalar(tag, value)
            except Exception as error:
                raise ValueError(f"{tag}={value!r}: expected a number to log") from error
            if summary is None:
                summary = one
            else:
                summary.value.extend(one.value)
        if summary is not None:
            self.experiment._get_file_writer().add_summary(summary, step)

    @rank_zero_only
    def save(self) -> None:
        now = time.monotonic()
        if now < self._flush_due:
            return
        self._flush_due = now + self.FLUSH_SECONDS
        super().save()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._flush_due = 0.0  # the last rows, and Lightning's hparams.yaml, reach the disk
        super().finalize(status)

    @rank_zero_only
    def log_hyperparams(self, params: Any, metrics: dict[str, Any] | None = None,
                        step: int | None = None) -> None:
        # Lightning keeps the settings for hparams.yaml; with no metrics it writes no events
        super().log_hyperparams(params, metrics=None, step=step)
        if metrics is None:
            return
        metrics = {k: v for k, v in metrics.items()
                   if k.removeprefix(FINAL_GROUP) in HEADLINE_METRICS}
        from torch.utils.tensorboard.summary import hparams

        if metrics:
            self.log_metrics(metrics, step)  # HParams reads metric columns from scalar events
        flat = self._sanitize_params(_flatten_dict(_convert_params(params)))
        _, session_start, session_end = hparams(flat, metrics)
        writer = self.experiment._get_file_writer()
        writer.add_summary(session_start, step)
        writer.add_summary(session_end, step)
