"""Row caps: the most rows each costly figure uses, and timing each figure."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MMD_MAX_ROWS = 2000
"""Rows per set used by the MMD (its cost is quadratic in the number of rows)."""


@dataclass(frozen=True)
class RowCaps:
    """Most rows each costly figure uses: a seeded subsample of each set beyond that.

    The defaults are at or above what the 5,000-row reference data gives each figure (500 test
    rows, 4,000 training rows, 5,000 synthetic rows), so its figures are unchanged by them, while a
    300,000-row table is evaluated in seconds; docs/performance.md has the measurement. ``None``
    lifts a cap.
    """

    c2st: int | None = 5000
    """Rows per side (real, synthetic) of the classifier two-sample test."""
    mmd: int | None = MMD_MAX_ROWS
    """Rows per set of the MMD (quadratic cost)."""
    memorisation: int | None = 5000
    """Synthetic and held-out rows whose nearest training row is looked up."""
    memorisation_reference: int | None = 50000
    """Training rows searched for those nearest neighbours."""
    utility: int | None = 20000
    """Rows each TSTR/TRTR regressor is fitted on."""
    oracle_fit: int | None = 50000
    """Training rows the surrogate oracle is fitted on (the simulator needs none)."""
    matrix_columns: int | None = 500
    """Columns the k x k figures use (``corr_diff``, ``gauss_kl``): a seeded subset beyond it.

    Their matrices grow with the square of the columns (50,000 columns: 20 GB each); 500
    columns are 2 MB, and every table of the thesis's size (15 to 50 columns) is unchanged.
    """

    @classmethod
    def from_mapping(cls, values: dict[str, int | None] | None) -> RowCaps:
        """From a config mapping; unknown keys are a one-line error naming the key."""
        from kinsynth.core.errors import KinsynthError

        values = dict(values or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise KinsynthError(
                f"callbacks.evaluation.max_rows: unknown key(s) {unknown}, expected {sorted(known)}"
            )
        for key, value in values.items():
            if value is not None and int(value) < 10:
                raise KinsynthError(
                    f"callbacks.evaluation.max_rows.{key}={value}: expected at least 10 rows "
                    "or null (no cap)"
                )
        return cls(**{k: None if v is None else int(v) for k, v in values.items()})


def matrix_columns(k: int, cap: int | None, seed: int, keep_last: bool = False) -> np.ndarray:
    """Indices of the columns a k x k figure uses: all of them within ``cap``, else a seeded
    sorted subset of ``cap`` (``keep_last`` keeps the last, the target of a joint space)."""
    if cap is None or k <= cap:
        return np.arange(k)
    rng = np.random.default_rng(seed)
    pool = k - 1 if keep_last else k
    chosen = rng.choice(pool, size=cap - 1 if keep_last else cap, replace=False)
    return np.sort(np.concatenate([chosen, [k - 1]]) if keep_last else chosen)


def _cap(x: np.ndarray, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    """``x`` itself when within ``cap``, else a seeded subsample of ``cap`` rows."""
    return x if cap is None else _subsample(x, cap, rng)


@contextmanager
def timed(figure: str, rows: int) -> Iterator[None]:
    """Log (DEBUG) how long one figure took, so the next slow figure is found in one run."""
    started = time.perf_counter()
    yield
    log.debug("%s: %.3f s on %d rows", figure, time.perf_counter() - started, rows)


def _subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``n`` rows of ``x``, drawn without replacement."""
    if len(x) <= n:
        return x
    return x[rng.choice(len(x), size=n, replace=False)]
