"""The report's tables: one row per job (the long table), and the thesis's Table 2 layout
(model x metric against latent size, the published values beside ours), with the baselines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kinsynth.runs.contract import HEADLINE_METRICS
from kinsynth.sweeps.jobs import Job

#: Published values, thesis Table 2 (N. Alwani, TU Delft 2024; latent size 11 only), as quoted in
#: ../shared/data/README.md. Keys: (model config name, our comparable metric key).
THESIS_TABLE2: dict[tuple[str, str], float] = {
    ("ppca", "recon_mse"): 0.0598,
    ("ppca", "kl"): 1.0991,
    ("vae", "recon_mse"): 0.0594,
    ("vae", "kl"): 0.0006,
    ("cvae", "recon_mse"): 0.0549,
    ("cvae", "kl"): 0.0003,
}
THESIS_LATENT = 11

#: The thesis's own two figures, then the figures that say whether the samples are any good.
TABLE2_METRICS = ("recon_mse", "kl")
HONEST_METRICS = (
    *(m for m in HEADLINE_METRICS if m not in TABLE2_METRICS),
    "wasserstein",
    "corr_diff",
    # the nearest of our figures to the thesis's PPCA "KL between Gaussian covariances"
    "gauss_kl",
    "tstr_r2",
    "memorisation_ratio",
)
REPORT_METRICS = TABLE2_METRICS + HONEST_METRICS
#: Figures with a real-vs-real ceiling and a naive-independent floor in metrics.json.
BASELINE_METRICS = tuple(
    m for m in HONEST_METRICS if m not in ("gauss_kl", "cond_spearman", "hit_rate")
)
ID_COLUMNS = ("job", "model", "experiment", "label", "latent_dim", "seed")


def long_table(jobs: Sequence[Job]) -> pd.DataFrame:
    """One row per finished job: ids (job, model, experiment, label, latent_dim, seed), metrics.

    ``label`` is the model's config name, followed by ``+experiment`` only when the same model
    was run under several experiments, so that two settings of one model never share a row.
    """
    finished = [job for job in jobs if job.ok]
    experiments: dict[str, set[str]] = {}
    for job in finished:
        experiments.setdefault(job.model, set()).add(job.experiment)
    rows = []
    for job in finished:
        label = job.model if len(experiments[job.model]) == 1 else f"{job.model}+{job.experiment}"
        rows.append(
            {
                "job": str(job.path),
                "model": job.model,
                "experiment": job.experiment,
                "label": label,
                "latent_dim": job.latent_dim,
                "seed": job.seed,
                **job.metrics,
            }
        )
    return pd.DataFrame(rows, columns=None if rows else list(ID_COLUMNS))


def _label_order(long: pd.DataFrame) -> list[str]:
    """Thesis models first in the thesis's order, then ours alphabetically."""
    rank = {"ppca": 0, "vae": 1, "cvae": 2}
    labels = long["label"].unique().tolist()
    return sorted(labels, key=lambda lab: (rank.get(lab.split("+")[0], 9), lab))


def wide_table(long: pd.DataFrame, metrics: Sequence[str] = REPORT_METRICS) -> pd.DataFrame:
    """Rows = model x metric, columns = latent size (mean over seeds), thesis value beside.

    Columns: ``model``, ``metric``, ``n_seeds``, one column per latent size (``"11"``), a
    ``"<latent> sd"`` column per latent size when any cell averages more than one seed, and
    ``thesis (latent 11)``. Metrics a model does not report (e.g. conditional figures of an
    unconditional model) get no row for that model.
    """
    latents = sorted({int(v) for v in long["latent_dim"].dropna()})
    multi_seed = bool(len(long)) and long.groupby(["label", "latent_dim"]).size().max() > 1
    thesis_column = f"thesis (latent {THESIS_LATENT})"
    rows = []
    for label in _label_order(long):
        jobs = long[long["label"] == label]
        model = jobs["model"].iloc[0]
        for metric in metrics:
            if metric not in jobs or jobs[metric].isna().all():
                continue
            grouped = jobs.groupby("latent_dim")[metric]
            mean, sd = grouped.mean(), grouped.std(ddof=1)
            row: dict[str, Any] = {
                "model": label,
                "metric": metric,
                "n_seeds": int(grouped.count().max()),
            }
            for latent in latents:
                row[str(latent)] = mean.get(latent, math.nan)
            if multi_seed:
                for latent in latents:
                    row[f"{latent} sd"] = sd.get(latent, math.nan)
            row[thesis_column] = THESIS_TABLE2.get((model, metric), math.nan)
            rows.append(row)
    columns = ["model", "metric", "n_seeds", *map(str, latents)]
    if multi_seed:
        columns += [f"{latent} sd" for latent in latents]
    return pd.DataFrame(rows, columns=[*columns, thesis_column])


def baseline_table(long: pd.DataFrame) -> pd.DataFrame:
    """The real-vs-real ceiling and naive-independent floor of each figure (mean over jobs)."""
    rows: list[dict[str, str | float]] = []
    for metric in BASELINE_METRICS:
        row: dict[str, Any] = {"metric": metric}
        for prefix, name in (("realreal_", "real vs real"), ("naive_", "naive independent")):
            key = prefix + metric
            row[name] = long[key].mean() if key in long else math.nan
        if not (math.isnan(row["real vs real"]) and math.isnan(row["naive independent"])):
            rows.append(row)
    if "hit_rate_floor" in long:
        # random real designs: what a generator that ignores the requested flux achieves
        floor = long["hit_rate_floor"].mean()
        rows.append({"metric": "hit_rate", "real vs real": floor, "naive independent": math.nan})
    return pd.DataFrame(rows, columns=["metric", "real vs real", "naive independent"])
