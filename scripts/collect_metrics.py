"""Tabulate chosen metrics.json keys over run directories, grouped by a label.

Usage: ``python scripts/collect_metrics.py outputs/i6/*_s? [--keys c2st_auc_joint,hit_rate]``.
Run directories whose names differ only in a trailing ``_s<seed>`` are grouped and reported as
mean ± sd, which is how results over seeds are read; a tiny utility, not a report generator.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

DEFAULT_KEYS = (
    "c2st_auc_joint",
    "c2st_auc",
    "std_ratio_min",
    "std_ratio_max",
    "out_of_range",
    "cond_spearman",
    "hit_rate",
    "tstr_over_trtr",
    "memorisation_ratio",
    "fit_seconds",
)


def _value(metrics: dict[str, float], key: str) -> float:
    """A metrics.json key, or the derived ratio ``tstr_over_trtr`` (tstr_r2 / trtr_r2)."""
    if key == "tstr_over_trtr":
        return metrics.get("tstr_r2", np.nan) / metrics.get("trtr_r2", np.nan)
    return float(metrics.get(key, np.nan))


def collect(run_dirs: list[Path], keys: tuple[str, ...]) -> dict[str, dict[str, list[float]]]:
    """Values per group (run dir name without its ``_s<seed>`` suffix) and key."""
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in run_dirs:
        path = run / "metrics.json"
        if not path.is_file():
            continue
        metrics = json.loads(path.read_text())
        label = re.sub(r"_s\d+$", "", run.name)
        for key in keys:
            groups[label][key].append(_value(metrics, key))
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--keys", default=",".join(DEFAULT_KEYS))
    args = parser.parse_args()
    keys = tuple(k for k in args.keys.split(",") if k)
    groups = collect(args.runs, keys)
    print("| run | n | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for label, values in groups.items():
        n = len(next(iter(values.values())))
        cells = []
        for key in keys:
            arr = np.asarray(values[key], dtype=float)
            sd = f" ± {arr.std(ddof=1):.3f}" if len(arr) > 1 else ""
            cells.append(f"{arr.mean():.3f}{sd}")
        print(f"| {label} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
