"""KineticDataModule and EpochBatches: splits, scaling, one-item epochs, resume, Lightning."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytorch_lightning as pl
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data import ColumnTransform, EpochBatches, KineticDataModule


def make(path: Path, **kwargs) -> KineticDataModule:
    dm = KineticDataModule(str(path), **kwargs)
    dm.setup()
    return dm


def test_split_sizes_disjoint_and_complete(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv)
    frames = (dm.train_frame, dm.val_frame, dm.test_frame)
    assert [len(f) for f in frames] == [40, 5, 5]
    ids = [set(f.index) for f in frames]
    assert ids[0].isdisjoint(ids[1]) and ids[0].isdisjoint(ids[2]) and ids[1].isdisjoint(ids[2])
    assert set().union(*ids) == set(dm.table.frame.index)
    assert dm.columns == ["k0", "k1", "k2", "Product_I"]
    assert dm.features == ["k0", "k1", "k2"] and dm.target == "Product_I"


def test_split_is_seeded(kinetic_csv: Path) -> None:
    first, again = make(kinetic_csv, seed=1), make(kinetic_csv, seed=1)
    other = make(kinetic_csv, seed=2)
    assert list(first.test_frame.index) == list(again.test_frame.index)
    assert list(first.test_frame.index) != list(other.test_frame.index)
    expected = np.random.default_rng(1).permutation(50)[:40]
    assert list(first.train_frame.index) == list(first.table.frame.index[expected])


def test_setup_is_idempotent(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv)
    train_x = dm.train_x
    dm.setup("fit")
    dm.setup("test")
    assert dm.train_x is train_x


def test_tensors_are_transformed_float32(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv, transform="standard")
    assert dm.train_x.dtype == torch.float32 and dm.train_x.shape == (40, 3)
    assert dm.train_y is not None and dm.train_y.shape == (40, 1)
    assert dm.val_x.shape == (5, 3) and dm.test_y.shape == (5, 1)
    assert dm.train_x.device.type == "cpu"
    # Fitted on the training split only.
    reference = ColumnTransform("standard").fit(dm.train_frame[dm.columns])
    np.testing.assert_allclose(dm.val_x.numpy(), reference.transform(dm.val_frame[dm.features]))
    np.testing.assert_allclose(dm.train_x.mean(0).numpy(), 0.0, atol=1e-6)
    back = dm.transform.inverse_transform(dm.test_y, ["Product_I"])
    np.testing.assert_allclose(back[:, 0], dm.test_frame["Product_I"].to_numpy(), rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tensors_on_cuda(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv, device="cuda")
    assert dm.train_x.is_cuda and dm.val_y.is_cuda
    batches = next(iter(dm.train_dataloader()))
    assert all(x.is_cuda and y.is_cuda for x, y in batches)


def test_bad_device() -> None:
    with pytest.raises(KinsynthError, match="data.device"):
        KineticDataModule(device="gpu0")


def test_features_only(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv, target=None, batch_size=16)
    assert dm.columns == dm.features == ["k0", "k1", "k2", "Product_I"]
    assert dm.train_y is None and dm.val_y is None
    batches = next(iter(dm.train_dataloader()))
    assert [x.shape[0] for x, _ in batches] == [16, 16, 8]
    assert all(y is None for _, y in batches)
    (x, y), *rest = dm.val_dataloader()
    assert not rest and y is None and x.shape == (5, 4)


@pytest.mark.parametrize("split", [(0.5, 0.5), (0.8, 0.1, 0.2), (1.2, -0.1, -0.1)])
def test_bad_split(split: tuple[float, ...]) -> None:
    with pytest.raises(KinsynthError, match="data.split"):
        KineticDataModule(split=split)


def test_too_few_rows(write_frame, kinetic_frame) -> None:
    path = write_frame(kinetic_frame(n_rows=12))
    with pytest.raises(KinsynthError) as error:
        make(path)
    message = str(error.value)
    assert "too few rows (12) for split" in message and "table.csv" in message
    assert "\n" not in message


def test_unknown_transform_fails_early() -> None:
    with pytest.raises(KinsynthError, match="quantile"):
        KineticDataModule(transform="log")


def test_val_and_test_are_one_batch(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv)
    for loader, (x, y) in (
        (dm.val_dataloader(), (dm.val_x, dm.val_y)),
        (dm.test_dataloader(), (dm.test_x, dm.test_y)),
    ):
        items = list(loader)
        assert len(items) == 1
        assert items[0][0] is x and items[0][1] is y


def epoch(loader: EpochBatches) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    items = list(loader)
    assert len(items) == 1
    return items[0]


def test_epoch_batches_cover_rows_once(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv, batch_size=16, seed=5)
    loader = dm.train_dataloader()
    assert len(loader) == 1
    assert loader.steps_per_epoch == dm.steps_per_epoch == math.ceil(40 / 16)
    batches = epoch(loader)
    assert [x.shape[0] for x, _ in batches] == [16, 16, 8]  # last partial batch kept
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    order = torch.randperm(40, generator=torch.Generator().manual_seed(5 * 100003 + 0))
    torch.testing.assert_close(x, dm.train_x[order])
    torch.testing.assert_close(y, dm.train_y[order])
    assert dm.epochs_served == 1


def test_epochs_differ_and_resume(kinetic_csv: Path) -> None:
    dm = make(kinetic_csv, batch_size=8)
    loader = dm.train_dataloader()
    first, second = epoch(loader), epoch(loader)
    assert not torch.equal(first[0][0], second[0][0])
    assert dm.state_dict() == {"epochs_served": 2}

    resumed = make(kinetic_csv, batch_size=8)
    resumed.load_state_dict({"epochs_served": 1})
    again = epoch(resumed.train_dataloader())
    for (x, y), (x2, y2) in zip(second, again, strict=True):
        assert torch.equal(x, x2) and torch.equal(y, y2)


def test_negative_values(write_frame, kinetic_frame) -> None:
    dm = make(write_frame(kinetic_frame() - 10.0), transform="quantile")
    assert (dm.train_frame.to_numpy() < 0).all()
    assert torch.isfinite(dm.train_x).all()


class _EpochCounter(pl.LightningModule):
    """Manual optimisation over a whole epoch of mini-batches per training step."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.layer = torch.nn.Linear(3, 1)
        self.steps: list[int] = []

    def training_step(self, batches, batch_idx):  # noqa: ANN001, ANN201
        optimiser = self.optimizers()
        for x, y in batches:
            loss = torch.nn.functional.mse_loss(self.layer(x), y)
            optimiser.zero_grad()
            self.manual_backward(loss)
            optimiser.step()
        self.steps.append(len(batches))

    def validation_step(self, batch, batch_idx):  # noqa: ANN001, ANN201
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_lightning_runs_one_step_per_epoch(kinetic_csv: Path, tmp_path: Path) -> None:
    dm = KineticDataModule(str(kinetic_csv), batch_size=16)
    model = _EpochCounter()
    trainer = pl.Trainer(
        max_epochs=3,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=dm)
    assert model.steps == [3, 3, 3]
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=False)
    assert checkpoint["KineticDataModule"] == {"epochs_served": 3}
    assert isinstance(
        pd.DataFrame(dm.transform.inverse_transform(dm.val_x, dm.features)), pd.DataFrame
    )


@pytest.mark.reference
def test_reference_split(reference_csv: Path) -> None:
    dm = make(reference_csv, batch_size=256)
    assert (len(dm.train_x), len(dm.val_x), len(dm.test_x)) == (4000, 500, 500)
    assert dm.train_x.shape[1] == 19 and dm.steps_per_epoch == 16
    back = dm.transform.inverse_transform(dm.val_x, dm.features)
    np.testing.assert_allclose(back, dm.val_frame[dm.features].to_numpy(), rtol=1e-3)


def test_data_parallel_ranks_get_equal_disjoint_shares(kinetic_csv) -> None:
    from types import SimpleNamespace

    shares = []
    for rank in range(3):
        dm = KineticDataModule(path=str(kinetic_csv), batch_size=7, seed=4)
        dm.setup()
        dm.trainer = SimpleNamespace(world_size=3, global_rank=rank)
        batches = next(iter(dm.train_dataloader()))
        shares.append(torch.cat([x for x, _ in batches]))
    n = len(dm.train_x)
    assert all(len(s) == n // 3 for s in shares)
    rows = {tuple(r.tolist()) for s in shares for r in s}
    assert len(rows) == 3 * (n // 3)
