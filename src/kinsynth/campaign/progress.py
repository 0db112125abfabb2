"""A campaign's state after each cycle, so a stopped campaign loses nothing and continues exactly.

After every cycle the loop writes, each atomically: ``built.csv`` and ``cycles.csv`` (what a
user reads, 6 significant digits) and ``campaign_state.npz`` (what ``resume=`` reads: every
build and cycle row at full precision, the true fluxes, both random generators' states and the
settings that define the campaign). A resumed campaign restores them and runs the next cycle as
the uninterrupted campaign would have: the same seed gives the same ``built.csv``.

The state file holds arrays and one JSON string, read with ``allow_pickle=False``: it cannot
run code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import atomic_path
from kinsynth.runs.contract import CAMPAIGN_STATE as STATE

#: the settings that define a campaign: a resumed one must keep them (``cycles`` may grow)
IDENTITY = ("seed", "strategy", "space", "noise", "pool.n", "pool.seed", "pool.max_enumerate",
            "initial_designs", "designs_per_cycle", "metrics")
VERSION = 1


def identity(cfg: DictConfig) -> dict[str, Any]:
    """The campaign-defining settings of ``cfg``, resolved to plain values."""
    out = {}
    for key in IDENTITY:
        value = OmegaConf.select(cfg, key, default=None)
        out[key] = OmegaConf.to_container(value, resolve=True) if isinstance(
            value, (DictConfig, ListConfig)) else value
    return json.loads(json.dumps(out, default=str))  # the JSON form, compared as stored


@dataclass
class Progress:
    """What a campaign has done: its builds (with ``true_flux``), its cycle rows, and the states
    of the loop's and the builder's random generators after the last cycle."""

    built: pd.DataFrame
    rows: list[dict[str, float]]
    rng_state: Mapping[str, Any]
    builder_state: Mapping[str, Any]

    @property
    def cycles_done(self) -> int:
        return len(self.rows)


def save(directory: Path, progress: Progress, settings: Mapping[str, Any]) -> None:
    """Write the state file atomically (the previous one stays whole until the rename)."""
    built = progress.built
    # part names are stored as text beside the numbers (no pickled objects in the state)
    text = [c for c in built.columns if not pd.api.types.is_numeric_dtype(built[c].dtype)
            and c not in ("valid",)]
    numeric = [c for c in built.columns if c not in text]
    meta: dict[str, Any] = {
        "version": VERSION, "identity": dict(settings), "rng": progress.rng_state,
        "builder_rng": progress.builder_state, "built_columns": list(built.columns),
        "text_columns": text,
        "row_columns": list(progress.rows[0]) if progress.rows else [],
        # counts stay ints when read back, so a resumed table equals an uninterrupted one
        "row_counts": [k for k, v in (progress.rows[0] if progress.rows else {}).items()
                       if isinstance(v, (int, np.integer))]}
    rows = np.array([[float(row[c]) for c in meta["row_columns"]] for row in progress.rows],
                    dtype=float).reshape(len(progress.rows), len(meta["row_columns"]))
    with atomic_path(directory / STATE) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, built=built[numeric].to_numpy(float), rows=rows,
                 text=built[text].to_numpy(str).reshape(len(built), len(text)),
                 meta=np.array(json.dumps(meta)))


def load(directory: Path, settings: Mapping[str, Any]) -> Progress:
    """The state a stopped campaign left, checked against this command's ``settings``."""
    path = directory / STATE
    if not path.is_file():
        raise KinsynthError(f"resume={directory}: holds no campaign to continue (no {STATE}; "
                            "a campaign writes it after its first cycle)")
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            values, rows = stored["built"], stored["rows"]
            text = stored["text"] if "text" in stored else np.empty((len(values), 0), str)
    except (OSError, ValueError, KeyError) as error:
        raise KinsynthError(f"{path}: not a readable campaign state ({error}); delete it and "
                            "start the campaign again with overwrite=true") from None
    if meta.get("version") != VERSION:
        raise KinsynthError(f"{path}: campaign state version {meta.get('version')}, expected "
                            f"{VERSION}")
    _check_same(meta["identity"], dict(settings), directory)
    text_columns = meta.get("text_columns", [])
    numeric = [c for c in meta["built_columns"] if c not in text_columns]
    built = pd.DataFrame(values, columns=numeric)
    for j, column in enumerate(text_columns):
        built[column] = pd.Series(text[:, j], dtype=object)
    built = built[meta["built_columns"]]
    built["valid"] = built["valid"].astype(bool)
    built["cycle"] = built["cycle"].astype(int)
    names = meta["row_columns"]
    counts = set(meta["row_counts"])
    table = [{name: (int(v) if name in counts else float(v))
              for name, v in zip(names, row, strict=True)} for row in rows]
    return Progress(built, table, meta["rng"], meta["builder_rng"])


def _check_same(stored: dict[str, Any], given: dict[str, Any], directory: Path) -> None:
    for key in IDENTITY:
        if stored.get(key) != given.get(key):
            raise KinsynthError(
                f"resume={directory}: {key} was {_short(stored.get(key))} in the stopped "
                f"campaign, now {_short(given.get(key))}; a resumed campaign keeps its settings "
                "(only cycles may grow): rerun with the original ones"
            )


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def restore(generator: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Put ``generator`` back in a saved ``bit_generator.state``."""
    generator.bit_generator.state = state
