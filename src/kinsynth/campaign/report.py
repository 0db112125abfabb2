"""The comparison of strategies over seeds: one table and one figure from a dbtl.py sweep."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kinsynth.errors import KinsynthError


def collect(sweeps: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cycles of every campaign, one summary row per campaign) below the given folders."""
    cycles, summaries = [], []
    for sweep in sweeps:
        for path in sorted(Path(sweep).rglob("campaign.json")):
            summary = json.loads(path.read_text())
            frame = pd.read_csv(path.parent / "cycles.csv")
            frame["strategy"], frame["seed"] = summary["strategy"], summary["seed"]
            cycles.append(frame)
            summaries.append(summary)
    if not summaries:
        raise KinsynthError(f"{', '.join(map(str, sweeps))}: no finished campaign (campaign.json)")
    return pd.concat(cycles, ignore_index=True), pd.DataFrame(summaries)


def _mean_sd(values: pd.Series) -> str:
    values = values.dropna().astype(float)
    if values.empty:
        return "-"
    return f"{values.mean():.3g} ± {values.std(ddof=1):.2g}" if len(values) > 1 else \
        f"{values.mean():.3g}"


def comparison_table(summaries: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for strategy, group in summaries.groupby("strategy", sort=False):
        rows.append({
            "strategy": strategy,
            "seeds": len(group),
            "cumulative_top": _mean_sd(group["cumulative_top"]),
            "best_true_flux": _mean_sd(group["best_true_flux"]),
            "strains_to_q99": _mean_sd(group["strains_to_q99"]),
            "reached_q99": f"{group['strains_to_q99'].notna().sum()}/{len(group)}",
            "top100_found": _mean_sd(group["top100_found"]),
        })
    return pd.DataFrame(rows)


def write_report(sweeps: Sequence[Path], out: Path) -> str:
    cycles, summaries = collect(sweeps)
    table = comparison_table(summaries)
    header = "| " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
    text = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dbtl_report.md").write_text(text + "\n")
    _figure(cycles, out / "dbtl_cumulative_top.png")
    return text


def _figure(cycles: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    colours = {"random": "black", "recommender": "tab:orange", "generative": "cyan"}
    for strategy, group in cycles.groupby("strategy", sort=False):
        stats = group.groupby("n_built")["cumulative_top"].agg(["mean", "std"]).fillna(0)
        x = stats.index.to_numpy()
        colour = colours.get(strategy)
        ax.plot(x, stats["mean"], marker="o", label=strategy, color=colour)
        ax.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"],
                        alpha=0.2, color=colour)
    ax.set_xlabel("strains built")
    ax.set_ylabel("top designs found (flux > pool q95)")
    n_seeds = cycles.groupby("strategy")["seed"].nunique().max()
    ax.set_title(f"Cumulative top designs, mean ± sd over {n_seeds} seeds")
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
