"""The evaluation of a short run beside its training: ``train.py model=cvae trainer.max_epochs=20``.

Three processes, exactly the command a user types, on the embedded data with an empty baseline
cache: the first run of a split (the baselines computed and stored), the same command again (the
baselines read back), and ``callbacks.evaluation.level=fast``. Each row is the run's own
``evaluation_seconds`` beside its own ``fit_seconds`` (metrics.json), and the estimate the run
logged before training.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COMMAND = ["model=cvae", "trainer.max_epochs=20"]


def _train(run: Path, cache: Path, extra: list[str]) -> tuple[dict[str, Any], str]:
    env = {**os.environ, "CI": "true", "KINSYNTH_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, str(REPO / "train.py"), *COMMAND, *extra, f"hydra.run.dir={run}",
         "progress_bar=false"],
        cwd=run.parent, env=env, check=True, capture_output=True, text=True,
    )
    said = [line for line in (done.stdout + done.stderr).splitlines() if "will take about" in line]
    estimate = said[0].split("will take about ")[1].split(" s")[0] if said else "?"
    return json.loads((run / "metrics.json").read_text()), estimate


def run(report: Any, say: Any, work: Path) -> None:
    """Rows: evaluation seconds against training seconds, first run, cached, fast."""
    cache = work / "cache"
    for index, (label, extra) in enumerate((
        ("first run on the split (baselines computed)", []),
        ("again (baselines cached)", []),
        ("callbacks.evaluation.level=fast", ["callbacks.evaluation.level=fast"]),
    )):
        say(f"  train.py {' '.join(COMMAND)}: {label} ...")
        metrics, estimate = _train(work / f"run_{index}", cache, extra)
        evaluation, fit = metrics["evaluation_seconds"], metrics["fit_seconds"]
        report.add(
            f"train.py {' '.join(COMMAND)}, {label}: evaluation", evaluation, "s",
            f"reference, same run: training {fit:.2f} s ({evaluation / fit:.1f}x); "
            f"estimated before training: about {estimate} s",
            target="<= training, or said before it starts",
            passed=evaluation <= fit or estimate != "?",
        )
