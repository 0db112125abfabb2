"""The evaluation callback: the same figures for every model, gradient-trained or not.

At the end of fitting it samples from the model through the public API (so it never asks which
model it holds), scores the samples against the held-out test split with
``kinsynth.evaluate.metrics``,
checks conditional designs with an oracle, and writes the run's contract files: ``metrics.json``,
``synthetic.csv`` and ``figures/``.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import write_csv
from kinsynth.evaluate import figures
from kinsynth.evaluate.cost import estimate_seconds
from kinsynth.evaluate.metrics import evaluate_samples, reference_baselines
from kinsynth.evaluate.metrics.caps import RowCaps, timed
from kinsynth.evaluate.metrics.categorical import categorical_figures, one_hot, one_hot_columns
from kinsynth.evaluate.metrics.conditional import conditional_metrics
from kinsynth.evaluate.metrics.split_cache import (
    cached_figures,
    default_cache_dir,
    split_key,
    stored_figures,
)
from kinsynth.evaluate.metrics.standardise import Standardiser
from kinsynth.evaluate.oracles import make_oracle
from kinsynth.models.base import GenerativeModule
from kinsynth.runs.contract import SYNTHETIC
from kinsynth.runs.names import ordered_metrics

if TYPE_CHECKING:
    from kinsynth.data import KineticDataModule

log = logging.getLogger(__name__)

#: ``callbacks.evaluation.level``: ``full`` computes every figure; ``fast`` the model's own
#: figures only (the same values as ``full``): no baselines unless cached, no pictures
LEVELS = ("fast", "full")


def _fitted(trainer: pl.Trainer, pl_module: pl.LightningModule
            ) -> tuple[KineticDataModule, GenerativeModule]:
    """The data module and model of the fit this callback watches (kinsynth.train builds both)."""
    # the ignore: Lightning sets trainer.datamodule in fit() but does not declare it on Trainer
    dm = trainer.datamodule  # type: ignore[attr-defined]
    assert isinstance(pl_module, GenerativeModule), "EvaluationCallback scores a GenerativeModule"
    return dm, pl_module


_SPLIT_CACHE: dict[str, Any] = {}


def _per_split(key: str, compute: Any) -> Any:
    """Memoise per data split: a sweep's jobs in one worker process share baselines and oracle."""
    if key not in _SPLIT_CACHE:
        if len(_SPLIT_CACHE) > 16:
            _SPLIT_CACHE.clear()
        _SPLIT_CACHE[key] = compute()
    return _SPLIT_CACHE[key]


def _numbers(dm: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The numeric view the figures are computed on: part names as one-hot columns."""
    levels = getattr(dm, "levels", None)
    return one_hot(frame, levels) if levels else frame


def _number_features(dm: Any) -> list[str]:
    """The features of :func:`_numbers`' view."""
    levels = getattr(dm, "levels", None)
    return one_hot_columns(list(dm.features), levels) if levels else list(dm.features)


def _standardised_mse(train: pd.DataFrame, real: pd.DataFrame, recon: pd.DataFrame) -> float:
    """Per-element reconstruction MSE in the training split's standardised space."""
    scaler = Standardiser().fit(train[recon.columns])
    diff = scaler.transform(real[recon.columns]) - scaler.transform(recon)
    return float(np.mean(diff**2))


def _round_seconds(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 2 else f"{seconds:.1f}"


def _png_pixels(path: Path) -> np.ndarray:
    """A PNG's RGB pixels (height, width, 3), as TensorBoard's image tab takes them."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


class EvaluationCallback(pl.Callback):
    """Scores a model on the test split at fit end (and every ``every_n_epochs`` if set)."""

    def __init__(
        self,
        output_dir: str,
        n_synthetic: int | None = None,
        oracle: str = "auto",
        baselines: bool = True,
        every_n_epochs: int = 0,
        n_conditional: int = 500,
        figures: bool = True,
        seed: int = 0,
        max_rows: dict[str, int | None] | None = None,
        level: str = "full",
        baseline_cache: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        if level not in LEVELS:
            raise KinsynthError(
                f"callbacks.evaluation.level={level}: expected one of {', '.join(LEVELS)}"
            )
        self.level = level
        self.cache_dir = (
            (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()) / "baselines"
            if baseline_cache else None
        )
        self.output_dir = Path(output_dir)
        self.n_synthetic = n_synthetic
        self.oracle = oracle
        self.baselines = baselines
        self.every_n_epochs = int(every_n_epochs)
        self.n_conditional = int(n_conditional)
        self.figures = figures
        self.seed = int(seed)
        self.caps = RowCaps.from_mapping(max_rows)
        self._fit_started = 0.0
        self._fit_seconds = 0.0
        # training time before this process took over: restored from a resumed checkpoint
        self._fit_seconds_before: float | None = None
        self._figure_objects: dict[str, Any] = {}
        self.results: dict[str, float] = {}  # this fit's figures, for run_training to return
        # the composed settings the HParams tab compares runs by (set by kinsynth.train.run)
        self.run_settings: dict[str, Any] = {}

    # ---- hooks ------------------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fit_started = time.perf_counter()
        # the ignore: Lightning sets trainer.datamodule in fit() but does not declare it on Trainer
        dm = trainer.datamodule  # type: ignore[attr-defined]
        if trainer.is_global_zero and dm is not None:
            try:
                line = self.cost_line(dm, pl_module)
            except AttributeError as missing:  # a data module of another shape: no estimate
                log.debug("no estimate of the evaluation's cost: %s", missing)
            else:
                log.info("%s", line)

    def cost_line(self, dm: Any, model: Any) -> str:
        """What the final evaluation will cost, said before training starts."""
        cached = self._baselines_cached(dm)
        sizes: dict[str, int] = {
            "n_train": len(dm.train_frame), "n_test": len(dm.test_frame),
            "n_synthetic": int(self.n_synthetic or len(dm.table.frame)),
            "n_columns": len(dm.features) + (dm.target is not None),
            "n_conditional": self.n_conditional if model.conditional else 0,
        }
        full = estimate_seconds(baselines=self.baselines and not cached, caps=self.caps,
                                figures=self.figures, **sizes)
        fast = estimate_seconds(baselines=False, caps=self.caps, figures=False, **sizes)
        now = full if self.level == "full" else fast
        where = (
            "cached" if cached else "not cached: computed once per data split, then reused"
        ) if self.baselines else "off"
        other = (
            f"; callbacks.evaluation.level=fast: about {_round_seconds(fast)} s (no baselines "
            "unless cached, no figures; the same values for the rest)"
            if self.level == "full" and full > fast else ""
        )
        return (
            f"after training, the evaluation (level={self.level}) will take about "
            f"{_round_seconds(now)} s on a quiet 2-core machine (baselines {where}){other}"
        )

    def _split_key(self, dm: Any, name: str, **settings: Any) -> str:
        """Names what depends only on the data split (and ``settings``): in memory and on disk."""
        return split_key(
            name, dm.train_frame, dm.test_frame, features=tuple(dm.features), target=dm.target,
            seed=self.seed, **settings,
        )

    def _baseline_key(self, dm: Any) -> str:
        return self._split_key(dm, "baselines", caps=repr(self.caps))

    def _baselines_cached(self, dm: Any) -> bool:
        key = self._baseline_key(dm)
        return key in _SPLIT_CACHE or stored_figures(self.cache_dir, key) is not None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fit_seconds = time.perf_counter() - self._fit_started
        replay = getattr(pl_module, "training_replay", None)
        if replay is not None:  # its epochs were computed in a stack: its share of that time
            self._fit_seconds += replay.seconds

    def state_dict(self) -> dict[str, float]:
        """The fit's time up to this checkpoint, so a resumed run records the whole fit's time."""
        return {"fit_seconds": (self._fit_seconds_before or 0.0)
                + time.perf_counter() - self._fit_started}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._fit_seconds_before = float(state_dict.get("fit_seconds", 0.0))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        if self.every_n_epochs > 0 and epoch % self.every_n_epochs == 0 and not trainer.should_stop:
            dm, model = _fitted(trainer, pl_module)
            synth = model.sample(len(dm.test_frame), seed=self.seed)
            figures_now = evaluate_samples(
                _numbers(dm, dm.train_frame), _numbers(dm, dm.test_frame), _numbers(dm, synth),
                _number_features(dm), dm.target, self.seed, self.caps
            )
            pl_module.log_dict({f"eval/{k}": v for k, v in figures_now.items()}, batch_size=1)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # the run writes last.ckpt before this and metrics.json after it (kinsynth.train.contract)
        if not trainer.is_global_zero:
            return
        started = time.perf_counter()
        results = self.evaluate(*_fitted(trainer, pl_module))
        results["evaluation_seconds"] = time.perf_counter() - started
        # the whole fit (up to the resumed checkpoint, then this part); a resumed run also
        # records the part it trained itself
        results["fit_seconds"] = (self._fit_seconds_before or 0.0) + self._fit_seconds
        if self._fit_seconds_before is not None:
            results["fit_seconds_resumed"] = self._fit_seconds
        results["epochs"] = trainer.current_epoch
        self.results = results
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._log_to_tensorboard(trainer, pl_module, results)

    # ---- evaluation --------------------------------------------------------------------------
    def evaluate(self, dm: KineticDataModule, model: GenerativeModule) -> dict[str, float]:
        """Every figure for ``model`` on the test split of ``dm``; writes synthetic.csv and PNGs."""
        train, test = dm.train_frame, dm.test_frame
        n = int(self.n_synthetic or len(dm.table.frame))
        log.info(
            "evaluating on %d test rows: %d synthetic rows, fidelity, C2ST, memorisation%s%s",
            len(test), n, ", conditional designs against the oracle" if model.conditional else "",
            (", real-vs-real and naive baselines" + (" if cached" if self.level == "fast" else ""))
            if self.baselines else "",
        )
        with timed("sample + synthetic.csv", n):
            synth = model.sample(n, seed=self.seed)
            write_csv(synth, self.output_dir / SYNTHETIC)

        results: dict[str, float] = {"n_train": len(train), "n_test": len(test), "n_synthetic": n}
        results.update(evaluate_samples(
            _numbers(dm, train), _numbers(dm, test), _numbers(dm, synth), _number_features(dm),
            dm.target, self.seed, self.caps
        ))
        if dm.levels:
            results.update(categorical_figures(test, synth, dm.levels))
        with timed("recon_mse + kl", len(test)):
            recon = model.reconstruct(test)
            results["recon_mse"] = _standardised_mse(
                _numbers(dm, train), _numbers(dm, test), _numbers(dm, recon))
            results["kl"] = float(np.mean(model.kl(test)))
        if model.conditional:
            with timed("conditional (oracle)", 2 * self.n_conditional):
                results.update(self._conditional(dm, model))
            results["n_conditional"] = self.n_conditional
        if self.baselines:
            with timed("baselines (real-vs-real, naive)", len(train)):
                results.update(self._reference_baselines(dm))
        if self.figures and self.level == "full":
            with timed("figures", len(synth)):
                self._figures(dm, synth)
        return {k: (float(v) if v is not None else math.nan) for k, v in results.items()}

    def _reference_baselines(self, dm: KineticDataModule) -> dict[str, float]:
        """The baselines of this split: from memory, the disk cache, or computed and stored.

        The fast level computes none: it reports them only when an earlier run stored them.
        """
        key = self._baseline_key(dm)
        if self.level == "fast":
            return dict(_SPLIT_CACHE.get(key) or stored_figures(self.cache_dir, key) or {})

        def compute() -> dict[str, float]:
            return reference_baselines(
                _numbers(dm, dm.train_frame), _numbers(dm, dm.test_frame), _number_features(dm),
                dm.target, self.seed, self.caps
            )

        def from_disk() -> dict[str, float]:
            figures_, was_stored = cached_figures(self.cache_dir, key, compute)
            if was_stored:
                log.info("baselines of this data split read from %s", self.cache_dir)
            return figures_

        return dict(_per_split(key, from_disk))

    def _conditional(self, dm: KineticDataModule, model: GenerativeModule) -> dict[str, float]:
        key = self._split_key(dm, "oracle", kind=self.oracle, rows=self.caps.oracle_fit)
        oracle, info = _per_split(
            key, lambda: make_oracle(self.oracle, dm, self.caps.oracle_fit, self.seed)
        )
        if oracle is None:
            return {}

        def generate(targets: np.ndarray) -> pd.DataFrame:
            return model.sample(len(targets), target=targets, seed=self.seed)[dm.features]

        figures_ = conditional_metrics(
            generate,
            oracle,
            dm.train_frame[dm.target].to_numpy(),
            dm.test_frame[dm.target].to_numpy(),
            n=self.n_conditional,
            seed=self.seed,
        )
        return {**figures_, **info}

    def _figures(self, dm: KineticDataModule, synth: pd.DataFrame) -> None:
        folder = self.output_dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        synth = _numbers(dm, synth)
        columns = [c for c in synth.columns if c in _numbers(dm, dm.test_frame).columns]
        real = _numbers(dm, dm.test_frame)[columns].to_numpy()
        fake = synth[columns].to_numpy()
        fake = fake[np.isfinite(fake).all(axis=1)]
        name = str(self.run_settings.get("model") or "model")
        self._figure_objects = {
            "pca_overlay": figures.pca_overlay(
                real, fake,
                title=f"{name}: test split (black, n={len(real)}) vs synthetic (cyan, "
                      f"n={len(fake)})",
            ),
            "explained_variance": figures.explained_variance(
                {f"real (test, n={len(real)})": real, f"{name} (n={len(fake)})": fake},
                title=f"Explained variance, {name}",
            ),
            # against the training split: its thousands of rows, not the test split's few hundred
            "histograms": figures.column_histograms(
                _numbers(dm, dm.train_frame), synth, columns, real_name="training split"
            ),
        }

    def _log_to_tensorboard(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, results: dict[str, float]
    ) -> None:
        """Figures and the HParams tab in TensorBoard; PNG copies in the run's figures/ folder."""
        tensorboard = next(
            (lg for lg in trainer.loggers if isinstance(lg, pl.loggers.TensorBoardLogger)), None
        )
        for name, fig in self._figure_objects.items():
            png = self.output_dir / "figures" / f"{name}.png"
            figures.save(fig, str(png))
            if tensorboard is not None:  # the PNG's pixels: one rendering, not two
                tensorboard.experiment.add_image(
                    f"evaluation/{name}", _png_pixels(png), dataformats="HWC"
                )
        self._figure_objects = {}
        ordered = ordered_metrics({k: v for k, v in results.items() if math.isfinite(v)})
        finite = {f"final/{k}": v for k, v in ordered.items()}
        # the model's own options as model.<key>: TensorBoard sorts the columns by name and ticks
        # the first five, so the composed settings (data.*, latent_dim, model) lead the table
        own = {f"model.{k}": v for k, v in dict(pl_module.hparams).items()
               if k not in ("feature_columns", "target", "latent_dim", "optimizer", "levels")}
        hparams = {**self.run_settings, **own}
        for lg in trainer.loggers:
            if isinstance(lg, pl.loggers.TensorBoardLogger):
                lg.log_hyperparams(hparams, metrics=finite)
            else:
                lg.log_hyperparams(hparams)
                lg.log_metrics(finite)
            lg.save()
