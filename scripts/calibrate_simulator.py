"""Print the embedded simulator's calibration figures beside the reference data set's.

Usage: python scripts/calibrate_simulator.py [n_draws] [seed]
Reads ../shared/data/pathway_I_5000.csv when present (the reference column is left out otherwise).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from kinsynth.simulate import load_model, read_dataset, simulate_dataset
from kinsynth.simulate.calibration import profile, reference_draws

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared/data/pathway_I_5000.csv"


def main(n: int = 7000, seed: int = 0) -> None:
    spec = load_model()
    result = simulate_dataset(n, seed=seed)
    table = {"ours": profile(result.frame, result.n_draws, spec)}
    if REFERENCE.exists():
        reference = read_dataset(REFERENCE)
        table["reference"] = profile(reference, reference_draws(reference), spec)
    else:
        print(f"reference file {REFERENCE} not found: showing our figures only")
    frame = pd.DataFrame(table)
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(frame.round(3).to_string())
    print(f"failure reasons: {result.failures}; {result.per_second:.0f} configurations/s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
