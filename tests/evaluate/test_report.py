"""The sweep report: job gathering, the Table-2 layout, failed jobs, figures and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from support import make_toy_table, run_cli

from kinsynth.core.errors import KinsynthError
from kinsynth.data import DEFAULT_DATA_PATH
from kinsynth.evaluate.report import build_report
from kinsynth.evaluate.report.drawing import data_settings
from kinsynth.evaluate.report.tables import THESIS_TABLE2
from kinsynth.sweeps.jobs import read_job

THESIS_COLUMN = "thesis (latent 11)"


def write_job(
    root: Path,
    num: int,
    model: str,
    latent: int,
    seed: int,
    metrics: dict[str, float] | None,
    data_path: str | None,
    cwd: Path,
    error: str | None = None,
) -> Path:
    """A job folder as Hydra and train.py leave it (only the files the report reads)."""
    job = root / str(num)
    (job / ".hydra").mkdir(parents=True)
    config = {
        "seed": seed,
        "latent_dim": latent,
        "data": {
            "path": data_path,
            "target": "Product_I",
            "features": None,
            "split": [0.8, 0.1, 0.1],
            "seed": "${seed}",
        },
        "model": {"_target_": "kinsynth.models.PPCAModel", "latent_dim": "${latent_dim}"},
    }
    hydra = {
        "hydra": {
            "runtime": {
                "cwd": str(cwd),
                "output_dir": str(job),
                "choices": {"model": model, "experiment": "thesis"},
            }
        }
    }
    (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    if metrics is not None:
        (job / "metrics.json").write_text(json.dumps(metrics))
        synth = make_toy_table(n=120, seed=100 + num)
        synth.index = np.arange(len(synth))
        synth.to_csv(job / "synthetic.csv")
    if error is not None:
        (job / "error.txt").write_text(error)
    return job


def fake_metrics(value: float) -> dict[str, float]:
    return {
        "recon_mse": value,
        "kl": 10 * value,
        "c2st_auc": 0.9,
        "std_ratio_min": 0.5,
        "std_ratio_max": 1.5,
        "realreal_c2st_auc": 0.5,
        "naive_c2st_auc": 0.6,
        "fit_seconds": 1.0,
    }


@pytest.fixture
def fake_sweep(tmp_path: Path, toy_csv: Path) -> Path:
    """ppca at latent 3 and 11, cvae at latent 11 with two seeds, one failed vae job.

    The data path is relative to the recorded Hydra cwd (the toy file's folder), as a user's
    ``data.path=toy.csv`` would be, so the report must resolve it against that cwd.
    """
    sweep = tmp_path / "multirun"
    cwd, name = toy_csv.parent, toy_csv.name
    write_job(sweep, 0, "ppca", 3, 0, fake_metrics(0.3), name, cwd)
    write_job(sweep, 1, "ppca", 11, 0, fake_metrics(0.11), name, cwd)
    write_job(sweep, 2, "cvae", 11, 0, {**fake_metrics(0.2), "cond_spearman": 0.8}, name, cwd)
    write_job(sweep, 3, "cvae", 11, 1, {**fake_metrics(0.4), "cond_spearman": 0.6}, name, cwd)
    trace = "Traceback (most recent call last):\n  ...\nRuntimeError: loss is NaN\n"
    write_job(sweep, 10, "vae", 11, 0, None, name, cwd, error=trace)
    return sweep


def cell(table: pd.DataFrame, model: str, metric: str, column: str) -> float:
    row = table[(table["model"] == model) & (table["metric"] == metric)]
    assert len(row) == 1, (model, metric)
    return float(row[column].iloc[0])


def test_table_places_values_by_model_metric_and_latent(fake_sweep: Path, tmp_path: Path):
    out = tmp_path / "report"
    report = build_report([fake_sweep], out=out)
    table = pd.read_csv(out / "report.csv")
    assert list(table.columns) == [
        "model",
        "metric",
        "n_seeds",
        "3",
        "11",
        "3 sd",
        "11 sd",
        THESIS_COLUMN,
    ]
    assert table["model"].tolist()[:2] == ["ppca", "ppca"]  # thesis order: ppca before cvae
    assert cell(table, "ppca", "recon_mse", "3") == pytest.approx(0.3)
    assert cell(table, "ppca", "recon_mse", "11") == pytest.approx(0.11)
    assert cell(table, "ppca", "kl", "11") == pytest.approx(1.1)
    assert cell(table, "cvae", "recon_mse", "11") == pytest.approx(0.3)  # mean of two seeds
    assert cell(table, "cvae", "recon_mse", "11 sd") == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert np.isnan(cell(table, "cvae", "recon_mse", "3"))  # cvae not run at latent 3
    assert cell(table, "cvae", "cond_spearman", "11") == pytest.approx(0.7)
    assert not ((table["model"] == "ppca") & (table["metric"] == "cond_spearman")).any()
    for (model, metric), published in THESIS_TABLE2.items():
        if model != "vae":  # the vae job failed, so it has no row
            assert cell(table, model, metric, THESIS_COLUMN) == published
    assert np.isnan(cell(table, "ppca", "c2st_auc", THESIS_COLUMN))
    assert [job.path.name for job in report.failed] == ["10"]
    assert len(pd.read_csv(out / "jobs.csv")) == 4


def test_markdown_lists_thesis_values_failures_and_figures(fake_sweep: Path):
    report = build_report([fake_sweep])  # default: written into the sweep folder
    text = (fake_sweep / "report.md").read_text()
    assert "| ppca | recon_mse | 1 | 0.3 | 0.11 | 0.0598 |" in text
    assert "0.3 ± 0.14" in text  # cvae recon_mse at latent 11 over two seeds
    assert "RuntimeError: loss is NaN" in text and "multirun/10" in text
    assert "| c2st_auc | 0.5 | 0.6 |" in text  # real-vs-real and naive baselines
    names = {p.name for p in report.figures}
    assert {
        "metric_recon_mse.png",
        "metric_c2st_auc.png",
        "pca_overlay_latent11.png",
        "explained_variance_latent11.png",
    } <= names
    for path in report.figures:
        assert path.is_file() and path.stat().st_size > 1000
        assert f"]({path.relative_to(fake_sweep)})" in text


def test_missing_data_file_skips_the_pca_figures_with_a_note(fake_sweep: Path, tmp_path: Path):
    write_job(fake_sweep, 4, "vae", 3, 0, fake_metrics(0.5), "gone.csv", tmp_path)
    report = build_report([fake_sweep], latent=3)
    assert any("vae (latent 3)" in note and "gone.csv" in note for note in report.notes)
    assert (fake_sweep / "report_figures" / "pca_overlay_latent3.png").is_file()  # ppca's panel


def test_job_that_failed_after_writing_metrics_counts_with_a_warning(fake_sweep: Path):
    (fake_sweep / "0" / "error.txt").write_text("optimized_metric='x': not in metrics.json\n")
    report = build_report([fake_sweep], draw=False)
    assert [job.path.name for job in report.failed] == ["10"]
    assert "optimized_metric='x'" in (fake_sweep / "report.md").read_text()


def test_null_data_path_is_the_embedded_data_set(tmp_path: Path):
    job = read_job(write_job(tmp_path, 0, "cvae", 3, 0, fake_metrics(0.1), None, tmp_path))
    assert data_settings(job)["path"] == str(DEFAULT_DATA_PATH)
    assert data_settings(job)["seed"] == 0


def test_bad_input_is_one_line_error(tmp_path: Path, fake_sweep: Path):
    with pytest.raises(KinsynthError, match="not found"):
        build_report([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(KinsynthError, match="no job folders"):
        build_report([tmp_path / "empty"])
    only_failed = tmp_path / "only_failed"
    write_job(only_failed, 0, "vae", 3, 0, None, "x.csv", tmp_path, error="boom")
    with pytest.raises(KinsynthError, match="all 1 failed.*boom"):
        build_report([only_failed])
    with pytest.raises(KinsynthError, match="--latent 7"):
        build_report([fake_sweep], latent=7)
    # an unreadable metrics.json (a full disk, a killed write) is an unfinished job, not an error
    (fake_sweep / "1" / "metrics.json").write_text("{not json")
    report = build_report([fake_sweep], out=tmp_path / "after_corrupt", draw=False)
    by_folder = {job.path.name: job for job in report.jobs}
    assert by_folder["0"].ok and by_folder["0"].metrics
    assert not by_folder["1"].ok and not by_folder["1"].metrics


def test_cli_prints_errors_as_one_line(tmp_path: Path):
    result = run_cli("scripts/report.py", str(tmp_path / "nowhere"), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: ")


@pytest.mark.slow(seconds=10)
def test_real_sweep_end_to_end(tmp_path: Path, toy_csv: Path):
    sweep = tmp_path / "sweep"
    run_cli(
        "train.py",
        "-m",
        "model=ppca,cvae",
        "latent_dim=2,3",
        "trainer.max_epochs=2",
        f"data.path={toy_csv}",
        "callbacks.evaluation.baselines=false",
        "callbacks.evaluation.figures=false",  # the report draws its own, from the job folders
        "callbacks.evaluation.n_conditional=100",
        f"hydra.sweep.dir={sweep}",
    )
    result = run_cli("scripts/report.py", str(sweep), "--out", str(tmp_path / "out"))
    assert "4 jobs, 0 failed" in result.stdout
    table = pd.read_csv(tmp_path / "out" / "report.csv")
    assert set(table["model"]) == {"ppca", "cvae"}
    assert {"2", "3", THESIS_COLUMN} <= set(table.columns)
    jobs = pd.read_csv(tmp_path / "out" / "jobs.csv")
    assert sorted(zip(jobs["model"], jobs["latent_dim"], strict=True)) == [
        ("cvae", 2),
        ("cvae", 3),
        ("ppca", 2),
        ("ppca", 3),
    ]
    for metric in ("recon_mse", "kl", "c2st_auc"):
        assert np.isfinite(cell(table, "cvae", metric, "3"))
    figures = tmp_path / "out" / "report_figures"
    assert (figures / "pca_overlay_latent3.png").is_file()
    assert (figures / "explained_variance_latent3.png").is_file()
    assert (figures / "metric_recon_mse.png").is_file()


def test_thesis_values_only_beside_runs_on_the_thesis_data(tmp_path: Path):
    from kinsynth.evaluate.report.drawing import THESIS_COLUMNS, is_thesis_data

    rng = np.random.default_rng(0)
    shaped = pd.DataFrame(rng.uniform(size=(5000, len(THESIS_COLUMNS))), columns=THESIS_COLUMNS)
    shaped.to_csv(tmp_path / "thesis_shaped.csv")
    shaped.iloc[:4000].to_csv(tmp_path / "smaller.csv")
    jobs = {
        name: read_job(write_job(tmp_path / name, 0, "ppca", 3, 0, fake_metrics(0.5), path,
                                 tmp_path))
        for name, path in (("thesis", str(tmp_path / "thesis_shaped.csv")),
                           ("smaller", str(tmp_path / "smaller.csv")),
                           ("embedded", None))
    }
    assert is_thesis_data(jobs["thesis"])
    assert not is_thesis_data(jobs["smaller"])  # other row count
    assert not is_thesis_data(jobs["embedded"])  # our simulator's look-alike of the thesis data
