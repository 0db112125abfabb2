"""Checks around one training run that keep run_training short: settings, resume, finished jobs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig

from kinsynth.core.counts import positive_int
from kinsynth.models.checkpoints import read_checkpoint
from kinsynth.runs.contract import (
    BUDGET,
    IDENTITY,
    LAST_CHECKPOINT,
    METRICS,
    PLACEMENT,
    is_finished,
    read_config,
    read_marker,
)
from kinsynth.runs.random_state import RandomStateCheckpoint
from kinsynth.runs.resume import ApplyResumedSettings, check_resumed_config, compare

log = logging.getLogger(__name__)


def check_training_settings(cfg: DictConfig) -> None:
    """Refuse settings that would train nothing before any file is written."""
    max_epochs = cfg.trainer.get("max_epochs")
    if max_epochs is not None:
        positive_int("trainer.max_epochs", max_epochs)


def launched_rank() -> int:
    """This process's rank when a data-parallel launcher started it (0 for the main process)."""
    from lightning_fabric.utilities.rank_zero import _get_rank

    return _get_rank() or 0


def resume_settings(cfg: DictConfig, output_dir: Path, checkpoint: str | None) -> list[pl.Callback]:
    """Callbacks every run needs (random states in checkpoints), plus the resumed changes.

    On resume the checkpoint is read and checked first (plain data, a kinsynth model), so an
    unreadable or unsafe file is one line before Lightning touches it, and the run's settings are
    compared with the original run's.
    """
    callbacks: list[pl.Callback] = [RandomStateCheckpoint()]
    if checkpoint is None:
        return callbacks
    content = read_checkpoint(checkpoint)
    applied = check_resumed_config(cfg, output_dir, content)
    if "optimizer.lr" in applied and applied["optimizer.lr"] is not None:
        callbacks.append(ApplyResumedSettings(lr=float(applied["optimizer.lr"])))
    return callbacks


def finished_job_metrics(cfg: DictConfig, output_dir: Path) -> dict[str, float] | None:
    """With ``skip_finished=true``, a job whose directory holds the same finished run is skipped.

    For reruns of an interrupted sweep into the same ``hydra.sweep.dir``: finished jobs return
    their recorded metrics, the others train. A directory whose finished run had other settings
    is not skipped (and is then refused as any finished run is).
    """
    if not cfg.get("skip_finished") or cfg.get("resume") or not is_finished(output_dir):
        return None
    original = read_config(output_dir)
    if original is None:
        return None
    # the budget and the lr are part of a finished job: only where its data lives may differ
    if compare(original, cfg, output_dir, (*IDENTITY, *BUDGET), skip=PLACEMENT):
        return None
    log.info("skip_finished=true: %s already holds this finished job; skipped", output_dir)
    return read_marker(output_dir / METRICS)


def interrupted_job_to_resume(cfg: DictConfig, output_dir: Path) -> bool:
    """With ``skip_finished=true``, a job whose directory holds this job, interrupted, resumes.

    "This job": the interrupted run's recorded identity matches (its budget may differ, as on any
    resume). Anything else is left to :func:`kinsynth.runs.lock.check_fresh_start`'s refusal.
    """
    if not cfg.get("skip_finished") or cfg.get("resume") or is_finished(output_dir):
        return False
    if not (output_dir / LAST_CHECKPOINT).is_file():
        return False
    original = read_config(output_dir)
    return original is not None and not compare(original, cfg, output_dir, IDENTITY,
                                                skip=PLACEMENT)
