"""Loading a trained model from a run directory or a checkpoint file."""

from __future__ import annotations

from pathlib import Path

from kinsynth.core.errors import KinsynthError
from kinsynth.models.base import GenerativeModule
from kinsynth.models.checkpoints import SECTION, read_checkpoint
from kinsynth.models.registry import resolve_model_class
from kinsynth.runs.contract import CHECKPOINTS, LAST_CHECKPOINT


def find_checkpoint(run: str | Path) -> Path:
    """A run directory's last.ckpt (the final model, which its metrics.json describes), else its
    best-validation checkpoint, or the given .ckpt file itself."""
    path = Path(run)
    if path.is_file():
        return path
    if not path.is_dir():
        raise KinsynthError(f"run={run}: no such run directory or checkpoint file")
    checkpoints = path / CHECKPOINTS
    if (path / LAST_CHECKPOINT).is_file():
        return path / LAST_CHECKPOINT
    best = sorted(checkpoints.glob("*.ckpt"))
    if best:
        return best[-1]
    raise KinsynthError(f"run={run}: expected a checkpoint in {checkpoints}, found none")


def load(run: str | Path, map_location: str = "cpu") -> GenerativeModule:
    """Load any kinsynth model; the checkpoint names its class from kinsynth's registry.

    The file is checked (plain data only, a registered class) before Lightning reads it, and
    Lightning reads it again with ``weights_only=True``: no step can unpickle an object.
    """
    path = find_checkpoint(run)
    checkpoint = read_checkpoint(path, map_location=map_location)
    cls = resolve_model_class(checkpoint[SECTION]["class"], str(path))
    try:
        model = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    except (RuntimeError, KeyError, TypeError, ValueError) as error:
        # weights that do not fit the recorded model (renamed or reshaped state-dict entries):
        # torch's message lists every key over many lines; its start says what is wrong
        reason = " ".join(str(error).split()) or type(error).__name__
        reason = reason if len(reason) <= 300 else reason[:297] + "..."
        raise KinsynthError(f"{path}: its weights do not fit the {cls.__name__} it records "
                            f"({reason}); the checkpoint is damaged or was edited") from None
    model.eval()
    return model
