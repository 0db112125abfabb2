"""``generate.py n=1000000`` as a user types it, beside the same command with pandas' CSV writer.

The reference is the same command on a machine without pyarrow (the child process is started with
``sys.modules["pyarrow"] = None``, so pandas formats every value, as kinsynth did before it wrote
through pyarrow). The two runs alternate, ``repeats`` times each; the fastest of each is kept
(the least disturbed by other processes) and both must give the same bytes.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# ``python generate.py <args>``, optionally with pyarrow made unimportable
_CHILD = (
    "import runpy, sys\n"
    "if sys.argv[1] == 'pandas':\n    sys.modules['pyarrow'] = None\n"
    "sys.argv = sys.argv[2:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def train_cvae(run: Path, epochs: int = 20) -> None:
    """``train.py model=cvae trainer.max_epochs=<epochs>`` on the embedded data, into ``run``."""
    subprocess.run(
        [sys.executable, str(REPO / "train.py"), "model=cvae", f"trainer.max_epochs={epochs}",
         f"hydra.run.dir={run}", "progress_bar=false", "callbacks.evaluation.figures=false",
         "callbacks.evaluation.baselines=false"],
        cwd=run.parent, env={**os.environ, "CI": "true"}, check=True, capture_output=True,
    )


def time_generate(run: Path, out: Path, rows: int, writer: str) -> float:
    """Wall seconds of the whole ``generate.py run=<run> n=<rows> out=<out>`` command."""
    # the user's environment: the benchmark's own OMP_NUM_THREADS=1 is not theirs
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _CHILD, writer, str(REPO / "generate.py"), f"run={run}",
         f"n={rows}", f"out={out}"],
        cwd=out.parent, env={**env, "CI": "true"}, check=True, capture_output=True,
    )
    return time.perf_counter() - started


def run(report: Any, say: Any, work: Path, rows: int = 1_000_000, repeats: int = 2) -> None:
    """Rows: the command with pyarrow, the reference with pandas, their ratio."""
    run_dir = work / "cvae_20"
    say("  train.py model=cvae trainer.max_epochs=20 (the run to generate from) ...")
    train_cvae(run_dir)
    seconds: dict[str, list[float]] = {"pyarrow": [], "pandas": []}
    for _ in range(repeats):
        for writer in seconds:
            say(f"  generate.py n={rows:,} ({writer} writes the CSV) ...")
            out = work / f"designs_{writer}.csv"
            out.unlink(missing_ok=True)
            seconds[writer].append(time_generate(run_dir, out, rows, writer))
    same = filecmp.cmp(work / "designs_pyarrow.csv", work / "designs_pandas.csv", shallow=False)
    size = (work / "designs_pyarrow.csv").stat().st_size / 2**20
    ours, reference = min(seconds["pyarrow"]), min(seconds["pandas"])
    report.add(
        f"generate.py run=<cvae job> n={rows:,} out=big.csv, whole command", ours, "s",
        f"reference, same run: {reference:.1f} s with pandas' writer (no pyarrow); "
        f"{reference / ours:.2f}x; {size:.0f} MiB; files identical: {same}; "
        f"best of {repeats}", target="<= 15", passed=ours <= 15 and same,
    )
