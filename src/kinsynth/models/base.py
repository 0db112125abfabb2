"""The small API every kinsynth model speaks, in original units.

Callbacks, the report and ``generate.py`` only ever call ``sample``, ``reconstruct``, ``encode`` and
``kl``; a model supplies the same four operations on scaled tensors. Keeping the fitted transform
and
a bank of training targets inside the module (and its checkpoint) is what lets a checkpoint alone
produce designs in the units a metabolic engineer reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch

from kinsynth.core.counts import positive_int, whole_number
from kinsynth.core.errors import KinsynthError
from kinsynth.core.memory import available_bytes, gib
from kinsynth.models.checkpoints import SECTION, kinsynth_section, transform_from_checkpoint
from kinsynth.models.elbo import kl_to_standard_normal
from kinsynth.models.limits import MAX_LATENT_DIM
from kinsynth.models.trained_elsewhere import TrainedElsewhere

TargetRequest = float | int | tuple[float, float] | str | Sequence[float] | np.ndarray | None
_TARGET_BANK_SIZE = 4096
#: Rows per unit of randomness in sampling: each block has its own seeded generators, so the rows
#: do not depend on how a caller chunks them. Big enough that the decoder's matmuls stay efficient.
SAMPLE_BLOCK_ROWS = 16384
#: Rows per yielded chunk by default (8 blocks): about 21 MB of float64 for 20 columns, whatever
#: ``n`` is; a multiple of the block so that no chunk is cut out of a block.
DEFAULT_CHUNK_ROWS = 8 * SAMPLE_BLOCK_ROWS


def parse_target(request: TargetRequest) -> float | tuple[float, float] | np.ndarray | None:
    """Turn a user's target request into a number, a (lo, hi) range, or per-row values.

    Strings come from the command line: ``"1.4"`` or ``"1.2:1.5"`` (a range drawn uniformly).
    NaN and infinite requests are refused: a design for them would be a column of NaN.
    """
    parsed = _parse_target(request)
    if parsed is not None and not np.isfinite(np.asarray(parsed, dtype=np.float64)).all():
        raise KinsynthError(f"target={request!r}: expected finite numbers, not NaN or infinity")
    return parsed


def _parse_target(request: TargetRequest) -> float | tuple[float, float] | np.ndarray | None:
    if request is None or isinstance(request, (float, int, np.floating, np.integer)):
        return None if request is None else float(request)
    if isinstance(request, str):
        parts = request.split(":")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise KinsynthError(
                f"target={request!r}: expected a number like 1.4 or a range like 1.2:1.5"
            ) from None
        if len(values) == 1:
            return values[0]
        if len(values) == 2 and values[0] <= values[1]:
            return (values[0], values[1])
        raise KinsynthError(f"target={request!r}: expected a number or a range lo:hi with lo <= hi")
    if isinstance(request, tuple) and len(request) == 2:
        lo, hi = float(request[0]), float(request[1])
        if lo > hi:
            raise KinsynthError(f"target range {request!r}: expected lo <= hi")
        return (lo, hi)
    try:
        return np.asarray(request, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        shown = repr(request)
        raise KinsynthError(
            f"target={shown if len(shown) <= 60 else shown[:57] + '...'}: expected a number, a "
            "range lo:hi or (lo, hi), or one number per row"
        ) from None


def sample_rows(n: Any) -> int:
    """The number of rows ``sample`` was asked for, checked as ``generate.py`` checks ``n=``.

    ``-1``, ``2.5`` and ``True`` are refused by the shared count rule; a string is refused too,
    because in Python ``"10"`` is a caller's mistake, not a command-line value. ``0`` gives an
    empty frame, a valid answer to a notebook's question.
    """
    if isinstance(n, str):
        raise KinsynthError(f"n={n!r}: expected a whole number of rows, not a string")
    return whole_number("n", n, minimum=0)


def _on_device(batch: Any, device: torch.device) -> bool:
    """Whether ``batch`` is tensors (or None) in lists and tuples, each already on ``device``."""
    if batch is None:
        return True
    if isinstance(batch, torch.Tensor):
        return batch.device == device
    if isinstance(batch, (list, tuple)):
        return all(_on_device(item, device) for item in batch)
    return False


class GenerativeModule(pl.LightningModule):
    """Base of every model: column bookkeeping, unit conversion, and the public API.

    ``conditional`` models learn p(features | target); unconditional ``joint`` models learn the
    features and the target together (so their samples carry a target); otherwise only features.

    ``levels`` names the categorical features (part names) with their levels: each is one block
    of one-hot columns in model space (:attr:`categorical_blocks`), and :meth:`sample` and
    :meth:`reconstruct` return its level names.
    """

    #: the name a checkpoint records for this class (kinsynth.models.registry maps it back); part
    #: of the checkpoint format, so renaming or moving the class leaves it unchanged
    checkpoint_name: ClassVar[str] = ""
    #: whether the constructor takes the settings of ``model.network`` (hidden, activation,
    #: likelihood, output_activation); a model without one leaves that config node unused
    has_network: ClassVar[bool] = False
    #: a buffer (registered in __init__): sorted training targets, see attach_data
    target_bank: torch.Tensor
    #: set when the model's training was computed elsewhere (a stack of models trained as one):
    #: its Trainer's epochs then restore each epoch's outcome instead of computing it
    training_replay: TrainedElsewhere | None = None

    def __init__(
        self,
        feature_columns: Sequence[str],
        target: str | None,
        latent_dim: int,
        conditional: bool,
        joint: bool,
        levels: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__()
        if conditional and target is None:
            raise KinsynthError(
                "model.conditional=true needs a target column (data.target is null)"
            )
        self.features = list(feature_columns)
        self.target = target
        self.levels = _checked_levels(levels, self.features)
        self.latent_dim = positive_int("latent_dim", latent_dim, MAX_LATENT_DIM)
        self.conditional = bool(conditional)
        self.joint = bool(joint) and not self.conditional and target is not None
        self.transform: Any = None
        self.register_buffer("target_bank", torch.zeros(0, dtype=torch.float64))

    # ---- column bookkeeping -------------------------------------------------------------------
    @property
    def data_columns(self) -> list[str]:
        """Columns the model generates."""
        if self.joint and self.target is not None:  # a joint model always has a target
            return [*self.features, self.target]
        return list(self.features)

    @property
    def data_width(self) -> int:
        """Model-space width of the generated columns: one per level of a categorical column."""
        return sum(len(self.levels.get(name, [None])) for name in self.data_columns)

    @property
    def categorical_blocks(self) -> list[tuple[int, int]]:
        """``(start, stop)`` of each categorical column's one-hot block in model space."""
        blocks, start = [], 0
        for name in self.data_columns:
            width = len(self.levels.get(name, [None]))
            if name in self.levels:
                blocks.append((start, start + width))
            start += width
        return blocks

    @property
    def condition_columns(self) -> list[str]:
        return [self.target] if self.conditional and self.target is not None else []

    def split_batch(
        self, x: torch.Tensor, y: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Map a DataModule batch (features, target) to (generated data, condition)."""
        if self.joint:
            assert y is not None, "a joint model's batches carry the target"
            return torch.cat([x, y], dim=1), None
        return x, (y if self.conditional else None)

    def transfer_batch_to_device(self, batch: Any, device: torch.device,
                                 dataloader_idx: int) -> Any:
        """The batch as it is when every tensor in it is already on ``device``.

        The data module keeps its splits on the training device and serves an epoch's batches as
        one list; Lightning's own transfer walks that list generically every epoch, which costs
        more than the check here on a small model.
        """
        if _on_device(batch, device):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def attach_data(self, transform: Any, train_targets: np.ndarray | None) -> None:
        """Keep the fitted transform and a bank of training targets for unit-aware sampling."""
        self.transform = transform
        if train_targets is not None and len(train_targets):
            values = np.sort(np.asarray(train_targets, dtype=np.float64).reshape(-1))
            if len(values) > _TARGET_BANK_SIZE:
                values = values[
                    np.linspace(0, len(values) - 1, _TARGET_BANK_SIZE).round().astype(int)
                ]
            self.target_bank = torch.as_tensor(values, device=self.target_bank.device)

    # ---- checkpoint: the transform travels with the weights, as plain data ---------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if not type(self).checkpoint_name:
            raise KinsynthError(f"{type(self).__qualname__} has no checkpoint_name: not a model "
                                "kinsynth can save (see kinsynth.models.registry)")
        checkpoint[SECTION] = kinsynth_section(type(self).checkpoint_name, self.transform)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the model (weights, settings, data transform) as a checkpoint ``kinsynth.load``
        reads: the same plain-data format a training run writes, without its optimiser state.

        An existing file is refused unless ``overwrite``; the file appears whole or not at all.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise KinsynthError(f"{path}: file exists; choose another name or pass overwrite=True")
        checkpoint: dict[str, Any] = {
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
            "hyper_parameters": dict(self.hparams),
            "pytorch-lightning_version": pl.__version__,
        }
        self.on_save_checkpoint(checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
        return path

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # every load path (kinsynth.load, generate.py, Lightning's resume) passes here: the
        # transform is rebuilt from tensors and strings, an old pickled one is refused
        self.transform = transform_from_checkpoint(checkpoint)
        bank = checkpoint.get("state_dict", {}).get("target_bank")
        if bank is not None:
            self.target_bank = bank.clone()

    # ---- what a model implements on scaled tensors ---------------------------------------------
    def sample_scaled(
        self, n: int, condition: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        raise NotImplementedError

    def encode_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def reconstruct_scaled(
        self, data: torch.Tensor, condition: torch.Tensor | None
    ) -> torch.Tensor:
        raise NotImplementedError

    def kl_scaled(self, data: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """Per-row KL(q(z|x) || p(z)); diagonal posteriors use the closed form."""
        mu, log_var = self.encode_scaled(data, condition)
        return kl_to_standard_normal(mu, log_var).sum(dim=1)

    # ---- the public API, original units ---------------------------------------------------------
    def _require_transform(self) -> None:
        if self.transform is None:
            raise KinsynthError(
                "model has no fitted data transform: train it or load it from a run"
            )

    def _scale(self, values: np.ndarray | pd.DataFrame, columns: Sequence[str]) -> torch.Tensor:
        if not isinstance(values, pd.DataFrame):
            values = np.asarray(values, dtype=np.float64)
        scaled = self.transform.transform(values, columns=list(columns))
        return torch.as_tensor(scaled, dtype=torch.float32, device=self.device)

    def _unscale(self, values: torch.Tensor, columns: Sequence[str]) -> np.ndarray:
        return self.transform.inverse_transform(
            values.detach().cpu().numpy(), columns=list(columns)
        )

    def resolve_targets(
        self, n: int, target: TargetRequest, rng: np.random.Generator
    ) -> np.ndarray:
        """Per-row targets for conditional sampling: drawn from training targets when absent."""
        request = parse_target(target)
        if request is None:
            if self.target_bank.numel() == 0:
                raise KinsynthError("model has no training targets to draw from: pass target=")
            bank = self.target_bank.cpu().numpy()
            return bank[rng.integers(0, len(bank), size=n)]
        if isinstance(request, float):
            return np.full(n, request)
        if isinstance(request, tuple):
            return rng.uniform(request[0], request[1], size=n)
        if len(request) != n:
            raise KinsynthError(f"target: got {len(request)} values for n={n} rows")
        return request

    def sample(
        self,
        n: int,
        target: TargetRequest = None,
        seed: int | None = None,
        chunk_size: int | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` new rows in original units (features, plus the target where there is one).

        ``target`` (conditional models only): a number, a ``(lo, hi)`` range or ``"lo:hi"`` string
        drawn uniformly, per-row values, or None to draw from the training targets. The rows are
        made ``chunk_size`` at a time (see :meth:`iter_sample`); the result does not depend on it.
        """
        self._check_room(whole_number("n", n, 0))
        chunks = list(self.iter_sample(n, target=target, seed=seed, chunk_size=chunk_size))
        if not chunks:
            columns = self.data_columns + ([self.target] if self.conditional else [])
            return pd.DataFrame(columns=columns, dtype=np.float64)
        if len(chunks) == 1:
            return chunks[0]
        return pd.concat(chunks, ignore_index=True)

    def _check_room(self, n: int) -> None:
        """Refuse, before a row is made, a table that would not fit in memory: the chunks and
        the frame they are joined into both exist while it is built."""
        columns = len(self.data_columns) + (1 if self.conditional else 0)
        needed = 2 * n * columns * np.dtype(np.float64).itemsize
        available = available_bytes()
        if available is not None and needed > available:
            raise KinsynthError(
                f"sample(n={n}): {n} rows of {columns} columns need about {gib(needed)} of "
                f"memory, {gib(available)} is available; stream them with iter_sample(n) or "
                "write them to a file with generate.py n=... out=..."
            )

    def iter_sample(
        self,
        n: int,
        target: TargetRequest = None,
        seed: int | None = None,
        chunk_size: int | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield ``n`` rows as DataFrames of at most ``chunk_size`` rows, so memory stays flat.

        Randomness is drawn per fixed block of :data:`SAMPLE_BLOCK_ROWS` rows, each block from its
        own generators seeded by ``(seed, block index)``: the same seed gives the same rows
        whatever the chunk size, and a chunk never needs the rows before it.
        """
        self._require_transform()
        if target is not None and not self.conditional:
            raise KinsynthError(
                "target= was given but this model is unconditional: train a conditional model "
                "(model=cvae, model=bcvae or model=cppca) to generate designs for a requested flux"
            )
        n = sample_rows(n)
        chunk = DEFAULT_CHUNK_ROWS if chunk_size is None else whole_number(
            "chunk_size", chunk_size, 1)
        if seed is not None:
            seed = whole_number("seed", seed, 0)  # numpy refuses a negative seed with a traceback
        request = parse_target(target) if self.conditional else None
        if isinstance(request, np.ndarray) and len(request) != n:
            raise KinsynthError(f"target: got {len(request)} values for n={n} rows")
        root = int(np.random.default_rng(seed).integers(0, 2**62))
        columns = self.data_columns + ([self.target] if self.conditional else [])
        pending: list[np.ndarray] = []
        held = 0
        for start in range(0, n, SAMPLE_BLOCK_ROWS):
            rows = min(SAMPLE_BLOCK_ROWS, n - start)
            pending.append(self._sample_block(rows, start, request, root))
            held += rows
            while held >= chunk or (start + rows == n and held > 0):
                values = pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending.clear()
                if len(values) > chunk:  # a copy, so the yielded rows can be freed
                    pending.append(values[chunk:].copy())
                    values = values[:chunk]
                held = len(pending[0]) if pending else 0
                yield self._named(pd.DataFrame(values, columns=columns, copy=False))
                del values

    @torch.no_grad()
    def _sample_block(
        self,
        rows: int,
        start: int,
        request: float | tuple[float, float] | np.ndarray | None,
        root: int,
    ) -> np.ndarray:
        """Rows ``start .. start + rows`` (data columns, then the target when conditional)."""
        block = start // SAMPLE_BLOCK_ROWS
        rng = np.random.default_rng([root, block])
        generator = torch.Generator(device=self.device)
        generator.manual_seed(int(rng.integers(0, 2**62)))
        was_training = self.training
        self.eval()
        try:
            condition, targets = None, None
            if self.conditional:
                if isinstance(request, np.ndarray):
                    targets = request[start : start + rows]
                else:
                    targets = self.resolve_targets(rows, request, rng)
                condition = self._scale(targets[:, None], self.condition_columns)
            scaled = self.sample_scaled(rows, condition, generator)
        finally:
            self.train(was_training)
        values = self._unscale(scaled, self.data_columns)
        if targets is None:
            return values
        return np.concatenate([values, np.asarray(targets, dtype=np.float64)[:, None]], axis=1)

    def _named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Level codes of categorical columns as their part names (a numeric model: unchanged)."""
        return self.transform.names(frame) if self.levels else frame

    def _inputs(
        self, frame: pd.DataFrame, target: TargetRequest
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if not isinstance(frame, pd.DataFrame):
            raise KinsynthError(f"input table: expected a pandas DataFrame, got "
                                f"{type(frame).__name__}")
        missing = [c for c in self.data_columns if c not in frame.columns]
        if missing:
            raise KinsynthError(f"input table lacks the model's column(s) {missing}")
        given_target: list[str] = [self.target] if (
            self.conditional and target is None and self.target is not None
            and self.target in frame.columns) else []
        _refuse_missing_values(frame, [*self.data_columns, *given_target])
        for name in [*self.data_columns, *given_target]:
            if name in self.levels:
                continue  # part names: the transform names a level it does not know
            series = frame[name]
            if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
                raise KinsynthError(f"input table: column {name!r} holds {series.dtype} values, "
                                    "expected numbers")
            bad = int((~np.isfinite(series.to_numpy(dtype=np.float64))).sum())
            if bad:
                raise KinsynthError(f"input table: column {name!r} has {bad} NaN or infinite "
                                    "value(s), expected finite numbers")
        data = self._scale(frame[self.data_columns] if self.levels
                           else frame[self.data_columns].to_numpy(), self.data_columns)
        if not self.conditional:
            return data, None
        if target is None:
            if self.target not in frame.columns:
                raise KinsynthError(f"conditional model needs column {self.target!r} or target=")
            column: np.ndarray = frame[self.target].to_numpy(dtype=np.float64)
        else:
            column = self.resolve_targets(len(frame), target, np.random.default_rng(0))
        return data, self._scale(column[:, None], self.condition_columns)

    @torch.no_grad()
    def reconstruct(self, frame: pd.DataFrame, target: TargetRequest = None) -> pd.DataFrame:
        """Encode rows and decode their posterior mean, in original units."""
        self._require_transform()
        self.eval()
        data, condition = self._inputs(frame, target)
        recon = self.reconstruct_scaled(data, condition)
        return self._named(pd.DataFrame(
            self._unscale(recon, self.data_columns), columns=self.data_columns, index=frame.index
        ))

    def latent_columns(self) -> list[str]:
        """Names of the latent coordinates, the columns of :meth:`encode`'s frames."""
        return [f"z{i}" for i in range(self.latent_dim)]

    @torch.no_grad()
    def encode(
        self, frame: pd.DataFrame, target: TargetRequest = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Posterior mean and log-variance of the latent code for each row, as frames with the
        input's index (columns ``z0, z1, ...``), so a row's code stays beside its design."""
        self._require_transform()
        self.eval()
        data, condition = self._inputs(frame, target)
        mu, log_var = self.encode_scaled(data, condition)
        columns = self.latent_columns()
        return (
            pd.DataFrame(mu.cpu().numpy().astype(np.float64), columns=columns, index=frame.index),
            pd.DataFrame(log_var.cpu().numpy().astype(np.float64), columns=columns,
                         index=frame.index),
        )

    @torch.no_grad()
    def kl(self, frame: pd.DataFrame, target: TargetRequest = None) -> pd.Series:
        """Per-row KL(q(z|x) || N(0, I)) in nats, a Series with the input's index."""
        self._require_transform()
        self.eval()
        data, condition = self._inputs(frame, target)
        values = self.kl_scaled(data, condition).cpu().numpy().astype(np.float64)
        return pd.Series(values, index=frame.index, name="kl")


def _checked_levels(
    levels: dict[str, list[str]] | None, features: list[str]
) -> dict[str, list[str]]:
    """Levels of categorical features as plain lists of str (what a checkpoint may hold)."""
    checked = {str(name): [str(v) for v in values] for name, values in (levels or {}).items()}
    unknown = [name for name in checked if name not in features]
    if unknown:
        raise KinsynthError(f"model levels: {unknown} are not feature columns {features}")
    few = [name for name, values in checked.items() if len(values) < 2]
    if few:
        raise KinsynthError(f"model levels: {few} need at least two levels each")
    return checked


def _refuse_missing_values(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """A NaN in an input row would come back as a NaN code or reconstruction: one line instead,
    naming the first column and row that lack a value."""
    for column in columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            row = frame.index[int(np.argmax(missing))]
            raise KinsynthError(
                f"input table, column {column!r}: row {row!r} has no number (NaN or empty); "
                "drop or fill such rows first"
            )
