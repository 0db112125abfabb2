"""The comparison of strategies over seeds: one table and one figure from a dbtl.py sweep."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import check_writable_dir, save_figure, write_text
from kinsynth.runs.contract import CAMPAIGN, NOT_IN_NAMES, read_overrides

#: overrides that never tell two campaigns' settings apart: the seed is what a row averages over
_NOT_A_VARIANT = ("seed=", "strategy=", *NOT_IN_NAMES)


def variant_labels(overrides: Sequence[list[str] | None]) -> list[str]:
    """Each campaign's swept settings, e.g. ``strategy.diversity=10``: the overrides whose values
    differ between the campaigns (the seed aside). A sweep over a strategy's option gets one row
    per value instead of one pooled row."""
    parsed = [dict(o.lstrip("+~").partition("=")[::2] for o in listed or ())
              for listed in overrides]
    keys = sorted({k for job in parsed for k in job
                   if not any(f"{k}=".startswith(skip) for skip in _NOT_A_VARIANT)})
    swept = [k for k in keys if len({job.get(k) for job in parsed}) > 1]
    return [" ".join(f"{k}={job[k]}" for k in swept if k in job) for job in parsed]


def collect(sweeps: Sequence[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cycles of every campaign, one summary row per campaign) below the given folders.

    Campaigns are grouped by ``strategy`` plus their swept settings (:func:`variant_labels`).
    """
    paths = [path for sweep in sweeps for path in sorted(Path(sweep).rglob(CAMPAIGN))]
    labels = variant_labels([read_overrides(path.parent) for path in paths])
    cycles, summaries = [], []
    for path, variant in zip(paths, labels, strict=True):
        summary, frame = _read_campaign(path)
        summary["strategy_name"] = summary["strategy"]
        if variant:
            summary["strategy"] = f"{summary['strategy']} {variant}"
        frame["strategy"], frame["seed"] = summary["strategy"], summary["seed"]
        frame["strategy_name"] = summary["strategy_name"]
        # the proposed batches' mean diversity and failed share (cycle 0 is random for all)
        proposed = frame[frame["cycle"] > 0]
        summary["batch_diversity"] = float(proposed["batch_diversity"].mean())
        summary["failed_share"] = float(1 - proposed["batch_valid_fraction"].mean())
        cycles.append(frame)
        summaries.append(summary)
    if not summaries:
        raise KinsynthError(f"{', '.join(map(str, sweeps))}: no finished campaign (campaign.json)")
    return pd.concat(cycles, ignore_index=True), pd.DataFrame(summaries)


#: what the report reads of a campaign: its summary's keys (and a true-top count,
#: :func:`found_column`) and its cycles' columns
SUMMARY_KEYS = ("strategy", "seed", "cumulative_top", "best_true_flux", "strains_to_q99")
CYCLE_COLUMNS = ("cycle", "n_built", "cumulative_top", "batch_diversity", "batch_valid_fraction")
#: random's exact expectation beside a true-top count: its name says the size k of the top set
_RANDOM_FOUND = re.compile(r"^random_top(\d+)_found$")


def found_column(names: Sequence[str]) -> str | None:
    """The count of true top-k designs built among ``names`` (a summary's keys or a cycles
    table's columns): ``top{k}_found`` with k the landscape's (100 for a simulated library, 10
    for a measured table), named by its ``random_top{k}_found`` beside it (``top1_found`` counts
    the top 1 % of the reference pool, another figure); ``top100_found`` alone where a campaign
    records no expectation."""
    for name in names:
        match = _RANDOM_FOUND.match(str(name))
        if match and f"top{match.group(1)}_found" in names:
            return f"top{match.group(1)}_found"
    return "top100_found" if "top100_found" in names else None


def _read_campaign(path: Path) -> tuple[dict, pd.DataFrame]:
    """A campaign's ``campaign.json`` and ``cycles.csv``, checked: a damaged one (truncated by a
    full disk, edited) is one line naming the file, not a ``KeyError`` from deep in a table."""
    fix = "rerun that campaign (resume=<its folder>) or move it out of the sweep"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise KinsynthError(f"'{path}': not readable JSON ({error}); {fix}") from None
    missing = [key for key in SUMMARY_KEYS if not isinstance(summary, dict) or key not in summary]
    if isinstance(summary, dict) and found_column(list(summary)) is None:
        missing.append("top100_found (or top{k}_found with random_top{k}_found)")
    if missing:
        raise KinsynthError(f"'{path}': lacks {', '.join(missing)}; {fix}")
    table = path.parent / "cycles.csv"
    try:
        frame = pd.read_csv(table)
    except FileNotFoundError:
        raise KinsynthError(f"'{table}': missing beside {path.name}; {fix}") from None
    except (OSError, ValueError) as error:  # pandas' parser and empty-file errors are ValueErrors
        reason = " ".join(str(error).split())
        raise KinsynthError(f"'{table}': not a readable table ({reason}); {fix}") from None
    missing = [column for column in CYCLE_COLUMNS if column not in frame.columns]
    if missing:
        raise KinsynthError(f"'{table}': lacks column(s) {', '.join(missing)} (truncated?); {fix}")
    return summary, frame


def _mean_sd(values: pd.Series) -> str:
    values = values.dropna().astype(float)
    if values.empty:
        return "-"
    return f"{values.mean():.3g} ± {values.std(ddof=1):.2g}" if len(values) > 1 else \
        f"{values.mean():.3g}"


def landscape_max(summaries: pd.DataFrame) -> tuple[float, bool]:
    """Simple regret's reference: the exact library maximum when known, else the best of the pool
    and of every design any campaign of the sweep built (each campaign records its own)."""
    if "landscape_max" not in summaries or summaries["landscape_max"].isna().all():
        return float("nan"), False
    exact = bool(summaries.get("landscape_max_exact", pd.Series([False])).fillna(False).any())
    return float(summaries["landscape_max"].max()), exact


def comparison_table(summaries: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy (and swept setting): each figure's mean ± sd over seeds. The
    true-top count is the landscape's ``top{k}_found``, beside random's exact expectation
    ``random_top{k}_found`` after as many builds."""
    rows = []
    best, _ = landscape_max(summaries)
    found = found_column(list(summaries.columns)) or "top100_found"
    expected = f"random_{found}"
    for strategy, group in summaries.groupby("strategy", sort=False):
        top_k = {found: _mean_sd(group.get(found, pd.Series(dtype=float)))}
        if expected in summaries and summaries[expected].notna().any():
            # exact, and the same for every seed of a schedule: a number, not a spread
            top_k[expected] = f"{group[expected].astype(float).mean():.3g}"
        rows.append({
            "strategy": strategy,
            "seeds": len(group),
            "cumulative_top": _mean_sd(group["cumulative_top"]),
            "best_true_flux": _mean_sd(group["best_true_flux"]),
            "strains_to_q99": _mean_sd(group["strains_to_q99"]),
            "reached_q99": f"{group['strains_to_q99'].notna().sum()}/{len(group)}",
            "top1_found": _mean_sd(group.get("top1_found", pd.Series(dtype=float))),
            "simple_regret": _mean_sd(best - group["best_true_flux"]),
            **top_k,
            # the paper's figure of merit (campaign/judge.py), where the judge ran
            "top100_predicted": _mean_sd(group.get("top100_predicted", pd.Series(dtype=float))),
            "library_r2": _mean_sd(group.get("library_r2", pd.Series(dtype=float))),
            "batch_diversity": _mean_sd(group["batch_diversity"]),
            "failed_share": _mean_sd(group["failed_share"]),
        })
    return pd.DataFrame(rows)


def write_report(sweeps: Sequence[Path], out: Path) -> str:
    check_writable_dir(out, "--out")  # a read-only --out is found before the sweep is read
    cycles, summaries = collect(sweeps)
    table = comparison_table(summaries)
    lines = [markdown(table)]
    best, exact = landscape_max(summaries)
    reference = ("exact maximum (the library enumerated)" if exact else
                 "best known flux (the best of the reference pool and of every design built "
                 "in these campaigns)")
    lines += ["", f"simple_regret: the landscape's {reference}, {best:.4g}, minus the best true "
              "flux a campaign built; batch_diversity and failed_share: mean over the proposed "
              "cycles; top100_predicted and library_r2: the judge after the last cycle"]
    found = found_column(list(summaries.columns))
    if found is not None and summaries.get(f"random_{found}", pd.Series()).notna().any():
        lines.append(f"{found}: distinct designs of the landscape's true top {found[3:-6]} "
                     f"built; random_{found}: what as many uniform random designs hold on "
                     "average (exact)")
    text = "\n".join(lines)
    # each whole under its name or absent (a full disk is one line), never through a link
    write_text(text + "\n", out / "dbtl_report.md", key="--out")
    _figure(cycles, out / "dbtl_cumulative_top.png")
    return text


def _figure(cycles: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("cumulative_top", "top designs found (flux > pool q95)")]
    if "top1_found" in cycles:
        panels.append(("top1_found", "top-1 % designs found (flux > pool q99)"))
    found = found_column(list(cycles.columns))
    if found is not None and cycles[found].notna().any():
        panels.append((found, f"true top-{found[3:-6]} designs built"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    n_seeds = cycles.groupby("strategy")["seed"].nunique().max()
    for ax, (column, label) in zip(axes[0], panels, strict=True):
        _strategy_curves(ax, cycles, column)
        ax.set_xlabel("strains built")
        ax.set_ylabel(label)
        ax.set_title(f"mean ± sd over {n_seeds} seeds")
    fig.tight_layout()
    try:
        save_figure(fig, path, overwrite=True, key="--out", dpi=120)
    finally:
        plt.close(fig)


def _strategy_curves(ax: Any, cycles: pd.DataFrame, column: str) -> None:
    """Each strategy's mean ± sd of ``column`` against strains built, and random's exact
    expectation (``random_<column>``) as a dashed line where the campaigns record it."""
    from kinsynth.campaign.strategies import strategy_class, strategy_names

    colours = {name: strategy_class(name).colour for name in strategy_names()}
    variants: dict[str, int] = {}  # a strategy's variants share its colour, not its line style
    seeds = cycles.groupby("strategy", sort=False)["seed"].nunique()
    uneven = seeds.nunique() > 1  # then each line says over how many seeds it is
    for strategy, group in cycles.groupby("strategy", sort=False):
        stats = group.groupby("n_built")[column].agg(["mean", "std"]).fillna(0)
        x = stats.index.to_numpy()
        name = str(group["strategy_name"].iloc[0])
        colour = colours.get(name)
        style = ("-", "--", ":", "-.")[variants.get(name, 0) % 4]
        variants[name] = variants.get(name, 0) + 1
        label = f"{strategy} ({seeds[strategy]} seeds)" if uneven else str(strategy)
        ax.plot(x, stats["mean"], marker="o", label=label, color=colour, ls=style)
        ax.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"],
                        alpha=0.2, color=colour)
    expected = f"random_{column}"
    if expected in cycles and cycles[expected].notna().any():
        line = cycles.groupby("n_built")[expected].mean()
        ax.plot(line.index.to_numpy(), line.to_numpy(), color="grey", ls="--", lw=1.2,
                label="random, exact expectation")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)


def found_figure(panels: dict[str, pd.DataFrame], path: Path, xlabel: str) -> None:
    """The true-top count (``top{k}_found``) against strains built, one panel per entry of
    ``panels`` (e.g. a budget: its campaigns' cycles): each strategy's mean ± sd over seeds and
    random's exact expectation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (title, cycles) in zip(axes[0], panels.items(), strict=True):
        column = found_column(list(cycles.columns))
        if column is None:
            raise KinsynthError(f"{title}: its campaigns record no top{{k}}_found")
        _strategy_curves(ax, cycles, column)
        ax.set_title(f"{title}: mean ± sd over seeds")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"true top-{column[3:-6]} designs built ({column})")
    fig.tight_layout()
    try:
        save_figure(fig, path, overwrite=True, key="--out", dpi=120)
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ a protocol beside a paper

def protocol_table(campaigns: dict[str, Sequence[Path]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per schedule and strategy, the last cycle's figures over seeds, and every cycle's mean and
    sd of ``top100_predicted`` (the curve). ``campaigns`` maps a schedule's name to its folders.

    Cycle ``c`` of a campaign is cycle ``c + 1`` of van Lent et al., who count the initial
    library as cycle 1.
    """
    rows, curves = [], []
    for schedule, folders in campaigns.items():
        cycles, summaries = collect(folders)
        last = cycles[cycles["cycle"] == cycles["cycle"].max()]
        for strategy, group in last.groupby("strategy", sort=False):
            built = group["top100_found"]
            rows.append({
                "schedule": schedule, "strategy": strategy, "seeds": len(group),
                "top100_predicted": _mean_sd(group["top100_predicted"]),
                "library_r2": _mean_sd(group["library_r2"]),
                "top100_found": _mean_sd(built),
                "built_a_top100": f"{int((built >= 1).sum())}/{len(group)}",
                "best_true_flux": _mean_sd(group["best_true_flux"]),
            })
        stats = cycles.groupby(["strategy", "cycle"], sort=False)["top100_predicted"]
        curve = stats.agg(["mean", "std", "count"]).reset_index()
        curve.insert(0, "schedule", schedule)
        curves.append(curve)
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def protocol_figure(curves: pd.DataFrame, reference: dict[str, dict[str, list[float]]],
                    path: Path) -> None:
    """``top100_predicted`` per cycle (the paper's numbering, 1 = the initial library), one panel
    per schedule: each strategy's mean ± sd beside the paper's stored means (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kinsynth.campaign.strategies import strategy_class, strategy_names

    colours = {name: strategy_class(name).colour for name in strategy_names()}
    schedules = list(dict.fromkeys(curves["schedule"]))
    fig, axes = plt.subplots(1, len(schedules), figsize=(5 * len(schedules), 4), squeeze=False)
    for ax, schedule in zip(axes[0], schedules, strict=True):
        for strategy, group in curves[curves["schedule"] == schedule].groupby("strategy",
                                                                             sort=False):
            x = group["cycle"].to_numpy() + 1
            mean, sd = group["mean"].to_numpy(), group["std"].fillna(0).to_numpy()
            colour = colours.get(str(strategy).split()[0])
            ax.plot(x, mean, marker="o", color=colour,
                    label=f"{strategy} (n={int(group['count'].max())})")
            ax.fill_between(x, mean - sd, mean + sd, alpha=0.15, color=colour)
        for model, means in reference.get(schedule, {}).items():
            ax.plot(range(1, len(means) + 1), means, ls="--", marker="x", color="grey"
                    if model.startswith("paper GBR") else "black", label=model)
        ax.set_title(schedule)
        ax.set_xlabel("cycle (1 = the initial library)")
        ax.set_ylabel("top100_predicted")
        ax.set_xticks(range(1, int(curves["cycle"].max()) + 2))
        ax.set_ylim(0, 100)
        ax.legend(fontsize=7)
    fig.tight_layout()
    try:
        save_figure(fig, path, overwrite=True, key="--out", dpi=120)
    finally:
        plt.close(fig)
