"""What every training run leaves in its directory, whichever callbacks its config holds.

The run directory's files are the run's, not an evaluation's: a config without the evaluation
callback still gets its final weights (``checkpoints/last.ckpt``) and its finished marker
(``metrics.json``). The evaluation callback computes and logs the figures; this module writes.
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

from kinsynth.evaluate.callback import EvaluationCallback
from kinsynth.evaluate.trust import trust_warnings
from kinsynth.runs.contract import LAST_CHECKPOINT, METRICS, write_marker


class FinalCheckpoint(pl.Callback):
    """Saves the final weights as ``last.ckpt`` when the fit ends, before anything evaluates
    them: a failed evaluation still leaves the weights to evaluate or resume.

    The full state (optimiser and random states too), so ``resume=`` continues the run exactly.
    Lightning's ``weights_only=False`` here means "not only the weights" when *saving*: every
    value is still plain data, and every load is ``torch.load(weights_only=True)``. A collective
    call under DDP, so every rank makes it.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = Path(output_dir)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.output_dir / LAST_CHECKPOINT, weights_only=False)


def run_callbacks(output_dir: Path, configured: list[pl.Callback]) -> list[pl.Callback]:
    """The final checkpoint first (Lightning calls callbacks in list order), then the config's."""
    return [FinalCheckpoint(output_dir), *configured]


def evaluation_of(callbacks: list[pl.Callback]) -> EvaluationCallback | None:
    """The run's evaluation callback, if its config has one."""
    return next((c for c in callbacks if isinstance(c, EvaluationCallback)), None)


def run_figures(callbacks: list[pl.Callback], trainer: pl.Trainer) -> dict[str, float]:
    """This run's figures, from memory (never from a file another process may have written):
    the evaluation's when it ran, else only the epochs trained."""
    evaluation = evaluation_of(callbacks)
    figures = dict(evaluation.results) if evaluation is not None else {}
    figures.setdefault("epochs", trainer.current_epoch)
    return figures


def write_finished_marker(output_dir: Path, figures: dict[str, float]) -> None:
    """``metrics.json``, last and atomically: a run killed before this never looks finished."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_marker(output_dir / METRICS, {**figures, "warnings": trust_warnings(figures)})
