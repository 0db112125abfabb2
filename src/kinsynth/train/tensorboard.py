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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightning_fabric.utilities.logger import _convert_params, _flatten_dict
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_only

from kinsynth.runs.contract import HEADLINE_METRICS

#: the tag group of the end-of-run figures (``final/recon_mse``)
FINAL_GROUP = "final/"


class EpochStepTensorBoardLogger(TensorBoardLogger):
    """``TensorBoardLogger`` whose step is the epoch (Lightning's ``epoch`` scalar is dropped),
    and whose HParams sessions let TensorBoard order the settings by what differs."""

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        super().log_metrics({k: v for k, v in metrics.items() if k != "epoch"}, step)

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
