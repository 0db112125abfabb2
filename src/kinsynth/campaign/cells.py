"""Cells of a lab's table that every reader shares: a measured response and a ``valid`` flag."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError

#: how a lab may write the ``valid`` column (case-insensitive); pandas reads True/1 as bool/int
VALID_WORDS = {"yes": True, "true": True, "1": True, "1.0": True,
               "no": False, "false": False, "0": False, "0.0": False}


def cell(raw: pd.Series, row: int) -> Any:
    """A cell as a plain Python value, so that a message shows -0.5, not np.float64(-0.5)."""
    return raw.iloc[row : row + 1].tolist()[0]


def measured_response(raw: pd.Series, target: str, where: str) -> pd.Series:
    """The measured flux: a finite number, or empty for a strain that did not produce."""
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = (values.isna() & raw.notna()) | np.isinf(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise KinsynthError(f"{where}: column '{target}' has {cell(raw, row)!r} at data row "
                            f"{row + 1}, expected a finite measured flux (empty for a strain "
                            "that did not produce)")
    return values


def valid_flags(raw: pd.Series, where: str) -> pd.Series:
    """``valid`` as booleans from yes/no, true/false or 1/0: a word such as "no" is not True."""
    words = raw.astype(str).str.strip().str.lower()
    flags = words.map(VALID_WORDS)
    bad = flags.isna() | raw.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        shown = "an empty cell" if pd.isna(raw.iloc[row]) else repr(cell(raw, row))
        raise KinsynthError(f"{where}: column 'valid' has {shown} at data row {row + 1}, "
                            "expected yes/no, true/false or 1/0")
    return flags.astype(bool)
