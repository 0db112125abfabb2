"""Per-column invertible scaling of kinetic tables.

The models train on transformed values and their samples are mapped back to original units with
:meth:`ColumnTransform.inverse_transform`. Each column gets its own fitted sklearn transformer so
that any subset of the fitted columns (only the features, only the target) can be transformed on
its own. Fitting uses sklearn (the reference implementation); applying uses vectorised numpy on
the fitted parameters, which is exactly equivalent and much faster on the millions of rows that
sampling produces (tests check the equality against sklearn).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import special
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer, StandardScaler

from kinsynth.core.errors import KinsynthError

__all__ = ["TRANSFORMS", "ColumnTransform"]

TRANSFORMS: tuple[str, ...] = ("none", "standard", "minmax", "quantile")

#: sklearn's QuantileTransformer bounds (``sklearn.preprocessing._data.BOUNDS_THRESHOLD``).
_BOUNDS_THRESHOLD = 1e-7
_CLIP_MIN = float(special.ndtri(_BOUNDS_THRESHOLD - np.spacing(1)))
_CLIP_MAX = float(special.ndtri(1 - (_BOUNDS_THRESHOLD - np.spacing(1))))


class ColumnTransform:
    """Per-column invertible scaling fitted on the training split only.

    Model checkpoints carry it as plain data (:meth:`to_state`: a kind name, column names and
    float tensors, never a pickle), so loading a checkpoint cannot run code.
    ``kind`` is one of :data:`TRANSFORMS`: ``none`` (identity), ``standard`` (zero mean, unit
    variance), ``minmax`` (to [0, 1]) or ``quantile`` (to a standard normal through the empirical
    CDF; the inverse stays inside the per-column training range).

    A categorical column (part names, ``levels`` in :meth:`fit`) becomes one 0/1 column per level
    in model space, in the sorted level order; the inverse maps a block to the index of its largest
    entry (its level code, see :meth:`names`), so a model's softmax probabilities, a sampled
    one-hot row and PPCA's continuous values all decode to the most likely or drawn level.
    """

    def __init__(self, kind: str = "quantile", n_quantiles: int = 1000, seed: int = 0) -> None:
        if kind not in TRANSFORMS:
            raise KinsynthError(
                f"unknown transform '{kind}', expected one of: {', '.join(TRANSFORMS)}"
            )
        if kind == "quantile" and int(n_quantiles) < 2:
            raise KinsynthError(f"n_quantiles must be at least 2, got {n_quantiles}")
        self.kind = kind
        self.n_quantiles = int(n_quantiles)
        self.seed = int(seed)
        self.columns_: list[str] = []
        self.transformers_: dict[str, Any] = {}
        # Vectorised parameters, one row/entry per column in ``columns_`` order.
        self._offset: np.ndarray = np.zeros(0)  # standard: mean_; minmax: min_
        self._scale: np.ndarray = np.ones(0)  # standard: scale_; minmax: scale_
        self._quantiles: list[np.ndarray] = []
        self._references: np.ndarray = np.zeros(0)
        #: categorical columns and their levels; ``columns_`` holds the numeric columns only
        self.levels_: dict[str, list[str]] = {}

    def __repr__(self) -> str:
        return f"ColumnTransform(kind={self.kind!r}, columns={len(self.columns_)})"

    # ------------------------------------------------------------------------------- fitting

    def fit(
        self, frame: pd.DataFrame, levels: dict[str, list[str]] | None = None
    ) -> ColumnTransform:
        """Fit one transformer per column of ``frame`` (pass the training split only).

        ``levels`` names the categorical columns with their levels (from the whole table, so a
        level seen only in validation rows is still known); they are recorded, not fitted.
        """
        if len(frame) == 0:
            raise KinsynthError("cannot fit a transform on an empty table")
        self.levels_ = {str(k): [str(v) for v in values] for k, values in (levels or {}).items()}
        self.columns_ = [str(name) for name in frame.columns if str(name) not in self.levels_]
        values = frame[self.columns_].to_numpy(dtype=np.float64)
        self.transformers_ = {
            name: self._fit_column(values[:, [j]]) for j, name in enumerate(self.columns_)
        }
        self._collect_parameters()
        return self

    def _fit_column(self, column: np.ndarray) -> Any:
        """Fit the sklearn transformer for one column (None for the identity)."""
        if self.kind == "standard":
            return StandardScaler().fit(column)
        if self.kind == "minmax":
            return MinMaxScaler().fit(column)
        if self.kind == "quantile":
            return QuantileTransformer(
                n_quantiles=min(self.n_quantiles, len(column)),
                output_distribution="normal",
                # No subsampling: quantiles from every training row, so the inverse spans the
                # exact training range (an int, not None, for older sklearn versions).
                subsample=max(len(column), 1),
                random_state=self.seed,
            ).fit(column)
        return None

    def _collect_parameters(self) -> None:
        """Copy fitted parameters into arrays so that applying needs no sklearn call."""
        fitted = [self.transformers_[name] for name in self.columns_]
        if self.kind == "standard":
            self._offset = np.array([t.mean_[0] for t in fitted])
            self._scale = np.array([t.scale_[0] for t in fitted])
        elif self.kind == "minmax":
            self._offset = np.array([t.min_[0] for t in fitted])
            self._scale = np.array([t.scale_[0] for t in fitted])
        elif self.kind == "quantile":
            self._quantiles = [t.quantiles_[:, 0].copy() for t in fitted]
            self._references = fitted[0].references_.copy() if fitted else np.zeros(0)

    # --------------------------------------------------------------------- plain-data state

    def to_state(self) -> dict[str, Any]:
        """The fitted parameters as strings, ints and float64 tensors (what a checkpoint holds).

        Applying the transform needs only these vectorised parameters, not the sklearn objects,
        so :meth:`from_state` rebuilds an exactly equivalent transform from them.
        """
        self._check_fitted()

        def tensor(values: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values, dtype=np.float64))

        # only a table with part names has the key, so a numeric run's state is unchanged
        levels = {"levels": {k: list(v) for k, v in self.levels_.items()}} if self.levels_ else {}
        return {
            **levels,
            "kind": self.kind,
            "n_quantiles": self.n_quantiles,
            "seed": self.seed,
            "columns": list(self.columns_),
            "offset": tensor(self._offset),
            "scale": tensor(self._scale),
            "quantiles": [tensor(q) for q in self._quantiles],
            "references": tensor(self._references),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ColumnTransform:
        """Rebuild a fitted transform from :meth:`to_state`'s output, checking every field."""
        if not isinstance(state, dict):
            raise KinsynthError("transform: expected a dict of plain data")
        kind, columns = state.get("kind"), state.get("columns")
        if not isinstance(kind, str) or kind not in TRANSFORMS:
            raise KinsynthError(f"transform: unknown kind {kind!r}")
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise KinsynthError("transform: expected a list of column names")
        n_columns = len(columns)

        def array(value: Any, name: str) -> np.ndarray:
            if not isinstance(value, torch.Tensor) or not value.is_floating_point():
                raise KinsynthError(f"transform: field {name!r} is not a float tensor")
            return value.detach().cpu().double().numpy().copy()

        quantiles = state.get("quantiles")
        if not isinstance(quantiles, list):
            raise KinsynthError("transform: field 'quantiles' is not a list")
        transform = cls(kind, n_quantiles=int(state.get("n_quantiles", 1000)),
                        seed=int(state.get("seed", 0)))
        transform.columns_ = list(columns)
        transform.transformers_ = {name: None for name in columns}
        transform._offset = array(state.get("offset"), "offset")
        transform._scale = array(state.get("scale"), "scale")
        transform._quantiles = [array(q, "quantiles") for q in quantiles]
        transform._references = array(state.get("references"), "references")
        levels = state.get("levels", {})
        if not isinstance(levels, dict) or not all(
            isinstance(name, str) and isinstance(values, list) and values
            and all(isinstance(v, str) for v in values)
            for name, values in levels.items()
        ):
            raise KinsynthError("transform: field 'levels' is not a map of column to level names")
        transform.levels_ = {name: list(values) for name, values in levels.items()}
        sizes = {len(transform._offset), len(transform._scale)}
        if kind in ("standard", "minmax") and sizes != {n_columns}:
            raise KinsynthError(f"transform: {kind} needs one offset and scale per column")
        if kind == "quantile" and (
            len(transform._quantiles) != n_columns
            or any(len(q) != len(transform._references) for q in transform._quantiles)
        ):
            raise KinsynthError("transform: quantile needs one quantile grid per column")
        return transform

    # ------------------------------------------------------------------------------ applying

    def transform(
        self, values: pd.DataFrame | np.ndarray, columns: Sequence[str] | None = None
    ) -> np.ndarray:
        """Map original units to model space (float32).

        ``columns`` names the fitted columns that ``values`` holds, in order (e.g. only the
        features); by default a DataFrame's own columns, else all of ``columns_``.
        """
        if columns is None and isinstance(values, pd.DataFrame):
            columns = [str(name) for name in values.columns]
        if self.levels_ and any(name in self.levels_ for name in columns or self.columns_):
            return self._transform_mixed(values, list(columns or self.columns_))
        array = self._as_2d(values)
        idx = self._column_indices(columns, array.shape[1])
        if self.kind == "standard":
            out = (array - self._offset[idx]) / self._scale[idx]
        elif self.kind == "minmax":
            out = array * self._scale[idx] + self._offset[idx]
        elif self.kind == "quantile":
            out = np.empty(array.shape, dtype=np.float32)
            for j, i in enumerate(idx):
                out[:, j] = self._quantile_forward(_column(array, j), self._quantiles[i])
        else:
            out = array.astype(np.float32)  # always a copy: never alias the caller's array
        return np.asarray(out, dtype=np.float32)

    def inverse_transform(
        self, values: np.ndarray | torch.Tensor, columns: Sequence[str] | None = None
    ) -> np.ndarray:
        """Map model-space values back to original units (float64).

        ``columns`` as in :meth:`transform`; accepts tensors on any device (e.g. model samples).
        """
        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
        if self.levels_ and any(name in self.levels_ for name in columns or self.columns_):
            return self._inverse_mixed(np.asarray(values), list(columns or self.columns_))
        array = self._as_2d(values)
        idx = self._column_indices(columns, array.shape[1])
        if self.kind == "standard":
            out = array * self._scale[idx] + self._offset[idx]
        elif self.kind == "minmax":
            out = (array - self._offset[idx]) / self._scale[idx]
        elif self.kind == "quantile":
            out = np.empty(array.shape, dtype=np.float64)
            for j, i in enumerate(idx):
                out[:, j] = self._quantile_inverse(_column(array, j), self._quantiles[i])
        else:
            out = array.astype(np.float64)  # always a copy: never alias the caller's array
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------- categorical columns

    def width(self, columns: Sequence[str]) -> int:
        """How many model-space columns ``columns`` take: one per level of a categorical one."""
        return sum(len(self.levels_[name]) if name in self.levels_ else 1 for name in columns)

    def names(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each categorical column's level codes (from :meth:`inverse_transform`)
        replaced by the level names, as strings."""
        named = [name for name in frame.columns if name in self.levels_]
        if not named:
            return frame
        frame = frame.copy()
        for name in named:
            table = np.asarray(self.levels_[name], dtype=object)
            frame[name] = table[frame[name].to_numpy(dtype=np.int64)]
        return frame

    def _transform_mixed(
        self, values: pd.DataFrame | np.ndarray, columns: list[str]
    ) -> np.ndarray:
        """Numeric columns scaled as usual, each categorical one as its one-hot block."""
        frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(
            np.asarray(values, dtype=object).reshape(len(values), -1), columns=columns)
        if frame.shape[1] != len(columns):
            raise ValueError(f"array has {frame.shape[1]} columns but {len(columns)} column "
                             "names given")
        blocks = []
        for j, name in enumerate(columns):
            column = frame.iloc[:, j]
            if name in self.levels_:
                blocks.append(self._one_hot(column, name))
            else:
                blocks.append(self.transform(column.to_numpy(dtype=np.float64), [name]))
        return np.concatenate(blocks, axis=1).astype(np.float32, copy=False)

    def _one_hot(self, column: pd.Series, name: str) -> np.ndarray:
        """0/1 block of a part-name column; a name outside the levels is one line."""
        known = self.levels_[name]
        codes = pd.Categorical(column.astype(str).str.strip(), categories=known).codes
        unknown = codes < 0
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise KinsynthError(
                f"column '{name}': row {column.index[row]!r} has {str(column.iloc[row])!r}, a "
                f"level the model does not know; known levels: {', '.join(known)}"
            )
        out = np.zeros((len(column), len(known)), dtype=np.float32)
        out[np.arange(len(column)), codes] = 1.0
        return out

    def _inverse_mixed(self, array: np.ndarray, columns: list[str]) -> np.ndarray:
        """Numeric columns unscaled as usual, each categorical block as its argmax level code."""
        if array.ndim == 1:
            array = array[:, None]
        if array.shape[1] != self.width(columns):
            raise ValueError(f"array has {array.shape[1]} columns but {columns} take "
                             f"{self.width(columns)}")
        out = np.empty((array.shape[0], len(columns)), dtype=np.float64)
        start = 0
        for j, name in enumerate(columns):
            if name in self.levels_:
                stop = start + len(self.levels_[name])
                out[:, j] = np.argmax(array[:, start:stop], axis=1)
            else:
                stop = start + 1
                out[:, j] = self.inverse_transform(array[:, start:stop], [name])[:, 0]
            start = stop
        return out

    # ------------------------------------------------------------------------------- helpers

    def _check_fitted(self) -> None:
        if not self.columns_ and not self.levels_:
            raise RuntimeError("ColumnTransform is not fitted: call fit() first")

    @staticmethod
    def _as_2d(values: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Accept frames and 1-d/2-d arrays without copying.

        Arithmetic with the float64 parameters promotes to float64, so results agree with
        sklearn even for float32 input, without first copying the whole input to float64.
        """
        array = values.to_numpy() if isinstance(values, pd.DataFrame) else np.asarray(values)
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2:
            raise ValueError(f"expected a 2-d array, got shape {array.shape}")
        return array

    def _column_indices(self, columns: Sequence[str] | None, width: int) -> np.ndarray:
        """Positions in ``columns_`` of the columns that an array holds, checking its width."""
        self._check_fitted()
        if columns is None:
            columns = self.columns_
        unknown = [name for name in columns if name not in self.transformers_]
        if unknown:
            raise ValueError(f"columns {unknown} were not fitted; fitted columns: {self.columns_}")
        if len(columns) != width:
            raise ValueError(f"array has {width} columns but {len(columns)} column names given")
        position = {name: i for i, name in enumerate(self.columns_)}
        return np.array([position[name] for name in columns], dtype=np.intp)

    def _quantile_forward(self, x: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
        """sklearn's QuantileTransformer._transform_col (forward, normal output), vectorised.

        sklearn averages ascending and descending interpolation to handle repeated quantiles;
        with strictly increasing quantiles both are the same line, so one ``np.interp`` does.
        """
        refs = self._references
        lower = x - _BOUNDS_THRESHOLD < quantiles[0]
        upper = x + _BOUNDS_THRESHOLD > quantiles[-1]
        if np.all(np.diff(quantiles) > 0):
            u = np.interp(x, quantiles, refs)
        else:
            u = 0.5 * (np.interp(x, quantiles, refs) - np.interp(-x, -quantiles[::-1], -refs[::-1]))
        u[upper] = 1.0
        u[lower] = 0.0
        return np.clip(special.ndtri(u), _CLIP_MIN, _CLIP_MAX)

    def _quantile_inverse(self, z: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
        """sklearn's QuantileTransformer._transform_col (inverse, normal output), vectorised.

        sklearn's references are an evenly spaced grid on [0, 1], so the interpolation interval
        is found by arithmetic instead of a binary search (several times faster than
        ``np.interp``). Results are clamped to the end quantiles, i.e. the training range.
        """
        u = special.ndtr(z)
        n_knots = len(quantiles)
        missing = np.isnan(u)
        position = np.clip(np.where(missing, 0.0, u), 0.0, 1.0) * (n_knots - 1)
        left = np.minimum(position.astype(np.intp), n_knots - 2)
        frac = position - left
        x = quantiles[left] + frac * (quantiles[left + 1] - quantiles[left])
        x[u + _BOUNDS_THRESHOLD > 1.0] = quantiles[-1]
        x[u - _BOUNDS_THRESHOLD < 0.0] = quantiles[0]
        x[missing] = np.nan  # as sklearn: a diverged sample stays visibly NaN
        return x


def _column(array: np.ndarray, j: int) -> np.ndarray:
    """Column ``j`` as a contiguous float64 copy: per-column numpy kernels run faster on it."""
    return np.ascontiguousarray(array[:, j], dtype=np.float64)
