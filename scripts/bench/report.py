"""The benchmark's table and how its figures are taken: clocks, rows, and the machine's context.

Every measurement module adds its rows to one :class:`Report`, so ``scripts/benchmark.py`` prints
one table whose figures share the same machine load and can be compared as ratios.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one measurement.

    CPU seconds (``time.process_time``) barely move when other processes share the cores, so on a
    busy machine they are the figure to compare; wall seconds are what a user waits.
    """

    wall: float
    cpu: float

    @classmethod
    def since(cls, wall0: float, cpu0: float) -> Timing:
        return cls(time.perf_counter() - wall0, time.process_time() - cpu0)


def clock() -> tuple[float, float]:
    """The start of a :class:`Timing`: ``Timing.since(*start)`` ends it."""
    return time.perf_counter(), time.process_time()


def fastest(timings: list[Timing]) -> Timing:
    """The fastest of repeated measurements, wall and CPU each: the least disturbed by the load."""
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


@dataclass
class Row:
    """One line of the benchmark table."""

    name: str
    value: float
    unit: str
    note: str = ""
    target: str = ""
    passed: bool | None = None


@dataclass
class Report:
    """The benchmark table plus the context needed to read it."""

    rows: list[Row] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def table(self) -> str:
        """Markdown table, ready to paste into docs/performance.md."""
        lines = [
            "| measurement | value | unit | target | note |",
            "|---|---:|---|---|---|",
        ]
        for r in self.rows:
            mark = "" if r.passed is None else (" (met)" if r.passed else " (MISSED)")
            lines.append(
                f"| {r.name} | {_fmt(r.value)} | {r.unit} | {r.target}{mark} | {r.note} |"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {"context": self.context, "rows": [r.__dict__ for r in self.rows]}, indent=2
        )


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def machine_context() -> dict[str, Any]:
    """What the figures depend on: library versions, threads, and the load while measuring."""
    import pytorch_lightning as pl
    import torch

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "lightning": pl.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
    }


def peak_rss_mib() -> float:
    """High-water mark of this process's resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
