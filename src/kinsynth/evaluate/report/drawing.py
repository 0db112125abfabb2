"""The report's figures: each metric against latent size (thesis Figure 3), a PCA overlay grid
(Figure 4) and explained variance (Figure 2), from the jobs' synthetic.csv and re-made test splits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinsynth.core.errors import KinsynthError
from kinsynth.data.location import data_file, is_embedded
from kinsynth.evaluate import figures
from kinsynth.evaluate.report.tables import (
    REPORT_METRICS,
    TABLE2_METRICS,
    THESIS_LATENT,
    THESIS_TABLE2,
    _label_order,
)
from kinsynth.runs.contract import CONFIG, SYNTHETIC, plain_mapping, read_config
from kinsynth.sweeps.jobs import Job

FIGURE_DIR = "report_figures"


def data_settings(job: Job) -> dict[str, Any]:
    """The job's resolved ``data`` config, its path made absolute against the job's Hydra cwd.

    A relative ``data.path`` is resolved against ``hydra.runtime.cwd`` (where train.py ran), not
    the directory the report runs from; ``null`` is the embedded default data set.
    """
    cfg = read_config(job.path)
    if cfg is None:
        raise KinsynthError(f"'{job.path / CONFIG}' is missing: cannot rebuild the job's data")
    try:
        data = plain_mapping(cfg.data)
    except Exception as error:  # an interpolation we cannot resolve outside Hydra
        raise KinsynthError(f"'{job.path / CONFIG}': data config: {error}") from None
    data["path"] = str(data_file(data.get("path")))
    return data


_TEST_CACHE: dict[tuple, pd.DataFrame] = {}


def real_test_rows(job: Job) -> pd.DataFrame:
    """The job's held-out test split, re-made from its data config (the split is seeded)."""
    data = data_settings(job)
    key = tuple(
        json.dumps(data.get(k), sort_keys=True)
        for k in ("path", "target", "features", "split", "seed")
    )
    if key not in _TEST_CACHE:
        # here, not at the top: a report without PCA figures never loads torch and Lightning
        from kinsynth.data.datamodule import KineticDataModule

        module = KineticDataModule(
            path=data["path"],
            target=data.get("target"),
            features=data.get("features"),
            split=data.get("split", (0.8, 0.1, 0.1)),
            seed=int(data.get("seed", job.seed or 0)),
            transform="none",  # only the split is needed, and it does not depend on scaling
            device="cpu",
        )
        module.setup()
        _TEST_CACHE[key] = module.test_frame
    return _TEST_CACHE[key]


def _synthetic(job: Job) -> pd.DataFrame:
    path = job.path / SYNTHETIC
    if not path.is_file():
        raise KinsynthError(f"'{path}' not found")
    frame = pd.read_csv(path)  # older runs wrote an unnamed index column first
    return frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed: ")])


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values).all(axis=1)]


def pick_latent(long: pd.DataFrame, requested: int | None) -> int | None:
    """The latent size for the PCA and explained-variance figures: as asked, else the thesis's
    11 when present, else the size run by the most models (the largest on a tie)."""
    latents = long["latent_dim"].dropna().astype(int)
    if not len(latents):
        return None
    if requested is not None:
        if requested not in set(latents):
            raise KinsynthError(
                f"--latent {requested}: not in the sweep (latent sizes: {sorted(set(latents))})"
            )
        return requested
    if THESIS_LATENT in set(latents):
        return THESIS_LATENT
    counts = long.groupby(long["latent_dim"].astype(int))["label"].nunique()
    return int(counts[counts == counts.max()].index.max())


def write_figures(
    jobs: Sequence[Job], long: pd.DataFrame, folder: Path, latent: int | None
) -> tuple[list[Path], list[str]]:
    """Figure 3 (metrics against latent size), Figure 4 (PCA grid), Figure 2 (explained variance).

    Returns the PNGs written and notes on what could not be drawn (a job's data file moved, a
    synthetic.csv missing): a figure problem never stops the report.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []
    means = long.groupby(["label", "latent_dim"], as_index=False).mean(numeric_only=True)
    means = means.rename(columns={"label": "model"})
    reference = pd.DataFrame(
        [
            {"model": model, "latent_dim": THESIS_LATENT, metric: value}
            for (model, metric), value in THESIS_TABLE2.items()
        ]
    )
    reference = reference.groupby(["model", "latent_dim"], as_index=False).first()
    thesis_data = any(j.ok and is_thesis_data(j) for j in jobs[:1] or [])
    if not thesis_data:
        notes.append("thesis values left out of the figures: the jobs' data is not the thesis's")
    for metric in REPORT_METRICS:
        if metric not in means or means[metric].isna().all():
            continue
        rows = means.dropna(subset=[metric])
        ref = reference if metric in TABLE2_METRICS and thesis_data else None
        fig = figures.metric_against_latent(
            rows, metric, reference=ref, log_scale=metric in LOG_SCALE_METRICS,
            lines=reference_levels(long, metric),
        )
        path = folder / f"metric_{metric}.png"
        figures.save(fig, str(path))
        written.append(path)

    if latent is None:
        return written, notes
    by_label: dict[str, Job] = {}
    labels = dict(zip(long["job"], long["label"], strict=True))
    for candidate in sorted((j for j in jobs if j.ok and j.latent_dim == latent), key=_seed_key):
        by_label.setdefault(labels[str(candidate.path)], candidate)
    panels: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    variance_sets: dict[str, pd.DataFrame] = {}
    real_for_variance: pd.DataFrame | None = None
    for label in _label_order(long):
        job = by_label.get(label)
        if job is None:
            continue
        try:
            real, synth = real_test_rows(job), _synthetic(job)
        except KinsynthError as error:
            notes.append(f"{label} (latent {latent}) left out of the PCA figures: {error}")
            continue
        columns = [c for c in synth.columns if c in real.columns]
        panels[f"{label}, latent {latent}"] = (
            real[columns].to_numpy(float),
            _finite(synth[columns].to_numpy(float)),
        )
        variance_sets[label] = synth
        real_for_variance = real if real_for_variance is None else real_for_variance
    if panels:
        path = folder / f"pca_overlay_latent{latent}.png"
        figures.save(
            figures.pca_overlay_grid(panels, title="real test rows (black) vs synthetic (cyan)"),
            str(path),
        )
        written.append(path)
    if variance_sets and real_for_variance is not None:
        common = [
            c
            for c in real_for_variance.columns
            if all(c in synth.columns for synth in variance_sets.values())
        ]
        sets = {"real (test)": real_for_variance[common].to_numpy(float)}
        sets.update({k: _finite(v[common].to_numpy(float)) for k, v in variance_sets.items()})
        path = folder / f"explained_variance_latent{latent}.png"
        fig = figures.explained_variance(sets, title=f"Explained variance, latent {latent}")
        figures.save(fig, str(path))
        written.append(path)
    return written, notes


#: Figures that span orders of magnitude across models (a collapsed KL near 0 beside 1 nat);
#: every other report figure lies between 0 and 1 and reads best on a linear axis.
LOG_SCALE_METRICS = ("kl", "gauss_kl")
#: The thesis data set: 5,000 rows of these 19 fold changes and the flux Product_I.
THESIS_ROWS = 5000
THESIS_COLUMNS = (
    *(f"vmax_forward_Enz_{c}" for c in "ABCDEFGHL"), "vmax_forward_TKT2", "vmax_forward_RPI",
    "vmax_forward_PDH", "vmax_forward_CS", "km_substrate2_TKT2", "km_substrate1_PDH",
    "km_substrate1_Enz_A", "km_substrate2_Enz_A", "vmax_forward_Enz_I", "km_substrate1_Enz_I",
    "Product_I",
)


def is_thesis_data(job: Job) -> bool:
    """Whether the job trained on the thesis's data (its columns and row count, not our embedded
    look-alike): only then are the thesis's published values a fair line beside ours."""
    try:
        path = Path(data_settings(job)["path"])
        if is_embedded(path) or not path.is_file():
            return False
        header = pd.read_csv(path, nrows=0).columns
        rows = sum(1 for _ in path.open()) - 1
    except (KinsynthError, OSError, ValueError):
        return False
    return rows == THESIS_ROWS and set(THESIS_COLUMNS) <= set(header)


def reference_levels(long: pd.DataFrame, metric: str) -> dict[str, float]:
    """Horizontal reference lines for ``metric``: chance, real-vs-real, the naive floor."""
    levels: dict[str, float] = {}
    if metric.startswith("c2st_auc"):
        levels["0.5: indistinguishable"] = 0.5
    for prefix, label in (("realreal_", "real vs real"), ("naive_", "naive independent columns")):
        if f"{prefix}{metric}" in long:
            levels[label] = float(long[f"{prefix}{metric}"].mean())
    if metric == "hit_rate" and "hit_rate_floor" in long:
        levels["hit-rate floor (real test rows)"] = float(long["hit_rate_floor"].mean())
    return {k: v for k, v in levels.items() if math.isfinite(v)}


def _seed_key(job: Job) -> tuple[int, str]:
    return (job.seed if job.seed is not None else 1 << 30, str(job.path))
