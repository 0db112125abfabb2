"""report.md: the tables as Markdown, the definitions note, failures and the figure list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kinsynth.evaluate.report.tables import (
    HONEST_METRICS,
    TABLE2_METRICS,
    baseline_table,
)

if TYPE_CHECKING:
    from kinsynth.evaluate.report import Report

DEFINITIONS_NOTE = (
    "The thesis's MSE and KL are defined differently from ours, so only their order of magnitude "
    "and ranking can be compared. Thesis: for VAE/CVAE, the last epoch's training-loss terms "
    "(per-row squared error summed over the features, and the KL, both batch means) divided by "
    "about 63; for "
    "PPCA, the MSE of each row against its own noisy reconstruction and a KL between Gaussian "
    "covariances. Ours (kinsynth.evaluate.metrics): `recon_mse` is the per-element "
    "reconstruction MSE on the held-out test split in training-standardised units, `kl` the "
    "per-sample KL(q(z|x) || p(z)) averaged over the test split."
)


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4g}"


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markdown(frame: pd.DataFrame, cells: dict[str, list[str]] | None = None) -> str:
    """A pipe table (pandas' to_markdown needs tabulate, which we do not depend on)."""
    cells = cells or {}
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, (_, row) in enumerate(frame.iterrows()):
        values = []
        for column in frame.columns:
            if column in cells:
                values.append(cells[column][i])
            elif isinstance(row[column], float):
                values.append(_fmt(row[column]))
            else:
                values.append(str(row[column]))
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def table_markdown(table: pd.DataFrame) -> str:
    """The wide table for reading: ``mean ± sd`` where a cell has several seeds."""
    latent_columns = [c for c in table.columns if c.isdigit()]
    shown = table.drop(columns=[c for c in table.columns if c.endswith(" sd")])
    cells: dict[str, list[str]] = {}
    for column in latent_columns:
        sd_column = f"{column} sd"
        values = []
        for _, row in table.iterrows():
            text = _fmt(row[column])
            if sd_column in table and not math.isnan(row[sd_column]):
                text += f" ± {row[sd_column]:.2g}"
            values.append(text)
        cells[column] = values
    return _markdown(shown, cells)


def is_thesis_sweep(long: pd.DataFrame) -> bool:
    """A sweep run in the thesis's setting (``experiment=thesis``): only its reconstruction table
    is the thesis's Table 2, beside the published values."""
    return bool(len(long)) and bool((long["experiment"] == "thesis").any())


def shared_overrides(report: Report) -> list[str]:
    """The overrides every job of the sweep was given (its swept settings differ, so are not)."""
    jobs = report.jobs
    if not jobs:
        return []
    common = set(jobs[0].overrides).intersection(*(job.overrides for job in jobs[1:]))
    return [o for o in jobs[0].overrides if o in common]


def _reconstruction_section(table: pd.DataFrame, thesis: bool) -> list[str]:
    rows = table[table["metric"].isin(TABLE2_METRICS)].reset_index(drop=True)
    if thesis:
        return ["## Thesis Table 2: reconstruction MSE and KL", "", table_markdown(rows), "",
                DEFINITIONS_NOTE, ""]
    # not the thesis's setting: its published figures would be compared with another experiment
    rows = rows.drop(columns=[c for c in rows.columns if c.startswith("thesis")])
    return ["## Reconstruction MSE and KL", "", table_markdown(rows), ""]


def render_markdown(report: Report, sources: Sequence[Path]) -> str:
    """report.md: provenance, the reconstruction table (beside the thesis for a thesis sweep),
    the honest figures, failures, figures."""
    table, long = report.table, report.long
    n_ok = len(report.jobs) - len(report.failed)
    seeds = sorted({int(s) for s in long["seed"].dropna()}) if len(long) else []
    shared = shared_overrides(report)
    parts = [
        "# kinsynth sweep report",
        "",
        "Sweeps: " + ", ".join(f"`{s}`" for s in sources),
        f"Jobs: {n_ok} finished, {len(report.failed)} failed. Seeds: {seeds or '–'} "
        "(cells are means; `± sd` over seeds where there are several).",
        "Experiments: "
        + ", ".join(
            f"{lab}: {exp}" for lab, exp in long.groupby("label")["experiment"].first().items()
        ),
        "Shared settings (every job): "
        + (", ".join(f"`{o}`" for o in shared) if shared else "none beyond the defaults"),
        "",
        *_reconstruction_section(table, is_thesis_sweep(long)),
        "## Sample quality",
        "",
        "What the thesis did not measure: whether the samples look like held-out data "
        "(definitions in `kinsynth.evaluate.metrics`). c2st_auc 0.5 = indistinguishable from "
        "real rows, 1.0 = trivially separable; std_ratio 1 = right spread, near 0 = collapse; "
        "memorisation_ratio about 1 = fresh rows, near 0 = copies of training rows.",
        "",
        table_markdown(
            table[table["metric"].isin(HONEST_METRICS)]
            .drop(columns=[c for c in table.columns if c.startswith("thesis")])
            .reset_index(drop=True)
        ),
        "",
    ]
    baselines = baseline_table(long)
    if len(baselines):
        parts += [
            "## Baselines",
            "",
            "The same figures for a perfect generator (real vs real: half the training rows as "
            "the 'synthetic' set) and for independent column-wise resampling (right marginals, "
            "no dependence); mean over jobs.",
            "",
            _markdown(baselines),
            "",
        ]
    if report.failed:
        parts += ["## Failed jobs", ""]
        parts += [
            f"- `{job.path}` ({job.model}, latent {job.latent_dim}, seed {job.seed}): "
            f"{_shorten(job.error or '')}"
            for job in report.failed
        ]
        parts.append("")
    warned = [job for job in report.jobs if job.ok and job.warning]
    if warned:
        parts += [
            "## Jobs that wrote metrics.json and then failed",
            "",
            "Their figures are in the tables above; the error came after evaluation.",
            "",
        ]
        by_message: dict[str, list[str]] = {}
        for job in warned:
            by_message.setdefault(_shorten(job.warning or ""), []).append(f"`{job.path.name}`")
        parts += [f"- {', '.join(names)}: {msg}" for msg, names in by_message.items()]
        parts.append("")
    if report.figures:
        parts += ["## Figures", ""]
        parts += [f"- [{p.name}]({p.relative_to(report.out)})" for p in report.figures]
        parts.append("")
    if report.notes:
        parts += ["## Notes", ""] + [f"- {note}" for note in report.notes] + [""]
    return "\n".join(parts)
