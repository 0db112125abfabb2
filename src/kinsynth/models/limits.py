"""Size settings checked before anything is allocated: a typo never asks for terabytes.

The bounds are far above anything useful for tables of tens of columns, and low enough that
the largest model they allow still fits in a few GB.
"""

from __future__ import annotations

from typing import Any

from kinsynth.errors import KinsynthError

MAX_LATENT_DIM = 1024
MAX_HIDDEN_UNITS = 16384
MAX_HIDDEN_LAYERS = 32


def positive_int(key: str, value: Any, maximum: int | None = None) -> int:
    """``value`` as an int in [1, maximum], else a one-line error naming ``key``."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise KinsynthError(f"{key}={value!r}: expected a positive integer") from None
    if number < 1 or (maximum is not None and number > maximum):
        limit = f" at most {maximum}" if maximum is not None else ""
        raise KinsynthError(f"{key}={value!r}: expected a positive integer{limit}")
    return number
