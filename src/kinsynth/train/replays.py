"""Training done ahead for a run, handed to it in the same process, keyed by its run directory.

The vectorised launcher (``hydra/launcher=vectorized``) trains a sweep's compatible jobs as one
stack, then runs each job as usual; the job's ``run_training`` takes its record here and its
Trainer replays it (``kinsynth.models.trained_elsewhere``). A record is only taken by a run whose
training settings are the ones it was computed for, so a record can never stand in for another
training.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from kinsynth.models.trained_elsewhere import TrainedElsewhere
from kinsynth.runs.contract import plain_mapping

log = logging.getLogger(__name__)

_OFFERED: dict[Path, tuple[str, TrainedElsewhere]] = {}


def training_key(cfg: DictConfig) -> str:
    """Everything a run's trained weights depend on: model, optimizer, data, seed, epochs."""
    return json.dumps({
        "model": plain_mapping(cfg.model),
        "optimizer": plain_mapping(cfg.optimizer),
        "data": plain_mapping(cfg.data),
        "seed": cfg.get("seed"),
        "max_epochs": cfg.trainer.get("max_epochs"),
    }, sort_keys=True, default=str)


def offer_stacked_training(output_dir: str | Path, cfg: DictConfig,
                           record: TrainedElsewhere) -> None:
    """Hold ``record`` for the run of ``cfg`` into ``output_dir`` in this process."""
    _OFFERED[Path(output_dir).resolve()] = (training_key(cfg), record)


def take_stacked_training(output_dir: str | Path, cfg: DictConfig) -> TrainedElsewhere | None:
    """The record offered for this run, removed from the offers; None when there is none.

    A record computed for other settings, or for fewer epochs than the run asks, is dropped with
    a warning and the run trains itself.
    """
    offered = _OFFERED.pop(Path(output_dir).resolve(), None)
    if offered is None:
        return None
    key, record = offered
    if key != training_key(cfg) or record.epochs < int(cfg.trainer.get("max_epochs") or 0):
        log.warning("%s: the stacked training offered was computed for other settings; "
                    "this run trains itself", output_dir)
        return None
    log.info("trained in one stack of %d models (hydra/launcher=vectorized): this run's "
             "Trainer replays its %d epochs", record.members, record.epochs)
    return record
