"""The sweep report: thesis Table 2 and Figures 2-4, rebuilt from a Hydra multirun's job folders.

``python scripts/report.py <multirun dir> [...]`` gathers every job folder (one with a ``.hydra/``
subfolder) below the given folders into a long table (one row per finished job: model, latent
size, experiment, seed and every metric of its ``metrics.json``) and writes, into the folder given
by ``out``:

* ``report.csv``: the thesis's Table 2 layout, rows = model x metric, columns = latent size, the
  thesis's published value beside ours (mean over seeds; ``<latent> sd`` columns when a cell has
  more than one seed);
* ``report.md``: the same tables for reading, the real-vs-real and naive baselines, the failed
  jobs, and how our figures differ in definition from the published ones;
* ``jobs.csv``: the long table itself;
* ``report_figures/``: each metric against latent size (Figure 3), a PCA overlay grid (Figure 4)
  and cumulative explained variance (Figure 2) at one latent size.

Failed jobs (``error.txt``, or no ``metrics.json`` at all) are listed, never fatal. Nothing here
knows about a particular model: the report only reads the run-directory contract.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import OmegaConf

from kinsynth.data import DEFAULT_DATA_PATH, KineticDataModule
from kinsynth.errors import KinsynthError
from kinsynth.evaluate import figures
from kinsynth.evaluate.sweep_plan import unfinished_jobs

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
    "c2st_auc",
    "c2st_auc_joint",
    "std_ratio_min",
    "std_ratio_max",
    "wasserstein",
    "corr_diff",
    # the nearest of our figures to the thesis's PPCA "KL between Gaussian covariances"
    "gauss_kl",
    "tstr_r2",
    "cond_spearman",
    "hit_rate",
    "memorisation_ratio",
)
REPORT_METRICS = TABLE2_METRICS + HONEST_METRICS
#: Figures with a real-vs-real ceiling and a naive-independent floor in metrics.json.
BASELINE_METRICS = tuple(
    m for m in HONEST_METRICS if m not in ("gauss_kl", "cond_spearman", "hit_rate")
)
ID_COLUMNS = ("job", "model", "experiment", "label", "latent_dim", "seed")
FIGURE_DIR = "report_figures"

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


@dataclass
class Job:
    """One job folder of a sweep, finished or not."""

    path: Path
    model: str
    experiment: str
    latent_dim: int | None
    seed: int | None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    warning: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Report:
    """What :func:`build_report` computed and wrote."""

    jobs: list[Job]
    long: pd.DataFrame
    table: pd.DataFrame
    out: Path
    figures: list[Path]
    notes: list[str]

    @property
    def failed(self) -> list[Job]:
        return [job for job in self.jobs if not job.ok]


# ------------------------------------------------------------------------------ gathering jobs


def _natural_key(path: Path) -> tuple:
    """Job folders 0, 1, ..., 10 (or ``<num>_<overrides>``) in numeric order; other names after."""
    keys = []
    for part in path.parts:
        number = re.match(r"(\d+)(?:_|$)", part)
        keys.append((0, int(number.group(1)), part) if number else (1, 0, part))
    return tuple(keys)


def find_job_dirs(root: Path) -> list[Path]:
    """Every folder below (or equal to) ``root`` that Hydra ran a job in (has ``.hydra/``)."""
    root = Path(root)
    if not root.is_dir():
        raise KinsynthError(f"sweep folder '{root}' not found")
    found = {p.parent for p in root.rglob(".hydra") if p.is_dir()}
    if (root / ".hydra").is_dir():
        found.add(root)
    return sorted(found, key=_natural_key)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise KinsynthError(f"cannot read '{path}': {error}") from None
    if not isinstance(data, dict):
        raise KinsynthError(f"'{path}': expected a YAML mapping")
    return data


def _last_line(text: str) -> str:
    """The informative line of an error.txt: the message itself, or a traceback's last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "error.txt is empty"


def read_job(path: Path) -> Job:
    """One job folder: its choices and config from ``.hydra/``, metrics or the reason it failed."""
    config_path, hydra_path = path / ".hydra" / "config.yaml", path / ".hydra" / "hydra.yaml"
    config = _read_yaml(config_path) if config_path.is_file() else {}
    hydra = (_read_yaml(hydra_path).get("hydra") or {}) if hydra_path.is_file() else {}
    runtime = hydra.get("runtime") or {}
    choices = runtime.get("choices") or {}
    model = choices.get("model") or _target_name(config)
    experiment = choices.get("experiment") or "default"
    latent = config.get("latent_dim")
    seed = config.get("seed")
    job = Job(
        path=path,
        model=str(model),
        experiment=str(experiment),
        latent_dim=int(latent) if isinstance(latent, int | float) else None,
        seed=int(seed) if isinstance(seed, int | float) else None,
        config=config,
        cwd=Path(runtime["cwd"]) if runtime.get("cwd") else None,
    )
    metrics_path, error_path = path / "metrics.json", path / "error.txt"
    message = _last_line(error_path.read_text(errors="replace")) if error_path.is_file() else None
    if not metrics_path.is_file():
        job.error = message or "no metrics.json (job killed or still running)"
    else:
        # metrics.json and error.txt: the run was evaluated and failed afterwards (e.g. returning
        # the sweeper's objective); its figures stand, the error is reported beside them
        job.warning = message
        try:
            raw = json.loads(metrics_path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise KinsynthError(f"'{metrics_path}': not valid JSON ({error})") from None
        if not isinstance(raw, dict):
            raise KinsynthError(f"'{metrics_path}': expected a JSON object of metric values")
        job.metrics = {k: _as_float(v) for k, v in raw.items() if k != "warnings"}
    if job.ok and not config:
        raise KinsynthError(f"'{config_path}' is missing: cannot tell which model the job ran")
    return job


def _target_name(config: dict[str, Any]) -> str:
    target = str((config.get("model") or {}).get("_target_", "unknown"))
    return target.rsplit(".", 1)[-1].lower()


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def collect_jobs(dirs: Sequence[str | Path]) -> list[Job]:
    """Every job below the given sweep folders; an error when none is found at all."""
    jobs: list[Job] = []
    for root in dirs:
        paths = find_job_dirs(Path(root))
        if not paths:
            raise KinsynthError(
                f"sweep folder '{root}': no job folders (subfolders with .hydra/) found"
            )
        jobs.extend(read_job(p) for p in paths)
    return jobs


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


# ------------------------------------------------------------------------------ the Table-2 layout


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
    rows = []
    for metric in BASELINE_METRICS:
        row = {"metric": metric}
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


# ---------------------------------------------------------------------------------- markdown


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


def render_markdown(report: Report, sources: Sequence[Path]) -> str:
    """report.md: provenance, Table 2 beside the thesis, the honest figures, failures, figures."""
    table, long = report.table, report.long
    n_ok = len(report.jobs) - len(report.failed)
    seeds = sorted({int(s) for s in long["seed"].dropna()}) if len(long) else []
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
        "",
        "## Thesis Table 2: reconstruction MSE and KL",
        "",
        table_markdown(table[table["metric"].isin(TABLE2_METRICS)].reset_index(drop=True)),
        "",
        DEFINITIONS_NOTE,
        "",
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


# ------------------------------------------------------------------------------------- figures


def _substitute_hydra(text: str, job: Job) -> str:
    """Replace the ``${hydra:runtime.*}`` interpolations Hydra left in config.yaml."""
    replacements = {
        "${hydra:runtime.cwd}": str(job.cwd or job.path),
        "${hydra:runtime.output_dir}": str(job.path),
    }
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def data_settings(job: Job) -> dict[str, Any]:
    """The job's resolved ``data`` config, its path made absolute against the job's Hydra cwd.

    A relative ``data.path`` is resolved against ``hydra.runtime.cwd`` (where train.py ran), not
    the directory the report runs from; ``null`` is the embedded default data set.
    """
    raw = _substitute_hydra((job.path / ".hydra" / "config.yaml").read_text(), job)
    cfg = OmegaConf.create(raw)
    try:
        data = OmegaConf.to_container(cfg.data, resolve=True)
    except Exception as error:  # an interpolation we cannot resolve outside Hydra
        raise KinsynthError(f"'{job.path}/.hydra/config.yaml': data config: {error}") from None
    assert isinstance(data, dict)
    path = data.get("path")
    if path is None:
        data["path"] = str(DEFAULT_DATA_PATH)
    elif not Path(path).is_absolute():
        data["path"] = str((job.cwd or Path.cwd()) / path)
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
    path = job.path / "synthetic.csv"
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
    for job in sorted((j for j in jobs if j.ok and j.latent_dim == latent), key=_seed_key):
        by_label.setdefault(labels[str(job.path)], job)
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
        if path.resolve() == Path(DEFAULT_DATA_PATH).resolve() or not path.is_file():
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


# ---------------------------------------------------------------------------------- entry point


def build_report(
    dirs: Sequence[str | Path],
    out: str | Path | None = None,
    latent: int | None = None,
    draw: bool = True,
) -> Report:
    """Gather the sweeps in ``dirs`` and write report.md, report.csv, jobs.csv and the PNGs.

    ``out`` defaults to the sweep folder (the folders' common parent when there are several).
    Raises :class:`KinsynthError` when a folder is missing or holds no finished job.
    """
    sources = [Path(d) for d in dirs]
    if not sources:
        raise KinsynthError("report: give at least one sweep folder")
    jobs = collect_jobs(sources)
    finished = [job for job in jobs if job.ok]
    if not finished:
        first = jobs[0]
        raise KinsynthError(
            f"no finished job below {', '.join(map(str, sources))}: all {len(jobs)} failed "
            f"(first: {first.path}: {first.error})"
        )
    target = (
        Path(out) if out is not None else Path(os.path.commonpath([s.resolve() for s in sources]))
    )
    target.mkdir(parents=True, exist_ok=True)
    long = long_table(jobs)
    table = wide_table(long)
    chosen = pick_latent(long, latent)
    written, notes = write_figures(jobs, long, target / FIGURE_DIR, chosen) if draw else ([], [])
    missing = [f"{source}: {line}" for source in sources for line in unfinished_jobs(source)]
    notes = [f"missing from this partial sweep: {line}" for line in missing] + notes
    report = Report(jobs=jobs, long=long, table=table, out=target, figures=written, notes=notes)
    long.to_csv(target / "jobs.csv", index=False)
    table.to_csv(target / "report.csv", index=False)
    (target / "report.md").write_text(render_markdown(report, sources))
    return report
