"""Designs a lab builds: slots of named parts, sets of genes, numeric levels, buildable lists.

A *slot* picks one named part (a homolog, a promoter): ``space.factors: {G8H: [CacuG8H, ...]}``,
or with a numeric descriptor per part (a measured promoter strength), ``{pG8H: {pCYC1: 0.2,
pENO2: 1.0}}``. A *set* switches genes on or off, one 0/1 column per gene, with bounds on how many
are on: ``space.sets: {knockdown: {genes: [a, b, c], min: 1, max: 2}}``. A *numeric* column takes
one of a few fold changes. ``space.exclude`` forbids partial designs (``{G8H: CacuG8H, CPR:
CroCPR}``), and a finite list (``space.candidates``, or a measured table's designs) replaces the
product of the slots by what can really be built.

Part names are never numbers to a learner: each slot is one-hot encoded (its descriptor, when
given, is one more feature), so renaming or reordering a slot's parts changes nothing a strategy
does beyond the order of ties.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.campaign.space import Space, design_keys
from kinsynth.core.errors import KinsynthError

#: the most designs a space enumerates (a product above it is sampled instead)
MAX_PRODUCT = 2_000_000
#: redraws of excluded designs before a sample gives up on them (a space that is mostly excluded
#: is enumerated instead, which is exact)
REDRAWS = 50


@dataclass(frozen=True)
class GeneSet:
    """On/off genes, each a 0/1 column, with at least ``low`` and at most ``high`` on.

    ``fold_change`` is what a simulated gene's model column becomes when it is on (a knockdown
    to 10 %: 0.1); off, it keeps the parent strain's 1.
    """

    name: str
    genes: tuple[str, ...]
    low: int
    high: int
    fold_change: float | None = None

    @functools.cached_property
    def subsets(self) -> list[tuple[int, ...]]:
        """Every allowed on/off pattern, smallest sets first."""
        n = len(self.genes)
        out = []
        for k in range(self.low, self.high + 1):
            for on in itertools.combinations(range(n), k):
                row = [0] * n
                for i in on:
                    row[i] = 1
                out.append(tuple(row))
        return out

    @property
    def size(self) -> int:
        n = len(self.genes)
        return sum(math.comb(n, k) for k in range(self.low, self.high + 1))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` uniform draws over the allowed sets (each allowed set equally likely)."""
        k_values = np.arange(self.low, self.high + 1)
        weights = np.array([math.comb(len(self.genes), int(k)) for k in k_values], float)
        sizes = rng.choice(k_values, size=n, p=weights / weights.sum())
        order = rng.random((n, len(self.genes))).argsort(axis=1)
        ranks = order.argsort(axis=1)
        return (ranks < sizes[:, None]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PartSpace(Space):
    """A finite space of slots, numeric levels and gene sets; see the module docstring."""

    columns: tuple[str, ...]
    slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    numbers: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    sets: tuple[GeneSet, ...] = ()
    descriptors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    exclude: tuple[Mapping[str, tuple[Any, ...]], ...] = ()
    listed: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        genes = [g for s in self.sets for g in s.genes]
        known = [*self.slots, *self.numbers, *genes]
        if sorted(known) != sorted(self.columns) or len(set(known)) != len(known):
            raise KinsynthError(f"space: every design column must be one slot, numeric column or "
                                f"gene, once; got columns {list(self.columns)} for {known}")

    # -- what the space is -------------------------------------------------------------------
    @property
    def genes(self) -> tuple[str, ...]:
        return tuple(g for s in self.sets for g in s.genes)

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c in self.slots or c in self.genes)

    @property
    def discrete(self) -> bool:
        return True

    @property
    def product_size(self) -> int:
        """Designs in the product of the slots, levels and sets, before exclusions."""
        size = math.prod(len(v) for v in self.slots.values())
        size *= math.prod(len(v) for v in self.numbers.values())
        return size * math.prod(s.size for s in self.sets)

    @functools.cached_property
    def library_size(self) -> float:
        if self.listed is not None:
            return float(len(self.listed))
        if not self.exclude or self.product_size > MAX_PRODUCT:
            return float(self.product_size)  # with exclusions: an upper bound (said in docs)
        return float(len(self.enumerate()))

    def column_levels(self, j: int) -> np.ndarray:
        column = self.columns[j]
        if column in self.slots:
            return np.array(self.slots[column], dtype=object)
        if column in self.numbers:
            return np.array(self.numbers[column], dtype=float)
        return np.array([0, 1], dtype=np.int64)

    def _level_index(self, j: int, values: pd.Series) -> np.ndarray:
        column = self.columns[j]
        if column in self.numbers:  # the nearest level: a measured number need not be exact
            return _nearest(values.to_numpy(float), np.asarray(self.numbers[column], float))
        return super()._level_index(j, values)

    # -- drawing designs ----------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` uniform draws: a listed design, or independent slots, levels and sets (excluded
        designs redrawn)."""
        if self.listed is not None:
            return self.listed.iloc[rng.integers(len(self.listed), size=n)].reset_index(drop=True)
        frame = self._draw(n, rng)
        for _ in range(REDRAWS):
            bad = np.flatnonzero(self._excluded(frame))
            if not len(bad):
                break
            redrawn = self._draw(len(bad), rng)
            frame.iloc[bad] = redrawn.to_numpy()
        frame = frame[~self._excluded(frame)]
        return frame.reset_index(drop=True)

    def _draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        values: dict[str, Any] = {}
        for column, names in self.slots.items():
            values[column] = np.array(names, dtype=object)[rng.integers(len(names), size=n)]
        for column, levels in self.numbers.items():
            values[column] = np.asarray(levels, float)[rng.integers(len(levels), size=n)]
        for gene_set in self.sets:
            on = gene_set.sample(n, rng)
            for i, gene in enumerate(gene_set.genes):
                values[gene] = on[:, i]
        return pd.DataFrame(values, columns=list(self.columns))

    def enumerate(self) -> pd.DataFrame:
        """Every buildable design: the list, or the product less the exclusions."""
        if self.listed is not None:
            return self.listed.copy()
        if self.product_size > MAX_PRODUCT:
            raise KinsynthError(f"space: {self.product_size:,} designs are too many to list "
                                f"(at most {MAX_PRODUCT:,}); they are sampled instead")
        groups: list[list[tuple[Any, ...]]] = [[(v,) for v in self.slots[c]] for c in self.slots]
        groups += [[(v,) for v in self.numbers[c]] for c in self.numbers]
        groups += [list(s.subsets) for s in self.sets]
        order = [*self.slots, *self.numbers, *self.genes]
        rows = [sum(combo, ()) for combo in itertools.product(*groups)]
        frame = pd.DataFrame(rows, columns=order)[list(self.columns)]
        return frame[~self._excluded(frame)].reset_index(drop=True)

    def snap(self, designs: pd.DataFrame) -> pd.DataFrame:
        """Numbers to the nearest level, genes to 0/1; rows that cannot be built are dropped."""
        frame = designs[list(self.columns)].copy()
        keep = np.ones(len(frame), bool)
        for column, names in self.slots.items():
            as_text = frame[column].astype(str).str.strip()
            keep &= as_text.isin(names).to_numpy()
            frame[column] = as_text.astype(object)
        for column, levels in self.numbers.items():
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
            keep &= np.isfinite(values)
            allowed = np.asarray(levels, float)
            frame[column] = allowed[_nearest(np.nan_to_num(values, nan=allowed[0]), allowed)]
        for gene_set in self.sets:
            on = np.column_stack([pd.to_numeric(frame[g], errors="coerce").to_numpy(float)
                                  for g in gene_set.genes])
            keep &= np.isfinite(on).all(axis=1)
            on01 = (np.nan_to_num(on) >= 0.5).astype(np.int64)
            count = on01.sum(axis=1)
            keep &= (count >= gene_set.low) & (count <= gene_set.high)
            for i, gene in enumerate(gene_set.genes):
                frame[gene] = on01[:, i]
        keep &= ~self._excluded(frame)
        if self.listed is not None:
            listed = set(design_keys(self.listed, self.columns))
            keep &= np.array([k in listed for k in design_keys(frame, self.columns)], bool)
        return frame[keep]

    def _excluded(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros(len(frame), bool)
        for rule in self.exclude:
            hit = np.ones(len(frame), bool)
            for column, values in rule.items():
                hit &= frame[column].isin(values).to_numpy()
            out |= hit
        return out

    # -- what a learner sees ------------------------------------------------------------------
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for column in self.columns:
            if column in self.slots:
                names += [f"{column}={v}" for v in self.slots[column]]
                if column in self.descriptors:
                    names.append(f"{column}:descriptor")
            else:
                names.append(column)
        return names

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        """One-hot slots (and each slot's descriptor), log numeric levels, 0/1 genes."""
        return self._encode(frame, scaled=False)

    def scaled_features(self, frame: pd.DataFrame) -> np.ndarray:
        """Two designs that differ in one slot, one gene or one numeric column's whole range
        are the same distance apart (1)."""
        return self._encode(frame, scaled=True)

    def _encode(self, frame: pd.DataFrame, scaled: bool) -> np.ndarray:
        blocks: list[np.ndarray] = []
        for j, column in enumerate(self.columns):
            if column in self.slots:
                index = self._level_index(j, frame[column].astype(str))
                onehot = np.eye(len(self.slots[column]))[index]
                blocks.append(onehot / np.sqrt(2) if scaled else onehot)
                if column in self.descriptors and not scaled:
                    table = self.descriptors[column]
                    blocks.append(np.array([[table[n]] for n in self.slots[column]])[index])
            elif column in self.numbers:
                levels = np.asarray(self.numbers[column], float)
                values = frame[column].to_numpy(float)
                if (levels > 0).all():
                    values, levels = np.log(values), np.log(levels)
                span = float(np.ptp(levels)) or 1.0
                blocks.append(((values - levels.min()) / span if scaled else values)[:, None])
            else:
                blocks.append(frame[column].to_numpy(float)[:, None])
        return np.hstack(blocks) if blocks else np.empty((len(frame), 0))

    # -- a simulator's view -------------------------------------------------------------------
    def to_model(self, designs: pd.DataFrame, model_columns: Sequence[str]) -> pd.DataFrame:
        """Fold changes of a kinetic model's columns: a slot's part gives its descriptor, a gene
        that is on its set's ``fold_change``; every other column keeps the parent's 1."""
        out = pd.DataFrame(1.0, index=designs.index, columns=list(model_columns))
        for column in self.slots:
            out[column] = designs[column].map(dict(self.descriptors[column])).astype(float)
        for column in self.numbers:
            out[column] = designs[column].to_numpy(float)
        for gene_set in self.sets:
            for gene in gene_set.genes:
                on = designs[gene].to_numpy(float) >= 0.5
                out[gene] = np.where(on, float(gene_set.fold_change or 1.0), 1.0)
        return out


def _nearest(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The index of each value's nearest level: in log space when every level is a positive
    fold change (a 2x step up and down are equally far, as in :class:`DesignSpace`), else on
    the numbers themselves."""
    if (levels > 0).all() and (values > 0).all():
        return np.abs(np.log(values)[:, None] - np.log(levels)).argmin(axis=1)
    return np.abs(values[:, None] - levels).argmin(axis=1)
