"""How far the evaluation caps move the figures on the reference data (``--caps``).

For seeds 0-2: train the copula floor (``model=cppca latent_dim=19``, seconds), then score its
synthetic.csv with no caps, the default caps, and tight caps that bind on the 5,000-row reference.
A cap is safe when it moves each figure by less than the figure's own seed spread.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.configs import compose

FIGURES = (
    "c2st_auc", "c2st_auc_joint", "mmd", "memorisation_ratio", "tstr_r2", "wasserstein_joint",
)
TIGHT = {"c2st": 250, "mmd": 500, "memorisation": 1000, "memorisation_reference": 1000,
         "utility": 1000, "oracle_fit": 1000}


def run(data: Path, work: Path, say: Any, seeds: tuple[int, ...] = (0, 1, 2)) -> str:
    """Markdown table: seed sd of each figure beside the largest move each set of caps causes."""
    from kinsynth.data import KineticDataModule
    from kinsynth.evaluate.metrics import evaluate_samples
    from kinsynth.evaluate.metrics.caps import RowCaps
    from kinsynth.train.run import run_training

    variants = {
        "none": RowCaps(**{f.name: None for f in fields(RowCaps)}),
        "default": RowCaps(),
        "tight": RowCaps(**TIGHT),
    }
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for seed in seeds:
        say(f"  seed {seed}: cppca on {data.name} ...")
        out = work / f"caps_{seed}"
        run_training(compose([f"data.path={data}", "model=cppca", "latent_dim=19", f"seed={seed}",
                              "callbacks.evaluation.figures=false",
                              "callbacks.evaluation.baselines=false", "logger=csv"], out), out)
        dm = KineticDataModule(path=str(data), seed=seed, device="cpu")
        dm.setup()
        synth = pd.read_csv(out / "synthetic.csv")
        for name, caps in variants.items():
            scores[name].append(evaluate_samples(
                dm.train_frame, dm.test_frame, synth, dm.features, dm.target, seed, caps
            ))
    lines = [
        "| figure | seed sd (no caps) | largest move, default caps | largest move, tight caps |",
        "|---|---:|---:|---:|",
    ]
    for figure in FIGURES:
        base = np.array([s[figure] for s in scores["none"]])
        moves = {
            name: max(abs(s[figure] - b) for s, b in zip(scores[name], base, strict=True))
            for name in ("default", "tight")
        }
        lines.append(f"| {figure} | {base.std(ddof=1):.4f} | {moves['default']:.4f} | "
                     f"{moves['tight']:.4f} |")
    tight = ", ".join(f"{k}={v}" for k, v in TIGHT.items())
    return "\n".join([*lines, "", f"tight caps: {tight}"])
