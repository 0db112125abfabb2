"""The training figures reach callbacks, the progress bar and every logger exactly as Lightning's
``self.log(on_epoch=True)`` put them there, without its result collection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger

import kinsynth.models.latent as latent
from kinsynth.data import KineticDataModule
from kinsynth.models import LatentVariableModel
from kinsynth.train.tensorboard import EpochStepTensorBoardLogger


class _Seen(pl.Callback):
    """What a callback and the progress bar read at each epoch's end."""

    def __init__(self) -> None:
        self.callback: list[dict[str, float]] = []
        self.progress_bar: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.callback.append({k: float(v) for k, v in trainer.callback_metrics.items()})
        self.progress_bar.append(dict(trainer.progress_bar_metrics))


def _via_lightning(trainer: Any, figures: dict[str, torch.Tensor],
                   progress_bar: tuple[str, ...] = ()) -> None:
    """The figures through ``self.log``: the reference the direct hand-over must equal."""
    module = trainer.lightning_module
    for name, value in figures.items():
        module.log(name, value, on_step=False, on_epoch=True, batch_size=1,
                   prog_bar=name in progress_bar)


def _fit(toy_csv: Path, out: Path, beta: float) -> tuple[_Seen, pd.DataFrame, dict[str, Any]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    pl.seed_everything(0, verbose=False)
    data = KineticDataModule(path=str(toy_csv), batch_size=64, transform="standard")
    data.setup("fit")
    model = LatentVariableModel(data.features, data.target, latent_dim=3, hidden=[8],
                                conditional=True, beta=beta, warmup_epochs=2)
    seen = _Seen()
    loggers = [CSVLogger(out, name="csv", version=""),
               EpochStepTensorBoardLogger(out, name="tb", version="", default_hp_metric=False)]
    trainer = pl.Trainer(max_epochs=4, check_val_every_n_epoch=2, logger=loggers,
                         callbacks=[seen], enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0,
                         deterministic=True)
    trainer.fit(model, datamodule=data)
    csv = pd.read_csv(out / "csv" / "metrics.csv", float_precision="round_trip")
    events = EventAccumulator(str(out / "tb")).Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)]
               for tag in events.Tags()["scalars"]}
    return seen, csv, scalars


@pytest.mark.parametrize("beta", [1.0, 0.3])
def test_training_figures_are_those_lightning_logged(toy_csv, tmp_path, monkeypatch, beta):
    direct = _fit(toy_csv, tmp_path / "direct", beta)
    monkeypatch.setattr(latent, "show_epoch_figures", _via_lightning)
    monkeypatch.setattr(latent, "log_epoch_figures", lambda *args: None)
    logged = _fit(toy_csv, tmp_path / "lightning", beta)

    # the same values in the same places, bit for bit: callbacks, progress bar, CSV, TensorBoard
    assert direct[0].callback == logged[0].callback
    assert direct[0].progress_bar == logged[0].progress_bar
    pd.testing.assert_frame_equal(direct[1], logged[1], check_exact=True)
    assert direct[2] == logged[2]
    # and they are what the progress lines and a monitoring callback need: every epoch's figures
    csv = direct[1]
    train = csv[csv["train/loss"].notna()]
    assert train["step"].tolist() == train["epoch"].tolist() == [0, 1, 2, 3]
    assert [seen["train/loss"] for seen in direct[0].callback] == train["train/loss"].tolist()
    assert set(direct[0].progress_bar[-1]) == {"train/loss", "val/loss", "val/recon", "val/kl"}
    # the warm-up's KL weight, in float32 as a logged number is stored
    expected_beta = [float(torch.tensor(beta * min(1.0, (e + 1) / 2))) for e in range(4)]
    assert train["train/beta"].tolist() == expected_beta
    assert [step for step, _ in direct[2]["val/loss"]] == [1, 3]


def test_epoch_figures_are_the_means_of_the_epochs_steps(toy_csv, tmp_path, monkeypatch):
    # each figure is the mean over the epoch's mini-batches of the figure each update computed
    steps: list[tuple[float, float, float]] = []
    original = LatentVariableModel.elbo

    def recorded(self, data, condition, beta):  # noqa: ANN001, ANN202
        terms = original(self, data, condition, beta)
        if torch.is_grad_enabled():  # training, not validation
            steps.append((terms.loss.item(), terms.recon.item(), terms.kl.item()))
        return terms

    monkeypatch.setattr(LatentVariableModel, "elbo", recorded)
    _, csv, _ = _fit(toy_csv, tmp_path, 1.0)
    train = csv[csv["train/loss"].notna()]
    per_epoch = len(steps) // 4
    assert per_epoch > 1 and len(steps) == 4 * per_epoch
    logged = train[["train/loss", "train/recon", "train/kl"]].to_numpy()
    for epoch, figures in enumerate(logged):
        rows = torch.tensor(steps[epoch * per_epoch:(epoch + 1) * per_epoch], dtype=torch.float64)
        assert figures.tolist() == pytest.approx(rows.mean(dim=0).tolist(), rel=1e-6)
