"""Counts every command checks before anything is allocated: one rule for sizes, rows, cycles and
seeds, so ``3`` and ``3.0`` pass everywhere and ``3.5``, ``abc`` and ``True`` fail everywhere."""

from __future__ import annotations

from typing import Any

from kinsynth.core.errors import KinsynthError


def whole_number(key: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum], else a one-line error naming ``key``.

    The one check of a count every command makes (sizes, rows, cycles, seeds): ``3`` and ``3.0``
    pass, ``3.5``, ``abc`` and ``True`` do not.
    """
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
        if isinstance(value, float) and number != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise KinsynthError(f"{key}={value!r}: expected {what}") from None
    if number < minimum or (maximum is not None and number > maximum):
        limit = f" at most {maximum}" if maximum is not None else ""
        raise KinsynthError(f"{key}={value!r}: expected {what}{limit}")
    return number


def positive_int(key: str, value: Any, maximum: int | None = None) -> int:
    """:func:`whole_number` of at least 1."""
    return whole_number(key, value, 1, maximum)
