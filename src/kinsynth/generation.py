"""Generating designs from a trained run, written atomically: a failure never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from kinsynth.errors import KinsynthError
from kinsynth.models import load
from kinsynth.models.base import TargetRequest


def write_csv_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        frame.to_csv(tmp, index=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def generate_designs(
    run: str | Path, n: int, target: TargetRequest, seed: int, out: str | Path
) -> pd.DataFrame:
    """Sample ``n`` designs from the run's model and write them to ``out`` (CSV, original units)."""
    if int(n) < 1:
        raise KinsynthError(f"n={n}: expected a positive number of designs")
    model = load(run)
    designs = model.sample(int(n), target=target, seed=int(seed))
    write_csv_atomically(designs, Path(out))
    return designs
