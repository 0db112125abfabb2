"""Loading a trained model from a run directory or a checkpoint file."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from kinsynth.errors import KinsynthError
from kinsynth.models.base import GenerativeModule


def find_checkpoint(run: str | Path) -> Path:
    """A run directory's last.ckpt (the final model, which its metrics.json describes), else its
    best-validation checkpoint, or the given .ckpt file itself."""
    path = Path(run)
    if path.is_file():
        return path
    if not path.is_dir():
        raise KinsynthError(f"run={run}: no such run directory or checkpoint file")
    checkpoints = path / "checkpoints"
    if (checkpoints / "last.ckpt").is_file():
        return checkpoints / "last.ckpt"
    best = sorted(checkpoints.glob("*.ckpt"))
    if best:
        return best[-1]
    raise KinsynthError(f"run={run}: expected a checkpoint in {checkpoints}, found none")


def load(run: str | Path, map_location: str = "cpu") -> GenerativeModule:
    """Load any kinsynth model; the checkpoint names its own class, so callers never ask which."""
    path = find_checkpoint(run)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise KinsynthError(f"{path}: not a readable kinsynth checkpoint ({error})") from None
    class_path = checkpoint.get("kinsynth", {}).get("class")
    if not class_path:
        raise KinsynthError(f"{path}: not a kinsynth checkpoint (no model class recorded)")
    module_name, _, class_name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    model = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    model.eval()
    return model
