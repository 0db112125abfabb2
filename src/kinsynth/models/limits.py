"""Size settings checked before anything is allocated: a typo never asks for terabytes.

The bounds are far above anything useful for tables of tens of columns, and low enough that
the largest model they allow still fits in a few GB.
"""

from __future__ import annotations

import os
from typing import Any

from kinsynth.errors import KinsynthError

MAX_LATENT_DIM = 1024
MAX_HIDDEN_UNITS = 16384
MAX_HIDDEN_LAYERS = 32


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


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity: a SLURM job's share, not the node's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def use_threads(value: Any, key: str = "threads") -> int | None:
    """Set this process's compute threads: torch's, and the BLAS and OpenMP pools that numpy and
    sklearn's gradient boosting (C2ST, the recommender) use. ``None`` leaves them as they are.

    Every command sets them the same way because oversubscription is the costly mistake here: two
    jobs with two threads each on two cores ran about 15 times slower than one thread each.
    """
    if value is None:
        return None
    threads = positive_int(key, value)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)
    return threads
