"""One training run, from a composed config to a run directory.

The entry point (``train.py``) only hands over the config and its Hydra output directory; this
module holds no Hydra globals, so tests and notebooks call ``run_training`` directly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.loggers import Logger
from pytorch_lightning.utilities.exceptions import SIGTERMException

from kinsynth.core.errors import KinsynthError, RunInterrupted
from kinsynth.core.threads import use_threads
from kinsynth.data.datamodule import KineticDataModule
from kinsynth.evaluate.trust import objective_warning, trust_warnings
from kinsynth.models import GenerativeModule
from kinsynth.models.checkpoints import atomic_checkpoint_io
from kinsynth.runs.contract import ERROR, HEADLINE_METRICS, LAST_CHECKPOINT, plain_mapping
from kinsynth.runs.lock import RunDirectoryLock, check_fresh_start
from kinsynth.runs.names import run_hparams, run_label
from kinsynth.train.checks import (
    check_training_settings,
    finished_job_metrics,
    interrupted_job_to_resume,
    launched_rank,
    resume_settings,
)
from kinsynth.train.console import EpochProgressBar, ProgressLog, quiet_third_party
from kinsynth.train.contract import (
    evaluation_of,
    run_callbacks,
    run_figures,
    write_finished_marker,
)
from kinsynth.train.replays import take_stacked_training

log = logging.getLogger(__name__)


def _interactive(sweeping: bool) -> bool:
    """Whether a progress bar fits: a terminal of our own (a sweep's jobs share one)."""
    return sys.stdout.isatty() and not os.environ.get("CI") and not sweeping


def build_model(
    cfg: DictConfig, features: list[str], target: str | None,
    levels: dict[str, list[str]] | None = None,
) -> GenerativeModule:
    """Instantiate ``cfg.model`` with its columns and the optimizer (a partial Hydra builds).

    ``model.network`` holds the encoder and decoder settings as one node, so an experiment sets
    them for every model of a sweep and a model without a network (PPCA) leaves that node unused.
    The constructor takes the network settings as its own arguments, so a checkpoint's stored
    hyperparameters read the same whatever the config's layout. The config's schema
    (conf/schemas.py) refuses an unknown key as it is composed. ``levels``: the categorical
    features' levels, given to the model only when there are any, so a numeric run's stored
    hyperparameters are unchanged.
    """
    model_cfg = plain_mapping(cfg.model)
    target_path = model_cfg.pop("_target_", None)
    if not target_path:
        raise KinsynthError("model: config has no _target_ (choose model=vae|cvae|bcvae|ppca)")
    cls: type[GenerativeModule] = hydra.utils.get_class(target_path)
    network = model_cfg.pop("network", None) or {}
    if cls.has_network:
        model_cfg.update(network)
    elif network:
        log.info("model.network does not apply to %s; unused", cls.__name__)
    # Hydra instantiates it: a key added past the schema (``+model.x=``) is then one line naming
    # the model node (kinsynth.cli.guard.user_error), and no list reaches the model as a ListConfig
    node = OmegaConf.create({"model": {"_target_": target_path, **model_cfg}})
    parts = {"levels": levels} if levels else {}
    return hydra.utils.instantiate(node.model, _convert_="all", feature_columns=features,
                                   target=target, optimizer=hydra.utils.instantiate(cfg.optimizer),
                                   **parts)


def build_data_and_model(
    cfg: DictConfig, device: str, frame: pd.DataFrame | None = None,
) -> tuple[KineticDataModule, GenerativeModule]:
    """The run's data module (set up for fitting) and its model, initialised from the RNG as is.

    One function for a run and for a stack of runs trained together (``kinsynth.train.stacked``),
    so that both draw the same initial weights after the same seeding.
    """
    data = {"frame": frame} if frame is not None else {}
    datamodule = hydra.utils.instantiate(cfg.data, device=device, _convert_="all", **data)
    datamodule.setup("fit")
    model = build_model(cfg, datamodule.features, datamodule.target, datamodule.levels)
    train_targets = (
        None if datamodule.target is None else datamodule.train_frame[datamodule.target].to_numpy()
    )
    model.attach_data(datamodule.transform, train_targets)
    return datamodule, model


def _instantiate_group(group: DictConfig | None) -> list[pl.Callback]:
    if not group:
        return []
    return [hydra.utils.instantiate(c) for c in group.values() if c is not None and "_target_" in c]


def _loggers(cfg: DictConfig) -> list[Logger]:
    """The configured loggers; TensorBoard's version is named after the model and its overrides."""
    loggers = []
    for conf in (cfg.get("logger") or {}).values():
        if conf is None or "_target_" not in conf:
            continue
        named = str(conf._target_).endswith("TensorBoardLogger") and not conf.get("version")
        extra = {"version": run_label(cfg)} if named else {}
        loggers.append(hydra.utils.instantiate(conf, **extra))
    return loggers


def _resume_checkpoint(resume: str | None, output_dir: Path) -> str | None:
    """Explicit path to the resumed run's last.ckpt (Lightning's ``"last"`` silently restarts)."""
    if not resume:
        return None
    checkpoint = Path(resume) / LAST_CHECKPOINT
    if not checkpoint.is_file():
        raise KinsynthError(
            f"resume={resume}: expected {checkpoint} from an earlier run, not found"
        )
    if Path(resume).resolve() != output_dir.resolve():
        raise KinsynthError(f"resume={resume}: the run directory must be the resumed run's own")
    return str(checkpoint)


def run_training(
    cfg: DictConfig, output_dir: str | Path, frame: pd.DataFrame | None = None,
    sweeping: bool = False,
) -> dict[str, float]:
    """Train, evaluate and write metrics.json, synthetic.csv and checkpoints into ``output_dir``.

    ``frame`` trains on an in-memory table instead of ``cfg.data.path`` (``kinsynth.fit``).
    ``sweeping``: the run is one job of a sweep, whose jobs share one terminal, so
    ``progress_bar=auto`` shows no bar; the entry point knows, this module reads no Hydra state.

    The run directory is locked for the whole run (a second process into it is refused) and a
    new run never starts over another run's outputs (see ``kinsynth.runs.lock``).
    """
    output_dir = Path(output_dir)
    check_training_settings(cfg)
    if launched_rank():  # a DDP process: rank 0, which launched it, holds the lock
        return _train(cfg, output_dir, frame, sweeping)
    with RunDirectoryLock(output_dir):
        finished = finished_job_metrics(cfg, output_dir)
        if finished is not None:
            return finished
        if not cfg.get("resume"):
            if interrupted_job_to_resume(cfg, output_dir):
                cfg = _resuming(cfg, output_dir)
            else:
                check_fresh_start(output_dir, cfg.get("overwrite", False))
        return _train(cfg, output_dir, frame, sweeping)


def _resuming(cfg: DictConfig, output_dir: Path) -> DictConfig:
    """``cfg`` as ``resume=<output_dir>``: a ``skip_finished`` rerun continues an interrupted job.

    The interrupted attempt's ``error.txt`` goes: the job is running again.
    """
    log.info("skip_finished=true: %s holds this job, interrupted; resuming it from %s",
             output_dir, LAST_CHECKPOINT)
    (output_dir / ERROR).unlink(missing_ok=True)
    resumed = cfg.copy()
    with open_dict(resumed):
        resumed.resume = str(output_dir)
    return resumed


def _train(
    cfg: DictConfig, output_dir: Path, frame: pd.DataFrame | None, sweeping: bool
) -> dict[str, float]:
    quiet_third_party()
    use_threads(cfg.get("threads"))  # train.yaml: 1, so a sweep's jobs never oversubscribe
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    checkpoint = _resume_checkpoint(cfg.get("resume"), output_dir)
    resume_callbacks = resume_settings(cfg, output_dir, checkpoint)

    progress = cfg.get("progress_bar", "auto")
    show_progress = _interactive(sweeping) if progress == "auto" else bool(progress)
    callbacks = run_callbacks(output_dir, _instantiate_group(cfg.get("callbacks"))
                              + resume_callbacks)
    if show_progress:
        callbacks.append(EpochProgressBar())
    elif cfg.get("progress_lines", 10):
        callbacks.append(ProgressLog(lines=int(cfg.get("progress_lines", 10))))
    evaluation = evaluation_of(callbacks)
    if evaluation is not None:  # the columns its HParams tab compares runs by
        evaluation.run_settings = run_hparams(cfg)
    trainer: pl.Trainer = hydra.utils.instantiate(
        cfg.trainer,
        plugins=[atomic_checkpoint_io()],  # a checkpoint is complete under its name, or absent
        callbacks=callbacks,
        logger=_loggers(cfg) or False,
        enable_progress_bar=show_progress,
    )
    data_device = cfg.data.get("device", "auto")
    if data_device == "auto":
        data_device = str(trainer.strategy.root_device)
    datamodule, model = build_data_and_model(cfg, data_device, frame)
    if checkpoint is None:
        model.training_replay = take_stacked_training(output_dir, cfg)

    try:
        with fresh_memory_unfilled():
            trainer.fit(model, datamodule=datamodule, ckpt_path=checkpoint, weights_only=True)
    except SIGTERMException:  # a SystemExit with code None: the run would "succeed" with exit 0
        raise RunInterrupted(_interrupted_line(output_dir, trainer.current_epoch)) from None
    if not trainer.is_global_zero:
        return {}  # rank 0 evaluates and writes the run directory
    metrics = run_figures(callbacks, trainer)
    write_finished_marker(output_dir, metrics)
    log.info("run directory %s", output_dir)
    log.info("%s", summary_line(metrics))
    for warning in trust_warnings(metrics):
        log.warning("%s", warning)
    return metrics


@contextlib.contextmanager
def fresh_memory_unfilled() -> Iterator[None]:
    """Deterministic algorithms without filling every newly allocated tensor with NaN first.

    ``trainer.deterministic=true`` turns on ``torch.use_deterministic_algorithms``, which by
    default also writes NaN into the memory of every ``torch.empty`` (and each of the optimiser's
    and autograd's empty buffers) so that a read of memory nothing wrote is visible. Correct code
    never reads it, so no number depends on the fill; on a model of the thesis's size it cost
    about 2 % of the fit (twenty fills an optimiser step). The algorithms stay deterministic; the
    setting is restored when the block ends.
    """
    # Any: torch defines the setting as a property of the module's class, which mypy cannot see
    settings: Any = torch.utils.deterministic
    before = settings.fill_uninitialized_memory
    settings.fill_uninitialized_memory = False
    try:
        yield
    finally:
        settings.fill_uninitialized_memory = before


def _interrupted_line(output_dir: Path, epoch: int) -> str:
    """What a stopped run says: where it stopped and how to continue it."""
    if (output_dir / LAST_CHECKPOINT).is_file():
        how = (f"continue it from its last checkpoint with resume={output_dir} "
               "(a sweep: rerun it with skip_finished=true)")
    else:
        how = "no checkpoint was written yet: rerun it"
    return f"{output_dir}: stopped by SIGTERM during epoch {epoch}, not finished; {how}"


def summary_line(metrics: dict[str, float]) -> str:
    """The few figures a user reads first; metrics.json has them all."""
    shown = [f"{k}={metrics[k]:.3g}" for k in (*HEADLINE_METRICS, "fit_seconds") if k in metrics]
    return "test split: " + ", ".join(shown) if shown else "no metrics written"


def objective(metrics: dict[str, float], key: str, sweeping: bool = True) -> float | None:
    """The figure a sweeper optimises; None (a failed trial to Optuna) when absent or not finite.

    The warning matters only to a sweeper, so a single run (``sweeping=False``) stays quiet.
    """
    problem = objective_warning(metrics, key)
    if problem is not None:
        if sweeping:
            log.warning("%s", problem)
        return None
    return float(metrics[key])
