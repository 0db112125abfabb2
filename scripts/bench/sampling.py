"""Generation speed: rows/s of ``model.sample``, where its time goes, and its peak memory.

docs/performance.md explains each row and what it includes.
"""

from __future__ import annotations

import contextlib
import gc
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from bench.options import Options
from bench.report import Report

TARGET_SAMPLE_ROWS_PER_SECOND = 1_000_000


@contextlib.contextmanager
def _timer(store: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    store[key] = store.get(key, 0.0) + time.perf_counter() - start


@torch.no_grad()
def sample_breakdown(model: Any, n: int, seed: int = 0) -> dict[str, float]:
    """Seconds spent in each part of ``model.sample(n)``, run part by part as sample() runs them.

    ``condition`` (drawing and scaling targets, conditional models), ``decoder``
    (``sample_scaled``), ``inverse_transform`` (``_unscale``: to numpy, back to original units) and
    ``dataframe`` (building the frame). ``total`` is one call of the public ``sample``.
    """
    times: dict[str, float] = {}
    model.eval()
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    condition, targets = None, None
    with _timer(times, "condition"):
        if model.conditional:
            targets = model.resolve_targets(n, None, rng)
            condition = model._scale(targets[:, None], model.condition_columns)
    with _timer(times, "decoder"):
        scaled = model.sample_scaled(n, condition, generator)
    with _timer(times, "inverse_transform"):
        values = model._unscale(scaled, model.data_columns)
    with _timer(times, "dataframe"):
        frame = pd.DataFrame(values, columns=model.data_columns)
        if targets is not None:
            frame[model.target] = targets
    del frame, values, scaled
    gc.collect()
    with _timer(times, "total"):
        model.sample(n, seed=seed)
    return times


def sample_peak_mib(model: Any, n: int) -> float:
    """Peak Python/numpy allocation (tracemalloc) of one ``sample(n)`` call, in MiB.

    torch's own CPU allocator is invisible to tracemalloc, so this counts the numpy arrays and the
    DataFrame, which dominate: the decoder's output is n x columns float32.
    """
    gc.collect()
    tracemalloc.start()
    try:
        model.sample(n, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def bench_sampling(
    report: Report, name: str, model: Any, options: Options, say: Any
) -> None:
    """Rows/s of ``model.sample`` and where the time goes; peak numpy memory of one call."""
    n = options.sample_rows
    model.sample(1000, seed=0)  # warm-up: first-call allocations and lazy imports
    runs = [sample_breakdown(model, n) for _ in range(max(options.repeats, 2))]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    parts = {k: v for k, v in best.items() if k != "total"}
    dominant = max(parts, key=parts.get)  # type: ignore[arg-type]
    share = ", ".join(f"{k} {v / sum(parts.values()):.0%}" for k, v in parts.items() if v > 0)
    rate = n / best["total"]
    report.add(
        f"sample(): {name}",
        rate,
        "rows/s",
        f"{n:,} rows x {len(model.data_columns) + len(model.condition_columns)} columns; "
        f"{share}; dominant: {dominant}",
        target=f">= {TARGET_SAMPLE_ROWS_PER_SECOND:,}",
        passed=rate >= TARGET_SAMPLE_ROWS_PER_SECOND,
    )
    report.add(
        f"sample(): {name}, peak numpy/pandas memory",
        sample_peak_mib(model, n),
        "MiB",
        f"tracemalloc over one sample({n:,}) call",
    )
    say(f"  sampling {name}: {rate:,.0f} rows/s ({share})")
