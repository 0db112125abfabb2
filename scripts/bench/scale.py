"""The scale rows of the benchmark (``scripts/benchmark.py --scale``).

How the cost of a run grows with its data: reading, training (3 epochs) and the full evaluation on
5k, 50k and 300k rows of a generated table of the reference shape, the peak memory of
``generate.py`` at 100k and 3M rows, and generation speed against the decoder's arithmetic and the
cores' measured matmul peak. Runs are subprocesses, exactly the commands a user types; each one
reports its own peak resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]

#: The reference table's columns and sampling ranges (../shared/data/pathway_I_5000.csv).
REFERENCE_RANGES: dict[str, tuple[float, float]] = {
    **{f"vmax_forward_Enz_{c}": (0.5, 2.0) for c in "ABCDEFGHL"},
    "vmax_forward_TKT2": (1 / 3, 3.0),
    "vmax_forward_RPI": (0.5, 1.5),
    "vmax_forward_PDH": (0.8, 1.2),
    "vmax_forward_CS": (0.6, 1.4),
    "km_substrate2_TKT2": (1 / 3, 3.0),
    "km_substrate1_PDH": (0.6, 1.8),
    "km_substrate1_Enz_A": (1 / 3, 3.0),
    "km_substrate2_Enz_A": (0.7, 1.3),
    "vmax_forward_Enz_I": (0.5, 1.5),
    "km_substrate1_Enz_I": (0.7, 1.3),
}

# A child process that runs a script as ``python script args`` would and prints its peak RSS.
_WITH_PEAK_RSS = (
    "import resource, runpy, sys; script = sys.argv[1]; sys.argv = sys.argv[1:]\n"
    "try:\n    runpy.run_path(script, run_name='__main__')\n"
    "finally:\n    print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " file=sys.stderr)\n"
)


def reference_shaped_table(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows shaped like the reference: uniform fold changes, a saturating product flux."""
    rng = np.random.default_rng(seed)
    columns = {
        name: rng.uniform(lo, hi, size=n).astype(np.float64)
        for name, (lo, hi) in REFERENCE_RANGES.items()
    }
    frame = pd.DataFrame(columns)
    a, b, c = (frame[f"vmax_forward_Enz_{k}"].to_numpy() for k in "ABC")
    tkt = frame["vmax_forward_TKT2"].to_numpy()
    flux = a / (0.6 + a) * b**0.5 / (1.0 + 0.4 * c) * tkt / (0.8 + tkt)
    flux *= np.exp(rng.normal(0.0, 0.03, size=n))
    frame["Product_I"] = 0.6 * flux / np.median(flux)
    return frame


def run_script(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout+stderr of ``python <script> <args>``."""
    env = {**os.environ, "CI": "true", "HYDRA_FULL_ERROR": "1"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _WITH_PEAK_RSS, *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{result.stderr[-3000:]}")
    peak = [line for line in result.stderr.splitlines() if line.startswith("PEAK_RSS_KIB")]
    return wall, int(peak[-1].split()[1]) / 1024, result.stdout + result.stderr


def measure_reading(path: Path) -> tuple[float, float]:
    """Seconds of ``read_table`` (float32, as the data module reads) and its traced peak in MiB."""
    from kinsynth.data import read_table

    started = time.perf_counter()
    read_table(path, dtype=np.float32)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    read_table(path, dtype=np.float32)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def measure_run(path: Path, run_dir: Path, extra: list[str]) -> dict[str, float]:
    """``train.py model=cvae trainer.max_epochs=3`` start to finish, and its phases."""
    wall, rss, _ = run_script(
        [str(REPO / "train.py"), "model=cvae", "trainer.max_epochs=3", f"data.path={path}",
         f"hydra.run.dir={run_dir}", "progress_bar=false", *extra],
        cwd=run_dir.parent,
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "wall": wall, "rss": rss, "fit": metrics["fit_seconds"],
        "evaluation": metrics["evaluation_seconds"],
    }


def decoder_macs_per_row(model: Any) -> int:
    """Multiply-adds of one decoder pass per row: the sum of its Linear layers' weights."""
    import torch

    return sum(m.weight.numel() for m in model.decoder.modules() if isinstance(m, torch.nn.Linear))


def matmul_peak_gmacs(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """The cores' float32 matmul rate in GMAC/s (best of ``repeats``), ``threads`` torch threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return size**3 / best / 1e9


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def generation_rate(run_dir: Path, rows: int, threads: int) -> tuple[float, int]:
    """Rows/s of ``iter_sample`` (no file) with ``threads`` torch threads; decoder MAC per row."""
    import torch

    from kinsynth.models import load

    torch.set_num_threads(threads)
    model = load(run_dir)
    for _ in model.iter_sample(20_000, seed=1):
        pass  # warm-up
    started = time.perf_counter()
    for _ in model.iter_sample(rows, seed=0):
        pass
    return rows / (time.perf_counter() - started), decoder_macs_per_row(model)


def run(report: Any, say: Any, sizes: tuple[int, ...], gen_rows: tuple[int, int],
        work: Path) -> None:
    """Add every scale row to ``report`` (a bench.report.Report)."""
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    phases: dict[int, dict[str, float]] = {}
    for n in sizes:
        path = work / f"table_{n}.csv"
        reference_shaped_table(n, seed=0).to_csv(path, index=False)
        size_mib = path.stat().st_size / 2**20
        say(f"  {n:,} rows ({size_mib:.1f} MiB): reading ...")
        read_s, read_peak = measure_reading(path)
        say(f"  {n:,} rows: train.py model=cvae trainer.max_epochs=3 ...")
        phases[n] = {"read": read_s, **measure_run(path, work / f"run_{n}", [])}
        report.add(f"scale {n:,} rows: read_table", read_s, "s",
                   f"{size_mib:.1f} MiB CSV; traced peak {read_peak:.0f} MiB = "
                   f"{read_peak / size_mib:.2f}x the file", target="<= 3x the file",
                   passed=read_peak <= 3 * size_mib)
        p = phases[n]
        report.add(f"scale {n:,} rows: train 3 epochs (fit)", p["fit"], "s", "model=cvae")
        report.add(f"scale {n:,} rows: full evaluation", p["evaluation"], "s",
                   "every figure, baselines, figures, synthetic.csv")
        report.add(
            f"scale {n:,} rows: whole train.py run", p["wall"], "s",
            f"start to finished run directory; peak RSS {p['rss']:.0f} MiB",
            target="<= 240" if n >= 300_000 else "",
            passed=(p["wall"] <= 240) if n >= 300_000 else None,
        )
    small, large = min(sizes), max(sizes)
    for key, label in (("read", "read_table"), ("fit", "train"), ("evaluation", "evaluation"),
                       ("wall", "whole run")):
        growth = phases[large][key] / phases[small][key]
        report.add(f"growth {label}: {large:,} / {small:,} rows", growth, "x",
                   f"rows grew {large / small:.0f}x",
                   target=f"<= {large / small:.0f}x", passed=growth <= large / small)

    say("  default model for generation (1 epoch) ...")
    gen_data = work / f"table_{small}.csv"
    gen_run = work / "gen_run"
    run_script([str(REPO / "train.py"), f"data.path={gen_data}", "trainer.max_epochs=1",
                f"hydra.run.dir={gen_run}", "progress_bar=false",
                "callbacks.evaluation.baselines=false", "callbacks.evaluation.figures=false"],
               cwd=work)
    peaks = {}
    for rows in gen_rows:
        say(f"  generate.py n={rows:,} ...")
        out = work / f"designs_{rows}.csv"
        wall, rss, _ = run_script([str(REPO / "generate.py"), f"run={gen_run}", f"n={rows}",
                                   f"out={out}"], cwd=work)
        peaks[rows] = rss
        report.add(f"generate.py n={rows:,}: peak RSS", rss, "MiB",
                   f"{wall:.1f} s wall, {rows / wall:,.0f} rows/s written to CSV "
                   f"({out.stat().st_size / 2**20:.0f} MiB)")
        out.unlink()
    few, many = gen_rows
    report.add(f"generate.py peak RSS growth {many:,} - {few:,} rows", peaks[many] - peaks[few],
               "MiB", f"rows grew {many / few:.0f}x", target="<= 300",
               passed=peaks[many] - peaks[few] <= 300)

    say("  generation rows/s against the matmul peak ...")
    for used in sorted({1, threads}):
        rate, macs = generation_rate(gen_run, 1_000_000, used)
        peak = matmul_peak_gmacs(used)
        achieved = rate * macs / 1e9
        report.add(
            f"sample(): default model, {used} thread(s)", rate, "rows/s",
            f"decoder {macs:,} MAC/row = {macs / 1e3:.0f} GMAC per million rows; "
            f"{achieved:.1f} GMAC/s = {achieved / peak:.0%} of the measured matmul peak "
            f"{peak:.1f} GMAC/s (2048x2048 float32, {used} thread(s))",
        )
