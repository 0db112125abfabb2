"""One epoch of training (one Lightning step): the updates and figures of a plain PyTorch loop,
and the figures where Lightning's ``self.log(on_epoch=True)`` put them, without its result
collection."""

from __future__ import annotations

import functools
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
from kinsynth.models.elbo import kl_weight
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


def test_an_epoch_trains_and_reports_what_a_plain_loop_does(toy_csv, tmp_path):
    # one Lightning step per epoch, the gradients cleared without zero_grad and the figures
    # averaged off the graph: the same weights and figures, bit for bit, as the textbook loop
    import copy

    pl.seed_everything(0, verbose=False)
    data = KineticDataModule(path=str(toy_csv), batch_size=64, transform="standard")
    data.setup("fit")
    model = LatentVariableModel(data.features, data.target, latent_dim=3, hidden=[8],
                                conditional=True, warmup_epochs=2,
                                optimizer=functools.partial(torch.optim.Adam, lr=1e-3))
    plain_model, plain_data = copy.deepcopy(model), copy.deepcopy(data)

    trainer = pl.Trainer(max_epochs=3, logger=CSVLogger(tmp_path, name="csv", version=""),
                         limit_val_batches=0, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         deterministic=True)
    torch.manual_seed(0)
    trainer.fit(model, datamodule=data)

    optimizer = torch.optim.Adam(plain_model.parameters(), lr=1e-3)
    torch.manual_seed(0)
    figures = []
    for epoch in range(3):
        beta = kl_weight(1.0, epoch, 2)
        steps = []
        for x, y in plain_data._next_epoch_batches():
            terms = plain_model.elbo(*plain_model.split_batch(x, y), beta)
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            optimizer.step()
            steps.append([terms.loss.detach(), terms.recon.detach(), terms.kl.detach()])
        assert len(steps) > 1
        figures.append([torch.stack(f).mean().item() for f in zip(*steps, strict=True)])

    for trained, plain in zip(model.parameters(), plain_model.parameters(), strict=True):
        assert torch.equal(trained, plain)
    csv = pd.read_csv(tmp_path / "csv" / "metrics.csv", float_precision="round_trip")
    logged = csv[csv["train/loss"].notna()][["train/loss", "train/recon", "train/kl"]]
    assert logged.to_numpy().tolist() == figures
