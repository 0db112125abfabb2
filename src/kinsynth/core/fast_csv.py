"""CSV text of numeric chunks by pyarrow, byte for byte what ``pandas.to_csv(float_format="%.6g")``
writes, about ten times faster.

pandas formats every float with one Python call (1,000,000 generated designs of 20 columns: most
of ``generate.py``'s time); pyarrow's CSV writer formats in C++ with the shortest text that reads
back as the same double. Rounding each value to six significant digits first (vectorised) makes
that shortest text the digits ``%.6g`` prints, in the range where both use plain notation
(``1e-4 <= |x| < 1e6``). The few values outside it (scientific notation), or too near a rounding
tie or a power of ten to round safely in floating point, are formatted by Python's ``%.6g`` itself.
A chunk with a column of another kind (text, booleans) returns None: pandas writes it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
import pandas as pd

#: significant digits of every float kinsynth writes (kinsynth.core.writing.FLOAT_FORMAT)
DIGITS = 6
# %.6g writes plain notation for a rounded magnitude in [1e-4, 1e6), as pyarrow does there
_PLAIN_LOW, _PLAIN_HIGH = 1e-4, 1e6
# decimal exponents whose scale 10**(DIGITS - 1 - e) is an exact double (10**0 .. 10**10)
_EXPONENTS = range(-5, DIGITS)
# how near a tie (x.5) or a power of ten a value may come before floating point could round it
# the other way from the exact decimal rounding %.6g does; far wider than the error (~1e-10)
_TIE_MARGIN = 1e-6
_POWER_MARGIN = 1e-9
_POWERS = 10.0 ** np.arange(_EXPONENTS.start, _EXPONENTS.stop + 1)
_SCALES = 10.0 ** (DIGITS - 1 - np.arange(_EXPONENTS.start, _EXPONENTS.stop))


@functools.cache
def available() -> bool:
    """Whether pyarrow (the ``parquet`` extra) is installed; without it pandas writes each chunk."""
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


def round_to_digits(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` rounded to :data:`DIGITS` significant digits, and where pyarrow cannot write it.

    The second array marks the entries whose text must come from Python's ``%.6g``: finite,
    nonzero values outside plain notation or too near a tie or a power of ten. NaN, infinities
    and zeros pass through unchanged (pyarrow writes ``inf``, ``-inf``, ``0``, ``-0`` as %.6g
    does; NaN becomes an empty field, as pandas writes it).
    """
    magnitude = np.abs(x)
    ordinary = np.isfinite(magnitude) & (magnitude > 0)
    # decimal exponent by bisection over the powers of ten (a log10 costs four times as much):
    # index i means _POWERS[i - 1] <= magnitude < _POWERS[i]; a NaN sorts past the end
    exponent = np.searchsorted(_POWERS, magnitude, side="right") + (_EXPONENTS.start - 1)
    in_range = ordinary & (exponent >= _EXPONENTS.start) & (exponent < _EXPONENTS.stop)
    scale = _SCALES[np.where(in_range, exponent - _EXPONENTS.start, 0)]
    scaled = np.where(in_range, magnitude, 1.0) * scale  # in [1e5, 1e6) where in range
    # a double power of ten may lie a hair off the decimal one: the bisection may then be off by
    # one, which shows as a scaled value at the very edge of [1e5, 1e6)
    low, high = 10.0 ** (DIGITS - 1), 10.0**DIGITS
    near_power = (scaled < low * (1 + _POWER_MARGIN)) | (scaled > high * (1 - _POWER_MARGIN))
    near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < _TIE_MARGIN
    rounded = np.copysign(np.rint(scaled) / scale, x)
    plain = (np.abs(rounded) >= _PLAIN_LOW) & (np.abs(rounded) < _PLAIN_HIGH)
    by_python = ordinary & ~(in_range & plain & ~near_tie & ~near_power)
    return np.where(ordinary, rounded, x), by_python


def _arrow_column(values: np.ndarray) -> Any:
    """One numeric column as the pyarrow array whose CSV text is pandas' ``%.6g`` text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if values.dtype.kind in "iu":
        return pa.array(values)
    x = values.astype(np.float64, copy=False)
    rounded, by_python = round_to_digits(x)
    column = pa.array(rounded, from_pandas=True)  # NaN -> null -> an empty field
    rows = np.flatnonzero(by_python)
    if rows.size == 0:
        return column
    text = pc.cast(column, pa.string()).to_numpy(zero_copy_only=False)
    for row in rows:
        text[row] = f"%.{DIGITS}g" % x[row]
    return pa.array(text, type=pa.string())


def csv_bytes(chunk: pd.DataFrame, header: bool) -> bytes | None:
    """``chunk`` as CSV (no index), identical to ``chunk.to_csv(index=False, float_format=
    "%.6g")``; None when a column is neither float nor integer, or pyarrow is missing."""
    numeric = all(isinstance(d, np.dtype) and d.kind in "fiu" for d in chunk.dtypes)
    if not numeric or chunk.shape[1] == 0:
        return None
    if not available():
        return None
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    # the header is pandas' own (its quoting of odd names); positional names for pyarrow
    head = chunk.iloc[:0].to_csv(index=False, lineterminator=os.linesep) if header else ""
    arrays = [_arrow_column(chunk.iloc[:, j].to_numpy()) for j in range(chunk.shape[1])]
    table = pa.Table.from_arrays(arrays, names=[f"c{j}" for j in range(len(arrays))])
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none", eol=os.linesep)
    pa_csv.write_csv(table, sink, options)
    return head.encode() + sink.getvalue().to_pybytes()
