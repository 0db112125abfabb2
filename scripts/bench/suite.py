"""The benchmark's default table: training, generation and the simulator, measured in one process.

Everything is measured one after the other, so the figures share the same machine load and can be
compared as ratios. ``scripts/benchmark.py`` is the thin command-line wrapper.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.options import Options
from bench.report import Report, machine_context, peak_rss_mib
from bench.sampling import bench_sampling
from bench.simulator import bench_simulator
from bench.training import bench_default_model, bench_ppca, bench_training


def run(options: Options, say: Callable[[str], None] = print) -> Report:
    """Every measurement, side by side, in this process."""
    report = Report(context=machine_context())
    report.context["options"] = options.__dict__
    with tempfile.TemporaryDirectory(prefix="kinsynth-bench-") as tmp:
        work = Path(tmp)
        say("thesis VAE training (ours vs bare loop) ...")
        thesis_vae = bench_training(report, options, work, say)
        say("default model ...")
        default = bench_default_model(report, options, work, say)
        say("PPCA ...")
        bench_ppca(report, options, work, say)
        say("generation ...")
        bench_sampling(report, "default model (quantile)", default, options, say)
        bench_sampling(report, "thesis vae (no transform)", thesis_vae, options, say)
        say("simulator ...")
        bench_simulator(report, options, say)
    report.add("peak resident memory of this process", peak_rss_mib(), "MiB", "getrusage maxrss")
    report.context["load_average_1min_end"] = machine_context()["load_average_1min"]
    return report
