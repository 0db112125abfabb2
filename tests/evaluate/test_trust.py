"""Figures that say when they cannot be trusted: each rule alone, then runs that break them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_wine

from kinsynth.evaluate.trust import (
    MIN_ORACLE_R2,
    MIN_STD_RATIO,
    MIN_TEST_ROWS,
    objective_warning,
    trust_warnings,
)
from kinsynth.train.run import objective, run_training

HEALTHY = {
    "oracle_r2": 0.95, "n_test": 500, "std_ratio_min": 0.9,
    "c2st_auc_joint": 0.55, "naive_c2st_auc_joint": 0.60,
}


def test_a_healthy_run_has_no_warning():
    assert trust_warnings(HEALTHY) == []


@pytest.mark.parametrize(
    ("key", "value", "opening"),
    [
        ("oracle_r2", MIN_ORACLE_R2 - 0.01, "weak oracle"),
        ("n_test", MIN_TEST_ROWS - 1, "small test split"),
        ("std_ratio_min", MIN_STD_RATIO - 0.01, "collapse"),
        ("c2st_auc_joint", 0.61, "detection"),
    ],
)
def test_each_rule_fires_alone_just_past_its_threshold(key, value, opening):
    found = trust_warnings({**HEALTHY, key: value})
    assert len(found) == 1 and found[0].startswith(opening)
    assert f"{value:.3g}" in found[0] or str(int(value)) in found[0]  # names the figure


def test_thresholds_are_exclusive_and_missing_figures_are_no_warning():
    at_threshold = {**HEALTHY, "oracle_r2": MIN_ORACLE_R2, "n_test": MIN_TEST_ROWS,
                    "std_ratio_min": MIN_STD_RATIO, "c2st_auc_joint": 0.60}
    assert trust_warnings(at_threshold) == []
    assert trust_warnings({}) == []  # an unconditional model has no oracle figures


def test_the_sweep_warning_is_only_for_a_sweeper(caplog):
    assert objective_warning({"kl": 1.0}, "hit_rate").startswith("optimized_metric=hit_rate is not")
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        assert objective({"kl": 1.0}, "hit_rate", sweeping=False) is None
    assert caplog.records == []
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        assert objective({"kl": 1.0}, "hit_rate", sweeping=True) is None
    assert len(caplog.records) == 1 and "kl" not in caplog.records[0].getMessage()


def _sklearn_table(loader, path: Path, target: str) -> Path:
    frame = loader(as_frame=True).frame
    frame = frame.rename(columns={"target": target})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("loader", "name"), [(load_diabetes, "diabetes"), (load_wine, "wine")]
)
def test_other_shaped_tables_warn_of_a_weak_oracle_and_a_small_split(
    compose_train, tmp_path, caplog, loader, name
):
    csv = _sklearn_table(loader, tmp_path / f"{name}.csv", "y")
    out = tmp_path / "run"
    cfg = compose_train(
        f"data.path={csv}", "data.target=y", "data.transform=standard", "model=cvae",
        "trainer.max_epochs=3", "callbacks.evaluation.figures=false", output_dir=out,
    )
    with caplog.at_level(logging.WARNING, logger="kinsynth"):
        metrics = run_training(cfg, out)
    written = json.loads((out / "metrics.json").read_text())
    kinds = {w.split(":")[0] for w in written["warnings"]}
    assert {"weak oracle", "small test split"} <= kinds, written["warnings"]
    assert metrics["oracle_r2"] < MIN_ORACLE_R2 and metrics["n_test"] < MIN_TEST_ROWS
    # repeated in the console summary, one WARNING line each
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert all(w in logged for w in written["warnings"])


def test_the_thesis_vae_warns_of_collapse(compose_train, tmp_path):
    cfg = compose_train("experiment=thesis", "model=vae", "latent_dim=3",
                        "trainer.max_epochs=20", "callbacks.evaluation.figures=false")
    metrics = run_training(cfg, tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["std_ratio_min"] < MIN_STD_RATIO
    assert any(w.startswith("collapse") for w in written["warnings"])
    assert pd.notna(metrics["recon_mse"])
