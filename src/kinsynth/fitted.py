"""What the notebook API hands back: a trained model's small public face.

A kinsynth model is a LightningModule, whose hundred-odd public attributes (hooks, trainer
state, device plumbing) say nothing to a biologist at a prompt. :class:`Model` shows what a user
of the API needs: where the run lives and what it measured, the columns, and the model's own
answers (``sample``, ``iter_sample``, ``encode``, ``reconstruct``, ``kl``, ``save``), in
original units. The LightningModule stays reachable as ``module`` for those who extend kinsynth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kinsynth.models.base import GenerativeModule, TargetRequest


class Model:
    """A trained kinsynth model, as ``kinsynth.fit`` and ``kinsynth.load`` return it."""

    def __init__(self, module: GenerativeModule, run_dir: Path | None = None) -> None:
        self.module = module
        #: the run directory the model was trained or loaded from (None for a lone checkpoint)
        self.run_dir = run_dir

    def __repr__(self) -> str:
        where = f", run_dir={str(self.run_dir)!r}" if self.run_dir is not None else ""
        kind = "conditional " if self.conditional else ""
        return (f"kinsynth.Model({kind}{type(self.module).__name__}, {len(self.columns)} columns, "
                f"target={self.target!r}, latent_dim={self.latent_dim}{where})")

    # ---- what it is ---------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """The design columns it models, in order."""
        return list(self.module.data_columns)

    @property
    def target(self) -> str | None:
        """The response column (None for a features-only model)."""
        return self.module.target

    @property
    def conditional(self) -> bool:
        """Whether it draws designs for a requested ``target`` value."""
        return bool(self.module.conditional)

    @property
    def latent_dim(self) -> int:
        return int(self.module.latent_dim)

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's held-out figures (``metrics.json``), or {} for a lone checkpoint."""
        if self.run_dir is None or not (self.run_dir / "metrics.json").is_file():
            return {}
        return dict(json.loads((self.run_dir / "metrics.json").read_text()))

    # ---- its answers --------------------------------------------------------------------------
    def sample(self, n: int, target: TargetRequest = None, seed: int | None = None,
               chunk_size: int | None = None) -> pd.DataFrame:
        """``n`` new designs in original units: see ``GenerativeModule.sample``."""
        return self.module.sample(n, target=target, seed=seed, chunk_size=chunk_size)

    def iter_sample(self, n: int, target: TargetRequest = None, seed: int | None = None,
                    chunk_size: int | None = None) -> Iterator[pd.DataFrame]:
        """The same rows as :meth:`sample`, chunk by chunk, in flat memory."""
        return self.module.iter_sample(n, target=target, seed=seed, chunk_size=chunk_size)

    def encode(self, frame: pd.DataFrame,
               target: TargetRequest = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Posterior mean and log-variance of each row's latent code (frames, the rows' index)."""
        return self.module.encode(frame, target)

    def reconstruct(self, frame: pd.DataFrame, target: TargetRequest = None) -> pd.DataFrame:
        """Each row encoded and decoded, in original units."""
        return self.module.reconstruct(frame, target)

    def kl(self, frame: pd.DataFrame, target: TargetRequest = None) -> pd.Series:
        """Per-row KL divergence of the latent code from the prior, in nats."""
        return self.module.kl(frame, target)

    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """A checkpoint of plain data that ``kinsynth.load`` reads back (never over a file
        unless ``overwrite``)."""
        return self.module.save(path, overwrite=overwrite)
