"""What a kinsynth checkpoint may contain, and reading one without running code.

A checkpoint is a torch file read with ``torch.load(weights_only=True)``: tensors, numbers,
strings and containers only. kinsynth's own section (``checkpoint["kinsynth"]``) holds a format
version, the model's registry name and the fitted data transform as plain data. Every other value
is checked too: bytes (a pickle smuggled inside allowed types) or any other object are refused in
one line, so no path (``generate.py``, ``kinsynth.load``, ``resume=``) ever unpickles user data.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data.transforms import ColumnTransform

if TYPE_CHECKING:
    from pytorch_lightning.plugins.io import TorchCheckpointIO

FORMAT_VERSION = 2
SECTION = "kinsynth"
_PLAIN = (str, int, float, bool, type(None), torch.Tensor, torch.Size, torch.dtype)


def kinsynth_section(class_name: str, transform: ColumnTransform | None) -> dict[str, Any]:
    """The section a model writes into its checkpoints."""
    return {
        "format": FORMAT_VERSION,
        "class": class_name,
        "transform": None if transform is None else transform.to_state(),
    }


def _check_plain(value: Any, where: str, source: str) -> None:
    """Refuse anything but tensors, numbers, strings and containers of them."""
    if isinstance(value, (dict, OrderedDict)):
        for key, item in value.items():
            if not isinstance(key, (str, int)):
                raise KinsynthError(f"{source}: key {key!r} under {where} is not plain data")
            _check_plain(item, f"{where}.{key}", source)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]", source)
    elif not isinstance(value, _PLAIN):
        raise KinsynthError(
            f"{source}: {where} holds a {type(value).__name__}, not plain data; refusing it"
        )


def check_section(checkpoint: Any, source: str) -> dict[str, Any]:
    """kinsynth's section of a loaded checkpoint, refusing old or foreign formats in one line."""
    if not isinstance(checkpoint, dict):
        raise KinsynthError(f"{source}: not a kinsynth checkpoint (not a dict)")
    section = checkpoint.get(SECTION)
    if not isinstance(section, dict) or "class" not in section:
        raise KinsynthError(f"{source}: not a kinsynth checkpoint (no model class recorded)")
    if isinstance(section.get("transform"), (bytes, bytearray)) or "format" not in section:
        raise KinsynthError(
            f"{source}: an old-format checkpoint (its data transform is a pickle, which could run "
            "code); kinsynth no longer reads it: retrain the model with this version"
        )
    if section["format"] != FORMAT_VERSION:
        raise KinsynthError(
            f"{source}: checkpoint format {section['format']!r}, expected {FORMAT_VERSION}: "
            "retrain the model with this version"
        )
    _check_plain(checkpoint, "checkpoint", source)
    return section


def read_checkpoint(path: str | Path, map_location: str = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint file; an unreadable, truncated or unsafe file is one line."""
    source = str(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for a bad or unsafe file
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise KinsynthError(
            f"{source}: not a readable kinsynth checkpoint (truncated, corrupt, or holding "
            f"objects other than tensors and plain data: {reason})"
        ) from None
    check_section(checkpoint, source)
    return checkpoint


def transform_from_checkpoint(checkpoint: dict[str, Any]) -> ColumnTransform | None:
    """Rebuild the fitted transform from a checkpoint's plain data (None when unfitted)."""
    section = check_section(checkpoint, "checkpoint")
    state = section.get("transform")
    return None if state is None else ColumnTransform.from_state(state)


def atomic_checkpoint_io() -> TorchCheckpointIO:
    """Lightning's checkpoint writer, writing beside the checkpoint and renaming it into place.

    Lightning's own writer stages the file in the system's temporary folder and moves it: across
    filesystems a move is a copy, and a full disk leaves a truncated ``last.ckpt`` under its real
    name. Here a checkpoint is complete under its name or absent (the earlier one kept).
    """
    from lightning_fabric.utilities.cloud_io import get_filesystem
    from pytorch_lightning.plugins.io import TorchCheckpointIO

    from kinsynth.core.writing import atomic_path

    class AtomicCheckpointIO(TorchCheckpointIO):
        def save_checkpoint(
            self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
        ) -> None:
            if storage_options is not None:
                raise TypeError("AtomicCheckpointIO takes no storage_options")
            get_filesystem(path).makedirs(str(Path(path).parent), exist_ok=True)
            # serialised in memory first, as Lightning does: torch's own file writer reports a
            # full disk as a RuntimeError ("iostream error"), a Python write as ENOSPC
            with atomic_path(path) as tmp:
                buffer = io.BytesIO()
                torch.save(checkpoint, buffer)
                with open(tmp, "wb") as file:
                    file.write(buffer.getbuffer())
                    file.flush()
                    os.fsync(file.fileno())

    return AtomicCheckpointIO()
