"""Compute threads: one setting, one meaning, in every command."""

from __future__ import annotations

import os
from typing import Any

from kinsynth.core.counts import positive_int


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity: a SLURM job's share, not the node's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def use_threads(value: Any, key: str = "threads") -> int:
    """Set this process's compute threads: torch's, and the BLAS and OpenMP pools that numpy and
    sklearn's gradient boosting (C2ST, the recommender) use. Returns the count set.

    ``None`` (``threads=null``) means every core this process may use, in every command; a
    sweep's jobs set 1 (their configs say so) because they share the cores.

    Every command sets them the same way because oversubscription is the costly mistake here: two
    jobs with two threads each on two cores ran about 15 times slower than one thread each.
    """
    threads = available_cores() if value is None else positive_int(key, value)
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)
    return threads
