"""Figures that depend only on the data split, kept on disk so the next run does not pay for them.

The real-vs-real and naive baselines are about half of a short run's evaluation, and every run on
the same split (each job of a sweep, every rerun) computes the same numbers. Here they are stored
as JSON under a key made of everything they depend on: the split's rows (a hash of the training
and test frames), the columns, the target, the seed, the row caps, the source of the figure code
and the versions of the libraries that compute them. Any change to one of those is a new key, so a
stored entry is never stale; an unreadable or unwritable entry is recomputed, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from kinsynth.core.writing import atomic_path

log = logging.getLogger(__name__)

#: environment variable naming the cache folder (else $XDG_CACHE_HOME/kinsynth, ~/.cache/kinsynth)
CACHE_ENV = "KINSYNTH_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$KINSYNTH_CACHE_DIR``, else ``$XDG_CACHE_HOME/kinsynth``, else ``~/.cache/kinsynth``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kinsynth"


@functools.cache
def _code_fingerprint() -> str:
    """The figure code and the libraries it calls: a change to either is a new key."""
    import numpy
    import scipy
    import sklearn

    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(f"{numpy.__version__} {scipy.__version__} {sklearn.__version__}".encode())
    return digest.hexdigest()


def split_key(name: str, train: pd.DataFrame, test: pd.DataFrame, **settings: Any) -> str:
    """A file-name-safe key for figure set ``name`` on this split with these settings."""
    digest = hashlib.sha256(f"{name}\n{_code_fingerprint()}\n{sorted(settings.items())!r}".encode())
    for frame in (train, test):
        digest.update(repr(list(frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return f"{name}-{digest.hexdigest()[:32]}"


def _read(path: Path) -> dict[str, float] | None:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or not all(
        isinstance(v, (int, float)) for v in stored.values()
    ):
        return None
    return {str(k): float(v) for k, v in stored.items()}


def _write(path: Path, figures: dict[str, float]) -> None:
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(figures, allow_nan=True))
    except Exception as error:  # noqa: BLE001 - a cache that cannot be written is only slower
        log.debug("baseline cache %s not written: %s", path, error)


def cached_figures(
    folder: Path | None, key: str, compute: Callable[[], dict[str, float]]
) -> tuple[dict[str, float], bool]:
    """``compute()``'s figures, read from ``folder/key.json`` when stored there; whether read.

    ``folder=None``: no disk cache, always computed. Values are stored as JSON numbers (NaN
    included), which read back bit for bit.
    """
    path = None if folder is None else Path(folder) / f"{key}.json"
    if path is not None and path.is_file():
        stored = _read(path)
        if stored is not None:
            return stored, True
    figures = {k: float(v) if v is not None else math.nan for k, v in compute().items()}
    if path is not None:
        _write(path, figures)
    return figures, False


def stored_figures(folder: Path | None, key: str) -> dict[str, float] | None:
    """The figures stored under ``key``, or None (nothing computed)."""
    if folder is None:
        return None
    path = Path(folder) / f"{key}.json"
    return _read(path) if path.is_file() else None
