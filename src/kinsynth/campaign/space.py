"""The design space a campaign draws from: continuous fold-change ranges or a discrete library.

:class:`Space` is what every strategy, landscape and writer asks of a space; :class:`DesignSpace`
is the numeric one (a kinetic model's fold changes), :class:`kinsynth.campaign.parts.PartSpace` the
one labs build (named parts, gene sets, a list of buildable designs).

A real promoter or RBS collection offers a handful of expression levels per enzyme, not a continuum;
``levels`` models that, and every proposal is snapped to the nearest level (in log space, where a
2x step up and a 2x step down are the same distance).

``vary`` names the columns a campaign engineers; the others stay at fold change 1, the parent
strain, as in van Lent et al., where a library covers a handful of enzymes. A library over a few
columns is small enough to simulate whole, which is what gives ``top100_found`` its true top 100.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.simulate.model import ModelSpec, load_model

if TYPE_CHECKING:
    from omegaconf import DictConfig


def load_space_model(space_cfg: DictConfig) -> ModelSpec:
    """The model a campaign's ``space`` config names, with its objective and output.

    ``space.model_file`` (a shipped model's name or a file), ``ranges``, ``flux``/``output``,
    ``objective`` and ``time``; a named model brings its own, which these keys override.
    """
    return load_model(space_cfg.get("model_file"), space_cfg.get("ranges"), space_cfg.get("flux"),
                      objective=space_cfg.get("objective"), time=space_cfg.get("time"),
                      output=space_cfg.get("output"))  # load_model checks time= itself


class Space(ABC):
    """The designs a campaign may build, and how learners see them.

    Every design is one row of a frame with the space's :attr:`columns`. A column holds fold
    changes (positive floats), part names (strings) or a gene's on/off state (0/1).
    """

    columns: tuple[str, ...]

    @property
    @abstractmethod
    def discrete(self) -> bool:
        """Whether the space is a finite list of designs (a library)."""

    @property
    @abstractmethod
    def library_size(self) -> float:
        """Number of distinct designs (inf when continuous)."""

    @property
    def fixed(self) -> dict[str, Any]:
        """Columns every design holds at one value (absent from a lab's table is fine)."""
        return {}

    @property
    def categorical(self) -> tuple[str, ...]:
        """The columns holding part names or on/off genes rather than fold changes."""
        return ()

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` uniform draws from the space (repeats possible)."""

    @abstractmethod
    def enumerate(self) -> pd.DataFrame:
        """Every design, in a fixed order; refused for a continuous space."""

    def candidates(self, pool_size: int, max_enumerate: int,
                   rng: np.random.Generator) -> pd.DataFrame:
        """The designs a strategy scores: the whole library when it holds at most
        ``max_enumerate`` designs, else ``pool_size`` random designs (snapped to its levels)."""
        if self.discrete and self.library_size <= max_enumerate:
            return self.enumerate()
        return self.snap(self.sample(pool_size, rng))

    @abstractmethod
    def snap(self, designs: pd.DataFrame) -> pd.DataFrame:
        """``designs`` moved onto the space: numbers to the nearest level or into the ranges;
        rows that cannot be built (an unknown part, a set outside its size bounds, an excluded
        or unlisted design) are dropped, so a strategy's output is always buildable."""

    @abstractmethod
    def features(self, frame: pd.DataFrame) -> np.ndarray:
        """What a learner sees (rows x features): log fold changes, one-hot parts, 0/1 genes."""

    @abstractmethod
    def scaled_features(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`features` scaled so every column weighs alike in a distance."""

    @abstractmethod
    def column_levels(self, j: int) -> np.ndarray:
        """The values column ``j`` takes in a discrete space, in a fixed order."""

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """Each design's level index per column (rows x columns) in a discrete space."""
        out = np.empty((len(frame), len(self.columns)), dtype=np.int64)
        for j, column in enumerate(self.columns):
            out[:, j] = self._level_index(j, frame[column])
        return out

    def decode(self, codes: np.ndarray) -> pd.DataFrame:
        """The designs whose level indices are ``codes`` (the inverse of :meth:`codes`)."""
        return pd.DataFrame({c: self.column_levels(j)[codes[:, j]]
                             for j, c in enumerate(self.columns)})

    def _level_index(self, j: int, values: pd.Series) -> np.ndarray:
        levels = self.column_levels(j)
        index = {level: i for i, level in enumerate(levels.tolist())}
        return np.array([index[v] for v in values.tolist()], dtype=np.int64)


@dataclass(frozen=True)
class DesignSpace(Space):
    """Columns with their [low, high] fold-change ranges, and optional allowed levels."""

    columns: tuple[str, ...]
    lows: np.ndarray
    highs: np.ndarray
    levels: tuple[float, ...] | None = None

    @classmethod
    def from_spec(cls, spec: ModelSpec, levels: Sequence[float] | None = None,
                  vary: Sequence[str] | None = None) -> DesignSpace:
        lows, highs = np.asarray(spec.lows, float), np.asarray(spec.highs, float)
        varied = _varied_mask(spec, vary)
        lows, highs = np.where(varied, lows, 1.0), np.where(varied, highs, 1.0)
        chosen = None
        if levels:
            chosen = tuple(sorted(_level_values(levels)))
            if any(not np.isfinite(v) or v <= 0 for v in chosen):
                raise KinsynthError(f"space.levels={list(chosen)}: fold changes must be positive")
            low_all, high_all = lows[varied].min(), highs[varied].max()
            outside = [v for v in chosen if v < low_all - 1e-12 or v > high_all + 1e-12]
            if outside:
                raise KinsynthError(
                    f"space.levels: {outside} lie outside the parameter ranges "
                    f"[{low_all:g}, {high_all:g}]"
                )
            for name, low, high, free in zip(spec.columns, lows, highs, varied, strict=True):
                if free and not any(low - 1e-12 <= v <= high + 1e-12 for v in chosen):
                    raise KinsynthError(
                        f"space.levels={list(chosen)}: none lies in {name}'s range "
                        f"[{low:g}, {high:g}]"
                    )
        return cls(tuple(spec.columns), lows, highs, chosen)

    def column_levels(self, j: int) -> np.ndarray:
        """The library's levels a column can take: those inside its own range."""
        assert self.levels is not None
        if self.columns[j] in self.fixed:  # a column the campaign does not vary
            return np.array([self.lows[j]])
        levels = np.asarray(self.levels)
        return levels[(levels >= self.lows[j] - 1e-12) & (levels <= self.highs[j] + 1e-12)]

    @property
    def fixed(self) -> dict[str, float]:
        """The columns the campaign does not vary, with the one value each keeps."""
        return {c: float(lo) for c, lo, hi in zip(self.columns, self.lows, self.highs,
                                                  strict=True) if lo == hi}

    @property
    def discrete(self) -> bool:
        return self.levels is not None

    @property
    def library_size(self) -> float:
        """Number of distinct designs of a discrete library (inf when continuous)."""
        if not self.levels:
            return float("inf")
        return float(np.prod([len(self.column_levels(j)) for j in range(len(self.columns))]))

    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` uniform draws: each allowed level equally likely, or uniform within each range."""
        if self.levels:
            values = np.column_stack([rng.choice(self.column_levels(j), size=n)
                                      for j in range(len(self.columns))])
        else:
            values = rng.uniform(self.lows, self.highs, size=(n, len(self.columns)))
        return pd.DataFrame(values, columns=list(self.columns))

    def enumerate(self) -> pd.DataFrame:
        """Every design of a discrete library, in a fixed order (the product of the levels)."""
        if not self.discrete:
            raise KinsynthError("a continuous design space has no finite list of designs; "
                                "set space.levels to enumerate a library")
        per_column = [self.column_levels(j) for j in range(len(self.columns))]
        return pd.DataFrame(list(itertools.product(*per_column)), columns=list(self.columns))

    def snap(self, designs: pd.DataFrame) -> pd.DataFrame:
        """Clip into the ranges and, for a library, move every value to its nearest level."""
        values = np.clip(designs[list(self.columns)].to_numpy(float), self.lows, self.highs)
        if self.levels:
            for j in range(len(self.columns)):
                allowed = self.column_levels(j)
                nearest = np.abs(np.log(values[:, j])[:, None] - np.log(allowed)).argmin(axis=1)
                values[:, j] = allowed[nearest]
        return pd.DataFrame(values, columns=list(self.columns), index=designs.index)

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        """Log fold changes: a 2x step up and a 2x step down are equally far from the parent."""
        return np.log(frame[list(self.columns)].to_numpy(float))

    def log_spread(self) -> np.ndarray:
        """Per column, the sd of a uniform draw over its log range (1 for a column held fixed)."""
        spread = np.log(self.highs) - np.log(self.lows)
        return np.where(spread > 0, spread / np.sqrt(12), 1.0)

    def scaled_features(self, frame: pd.DataFrame) -> np.ndarray:
        """Log fold changes over :meth:`log_spread`: a column with a wide range does not
        dominate one with a narrow range."""
        return self.features(frame) / self.log_spread()

    def _level_index(self, j: int, values: pd.Series) -> np.ndarray:
        """The nearest level in log space (a measured fold change need not be exact)."""
        allowed = np.log(self.column_levels(j))
        return np.abs(np.log(values.to_numpy(float))[:, None] - allowed).argmin(axis=1)


def _varied_mask(spec: ModelSpec, vary: Sequence[str] | None) -> np.ndarray:
    """Which columns a campaign changes; every one unless ``space.vary`` names some."""
    if vary is None:
        return np.ones(len(spec.columns), bool)
    names = [vary] if isinstance(vary, str) else [str(v) for v in vary]
    unknown = [v for v in names if v not in spec.columns]
    if unknown or not names:
        raise KinsynthError(
            f"space.vary: {unknown or 'an empty list'} is not a list of the model's columns "
            f"(expected some of {list(spec.columns)})"
        )
    fixed = [c for c, lo, hi in zip(spec.columns, spec.lows, spec.highs, strict=True)
             if c not in names and not lo <= 1.0 <= hi]
    if fixed:
        raise KinsynthError(f"space.vary: the columns left at fold change 1 must admit it; "
                            f"{fixed} do not (add them to space.vary)")
    return np.array([c in names for c in spec.columns])


def design_keys(designs: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Hashable identities of designs: numbers rounded so a CSV round trip keeps them equal,
    part names as they are (a cell that reads as a number is a number, whatever the column's
    dtype: an empty frame concatenated in makes a numeric column ``object``)."""
    frame = designs[list(columns)]
    if len(frame) == 0 or all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        return [tuple(row) for row in np.round(frame.to_numpy(float), 6)]
    parts = [_cell_keys(frame[c]) for c in columns]
    return list(zip(*parts, strict=True))


def _cell_keys(values: pd.Series) -> list[Any]:
    if pd.api.types.is_numeric_dtype(values.dtype):
        return np.round(values.to_numpy(float), 6).tolist()
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
    text = values.astype(str).tolist()
    return [round(float(x), 6) if np.isfinite(x) else t
            for x, t in zip(numbers, text, strict=True)]


def drop_built(
    proposals: pd.DataFrame, built: pd.DataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """Proposals not already built and not repeated within the batch: never build one twice."""
    seen = set(design_keys(built, columns)) if len(built) else set()
    keep = []
    for i, key in enumerate(design_keys(proposals, columns)):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return proposals.iloc[keep]


def _level_values(levels: object) -> list[float]:
    """``space.levels`` as numbers; a string, a mapping or a word in the list is one line (a
    string would otherwise be read character by character)."""
    try:
        if isinstance(levels, str | bytes | dict) or not hasattr(levels, "__iter__"):
            raise TypeError
        return [float(v) for v in levels]
    except (TypeError, ValueError):
        raise KinsynthError(f"space.levels={levels!r}: expected a list of positive fold changes, "
                            "e.g. [0.5, 1, 2]") from None
