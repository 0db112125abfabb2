"""Every random state training draws from, saved in checkpoints so a resumed run continues exactly.

Training noise (the reparameterisation draws) comes from torch's global generator; numpy's and
Python's global states are saved too, for any library code that draws from them. The data
module's per-epoch permutations are seeded from its own epoch counter (saved by the data module)
and validation and evaluation draw from forked or seeded states, so these global states are all
that a checkpoint must add. They are stored as tensors and lists of ints (plain data, readable
with ``weights_only=True``), and restored at the start of training, after Lightning has restored
the weights and optimiser, so ``seed_everything`` before a resume changes nothing.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


def capture() -> dict[str, Any]:
    """The global random states as plain data."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.as_tensor(np.asarray(keys, dtype=np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": _python_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def _python_state() -> dict[str, Any]:
    version, internal, gauss_next = random.getstate()
    return {"version": int(version), "internal": list(internal), "gauss_next": gauss_next}


def restore(state: dict[str, Any]) -> None:
    """Set the global random states from :func:`capture`'s output."""
    torch.set_rng_state(state["torch"].cpu().to(torch.uint8))
    numpy_state = state["numpy"]
    np.random.set_state((
        numpy_state["kind"],
        numpy_state["keys"].cpu().numpy().astype(np.uint32),
        int(numpy_state["position"]),
        int(numpy_state["has_gauss"]),
        float(numpy_state["cached_gaussian"]),
    ))
    python_state = state["python"]
    random.setstate(
        (python_state["version"], tuple(python_state["internal"]), python_state["gauss_next"])
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu().to(torch.uint8) for s in state["cuda"]])


class RandomStateCheckpoint(pl.Callback):
    """Writes the random states into every checkpoint and restores them when a run resumes."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return capture()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # after Lightning restored weights, optimiser and loops: nothing draws between here and
        # the first resumed step, as nothing drew between the checkpoint and the next epoch
        if self._pending is not None:
            restore(self._pending)
            self._pending = None
