"""Simulator speed: configurations/s of the embedded model, on one worker and on every core.

docs/performance.md explains the row and what it includes.
"""

from __future__ import annotations

import os
from typing import Any

from bench.options import Options
from bench.report import Report


def simulator_throughput(n: int) -> tuple[float, str]:
    """Configurations/s of the embedded model on every core, and a note with one worker's rate."""
    from kinsynth.simulate import measure_throughput

    cores = os.cpu_count() or 1
    rates = [float(measure_throughput(n, workers=w)) for w in (1, cores)]
    note = f"{n} configurations on {cores} worker(s), incl. start-up; 1 worker: {rates[0]:,.0f}/s"
    return rates[1], note


def bench_simulator(report: Report, options: Options, say: Any) -> None:
    """Configurations/s of the embedded simulator (``kinsynth.simulate.measure_throughput``)."""
    rate, note = simulator_throughput(options.simulate_n)
    report.add("simulator (kinsynth.simulate.measure_throughput)", rate, "configurations/s", note)
    say(f"  simulator: {note}")
