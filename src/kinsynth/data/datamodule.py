"""Lightning data module: read, split, scale and serve a kinetic table from device memory.

The tables are small (thousands of rows), so each split lives as one tensor on the training
device and batching is plain tensor slicing: no DataLoader, worker processes or per-row
``__getitem__``. Training gets one item per epoch (a list of all mini-batches, see
:class:`EpochBatches`) so that a training module using manual optimisation pays Lightning's
per-step overhead once per epoch instead of once per mini-batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data.io import KineticTable, read_table, table_from_frame
from kinsynth.data.location import is_embedded, is_unset
from kinsynth.data.transforms import ColumnTransform

__all__ = ["Batch", "EpochBatches", "KineticDataModule", "SingleBatch"]

#: One mini-batch: transformed features (n, n_features) and target (n, 1) or None.
Batch = tuple[torch.Tensor, torch.Tensor | None]

#: Multiplier that separates the seeds of consecutive epochs of runs with neighbouring seeds.
_EPOCH_SEED_STRIDE = 100003


class EpochBatches:
    """Iterable of length 1 whose single item per pass is a whole epoch of mini-batches.

    Each pass draws a fresh permutation of the training rows from a ``torch.Generator`` seeded
    with ``seed * 100003 + epoch_index`` (epochs served so far, kept by the data module so that
    checkpoint/resume continues the same sequence) and slices the permuted tensors with
    ``torch.split``; the last partial batch is kept.
    """

    def __init__(self, datamodule: KineticDataModule) -> None:
        self._dm = datamodule

    def __len__(self) -> int:
        return 1

    @property
    def steps_per_epoch(self) -> int:
        """Number of mini-batches (optimiser steps) in each yielded epoch."""
        return self._dm.steps_per_epoch

    def __iter__(self) -> Iterator[list[Batch]]:
        yield self._dm._next_epoch_batches()


class SingleBatch:
    """Iterable yielding exactly one item: a whole split as one ``(x, y)`` batch.

    A class rather than ``[(x, y)]`` because Lightning reads a list returned by
    ``val_dataloader`` as a list of separate dataloaders.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None) -> None:
        self.x = x
        self.y = y

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Iterator[Batch]:
        yield self.x, self.y


class KineticDataModule(pl.LightningDataModule):
    """Train/val/test splits of a kinetic table, transformed and held as tensors on ``device``.

    See :func:`kinsynth.data.read_table` for ``path``/``target``/``features`` (or pass ``frame``, a
    DataFrame validated the same way, in place of ``path``: a notebook needs no file) and
    :class:`kinsynth.data.ColumnTransform` for ``transform``/``n_quantiles``. The transform is
    fitted on the training split only, so validation and test scores are honest.

    ``categorical`` declares columns of part names (see :func:`kinsynth.data.read_table`, which
    also infers them); each is served as one-hot columns, its levels recorded in the transform.
    """

    def __init__(
        self,
        path: str | None = None,
        target: str | None = "Product_I",
        features: list[str] | None = None,
        split: Sequence[float] = (0.8, 0.1, 0.1),
        seed: int = 0,
        batch_size: int = 256,
        transform: str = "quantile",
        n_quantiles: int = 1000,
        device: str = "cpu",
        frame: pd.DataFrame | None = None,
        categorical: list[str] | None = None,
    ) -> None:
        super().__init__()
        # stored in checkpoints, so a run records its data settings (a frame is data, not one)
        self.save_hyperparameters(ignore=["frame"])
        if frame is not None and not is_unset(path):
            raise KinsynthError("data: give a file (data.path) or a DataFrame, not both")
        self.frame = frame
        self.path = None if is_unset(path) else str(path)
        self.target = target
        self.requested_features = None if features is None else [str(f) for f in features]
        self.categorical = None if categorical is None else [str(c) for c in categorical]
        self.split = _check_split(split)
        self.seed = int(seed)
        self.batch_size = _check_batch_size(batch_size)
        self.transform_kind = transform
        self.n_quantiles = int(n_quantiles)
        self.device = _check_device(device)
        self.epochs_served = 0
        # ColumnTransform validates the kind now, so a typo fails before any file is read.
        self.transform = ColumnTransform(transform, n_quantiles=self.n_quantiles, seed=self.seed)
        self._is_setup = False

    # ------------------------------------------------------------------------------- setup

    def setup(self, stage: str | None = None) -> None:
        """Read, split and scale once; later calls (Lightning calls it per stage) do nothing."""
        if self._is_setup:
            return
        # float32: the precision the models train in, half the memory of a large table
        if self.frame is not None:
            self.table: KineticTable = table_from_frame(
                self.frame, self.target, self.requested_features, dtype=np.float32,
                categorical=self.categorical,
            )
        else:
            self.table = read_table(
                self.path, self.target, self.requested_features, dtype=np.float32,
                categorical=self.categorical,
            )
        self.features: list[str] = list(self.table.features)
        self.columns: list[str] = self.table.columns
        self.levels: dict[str, list[str]] = dict(self.table.levels)
        frames = _split_frame(self.table, self.split, self.seed)
        self.train_frame, self.val_frame, self.test_frame = frames
        self.transform.fit(self.train_frame[self.columns], levels=self.levels)
        self.train_x, self.train_y = self._to_tensors(self.train_frame)
        self.val_x, self.val_y = self._to_tensors(self.val_frame)
        self.test_x, self.test_y = self._to_tensors(self.test_frame)
        self._is_setup = True

    def _to_tensors(self, frame: pd.DataFrame) -> Batch:
        """Transform one split and move it to ``device`` as float32 (x, y) tensors."""
        values = torch.from_numpy(self.transform.transform(frame[self.columns], self.columns))
        values = values.to(self.device)
        n_features = self.transform.width(self.features)
        x = values[:, :n_features].contiguous()
        y = values[:, n_features:].contiguous() if self.target is not None else None
        return x, y

    @property
    def is_embedded(self) -> bool:
        """Whether the data is kinsynth's embedded data set (its simulator is then the oracle)."""
        if self.frame is not None:
            return False
        return is_embedded(self.path)

    # -------------------------------------------------------------------------- dataloaders

    @property
    def n_features(self) -> int:
        """Width of x (available after setup)."""
        self._ensure_setup()
        return len(self.features)

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches per training epoch (last partial batch included)."""
        self._ensure_setup()
        return math.ceil(len(self.train_x) / self.batch_size)

    def train_dataloader(self) -> EpochBatches:
        """One item per epoch: the list of that epoch's mini-batches."""
        self._ensure_setup()
        return EpochBatches(self)

    def val_dataloader(self) -> SingleBatch:
        """The whole validation split as a single batch."""
        self._ensure_setup()
        return SingleBatch(self.val_x, self.val_y)

    def test_dataloader(self) -> SingleBatch:
        """The whole test split as a single batch."""
        self._ensure_setup()
        return SingleBatch(self.test_x, self.test_y)

    def _next_epoch_batches(self) -> list[Batch]:
        """Permute the training rows for the next epoch and cut them into mini-batches.

        The counter is advanced before the batches are handed out, so a checkpoint written at
        the end of epoch k records k + 1 epochs served and a resumed run draws epoch k + 1 next.
        """
        self._ensure_setup()
        generator = torch.Generator().manual_seed(
            self.seed * _EPOCH_SEED_STRIDE + self.epochs_served
        )
        self.epochs_served += 1
        order = torch.randperm(len(self.train_x), generator=generator).to(self.device)
        order = self._this_rank(order)
        xs = torch.split(self.train_x[order], self.batch_size)
        if self.train_y is None:
            return [(x, None) for x in xs]
        ys = torch.split(self.train_y[order], self.batch_size)
        return list(zip(xs, ys, strict=True))

    def _this_rank(self, order: torch.Tensor) -> torch.Tensor:
        """Under data-parallel training each process takes an equal, disjoint share of the epoch.

        Lightning only shards ``DataLoader``s; these batches are tensor slices, so sharding happens
        here. Every rank gets the same number of rows (and so of steps: DDP would hang otherwise);
        up to ``world_size - 1`` rows sit out each epoch, different ones every epoch.
        """
        trainer = getattr(self, "trainer", None)
        world = int(getattr(trainer, "world_size", 1) or 1) if trainer is not None else 1
        if trainer is None or world <= 1:
            return order
        rank = int(trainer.global_rank)
        return order[: (len(order) // world) * world][rank::world]

    def _ensure_setup(self) -> None:
        """Let the module be used outside a Trainer without an explicit ``setup()`` call."""
        if not self._is_setup:
            self.setup()

    # -------------------------------------------------------------------------- checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Saved by Lightning in checkpoints so a resumed run continues the permutations."""
        return {"epochs_served": self.epochs_served}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the epoch counter written by :meth:`state_dict`."""
        self.epochs_served = int(state_dict.get("epochs_served", 0))


# ------------------------------------------------------------------------------ validation


def _check_split(split: Sequence[float]) -> tuple[float, float, float]:
    """Three non-negative fractions (train, val, test) that sum to 1."""
    fractions = tuple(float(f) for f in split)
    if len(fractions) != 3 or any(not math.isfinite(f) or f < 0 for f in fractions):
        raise KinsynthError(
            "data.split: expected three non-negative fractions (train, val, test), "
            f"got {list(split)}"
        )
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise KinsynthError(f"data.split: fractions {list(fractions)} must sum to 1")
    return fractions


def _check_batch_size(batch_size: int) -> int:
    if int(batch_size) < 1:
        raise KinsynthError(f"data.batch_size: expected a positive integer, got {batch_size}")
    return int(batch_size)


def _check_device(device: str) -> torch.device:
    """Parse the device now so a typo or a missing GPU fails before any work is done.

    ``auto`` means the CPU here; the training entry point replaces it with the trainer's device
    before building the module, so data and model always share a device.
    """
    if device == "auto":
        device = "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise KinsynthError(
            f"data.device: unknown device '{device}', expected e.g. cpu or cuda"
        ) from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise KinsynthError(f"data.device: '{device}' requested but CUDA is not available")
    return parsed


def _split_sizes(n: int, split: tuple[float, float, float], path: str) -> tuple[int, int, int]:
    """Rounded val/test sizes, train takes the rest; enforce the minimum rows per split."""
    n_val = round(n * split[1])
    n_test = round(n * split[2])
    n_train = n - n_val - n_test
    if n_train < 1 or n_val < 2 or n_test < 2:
        raise KinsynthError(
            f"too few rows ({n}) for split {list(split)}: got train/val/test = "
            f"{n_train}/{n_val}/{n_test} rows from data file '{path}', need at least 1/2/2"
        )
    return n_train, n_val, n_test


def _split_frame(
    table: KineticTable, split: tuple[float, float, float], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seeded random split (``numpy.random.default_rng(seed).permutation``) into train/val/test.

    Depends only on the row count and seed, so the same file and seed give the same split.
    """
    n_train, n_val, _ = _split_sizes(len(table.frame), split, table.path)
    order = np.random.default_rng(seed).permutation(len(table.frame))
    frame = table.frame
    return (
        frame.iloc[order[:n_train]],
        frame.iloc[order[n_train : n_train + n_val]],
        frame.iloc[order[n_train + n_val :]],
    )
