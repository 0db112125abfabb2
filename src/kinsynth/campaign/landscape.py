"""What a campaign optimises: one interface over a simulated model and a lab's measured table.

The loop asks a :class:`Landscape` for everything it does not choose itself: the design space, a
build's measurement, the reference that says what "top" means, the true top designs, the best
value there is, and the whole library with its true values (for the judge). A simulated landscape
answers from a kinetic model (a shipped library or a cached enumeration where there is one); a
measured one replays a table of strains a lab built, so a strategy can be tried on real noise.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from kinsynth.campaign.build import Builder
from kinsynth.campaign.part_config import (
    landscape_path,
    read_measured,
    space_from_config,
    wants_parts,
)
from kinsynth.campaign.parts import PartSpace
from kinsynth.campaign.pool import ReferencePool, library_flux, pool_from_flux, reference_pool
from kinsynth.campaign.space import DesignSpace, Space, design_keys, load_space_model
from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError
from kinsynth.simulate.library import Library, shipped_library
from kinsynth.simulate.model import ModelSpec

log = logging.getLogger(__name__)


class Landscape(ABC):
    """A campaign's world: its designs, what a build measures, and the truth to score against.

    ``true`` values are noise-free (a simulation) or a design's mean over its measured
    replicates (a table); a design that cannot produce has NaN.
    """

    space: Space
    target: str
    #: the size of the true top set ``top{k}_found`` counts
    top_k: int = 100

    @property
    @abstractmethod
    def rng(self) -> np.random.Generator:
        """The generator of measurement noise (saved and restored by ``resume=``)."""

    @abstractmethod
    def build(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(measured, true, valid) for each design of ``designs``."""

    @abstractmethod
    def reference(self) -> ReferencePool:
        """The values that define "top" (above their 95th percentile) and "top 1 %"."""

    @abstractmethod
    def library(self) -> tuple[pd.DataFrame, np.ndarray] | None:
        """Every design with its true value, where the space is enumerated; else None."""

    def true_top(self) -> set[tuple[Any, ...]] | None:
        """The keys of the :attr:`top_k` designs with the highest true value, or None."""
        whole = self.library()
        if whole is None:
            return None
        designs, values = whole
        valid = np.flatnonzero(np.isfinite(values))  # a design that fails is never top
        order = valid[np.argsort(-values[valid], kind="stable")[: self.top_k]]
        return set(design_keys(designs.iloc[order], self.space.columns))

    def maximum(self) -> float | None:
        """The best true value of the whole library, or None where it is not enumerated."""
        whole = self.library()
        if whole is None or not np.isfinite(whole[1]).any():
            return None
        return float(np.nanmax(whole[1]))

    def random_expected(self, n_built: int) -> float | None:
        """How many of the true top :attr:`top_k` ``n_built`` distinct uniform random designs
        hold on average (a hypergeometric mean: exact), or None where there is no library."""
        whole = self.library()
        if whole is None:
            return None
        size = len(whole[0])
        top = min(self.top_k, int(np.isfinite(whole[1]).sum()))
        return float(top * min(n_built, size) / size) if size else None


class SimulatedLandscape(Landscape):
    """A kinetic model's landscape: builds are simulations, with the configured noise."""

    def __init__(self, builder: Builder, space: Space, pool_n: int, pool_seed: int,
                 cache_dir: Path | Callable[[], Path], max_enumerate: int) -> None:
        """``cache_dir`` may be a callable: a Hydra path is resolved only when first needed."""
        self.builder, self.space, self.target = builder, space, builder.spec.target
        self.pool_n, self.pool_seed = pool_n, pool_seed
        self._cache_dir, self.max_enumerate = cache_dir, max_enumerate
        self._library: tuple[pd.DataFrame, np.ndarray] | None | bool = False

    @property
    def rng(self) -> np.random.Generator:
        return self.builder.rng

    @property
    def cache_dir(self) -> Path:
        folder = self._cache_dir
        return Path(folder() if callable(folder) else folder)

    def _model_designs(self, designs: pd.DataFrame) -> pd.DataFrame:
        if isinstance(self.space, PartSpace):
            return self.space.to_model(designs, self.builder.spec.columns)
        return designs

    def build(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.builder.build(self._model_designs(designs))

    def true_values(self, designs: pd.DataFrame) -> np.ndarray:
        return self.builder.true_flux(self._model_designs(designs))[0]

    def shipped(self) -> Library | None:
        """The model's whole library, when it ships with the model for exactly this space."""
        space = self.space
        if not isinstance(space, DesignSpace) or space.fixed:
            return None
        return shipped_library(self.builder.spec, space.levels)

    def reference(self) -> ReferencePool:
        shipped = self.shipped()
        if shipped is not None:  # a named model's whole library ships: look the pool up
            sample = self.space.sample(self.pool_n, np.random.default_rng([self.pool_seed, 99]))
            return pool_from_flux(shipped.lookup(sample), self.pool_n, simulated=False)
        return reference_pool(self.builder, self.space, self.pool_n, self.pool_seed,
                              self.cache_dir, simulate=self.true_values)

    def library(self) -> tuple[pd.DataFrame, np.ndarray] | None:
        if self._library is False:
            self._library = self._whole_library()
        return self._library  # type: ignore[return-value]

    def _whole_library(self) -> tuple[pd.DataFrame, np.ndarray] | None:
        if not self.space.discrete:
            return None
        shipped = self.shipped()
        if shipped is not None:
            return shipped.designs(), shipped.flux
        if self.space.library_size > self.max_enumerate:
            log.info("top100_found left empty: the library holds %.3g designs, more than "
                     "pool.max_enumerate=%d (space.vary fewer columns to enumerate it)",
                     self.space.library_size, self.max_enumerate)
            return None
        return library_flux(self.builder, self.space, self.cache_dir,
                            simulate=self.true_values)


#: how a replayed build reads a design's replicates
REPLICATE_MODES = ("draw", "mean")


class MeasuredLandscape(Landscape):
    """A lab's measured strains replayed: a build of a design returns one of its measured rows
    (drawn with the campaign's seed) or, with ``replicates="mean"``, their mean.

    The space is the table's distinct designs; a design's true value is the mean of its rows
    that produced. An empty response, or ``valid`` no, is a failed build; a zero is a zero.
    """

    top_k = 10

    def __init__(self, space: PartSpace, table: pd.DataFrame, target: str, seed: int,
                 replicates: str = "draw", top_k: int = 10) -> None:
        if replicates not in REPLICATE_MODES:
            raise KinsynthError(f"space.replicates={replicates!r}: expected one of "
                                f"{list(REPLICATE_MODES)}")
        self.space, self.target, self.replicates, self.top_k = space, target, replicates, top_k
        self._rng = np.random.default_rng([seed, 7])
        keys = design_keys(table, space.columns)
        produced = table["valid"].to_numpy(bool) & np.isfinite(table[target].to_numpy(float))
        values = np.where(produced, table[target].to_numpy(float), np.nan)
        self._rows: dict[tuple[Any, ...], np.ndarray] = {}
        for key, value in zip(keys, values, strict=True):
            self._rows.setdefault(key, [])  # type: ignore[arg-type]
            self._rows[key].append(value)  # type: ignore[attr-defined]
        self._rows = {k: np.asarray(v, float) for k, v in self._rows.items()}
        self.designs = space.enumerate()
        self.means = np.array([_nanmean(self._rows[k])
                               for k in design_keys(self.designs, space.columns)])

    @property
    def rng(self) -> np.random.Generator:
        return self._rng

    def replicate_counts(self) -> Mapping[tuple[Any, ...], int]:
        return {k: len(v) for k, v in self._rows.items()}

    def build(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keys = design_keys(designs, self.space.columns)
        missing = [k for k in keys if k not in self._rows]
        if missing:
            raise KinsynthError(f"space.landscape: design {missing[0]} was never measured; a "
                                "replay can build only the table's designs")
        true = np.array([_nanmean(self._rows[k]) for k in keys])
        if self.replicates == "mean":
            measured = true.copy()
        else:
            measured = np.array([rows[self._rng.integers(len(rows))]
                                 for rows in (self._rows[k] for k in keys)], float)
        return measured, true, np.isfinite(measured)

    def reference(self) -> ReferencePool:
        return pool_from_flux(self.means, len(self.means), simulated=False, minimum=1)

    def library(self) -> tuple[pd.DataFrame, np.ndarray]:
        return self.designs, self.means


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def make_landscape(cfg: DictConfig) -> Landscape:
    """The landscape ``cfg.space`` describes: a measured table (``space.landscape``), or a
    kinetic model over fold changes or over a space of parts (``space.factors``/``sets``)."""
    space_cfg, pool_cfg = cfg.space, cfg.pool
    noise = cfg.get("noise") or {}
    if landscape_path(space_cfg) is not None:
        if str(noise.get("kind", "none")) != "none":
            raise KinsynthError(f"noise.kind={noise.get('kind')}: a measured landscape replays "
                                "the real noise of its replicates; expected noise.kind=none")
        table, space, target = read_measured(space_cfg)
        # top1_found already names the builds above the reference pool's 99th percentile
        top = whole_number("space.top", space_cfg.get("top", 10), minimum=2)
        return MeasuredLandscape(space, table, target, int(cfg.seed),
                                 str(space_cfg.get("replicates") or "draw"), top)
    spec = load_space_model(space_cfg)
    builder = Builder(spec, str(noise.get("kind", "none")), noise.get("level", 0.0),
                      int(cfg.seed), noise.get("clip"))
    levels, vary = space_cfg.get("levels"), space_cfg.get("vary")
    chosen: Space
    if wants_parts(space_cfg):
        chosen = space_from_config(space_cfg, _numeric_levels(spec, levels, vary),
                                   model_columns=spec.columns)
    else:
        chosen = DesignSpace.from_spec(spec, levels or None, None if vary is None else list(vary))
    return SimulatedLandscape(builder, chosen, int(pool_cfg.n), int(pool_cfg.seed),
                              lambda: Path(str(pool_cfg.cache_dir)),
                              int(pool_cfg.get("max_enumerate", 20000)))


def _numeric_levels(spec: ModelSpec, levels: Any, vary: Any) -> dict[str, list[float]]:
    """A mixed space's numeric columns (``space.vary``), each with the ``space.levels`` inside
    its range: a space of parts is finite, so its numbers are levels too."""
    if vary is None:
        return {}
    if not levels:
        raise KinsynthError("space.vary with space.factors/sets: a space of parts is finite, so "
                            "its numeric columns need space.levels (e.g. [0.5, 1, 2])")
    numeric = DesignSpace.from_spec(spec, list(levels), list(vary))
    return {c: numeric.column_levels(j).tolist() for j, c in enumerate(numeric.columns)
            if c not in numeric.fixed}
