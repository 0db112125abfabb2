"""A whole combinatorial library, simulated once: sharded, resumable, cached, shippable.

A promoter library of ``L`` levels over ``k`` enzymes has ``L**k`` designs (van Lent et al.'s
pathway A: 6**7 = 279,936), which at ~30 designs/s per core is hours of CPU. So the enumeration is
cut into chunks of :data:`CHUNK` designs in ``itertools.product`` order; each chunk's fluxes are
written to the cache as soon as they are known (atomically), keyed by the model and the design
space, so an interrupted run resumes where it stopped and shards (``chunk % n_shards == shard``)
run in separate processes or machines. When every chunk is there, :func:`assemble` writes one
compressed ``.npz`` (level codes and relative flux only: a few MB), which a named model may ship
beside itself as ``<name>_library.npz`` so that campaigns get the library's exact top designs
without simulating it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from kinsynth.core.writing import atomic_target, save_figure, write_text
from kinsynth.simulate.errors import SimulationError
from kinsynth.simulate.model import ModelSpec

CHUNK = 1024
#: fold-change levels: a list from the config or YAML, or the array a spec or library holds
Levels = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Library:
    """Every design of a library (as level codes) and its relative flux (NaN: invalid)."""

    columns: tuple[str, ...]
    levels: np.ndarray  # the allowed fold changes, ascending
    codes: np.ndarray  # (n, k) unsigned ints: index into ``levels`` per column
    flux: np.ndarray  # (n,) float64
    key: str

    def designs(self) -> pd.DataFrame:
        """The designs' fold changes, one column per enzyme, in enumeration order."""
        return pd.DataFrame(self.levels[self.codes], columns=list(self.columns))

    def frame(self) -> pd.DataFrame:
        return self.designs().assign(flux=self.flux)

    def lookup(self, designs: pd.DataFrame) -> np.ndarray:
        """The library's flux of each design (rows must lie on the levels), without simulating."""
        values = designs[list(self.columns)].to_numpy(float)
        codes = np.abs(values[:, :, None] - self.levels[None, None, :]).argmin(axis=2)
        if not np.allclose(self.levels[codes], values, rtol=1e-9, atol=1e-12):
            raise SimulationError("a design lies off the library's levels "
                                  f"{self.levels.tolist()}; simulate it instead")
        index = np.ravel_multi_index(codes.T, (len(self.levels),) * len(self.columns))
        return self.flux[index]

    def top(self, k: int) -> pd.DataFrame:
        """The ``k`` designs of highest flux (a design that fails is never a top design)."""
        valid = np.flatnonzero(np.isfinite(self.flux))
        order = valid[np.argsort(-self.flux[valid], kind="stable")[:k]]
        return self.frame().iloc[order]


def code_dtype(n_levels: int) -> np.dtype:
    """The narrowest unsigned type holding every level code: uint8 up to 256 levels, wider
    beyond (a uint8 code of level 256 would wrap to level 0: another design)."""
    return np.dtype(np.min_scalar_type(max(n_levels - 1, 0)))


def library_key(spec: ModelSpec, levels: Levels) -> str:
    """Everything that changes a library's fluxes: model, varied ids, objective, output, levels.

    Past 256 levels the codes' type is part of the key too, so no chunk simulated from wrapped
    uint8 codes is ever taken for this library's (libraries of up to 256 keep their keys, so the
    shipped ones still match).
    """
    content = {
        "model": hashlib.sha256(spec.sbml.encode()).hexdigest(),
        "ids": spec.parameter_ids, "output": spec.flux, "objective": spec.objective,
        "time": spec.time, "output_parameters": spec.output_parameters,
        "levels": [float(v) for v in levels],
    }
    if len(levels) > 256:
        content["codes"] = code_dtype(len(levels)).name
    payload = json.dumps(content, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _levels(spec: ModelSpec, levels: Levels | None) -> np.ndarray:
    chosen = levels if levels is not None else spec.levels
    if chosen is None or len(chosen) == 0:
        raise SimulationError("a library needs levels (the model's 'levels:' or levels=[...])")
    return np.array(sorted(float(v) for v in chosen))


def n_designs(spec: ModelSpec, levels: Levels | None = None) -> int:
    return len(_levels(spec, levels)) ** len(spec.columns)


def chunk_codes(n_levels: int, n_columns: int, chunk: int) -> np.ndarray:
    """Level codes of the designs in chunk ``chunk`` (``itertools.product`` order)."""
    total = n_levels ** n_columns
    index = np.arange(chunk * CHUNK, min((chunk + 1) * CHUNK, total))
    digits = np.empty((len(index), n_columns), dtype=code_dtype(n_levels))
    for j in range(n_columns - 1, -1, -1):  # the last column varies fastest
        digits[:, j] = index % n_levels
        index = index // n_levels
    return digits


def _chunk_path(cache: Path, chunk: int) -> Path:
    return cache / f"chunk-{chunk:06d}.npy"


def enumerate_library(
    spec: ModelSpec,
    cache_dir: str | Path,
    levels: Levels | None = None,
    shard: int = 0,
    n_shards: int = 1,
    on_chunk: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Simulate this shard's missing chunks into ``cache_dir/<key>/``; returns that folder.

    ``on_chunk(done, total, designs_per_second)`` reports progress after each chunk.
    """
    from kinsynth.simulate.runner import Simulator

    grid = _levels(spec, levels)
    key = library_key(spec, grid)
    cache = Path(cache_dir) / key
    cache.mkdir(parents=True, exist_ok=True)
    write_text(json.dumps({
        "columns": spec.columns, "levels": grid.tolist(), "model": spec.name,
        "output": spec.flux, "objective": spec.objective, "time": spec.time}, indent=1),
        cache / "library.json", key="cache_dir")
    n_chunks = -(-n_designs(spec, grid) // CHUNK)
    mine = [c for c in range(n_chunks) if c % n_shards == shard]
    # a fixed shuffled order, so that a partial enumeration covers every region of the library
    # (in product order the first hours would all hold the first enzyme at its lowest level)
    order = np.random.default_rng(0).permutation(len(mine))
    todo = [mine[i] for i in order if not _chunk_path(cache, mine[i]).is_file()]
    if not todo:
        return cache
    simulator = Simulator(spec)
    done = len(mine) - len(todo)
    for c in todo:
        began = time.perf_counter()
        folds = grid[chunk_codes(len(grid), len(spec.columns), c)]
        flux, _ = simulator.evaluate(folds)
        with atomic_target(_chunk_path(cache, c), overwrite=True, key="cache_dir") as tmp, \
                open(tmp, "wb") as file:
            np.save(file, flux, allow_pickle=False)
        done += 1
        if on_chunk:
            on_chunk(done, len(mine), len(folds) / (time.perf_counter() - began))
    return cache


def progress(spec: ModelSpec, cache_dir: str | Path, levels: Levels | None = None
             ) -> tuple[int, int]:
    """(chunks done, chunks in all) of a library's enumeration in ``cache_dir``."""
    grid = _levels(spec, levels)
    cache = Path(cache_dir) / library_key(spec, grid)
    n_chunks = -(-n_designs(spec, grid) // CHUNK)
    return sum(_chunk_path(cache, c).is_file() for c in range(n_chunks)), n_chunks


def partial(spec: ModelSpec, cache_dir: str | Path, levels: Levels | None = None
            ) -> Library:
    """The chunks simulated so far (flux NaN where not yet simulated), e.g. for the max so far."""
    return _gather(spec, cache_dir, levels, require_all=False)


def assemble(spec: ModelSpec, cache_dir: str | Path, out: str | Path,
             levels: Levels | None = None, overwrite: bool = False) -> Path:
    """Join every chunk into one compressed ``.npz`` at ``out`` (refused if a chunk is missing),
    whole under its name or absent; an existing ``out`` only with ``overwrite``."""
    library = _gather(spec, cache_dir, levels, require_all=True)
    out = Path(out)
    with atomic_target(out, overwrite) as tmp, open(tmp, "wb") as file:
        np.savez_compressed(file, columns=np.array(library.columns), levels=library.levels,
                            codes=library.codes, flux=library.flux, key=np.array(library.key))
    return out


def _gather(spec: ModelSpec, cache_dir: str | Path, levels: Levels | None,
            require_all: bool) -> Library:
    grid = _levels(spec, levels)
    key = library_key(spec, grid)
    cache = Path(cache_dir) / key
    total = n_designs(spec, grid)
    n_chunks = -(-total // CHUNK)
    missing = [c for c in range(n_chunks) if not _chunk_path(cache, c).is_file()]
    if missing and require_all:
        raise SimulationError(f"library {key} in {cache_dir}: {len(missing)} of {n_chunks} chunks "
                              f"are not simulated yet (run the enumeration's shards first)")
    flux = np.full(total, np.nan)
    for c in range(n_chunks):
        if c not in missing:
            flux[c * CHUNK:(c + 1) * CHUNK] = np.load(_chunk_path(cache, c), allow_pickle=False)
    codes = np.array(list(itertools.product(range(len(grid)), repeat=len(spec.columns))),
                     dtype=code_dtype(len(grid))).reshape(total, len(spec.columns))
    return Library(tuple(spec.columns), grid, codes, flux, key)


def read_library(path: str | Path) -> Library:
    """A library written by :func:`assemble` (plain arrays only: loading it runs no code)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return Library(tuple(str(c) for c in data["columns"]), data["levels"],
                           data["codes"], data["flux"], str(data["key"]))
    except (OSError, KeyError, ValueError) as exc:
        raise SimulationError(f"cannot read library file {path}: {exc}") from exc


def shipped_library(spec: ModelSpec, levels: Levels | None = None) -> Library | None:
    """A named model's shipped ``<name>_library.npz``, if it holds exactly this library."""
    if spec.name is None:
        return None
    from kinsynth.simulate.model import _models_dir

    path = _models_dir().joinpath(f"{spec.name}_library.npz")
    if not path.is_file():
        return None
    with resources.as_file(path) as local:  # the file itself where the package is on disk
        library = read_library(local)
    wanted = _levels(spec, levels) if (levels is not None or spec.levels) else None
    if wanted is None or library.key != library_key(spec, wanted):
        return None
    return library


def cdf_figure(library: Library, path: str | Path, target: str = "flux",
               reference_max: float | None = None, overwrite: bool = True) -> Path:
    """The cumulative distribution of relative flux over a library (as van Lent et al.'s
    notebook draws it: a 10,000-bin histogram's cumulative sum), the wild type at 1 and, if
    given, a published maximum; a partial enumeration says how many designs it holds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flux = library.flux[np.isfinite(library.flux)]
    values, edges = np.histogram(flux, bins=10000)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(edges[:-1], np.cumsum(values) / len(flux), color="#ED0000", linewidth=2.5,
            label=f"kinsynth: {len(flux):,} of {len(library.flux):,} designs")
    ax.axvline(1, color="black", linestyle="--", linewidth=1, label="wild type")
    ax.axvline(flux.max(), color="#00468B", linewidth=1,
               label=f"max here {flux.max():.4f}")
    if reference_max is not None:
        ax.axvline(reference_max, color="#42B540", linestyle=":", linewidth=2,
                   label=f"published max {reference_max:.4f}")
    ax.set_xlabel(f"relative {target} flux")
    ax.set_ylabel("cumulative probability")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    try:
        return save_figure(fig, path, overwrite, "figure", dpi=130)
    finally:
        plt.close(fig)
