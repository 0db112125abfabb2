"""Training speed: our training path against a bare PyTorch loop, the default model, and PPCA.

docs/performance.md explains each row and what it includes. The thesis VAE is measured three ways
on the *same* model initialisation and the *same* mini-batches:

``ours (full run)``
    :func:`kinsynth.train.run.run_training` on a composed config, exactly what ``train.py`` does:
    validation and checkpoints every 10 epochs (best + last), TensorBoard logging and the evaluation
    callback. Steps/s uses the fit time the evaluation callback records (first to last epoch), the
    wall time of the whole run (with evaluation, figures and files) is reported beside it.
``ours (lean)``
    The same LatentVariableModel, KineticDataModule and Trainer settings with checkpointing,
    loggers, callbacks and validation switched off: the cost of our training step itself.
``bare loop``
    A plain Python loop over the same epochs of batches (the data module's own permutations), the
    same ``elbo`` and the same optimiser, without Lightning. With the same torch seed it must end on
    the same weights as the lean run; the benchmark checks that and prints the largest difference.
"""

from __future__ import annotations

import copy
import functools
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from bench.configs import compose
from bench.options import Options
from bench.report import Report, Timing, clock, fastest
from kinsynth.models.elbo import kl_weight

#: The target the benchmark checks (docs/performance.md gives the reasons); the speed-up over the
#: thesis notebook's loop is measured beside train.py as a process (bench/train_command.py).
TARGET_BARE_OVER_OURS = 1.2

THESIS_VAE = ["experiment=thesis", "model=vae"]


@dataclass
class Prepared:
    """A model and data module built from a config, before any training."""

    cfg: DictConfig
    model: Any
    datamodule: Any


def prepare(cfg: DictConfig) -> Prepared:
    """Data module and model exactly as run_training builds them (same seeding, same order)."""
    import hydra

    from kinsynth.train.run import build_model

    torch.set_num_threads(int(cfg.get("threads") or 1))
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    datamodule = hydra.utils.instantiate(cfg.data, device="cpu", _convert_="all")
    datamodule.setup("fit")
    model = build_model(cfg, datamodule.features, datamodule.target)
    targets = (
        None if datamodule.target is None else datamodule.train_frame[datamodule.target].to_numpy()
    )
    model.attach_data(datamodule.transform, targets)
    return Prepared(cfg, model, datamodule)


def fresh_copy(prepared: Prepared) -> Prepared:
    """Same initial weights, and a data module that will serve the same epochs from the start."""
    datamodule = copy.deepcopy(prepared.datamodule)
    datamodule.epochs_served = 0
    return Prepared(prepared.cfg, copy.deepcopy(prepared.model), datamodule)


class FitClock(pl.Callback):
    """Times the training loop alone: first epoch start to last epoch end (wall and CPU)."""

    def __init__(self) -> None:
        self.timing = Timing(math.nan, math.nan)
        self._start = clock()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = clock()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.timing = Timing.since(*self._start)


def lean_fit(prepared: Prepared, epochs: int) -> Timing:
    """``Trainer.fit`` with checkpointing, loggers, callbacks and validation off."""
    import hydra

    fit_clock = FitClock()
    trainer = hydra.utils.instantiate(
        prepared.cfg.trainer,
        max_epochs=epochs,
        callbacks=[fit_clock],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        limit_val_batches=0,
        default_root_dir=tempfile.mkdtemp(prefix="kinsynth-bench-"),
    )
    torch.manual_seed(int(prepared.cfg.seed))
    trainer.fit(prepared.model, datamodule=prepared.datamodule)
    return fit_clock.timing


def normal_fit(prepared: Prepared, epochs: int, output_dir: Path) -> Timing:
    """``Trainer.fit`` as run_training sets it up: the config's checkpointing, loggers, validation.

    The evaluation callback is left out: it runs once after the last epoch and is timed by the
    full run instead, so this figure is the per-epoch cost of a normal run.
    """
    import hydra

    from kinsynth.train.run import _instantiate_group

    callbacks = [
        hydra.utils.instantiate(c)
        for name, c in prepared.cfg.callbacks.items()
        if name != "evaluation" and c is not None and "_target_" in c
    ]
    fit_clock = FitClock()
    trainer = hydra.utils.instantiate(
        prepared.cfg.trainer,
        max_epochs=epochs,
        callbacks=[*callbacks, fit_clock],
        logger=_instantiate_group(prepared.cfg.get("logger")) or False,
        enable_progress_bar=False,
        default_root_dir=str(output_dir),
    )
    torch.manual_seed(int(prepared.cfg.seed))
    trainer.fit(prepared.model, datamodule=prepared.datamodule)
    return fit_clock.timing


def bare_loop(
    prepared: Prepared, epochs: int, optimizer_factory: Callable[..., torch.optim.Optimizer]
) -> Timing:
    """Seconds of a plain loop: same batches, same ELBO, same optimiser, no Lightning."""
    model, dm = prepared.model, prepared.datamodule
    optimizer = optimizer_factory(params=model.parameters())
    beta = model.beta
    model.train()
    torch.manual_seed(int(prepared.cfg.seed))
    start = clock()
    for epoch in range(epochs):
        weight = kl_weight(beta, epoch, model.warmup_epochs)
        for x, y in dm._next_epoch_batches():
            data, condition = model.split_batch(x, y)
            loss = model.elbo(data, condition, weight).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return Timing.since(*start)


def max_weight_difference(a: torch.nn.Module, b: torch.nn.Module) -> float:
    """Largest absolute difference between two models' parameters (0.0 = identical training)."""
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return max(float((p.detach() - q.detach()).abs().max()) for p, q in pairs)


def full_run(cfg: DictConfig, output_dir: Path) -> tuple[dict[str, float], Timing]:
    """``run_training`` as train.py calls it; returns (metrics.json, time of the whole run)."""
    from kinsynth.train.run import run_training

    start = clock()
    metrics = run_training(cfg, output_dir)
    return metrics, Timing.since(*start)


def _optimizer_factory(cfg: DictConfig, **extra: Any) -> Callable[..., torch.optim.Optimizer]:
    import hydra

    factory = hydra.utils.instantiate(cfg.optimizer)
    return functools.partial(factory, **extra) if extra else factory


def _fused_supported() -> bool:
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def bench_training(report: Report, options: Options, work: Path, say: Callable[[str], None]) -> Any:
    """Thesis VAE: full run, normal-run trainer, lean trainer, bare loops. Returns the model."""
    from kinsynth.models import load

    data = options.data_overrides()
    cfg = compose([*THESIS_VAE, *data, f"trainer.max_epochs={options.timing_epochs}"], work / "t")
    prepared = prepare(cfg)
    steps_per_epoch = prepared.datamodule.steps_per_epoch
    steps = steps_per_epoch * options.timing_epochs
    report.context["thesis_vae"] = {
        "train_rows": len(prepared.datamodule.train_x),
        "batch_size": prepared.datamodule.batch_size,
        "steps_per_epoch": steps_per_epoch,
        "timing_epochs": options.timing_epochs,
        "repeats": options.repeats,
    }
    variants: dict[str, Callable[[Prepared], Timing]] = {
        "ours, normal run": lambda p: normal_fit(p, options.timing_epochs, work / "normal"),
        "ours, lean": lambda p: lean_fit(p, options.timing_epochs),
        "bare loop, same Adam": lambda p: bare_loop(
            p, options.timing_epochs, _optimizer_factory(cfg)
        ),
    }
    if _fused_supported():
        variants["bare loop, fused Adam"] = lambda p: bare_loop(
            p, options.timing_epochs, _optimizer_factory(cfg, fused=True)
        )
    timings: dict[str, list[Timing]] = {name: [] for name in variants}
    trained: dict[str, Any] = {}
    for round_ in range(options.repeats):
        for name, run in variants.items():
            copy_ = fresh_copy(prepared)
            timings[name].append(run(copy_))
            trained[name] = copy_.model
            say(f"  round {round_ + 1}/{options.repeats} {name}: {timings[name][-1].wall:.2f} s")
    best = {name: fastest(t) for name, t in timings.items()}
    rate = {name: steps / t.wall for name, t in best.items()}
    cpu_rate = {name: steps / t.cpu for name, t in best.items()}
    same = max_weight_difference(trained["ours, lean"], trained["bare loop, same Adam"])

    # the real path once, at full length: run_training, evaluation and files included
    full_cfg = compose([*THESIS_VAE, *data, f"trainer.max_epochs={options.epochs}"], work / "full")
    metrics, whole = full_run(full_cfg, work / "full")
    full_steps = steps_per_epoch * int(metrics.get("epochs", options.epochs))
    fit_seconds = float(metrics.get("fit_seconds", math.nan))
    say(f"  full run: fit {fit_seconds:.1f} s, whole run {whole.wall:.1f} s")

    report.add(
        "thesis VAE: ours, full run (run_training)",
        full_steps / fit_seconds,
        "steps/s",
        f"{options.epochs} epochs; val + checkpoints every 10 epochs, TensorBoard; whole run "
        f"{whole.wall:.1f} s wall incl. evaluation {whole.wall - fit_seconds:.1f} s",
    )
    for name in variants:
        report.add(
            f"thesis VAE: {name}",
            rate[name],
            "steps/s",
            f"best of {options.repeats} x {steps} steps; {cpu_rate[name]:,.0f} steps per CPU-s",
        )
    for ours in ("ours, normal run", "ours, lean"):
        ratio = rate["bare loop, same Adam"] / rate[ours]
        cpu_ratio = cpu_rate["bare loop, same Adam"] / cpu_rate[ours]
        report.add(
            f"ratio bare (same Adam) / {ours}",
            ratio,
            "x",
            f"by CPU time {cpu_ratio:.2f}",
            target=f"<= {TARGET_BARE_OVER_OURS}",
            passed=ratio <= TARGET_BARE_OVER_OURS,
        )
    report.add(
        "max |weight difference| ours (lean) vs bare",
        same,
        "",
        "same init, same batches, same noise: 0 means the loops do identical arithmetic",
    )
    return load(work / "full")


def bench_default_model(report: Report, options: Options, work: Path, say: Any) -> Any:
    """The default model (``python train.py``: beta-CVAE, quantile transform, batch 256)."""
    from kinsynth.models import load

    overrides = [*options.data_overrides(), "callbacks.evaluation.figures=false"]
    if options.cvae_epochs is not None:
        overrides.append(f"trainer.max_epochs={options.cvae_epochs}")
    cfg = compose(overrides, work / "cvae")
    metrics, whole = full_run(cfg, work / "cvae")
    n_train = int(metrics.get("n_train", 0))
    steps = math.ceil(n_train / int(cfg.data.batch_size)) * int(metrics.get("epochs", 0))
    report.add(
        "default model: ours, full run (run_training)",
        steps / float(metrics.get("fit_seconds", math.nan)),
        "steps/s",
        f"{int(metrics.get('epochs', 0))} epochs x batch {cfg.data.batch_size}, hidden "
        f"{list(cfg.model.network.hidden)}; whole run {whole.wall:.1f} s",
    )
    say(f"  default model: whole run {whole.wall:.1f} s")
    return load(work / "cvae")


def bench_ppca(report: Report, options: Options, work: Path, say: Any) -> None:
    """PPCA (thesis setting, latent 11): the real path and the closed-form fit alone."""
    cfg = compose(["experiment=thesis", "model=ppca", *options.data_overrides()], work / "ppca")
    metrics, whole = full_run(cfg, work / "ppca")
    report.add(
        "PPCA fit: ours, full run (run_training)",
        float(metrics.get("fit_seconds", math.nan)),
        "s",
        f"Trainer.fit incl. checkpoint; whole run {whole.wall:.2f} s incl. evaluation",
    )
    prepared = prepare(cfg)
    dm = prepared.datamodule
    # the same matrix PPCAModel.training_step fits: generated columns, then the condition
    rows = prepared.model._stack(*prepared.model.split_batch(dm.train_x, dm.train_y))
    fits = []
    for _ in range(max(options.repeats, 3)):
        start = clock()
        prepared.model.fit_arrays(rows.numpy().astype(np.float64))
        fits.append(Timing.since(*start))
    report.add("PPCA fit: closed form alone (fit_arrays)", fastest(fits).wall, "s", "sklearn PCA")
    say(f"  ppca: whole run {whole.wall:.2f} s")
