"""Logic behind scripts/simulate.py (the script itself only wires Hydra to :func:`run`)."""

from __future__ import annotations

import sys
import time as time_module
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import check_target, check_writable_dir, overwrite_flag
from kinsynth.simulate.dataset import merge_shards, simulate_dataset, write_dataset
from kinsynth.simulate.errors import SimulationError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from kinsynth.simulate.model import ModelSpec


def check_overrides(argv: Sequence[str]) -> None:
    """Point ``model=`` to ``model_file=`` in one line, and refuse ``+key=`` for a key simulate.yaml
    lacks: Hydra's ``+`` adds a key past the schema (conf/schemas.py), which refuses the plain
    ``key=`` form itself as Hydra composes the config."""
    from kinsynth.conf.schemas import SimulateConfig, keys

    known = keys(SimulateConfig)
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key = arg.split("=", 1)[0].lstrip("+~")
        if key == "model":
            raise SimulationError("use model_file=PATH (model= selects a training config group)")
        if arg.startswith("+") and not key.startswith("hydra") and key not in known:
            raise SimulationError(f"unknown key {key!r}; known keys: {', '.join(known)}")


def shard_path(out: str | Path, shard: int, n_shards: int) -> Path:
    """``out`` itself for an unsharded run, else ``name.shard{k}of{n}.ext``."""
    out = Path(out)
    if n_shards == 1:
        return out
    return out.with_name(f"{out.stem}.shard{shard}of{n_shards}{out.suffix}")


def integer(key: str, value: object, minimum: int) -> int:
    """:func:`kinsynth.core.counts.whole_number`, as the simulator's error type."""
    try:
        return whole_number(key, value, minimum)
    except KinsynthError as error:
        raise SimulationError(str(error)) from None


def target(path: str | Path, overwrite: bool, key: str = "out") -> Path:
    """:func:`kinsynth.core.writing.check_target`, and its folder proved writable, before any
    simulation; as the simulator's error type."""
    try:
        checked = check_target(path, overwrite, key)
        check_writable_dir(checked.parent, key, checked)
        return checked
    except KinsynthError as error:
        raise SimulationError(str(error)) from None


def _spec(cfg: DictConfig) -> ModelSpec:
    from kinsynth.simulate.model import load_model

    return load_model(cfg.model_file, cfg.ranges, flux=cfg.flux, objective=cfg.get("objective"),
                      time=cfg.get("time"), output=cfg.get("output"))


def run_library(cfg: DictConfig) -> str:
    """Enumerate this shard of a whole library into the cache; once complete, write ``out``."""
    from kinsynth.simulate import library

    overwrite = overwrite_flag(cfg.get("overwrite"))
    out = Path(cfg.out)
    if out.suffix != ".npz":
        raise SimulationError(f"out={cfg.out}: a library is written as a .npz file")
    target(out, overwrite)  # refused now, not after hours of simulation
    if cfg.get("figure"):
        target(cfg.figure, overwrite, "figure")
    spec = _spec(cfg)
    levels = list(cfg.levels) if cfg.get("levels") else None
    shard, n_shards = integer("shard", cfg.shard, 0), integer("n_shards", cfg.n_shards, 1)
    began = time_module.perf_counter()
    total = library.n_designs(spec, levels)
    library.enumerate_library(spec, cfg.cache_dir, levels, shard, n_shards)
    done, n_chunks = library.progress(spec, cfg.cache_dir, levels)
    seconds = time_module.perf_counter() - began
    if cfg.get("figure"):
        sofar = library.partial(spec, cfg.cache_dir, levels)
        library.cdf_figure(sofar, cfg.figure, spec.target, overwrite=overwrite)
    if done < n_chunks:
        sofar = library.partial(spec, cfg.cache_dir, levels)
        best = np.nanmax(sofar.flux) if np.isfinite(sofar.flux).any() else float("nan")
        return (f"library of {total} designs: shard {shard} of {n_shards} done in {seconds:.0f} s; "
                f"{done}/{n_chunks} chunks in {cfg.cache_dir}, max so far {best:.6g} "
                f"(run the other shards)")
    path = library.assemble(spec, cfg.cache_dir, out, levels, overwrite=overwrite)
    lib = library.read_library(path)
    best = lib.top(1)
    return (f"library of {total} designs complete ({seconds:.0f} s in this call): "
            f"max {spec.target} {best['flux'].item():.6g} at "
            f"{best.drop(columns='flux').iloc[0].to_dict()} -> {path}")


def run(cfg: DictConfig) -> str:
    """Simulate (or merge) as ``cfg`` says, write the CSV, return the summary line.

    ``out=`` (each shard's file) follows the rule of every file a user names: an existing file
    only with ``overwrite=true``, never a link's target, a FIFO or a device; checked before any
    simulation, and written whole under its name or not at all.
    """
    if cfg.get("library"):
        return run_library(cfg)
    overwrite = overwrite_flag(cfg.get("overwrite"))
    if cfg.merge:
        target(cfg.out, overwrite)
        frame = merge_shards(list(cfg.merge))
        path = write_dataset(frame, cfg.out, overwrite)
        return f"merged {len(cfg.merge)} shard files: {len(frame)} rows -> {path}"
    progress = sys.stderr.isatty() if cfg.progress is None else bool(cfg.progress)
    shard, n_shards = integer("shard", cfg.shard, 0), integer("n_shards", cfg.n_shards, 1)
    out = target(shard_path(cfg.out, shard, n_shards), overwrite)
    result = simulate_dataset(
        integer("n", cfg.n, 1),
        seed=integer("seed", cfg.seed, 0),
        model=_spec(cfg),
        workers=None if cfg.workers is None else integer("workers", cfg.workers, 1),
        progress=progress,
        shard=shard,
        n_shards=n_shards,
    )
    if result.frame.empty:  # a header-only CSV would pass for a data set
        reasons = ", ".join(f"{k} {v}" for k, v in result.failures.items() if v)
        raise SimulationError(f"none of the {result.n_draws} draws gave a valid result "
                              f"({reasons}); nothing written to {out}: the model has no steady "
                              "state (or output) in these ranges, check ranges= or the model")
    path = write_dataset(result.frame, out, overwrite)
    return (
        f"draws {result.n_draws}  valid {len(result.frame)}  failed {result.n_failed} "
        f"({result.failure_rate:.1%})  {result.per_second:.0f} configurations/s -> {path}"
    )
