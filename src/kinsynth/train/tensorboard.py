"""The TensorBoard logger kinsynth runs use: Lightning's, without its duplicate ``epoch`` chart.

One Lightning step trains one whole epoch here (``models/latent.py``), so the step axis of every
chart already counts epochs. Lightning adds an ``epoch`` scalar to each logged row anyway, and
TensorBoard then opens its Scalars tab with that chart: a straight line that says nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_only


class EpochStepTensorBoardLogger(TensorBoardLogger):
    """``TensorBoardLogger`` whose step is the epoch, so Lightning's ``epoch`` scalar is dropped."""

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        super().log_metrics({k: v for k, v in metrics.items() if k != "epoch"}, step)
